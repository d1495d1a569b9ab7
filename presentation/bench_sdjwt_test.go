package presentation_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/mandate-dev/mandate/credentials"
	"github.com/mandate-dev/mandate/credentials/sdjwt"
	"github.com/mandate-dev/mandate/credentials/sdpoa"
	"github.com/mandate-dev/mandate/internal/testkeys"
	"github.com/mandate-dev/mandate/presentation"
)

// newBenchSDChain is newBenchChain's chain issued as SD-JWT, the root with
// three more grants (hidden in every presentation) and two decoys.
func newBenchSDChain(b *testing.B) ([]*sdjwt.SDJWT, []*testkeys.Key) {
	b.Helper()
	opts := sdpoa.Options{IssueOptions: credentials.IssueOptions{Now: func() time.Time { return benchIssued }}, Decoys: 2}
	read := []credentials.Grant{{ID: "urn:mandate:grant:email-read", Action: "email:read", Resource: "mailbox:alice/*"}}
	root, err := sdpoa.Issue(benchPrincipal, credentials.Template{
		Subject: benchAgent.DID(), Purpose: "Keep Alice's inbox organised", Forbidden: []credentials.Forbidden{{Action: "email:send"}},
		Grants: append(read,
			credentials.Grant{ID: "urn:mandate:grant:email-draft", Action: "email:draft", Resource: "mailbox:alice/*"},
			credentials.Grant{ID: "urn:mandate:grant:calendar-read", Action: "calendar:read", Resource: "calendar:alice/*"},
			credentials.Grant{ID: "urn:mandate:grant:slack-read", Action: "slack:read", Resource: "slack:acme/general"}),
		Delegation: credentials.Delegation{Allowed: true, MaxDepth: 2},
	}, opts)
	if err != nil {
		b.Fatal(err)
	}
	child, err := sdpoa.Delegate(benchAgent, []*sdjwt.SDJWT{root}, credentials.Template{
		Subject: benchSubAgent.DID(), Purpose: "Summarise Alice's inbox", Grants: read,
		Delegation: credentials.Delegation{Allowed: true, MaxDepth: 1},
	}, opts)
	if err != nil {
		b.Fatal(err)
	}
	grandchild, err := sdpoa.Delegate(benchSubAgent, []*sdjwt.SDJWT{root, child}, credentials.Template{
		Subject: benchWorker.DID(), Purpose: "Read the inbox",
		Grants: []credentials.Grant{{ID: "urn:mandate:grant:inbox-read", Action: "email:read", Resource: "mailbox:alice/inbox"}},
	}, opts)
	if err != nil {
		b.Fatal(err)
	}
	return []*sdjwt.SDJWT{root, child, grandchild}, []*testkeys.Key{benchAgent, benchSubAgent, benchWorker}
}

// BenchmarkAuthorizeSDJWT is BenchmarkAuthorizeInProcess for the sd-jwt
// format, cold: a new verifier per sub-benchmark and a fresh presentation
// (its own nonce) per op; nothing of one decision is cached for the next.
func BenchmarkAuthorizeSDJWT(b *testing.B) {
	links, holders := newBenchSDChain(b)
	ctx := context.Background()
	for _, n := range benchLinks {
		b.Run(fmt.Sprintf("links=%d", n), func(b *testing.B) {
			v := newBenchVerifier(b, func(c *presentation.Config) { c.Formats = []string{presentation.FormatSDJWT} })
			sel, err := presentation.SelectSDJWT([][]*sdjwt.SDJWT{links[:n]}, holders[n-1].DID(), "email:read", "mailbox:alice/inbox", benchNow)
			if err != nil {
				b.Fatal(err)
			}
			vps := make([][]byte, b.N)
			for i := range vps {
				ch, err := v.Challenge(ctx)
				if err != nil {
					b.Fatal(err)
				}
				if vps[i], err = presentation.PresentSDJWT(holders[n-1], sel, ch, benchRequest(), benchNow); err != nil {
					b.Fatal(err)
				}
			}
			startBenchTimer(b)
			for i := range b.N {
				if d := v.Authorize(ctx, vps[i], benchRequest(), presentation.WithFormat(presentation.FormatSDJWT)); !d.Allowed() {
					b.Fatalf("decision = %s %v: %s", d.Outcome, d.Reasons, d.Message)
				}
			}
			b.StopTimer()
			b.ReportMetric(float64(n+1), "sigchecks/op") // one issuer signature per link, plus the key binding JWT
			b.ReportMetric(float64(len(vps[0])), "bytes/presentation")
		})
	}
}
