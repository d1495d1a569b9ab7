package sdjwt_test

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/mandate-dev/mandate/credentials/sdjwt"
)

// An issuer makes two claims selectively disclosable, the holder shows one
// of them bound to a verifier's challenge, and the verifier verifies, then
// validates.
func Example() {
	_, issuerPriv, _ := ed25519.GenerateKey(rand.Reader)
	holderPub, holderPriv, _ := ed25519.GenerateKey(rand.Reader)
	now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)

	issuer, err := sdjwt.NewIssuer(issuerPriv, jose.EdDSA, "example+sd-jwt", rand.Reader, 2)
	if err != nil {
		panic(err)
	}
	issued, err := issuer.Issue(map[string]any{
		"iss":   "did:example:alice",
		"email": sdjwt.Disclosable{Value: "alice@example.com"},
		"phone": sdjwt.Disclosable{Value: "+1 555 0100"},
	}, holderPub)
	if err != nil {
		panic(err)
	}

	// The holder shows only the email.
	var email string
	for _, d := range issued.Disclosures {
		if d.Name == "email" {
			email = d.Digest
		}
	}
	selected, err := issued.Select(email)
	if err != nil {
		panic(err)
	}
	holder, err := sdjwt.NewHolder(holderPriv, jose.EdDSA)
	if err != nil {
		panic(err)
	}
	presentation, err := holder.Present(selected, sdjwt.KeyBindingClaims{Nonce: "n-42", Audience: "https://shop.example", IssuedAt: now})
	if err != nil {
		panic(err)
	}

	verifier, err := sdjwt.NewVerifier(issuerPriv.Public(), "example+sd-jwt")
	if err != nil {
		panic(err)
	}
	verified, err := verifier.Verify(presentation)
	if err != nil {
		panic(err)
	}
	err = verified.Validate(now.Add(time.Second), sdjwt.Validation{Nonce: "n-42", Audience: "https://shop.example", MaxAge: time.Minute})
	fmt.Println("valid:", err == nil)
	fmt.Println("email:", verified.Claims["email"])
	_, phoneShown := verified.Claims["phone"]
	fmt.Println("phone shown:", phoneShown)

	// The same presentation replayed to another challenge.
	err = verified.Validate(now.Add(time.Second), sdjwt.Validation{Nonce: "n-43", Audience: "https://shop.example", MaxAge: time.Minute})
	fmt.Println(errors.Is(err, sdjwt.ErrNonce), err)
	// Output:
	// valid: true
	// email: alice@example.com
	// phone shown: false
	// true sdjwt: nonce mismatch: key binding JWT answers another challenge
}

// Verifying the RFC 9901 main example with the issuer key of its appendix
// A.5.
func ExampleVerifier_Verify() {
	var issuerKey jose.JSONWebKey
	_ = json.Unmarshal([]byte(`{"kty":"EC","crv":"P-256","x":"b28d4MwZMjw8-00CG4xfnn9SLMVMM19SlqZpVb_uNtQ","y":"Xv5zWwuoaTgdS6hV43yI6gBwTnjukmFQQnJ_kCxzqk8"}`), &issuerKey)
	verifier, err := sdjwt.NewVerifier(issuerKey.Key, "example+sd-jwt")
	if err != nil {
		panic(err)
	}
	// A plain SD-JWT (no key binding JWT) is refused: key binding is
	// required unless the verifier says otherwise.
	_, err = verifier.Verify("eyJhbGciOiAiRVMyNTYiLCAidHlwIjogImV4YW1wbGUrc2Qtand0In0.eyJfc2QiOiBbIkNyUWU3UzVrcUJBSHQtbk1ZWGdjNmJkdDJTSDVhVFkxc1VfTS1QZ2tqUEkiLCAiSnpZakg0c3ZsaUgwUjNQeUVNZmVadTZKdDY5dTVxZWhabzdGN0VQWWxTRSIsICJQb3JGYnBLdVZ1Nnh5bUphZ3ZrRnNGWEFiUm9jMkpHbEFVQTJCQTRvN2NJIiwgIlRHZjRvTGJnd2Q1SlFhSHlLVlFaVTlVZEdFMHc1cnREc3JaemZVYW9tTG8iLCAiWFFfM2tQS3QxWHlYN0tBTmtxVlI2eVoyVmE1TnJQSXZQWWJ5TXZSS0JNTSIsICJYekZyendzY002R242Q0pEYzZ2Vks4QmtNbmZHOHZPU0tmcFBJWmRBZmRFIiwgImdiT3NJNEVkcTJ4Mkt3LXc1d1BFemFrb2I5aFYxY1JEMEFUTjNvUUw5Sk0iLCAianN1OXlWdWx3UVFsaEZsTV8zSmx6TWFTRnpnbGhRRzBEcGZheVF3TFVLNCJdLCAiaXNzIjogImh0dHBzOi8vaXNzdWVyLmV4YW1wbGUuY29tIiwgImlhdCI6IDE2ODMwMDAwMDAsICJleHAiOiAxODgzMDAwMDAwLCAic3ViIjogInVzZXJfNDIiLCAibmF0aW9uYWxpdGllcyI6IFt7Ii4uLiI6ICJwRm5kamtaX1ZDem15VGE2VWpsWm8zZGgta284YUlLUWM5RGxHemhhVllvIn0sIHsiLi4uIjogIjdDZjZKa1B1ZHJ5M2xjYndIZ2VaOGtoQXYxVTFPU2xlclAwVmtCSnJXWjAifV0sICJfc2RfYWxnIjogInNoYS0yNTYiLCAiY25mIjogeyJqd2siOiB7Imt0eSI6ICJFQyIsICJjcnYiOiAiUC0yNTYiLCAieCI6ICJUQ0FFUjE5WnZ1M09IRjRqNFc0dmZTVm9ISVAxSUxpbERsczd2Q2VHZW1jIiwgInkiOiAiWnhqaVdXYlpNUUdIVldLVlE0aGJTSWlyc1ZmdWVjQ0U2dDRqVDlGMkhaUSJ9fX0.xJUoRLl1sVRxz57ralck9kBWbzbq0soK6dQ5liBXuge3IY8vVYq2xi1tywYwvlRTtPIM2A-XDzyta-SaJLhexQ~WyJlbHVWNU9nM2dTTklJOEVZbnN4QV9BIiwgImZhbWlseV9uYW1lIiwgIkRvZSJd~")
	fmt.Println(err)
	// Output:
	// sdjwt: key binding missing: no key binding JWT presented
}
