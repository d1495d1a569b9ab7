package presentation

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/mandate-dev/mandate/credentials"
	"github.com/mandate-dev/mandate/internal/testkeys"
)

// FuzzParseBBSPresentation feeds arbitrary bytes to the first step of the
// BBS+ path (SPEC §16.4 B1), the parse of {links, binding} before any
// derived proof or binding signature is checked. It refuses with MALFORMED
// only, returning nothing with its refusal; what it accepts has 1..9 links,
// each a JSON object within MaxCredentialBytes, a binding of the one type
// with every member present and bounded, and re-encodes to a presentation
// that parses to the same binding and links.
func FuzzParseBBSPresentation(f *testing.F) {
	for _, seed := range bbsSeeds(f) {
		f.Add(seed)
	}
	f.Add([]byte(`{}`))
	f.Add([]byte(`{"links":[],"binding":{}}`))
	f.Add([]byte(`{"links":[{}],"binding":{"type":"MandateBBSBinding2026","holder":"did:x","verificationMethod":"v","nonce":"n","audience":"a","requestDigest":"r","proofValue":"p"}}`))
	f.Add([]byte(`{"links":[1],"binding":{"type":"MandateBBSBinding2026"}}`))
	f.Add([]byte(`{"links":[{"a":1,"a":2}],"binding":{}}`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, data []byte) {
		p, links, err := parseBBSPresentation(data)
		if err != nil {
			var d *denial
			if p != nil || links != nil || !errors.As(err, &d) || d.reason != ReasonMalformed {
				t.Fatalf("parseBBSPresentation = %v, %d links, %v; want nothing, MALFORMED", p != nil, len(links), err)
			}
			return
		}
		b := p.Binding
		switch {
		case len(data) > MaxPresentationBytes || len(links) == 0 || len(links) > credentials.MaxChainLinks || len(links) != len(p.Links):
			t.Fatalf("accepted %d links (%d raw) from %d bytes", len(links), len(p.Links), len(data))
		case b.Type != BBSBindingType || !strings.HasPrefix(b.Holder, "did:") || b.VerificationMethod == "" || b.Audience == "" ||
			b.RequestDigest == "" || b.ProofValue == "" || b.Nonce == "" || len(b.Nonce) > credentials.MaxNonceBytes:
			t.Fatalf("accepted binding %+v", b)
		}
		for i, l := range p.Links {
			if len(l) > credentials.MaxCredentialBytes || links[i] == nil {
				t.Fatalf("link %d: %d bytes, %v", i, len(l), links[i])
			}
		}
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(bbsPresentation{Links: p.Links, Binding: b}); err != nil {
			t.Fatal(err)
		}
		p2, links2, err := parseBBSPresentation(buf.Bytes())
		if err != nil || p2.Binding != b || !reflect.DeepEqual(links2, links) {
			t.Fatalf("re-encoded %q parses to %+v, %v; want %+v", buf.Bytes(), p2, err, b)
		}
	})
}

// bbsSeeds are a real BBS+ presentation (Alice's BLS key → the assistant's
// → the summarizer's Ed25519 did:key), the same with ten links, and with
// its leaf past MaxCredentialBytes.
func bbsSeeds(f *testing.F) [][]byte {
	alice, assistant, sub := testkeys.NewBLS("alice"), testkeys.NewBLS("assistant"), testkeys.New("summarizer")
	t0 := time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)
	o := credentials.IssueOptions{Now: func() time.Time { return t0 }}
	read := credentials.Grant{ID: "urn:mandate:grant:email-read", Action: "email:read", Resource: "mailbox:alice/*"}
	root, err := credentials.IssueBBS(alice, credentials.Template{Subject: assistant.DID(), Purpose: "Keep Alice's inbox organised",
		Grants:     []credentials.Grant{read, {ID: "urn:mandate:grant:email-draft", Action: "email:draft", Resource: "mailbox:alice/*"}},
		Delegation: credentials.Delegation{Allowed: true, MaxDepth: 1}}, o)
	if err != nil {
		f.Fatal(err)
	}
	child, err := credentials.DelegateBBS(assistant, []*credentials.Credential{root}, credentials.Template{Subject: sub.DID(),
		Purpose: "Summarise Alice's inbox", Grants: []credentials.Grant{read}}, o)
	if err != nil {
		f.Fatal(err)
	}
	req := Request{Action: "email:read", Resource: "mailbox:alice/inbox", Intent: "summarise"}
	sel, err := SelectBBS([][]*credentials.Credential{{root, child}}, sub.DID(), req.Action, req.Resource, t0)
	if err != nil {
		f.Fatal(err)
	}
	vp, err := PresentBBS(sub, sel, Challenge{Nonce: "bm9uY2U", Audience: "https://mail.example", ExpiresAt: t0.Add(time.Minute)}, req)
	if err != nil {
		f.Fatal(err)
	}
	if _, _, err := parseBBSPresentation(vp); err != nil {
		f.Fatalf("the real presentation is refused: %v", err)
	}
	var p bbsPresentation
	if err := json.Unmarshal(vp, &p); err != nil {
		f.Fatal(err)
	}
	ten := p
	for len(ten.Links) <= credentials.MaxChainLinks {
		ten.Links = append(ten.Links, p.Links[0])
	}
	tenVP, _ := json.Marshal(ten)
	big := p
	big.Links = []json.RawMessage{p.Links[0], json.RawMessage(`{"pad":"` + strings.Repeat("A", credentials.MaxCredentialBytes) + `"}`)}
	bigVP, _ := json.Marshal(big)
	return [][]byte{vp, tenVP, bigVP}
}
