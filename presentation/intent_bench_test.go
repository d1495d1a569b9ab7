package presentation_test

import (
	"context"
	"crypto/ed25519"
	"testing"

	"github.com/mandate-dev/mandate/intent"
	"github.com/mandate-dev/mandate/intent/cel"
	"github.com/mandate-dev/mandate/intent/lexical"
	"github.com/mandate-dev/mandate/presentation"
)

// BenchmarkIntent measures what the intent stage adds to a decision on a
// 3-link chain, with the checkers alone and the ed25519 floor in the same run.
func BenchmarkIntent(b *testing.B) {
	lex, err := lexical.New(lexical.Config{})
	if err != nil {
		b.Fatal(err)
	}
	rule, err := cel.New(cel.Config{Conditions: []string{`!intent.lowerAscii().contains("password")`, `size(purposes) <= 3`}})
	if err != nil {
		b.Fatal(err)
	}
	policies := []struct {
		name     string
		checkers []intent.Checker
	}{{"none", nil}, {"lexical", []intent.Checker{lex}}, {"cel", []intent.Checker{rule}}, {"lexical+cel", []intent.Checker{lex, rule}}}
	c := newBenchChain(b)
	for _, p := range policies {
		b.Run("Authorize3/"+p.name, func(b *testing.B) {
			v := newBenchVerifier(b, func(c *presentation.Config) { c.Intent = presentation.IntentPolicy{Checkers: p.checkers} })
			vps := benchPresentations(b, v.Challenge, c, 3, b.N)
			b.ResetTimer()
			for i := range b.N {
				if d := v.Authorize(context.Background(), vps[i], benchRequest()); !d.Allowed() {
					b.Fatalf("%s %v %s", d.Outcome, d.Reasons, d.Message)
				}
			}
		})
	}
	r := intent.Request{Action: "email:read", Resource: "mailbox:alice/inbox", Intent: benchRequest().Intent,
		Purposes: []string{"Keep Alice's inbox organised", "Summarise Alice's inbox", "Read the inbox"},
		Grant:    intent.Grant{Action: "email:read", Resource: "mailbox:alice/inbox"}}
	for _, ch := range []intent.Checker{lex, rule} {
		b.Run("Check/"+ch.Name(), func(b *testing.B) {
			for range b.N {
				if a, err := ch.Check(context.Background(), r); err != nil || a.Verdict != intent.Allow {
					b.Fatal(a, err)
				}
			}
		})
	}
	b.Run("floor/ed25519.Verify", func(b *testing.B) {
		pub, priv, _ := ed25519.GenerateKey(nil)
		msg := []byte("a 32-byte message of some length")
		sig := ed25519.Sign(priv, msg)
		for range b.N {
			if !ed25519.Verify(pub, msg, sig) {
				b.Fatal("verify")
			}
		}
	})
}
