package holder_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/mandate-dev/mandate/credentials"
	"github.com/mandate-dev/mandate/presentation"
	"github.com/mandate-dev/mandate/presentation/gatekeeper"
	"github.com/mandate-dev/mandate/wallet/holder"
)

// BenchmarkPresent measures a Present over the socket, which reloads and
// decodes every held chain, with 1 and with 100 chains in the wallet.
func BenchmarkPresent(b *testing.B) {
	for _, n := range []int{1, 100} {
		b.Run(fmt.Sprintf("chains=%d", n), func(b *testing.B) {
			w := newWallet(b)
			for i := 1; i < n; i++ {
				root, err := credentials.Issue(alice, credentials.Template{
					Subject: w.DID(), Purpose: "other",
					Grants: []credentials.Grant{{ID: "urn:mandate:grant:x", Action: fmt.Sprintf("svc%d:read", i), Resource: "r:x"}},
				}, credentials.IssueOptions{})
				if err != nil {
					b.Fatal(err)
				}
				putChain(b, w, fmt.Sprintf("other-%03d", i), []*credentials.Credential{root})
			}
			c, err := holder.Dial(serve(b, w))
			if err != nil {
				b.Fatal(err)
			}
			defer c.Close()
			ch := presentation.Challenge{Nonce: "n", Audience: "https://mail.example.com", ExpiresAt: time.Now().Add(time.Hour), Formats: []string{"ldp"}}
			b.ResetTimer()
			for b.Loop() {
				if _, _, err := c.Present(context.Background(), ch, read); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkPresentInProcess is the wallet's signing alone, the part of a
// socket Present that is not the socket, the chain reload or the fsynced
// log entry: gatekeeper.Holder over the same wallet's chains (loaded once)
// and key, for the same challenge and request as BenchmarkPresent.
func BenchmarkPresentInProcess(b *testing.B) {
	b.Run("chains=1", func(b *testing.B) {
		w := newWallet(b)
		held, err := holder.HeldChains(w)
		if err != nil {
			b.Fatal(err)
		}
		h := gatekeeper.Holder{Signer: w, Held: held}
		ch := presentation.Challenge{Nonce: "n", Audience: "https://mail.example.com", ExpiresAt: time.Now().Add(time.Hour), Formats: []string{"ldp"}}
		b.ReportAllocs()
		for b.Loop() {
			if _, _, err := h.Present(context.Background(), ch, read); err != nil {
				b.Fatal(err)
			}
		}
	})
}
