package credentials_test

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"testing"

	bls12381 "github.com/kilic/bls12-381"

	"github.com/mandate-dev/mandate/credentials"
)

// BenchmarkBBS measures, in one run: our derive (aries' SelectiveDisclosure
// under our frame), our verify (cached generators), the same verification
// with aries' own VerifyProof (generators rebuilt each time), and two floors:
// one BLS pairing check (the two-pairing product every BBS+ proof check
// needs, the cost no implementation can avoid) and one ed25519.Verify.
func BenchmarkBBS(b *testing.B) {
	c := issueBBS(b)
	derived := deriveBBS(b, c, bbsNonce)
	var doc map[string]any
	if err := json.Unmarshal(derived, &doc); err != nil {
		b.Fatal(err)
	}
	v := bbsVerifier(b)
	b.Run("derive", func(b *testing.B) {
		for b.Loop() {
			if _, err := credentials.DeriveBBS(c, []string{grantRead}, bbsNonce); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("verify-mandate-cached", func(b *testing.B) {
		for b.Loop() {
			if _, err := v.Verify(context.Background(), derived, bbsNonce); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("verify-aries-VerifyProof", func(b *testing.B) {
		pub := bbsAlice.PublicKey()
		for b.Loop() {
			if err := credentials.VerifyBBSAries(doc, bbsNonce, pub); err != nil {
				b.Fatal(err)
			}
		}
	})
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
		pub := alice.PublicKey()
		msg := []byte("mandate")
		sig, _ := alice.Sign(msg)
		for b.Loop() {
			if !ed25519.Verify(pub, msg, sig) {
				b.Fatal("ed25519 verify failed")
			}
		}
	})
}
