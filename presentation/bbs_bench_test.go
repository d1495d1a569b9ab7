package presentation_test

import (
	"context"
	"crypto/ed25519"
	"fmt"
	"testing"
	"time"

	bls12381 "github.com/kilic/bls12-381"

	"github.com/mandate-dev/mandate/credentials"
	"github.com/mandate-dev/mandate/internal/testkeys"
	"github.com/mandate-dev/mandate/presentation"
)

// BenchmarkAuthorizeBBS is BenchmarkAuthorizeSDJWT for the bbs format: a
// BLS principal → the agent's BLS did:key (four grants, three hidden) →
// an Ed25519 summarizer; links=1 is the agent presenting its root (a BBS+
// binding), links=2 the summarizer its two-link chain (an Ed25519 binding).
// Cold as there: a new verifier per sub-benchmark, a fresh presentation (own
// nonce, own derived proofs) per op. The floors run in the same process:
// one BLS12-381 pairing check (two pairings) and one ed25519.Verify.
func BenchmarkAuthorizeBBS(b *testing.B) {
	principal, agent := testkeys.NewBLS("bench principal"), testkeys.NewBLS("bench agent")
	opts := credentials.IssueOptions{Now: func() time.Time { return benchIssued }}
	read := credentials.Grant{ID: "urn:mandate:grant:email-read", Action: "email:read", Resource: "mailbox:alice/*"}
	root, err := credentials.IssueBBS(principal, credentials.Template{
		Subject: agent.DID(), Purpose: "Keep Alice's inbox organised", Forbidden: []credentials.Forbidden{{Action: "email:send"}},
		Grants: []credentials.Grant{read,
			{ID: "urn:mandate:grant:email-draft", Action: "email:draft", Resource: "mailbox:alice/*"},
			{ID: "urn:mandate:grant:calendar-read", Action: "calendar:read", Resource: "calendar:alice/*"},
			{ID: "urn:mandate:grant:slack-read", Action: "slack:read", Resource: "slack:acme/general"}},
		Delegation: credentials.Delegation{Allowed: true, MaxDepth: 1},
	}, opts)
	if err != nil {
		b.Fatal(err)
	}
	child, err := credentials.DelegateBBS(agent, []*credentials.Credential{root}, credentials.Template{
		Subject: benchSubAgent.DID(), Purpose: "Summarise Alice's inbox", Grants: []credentials.Grant{read},
	}, opts)
	if err != nil {
		b.Fatal(err)
	}
	chain := []*credentials.Credential{root, child}
	holders := []credentials.Signer{presentation.BBSHolder(agent), benchSubAgent}
	ctx := context.Background()
	for _, n := range []int{1, 2} {
		b.Run(fmt.Sprintf("links=%d", n), func(b *testing.B) {
			v := newBenchVerifier(b, func(c *presentation.Config) {
				c.TrustedRoots, c.Formats = []string{principal.DID()}, []string{presentation.FormatBBS}
			})
			sel, err := presentation.SelectBBS([][]*credentials.Credential{chain[:n]}, holders[n-1].DID(), "email:read", "mailbox:alice/inbox", benchNow)
			if err != nil {
				b.Fatal(err)
			}
			vps := make([][]byte, b.N)
			for i := range vps {
				ch, err := v.Challenge(ctx)
				if err != nil {
					b.Fatal(err)
				}
				if vps[i], err = presentation.PresentBBS(holders[n-1], sel, ch, benchRequest()); err != nil {
					b.Fatal(err)
				}
			}
			startBenchTimer(b)
			for i := range b.N {
				if d := v.Authorize(ctx, vps[i], benchRequest(), presentation.WithFormat(presentation.FormatBBS)); !d.Allowed() {
					b.Fatalf("decision = %s %v: %s", d.Outcome, d.Reasons, d.Message)
				}
			}
			b.StopTimer()
			b.ReportMetric(float64(n+1), "sigchecks/op") // one derived proof per link, plus the binding
			b.ReportMetric(float64(len(vps[0])), "bytes/presentation")
		})
	}
	b.Run("floor-pairing-check", func(b *testing.B) {
		g1, g2 := bls12381.NewG1(), bls12381.NewG2()
		p, q := g1.One(), g2.One()
		np := g1.New()
		g1.Neg(np, p)
		for b.Loop() {
			e := bls12381.NewEngine()
			e.AddPair(p, q)
			e.AddPair(np, q)
			if !e.Check() {
				b.Fatal("pairing check failed")
			}
		}
	})
	b.Run("floor-ed25519-verify", func(b *testing.B) {
		msg := []byte("mandate")
		sig, _ := benchSubAgent.Sign(msg)
		for b.Loop() {
			if !ed25519.Verify(benchSubAgent.PublicKey(), msg, sig) {
				b.Fatal("ed25519 verify failed")
			}
		}
	})
}
