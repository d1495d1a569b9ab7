package sdjwt_test

import (
	"crypto/ed25519"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/mandate-dev/mandate/credentials/sdjwt"
)

// A test issuer and holder with fixed keys: fakes, not mocks. Every token
// they make is really signed.
const testTyp = "test+sd-jwt"

var (
	issuerKey  = ed25519.NewKeyFromSeed(seed(1))
	holderKey  = ed25519.NewKeyFromSeed(seed(2))
	strangerKy = ed25519.NewKeyFromSeed(seed(3))
	testNow    = time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
)

func seed(b byte) []byte {
	s := make([]byte, ed25519.SeedSize)
	for i := range s {
		s[i] = b
	}
	return s
}

func testRand(n uint64) *rand.ChaCha8 {
	var s [32]byte
	s[0] = byte(n)
	return rand.NewChaCha8(s)
}

func testIssuer(t testing.TB, decoys int) *sdjwt.Issuer {
	t.Helper()
	iss, err := sdjwt.NewIssuer(issuerKey, jose.EdDSA, testTyp, testRand(7), decoys)
	if err != nil {
		t.Fatal(err)
	}
	return iss
}

func testHolder(t testing.TB) *sdjwt.Holder {
	t.Helper()
	h, err := sdjwt.NewHolder(holderKey, jose.EdDSA)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func testVerifier(t testing.TB, opts ...sdjwt.Option) *sdjwt.Verifier {
	t.Helper()
	v, err := sdjwt.NewVerifier(issuerKey.Public(), testTyp, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

var testValidation = sdjwt.Validation{Nonce: "n-1", Audience: "https://verifier.test", MaxAge: 5 * time.Minute, Skew: 30 * time.Second}

func testKB() sdjwt.KeyBindingClaims {
	return sdjwt.KeyBindingClaims{Nonce: testValidation.Nonce, Audience: testValidation.Audience, IssuedAt: testNow}
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

func b64JSON(t testing.TB, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b64(b)
}

// disclosure encodes a Disclosure from its elements.
func disclosure(t testing.TB, elements ...any) string { return b64JSON(t, elements) }

// rawJWT builds a compact JWS with any header, so tests can make what no
// honest signer would (alg none, HS256, a wrong typ). sign is nil for an
// empty signature.
func rawJWT(t testing.TB, header map[string]any, payload []byte, sign func([]byte) []byte) string {
	t.Helper()
	input := b64JSON(t, header) + "." + b64(payload)
	sig := ""
	if sign != nil {
		sig = b64(sign([]byte(input)))
	}
	return input + "." + sig
}

func signEd25519(key ed25519.PrivateKey) func([]byte) []byte {
	return func(in []byte) []byte { return ed25519.Sign(key, in) }
}

// signHS256 is the algorithm confusion attack: an HMAC keyed with the bytes
// of a public key that the verifier holds.
func signHS256(secret []byte) func([]byte) []byte {
	return func(in []byte) []byte {
		m := hmac.New(sha256.New, secret)
		m.Write(in)
		return m.Sum(nil)
	}
}

// issuerJWT signs claims as the test issuer, bound to the test holder.
func issuerJWT(t testing.TB, claims map[string]any) string {
	t.Helper()
	if _, ok := claims["cnf"]; !ok {
		claims["cnf"] = map[string]any{"jwk": jose.JSONWebKey{Key: holderKey.Public()}}
	}
	body, err := json.Marshal(claims)
	if err != nil {
		t.Fatal(err)
	}
	return rawJWT(t, map[string]any{"alg": "EdDSA", "typ": testTyp}, body, signEd25519(issuerKey))
}

// kbJWT signs Key Binding JWT claims for the presented prefix (which ends
// with '~').
func kbJWT(t testing.TB, header map[string]any, prefix string, sign func([]byte) []byte, edit func(map[string]any)) string {
	t.Helper()
	claims := map[string]any{"nonce": testValidation.Nonce, "aud": testValidation.Audience, "iat": testNow.Unix(), "sd_hash": sdjwt.Digest(prefix)}
	if edit != nil {
		edit(claims)
	}
	body, err := json.Marshal(claims)
	if err != nil {
		t.Fatal(err)
	}
	return rawJWT(t, header, body, sign)
}

// digestsOf returns the digests of the Disclosures with the given claim
// names (or, for array elements, string values).
func digestsOf(t testing.TB, s *sdjwt.SDJWT, names ...string) []string {
	t.Helper()
	var out []string
	for _, n := range names {
		found := false
		for _, d := range s.Disclosures {
			if (!d.IsArrayElement && d.Name == n) || (d.IsArrayElement && d.Value == n) {
				out, found = append(out, d.Digest), true
			}
		}
		if !found {
			t.Fatalf("no disclosure %q among %d", n, len(s.Disclosures))
		}
	}
	return out
}

func withoutKB(presentation string) string {
	return presentation[:strings.LastIndex(presentation, "~")+1]
}
