package presentation

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/mandate-dev/mandate/credentials"
	"github.com/mandate-dev/mandate/internal/testkeys"
)

// FuzzParseVP feeds arbitrary bytes to the first step of the pipeline, the
// parse of a presentation's envelope before any proof is checked. It
// refuses with MALFORMED only; what it accepts has a holder DID, a request
// digest, 1..MaxChainLinks credential objects each within the credential
// limit, and an envelope without the credentials.
func FuzzParseVP(f *testing.F) {
	principal, agent := testkeys.New("alice"), testkeys.New("assistant")
	t0 := time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)
	root, err := credentials.Issue(principal, credentials.Template{
		Subject: agent.DID(), Purpose: "Keep Alice's inbox organised",
		Grants: []credentials.Grant{{ID: "urn:mandate:grant:email-read", Action: "email:read", Resource: "mailbox:alice/*"}},
	}, credentials.IssueOptions{Now: func() time.Time { return t0 }})
	if err != nil {
		f.Fatal(err)
	}
	ch := Challenge{Nonce: "bm9uY2U", Audience: "https://mail.example", ExpiresAt: t0.Add(time.Hour)}
	req := Request{Action: "email:read", Resource: "mailbox:alice/inbox", Intent: "summarise"}
	vp, err := Present(agent, []*credentials.Credential{root}, ch, req, t0)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(vp)
	f.Add([]byte(strings.Replace(string(vp), `"verifiableCredential":[`, `"verifiableCredential":[1,`, 1)))
	f.Add([]byte(strings.Replace(string(vp), `"holder":"did:`, `"holder":"dxd:`, 1)))
	f.Add([]byte(`{"@context":[],"type":["VerifiablePresentation"]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := parseVP(data)
		if err != nil {
			var d *denial
			if p != nil || !errors.As(err, &d) || d.reason != ReasonMalformed {
				t.Fatalf("parseVP = %v, %v; want nil, MALFORMED", p, err)
			}
			return
		}
		if len(data) > MaxPresentationBytes || !strings.HasPrefix(p.holder, "did:") || p.requestDigest == "" ||
			len(p.creds) == 0 || len(p.creds) > credentials.MaxChainLinks {
			t.Fatalf("accepted holder %q digest %q with %d credentials (%d bytes)", p.holder, p.requestDigest, len(p.creds), len(data))
		}
		for i, c := range p.creds {
			if b, err := json.Marshal(c); err != nil || len(b) > credentials.MaxCredentialBytes {
				t.Fatalf("credential %d: %d bytes, %v", i, len(b), err)
			}
		}
		if _, ok := p.envelope()["verifiableCredential"]; ok || len(p.envelope()) != len(p.doc)-1 {
			t.Fatalf("envelope %v", p.envelope())
		}
	})
}
