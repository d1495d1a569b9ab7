package presentation

import (
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mandate-dev/mandate/credentials"
	"github.com/mandate-dev/mandate/credentials/sdjwt"
	"github.com/mandate-dev/mandate/credentials/sdpoa"
	"github.com/mandate-dev/mandate/internal/testkeys"
)

// FuzzParseSDJWTChain feeds arbitrary bytes to the first step of the
// SD-JWT path, the parse of the presentation array before any link is
// split or any proof checked. It refuses with MALFORMED only, and returns
// nothing with its refusal; what it accepts is 1..MaxChainLinks links, each
// within sdpoa.MaxLinkBytes, from at most MaxPresentationBytes, and
// re-encodes to an array that parses to the same links.
func FuzzParseSDJWTChain(f *testing.F) {
	for _, seed := range sdjwtSeeds(f) {
		f.Add(seed)
	}
	f.Add([]byte(`[]`))
	f.Add([]byte(`["a~"]`))
	f.Add([]byte(`["a","a","a","a","a","a","a","a","a","a"]`))
	f.Add([]byte(`[1]`))
	f.Add([]byte(`["\u00e9\ud800"]`))
	f.Add([]byte(`{"0":"x"}`))
	f.Add([]byte(`null`))
	f.Fuzz(func(t *testing.T, data []byte) {
		links, err := parseSDJWTChain(data)
		if err != nil {
			var d *denial
			if links != nil || !errors.As(err, &d) || d.reason != ReasonMalformed {
				t.Fatalf("parseSDJWTChain = %d links, %v; want none, MALFORMED", len(links), err)
			}
			return
		}
		if len(data) > MaxPresentationBytes || len(links) == 0 || len(links) > credentials.MaxChainLinks {
			t.Fatalf("accepted %d links from %d bytes", len(links), len(data))
		}
		for i, l := range links {
			if len(l) > sdpoa.MaxLinkBytes {
				t.Fatalf("link %d: %d bytes", i, len(l))
			}
		}
		b, err := json.Marshal(links)
		if err != nil {
			t.Fatal(err)
		}
		again, err := parseSDJWTChain(b)
		if err != nil || !slices.Equal(again, links) {
			t.Fatalf("re-encoded %q parses to %q, %v; want %q", b, again, err, links)
		}
	})
}

// sdjwtSeeds are real presentations: a two-link chain as PresentSDJWT
// makes it, the same with a link past the limit, and one with ten links.
func sdjwtSeeds(f *testing.F) [][]byte {
	principal, agent, sub := testkeys.New("alice"), testkeys.New("assistant"), testkeys.New("summarizer")
	t0 := time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)
	o := sdpoa.Options{IssueOptions: credentials.IssueOptions{Now: func() time.Time { return t0 }}, Decoys: 1}
	read := credentials.Grant{ID: "urn:mandate:grant:email-read", Action: "email:read", Resource: "mailbox:alice/*"}
	root, err := sdpoa.Issue(principal, credentials.Template{Subject: agent.DID(), Purpose: "Keep Alice's inbox organised",
		Grants: []credentials.Grant{read}, Delegation: credentials.Delegation{Allowed: true, MaxDepth: 1}}, o)
	if err != nil {
		f.Fatal(err)
	}
	child, err := sdpoa.Delegate(agent, []*sdjwt.SDJWT{root}, credentials.Template{Subject: sub.DID(), Purpose: "Summarise Alice's inbox",
		Grants: []credentials.Grant{read}}, o)
	if err != nil {
		f.Fatal(err)
	}
	req := Request{Action: "email:read", Resource: "mailbox:alice/inbox", Intent: "summarise"}
	sel, err := SelectSDJWT([][]*sdjwt.SDJWT{{root, child}}, sub.DID(), req.Action, req.Resource, t0)
	if err != nil {
		f.Fatal(err)
	}
	vp, err := PresentSDJWT(sub, sel, Challenge{Nonce: "bm9uY2U", Audience: "https://mail.example", ExpiresAt: t0.Add(time.Minute)}, req, t0)
	if err != nil {
		f.Fatal(err)
	}
	var links []string
	if err := json.Unmarshal(vp, &links); err != nil {
		f.Fatal(err)
	}
	big, _ := json.Marshal([]string{links[0], links[1] + strings.Repeat("A", sdpoa.MaxLinkBytes)})
	ten, _ := json.Marshal(slices.Repeat(links[:1], credentials.MaxChainLinks+1))
	return [][]byte{vp, big, ten}
}
