package sdjwt_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/mandate-dev/mandate/credentials/sdjwt"
)

func roundTripClaims() map[string]any {
	return map[string]any{
		"iss":         "did:example:issuer",
		"exp":         testNow.Add(time.Hour).Unix(),
		"given_name":  sdjwt.Disclosable{Value: "Ada"},
		"family_name": sdjwt.Disclosable{Value: "Lovelace"},
		"languages":   []any{"en", sdjwt.Disclosable{Value: "fr"}, sdjwt.Disclosable{Value: "it"}},
		// Recursive: the address may be shown without its street.
		"address": sdjwt.Disclosable{Value: map[string]any{
			"country": "GB",
			"street":  sdjwt.Disclosable{Value: "12 St James's Square"},
		}},
	}
}

func TestRoundTrip(t *testing.T) {
	issued, err := testIssuer(t, 3).Issue(roundTripClaims(), holderKey.Public())
	if err != nil {
		t.Fatal(err)
	}
	if len(issued.Disclosures) != 6 {
		t.Fatalf("%d disclosures, want 6", len(issued.Disclosures))
	}
	all, err := testVerifier(t).VerifyIssued(issued.String())
	if err != nil {
		t.Fatalf("VerifyIssued: %v", err)
	}
	delete(all.Claims, "cnf")
	mustEqual(t, "all claims", any(all.Claims), renumber(t, map[string]any{
		"iss": "did:example:issuer", "exp": testNow.Add(time.Hour).Unix(),
		"given_name": "Ada", "family_name": "Lovelace", "languages": []any{"en", "fr", "it"},
		"address": map[string]any{"country": "GB", "street": "12 St James's Square"},
	}))

	for _, c := range []struct {
		name  string
		shown []string
		want  map[string]any
	}{
		{"nothing", nil, map[string]any{"languages": []any{"en"}}},
		{"one property", []string{"given_name"}, map[string]any{"given_name": "Ada", "languages": []any{"en"}}},
		{"one array element", []string{"it"}, map[string]any{"languages": []any{"en", "it"}}},
		{"address without street", []string{"address"}, map[string]any{"languages": []any{"en"}, "address": map[string]any{"country": "GB"}}},
		{"address with street", []string{"street", "address"}, map[string]any{"languages": []any{"en"}, "address": map[string]any{"country": "GB", "street": "12 St James's Square"}}},
	} {
		t.Run(c.name, func(t *testing.T) {
			selected, err := issued.Select(digestsOf(t, issued, c.shown...)...)
			if err != nil {
				t.Fatalf("Select: %v", err)
			}
			presentation, err := testHolder(t).Present(selected, testKB())
			if err != nil {
				t.Fatal(err)
			}
			got, err := testVerifier(t).Verify(presentation)
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			if err := got.Validate(testNow.Add(10*time.Second), testValidation); err != nil {
				t.Fatalf("Validate: %v", err)
			}
			delete(got.Claims, "cnf")
			c.want["iss"], c.want["exp"] = "did:example:issuer", testNow.Add(time.Hour).Unix()
			mustEqual(t, "processed payload", any(got.Claims), renumber(t, c.want))
			if len(got.Disclosures) != len(c.shown) {
				t.Errorf("%d disclosures verified, want %d", len(got.Disclosures), len(c.shown))
			}
		})
	}
}

// TestRoundTripECDSA uses ES256 for the issuer and the holder, the
// algorithm of the RFC examples.
func TestRoundTripECDSA(t *testing.T) {
	iss, err := ecdsa.GenerateKey(elliptic.P256(), testRand(11))
	if err != nil {
		t.Fatal(err)
	}
	hold, err := ecdsa.GenerateKey(elliptic.P256(), testRand(12))
	if err != nil {
		t.Fatal(err)
	}
	issuer, err := sdjwt.NewIssuer(iss, jose.ES256, testTyp, testRand(13), 0)
	if err != nil {
		t.Fatal(err)
	}
	issued, err := issuer.Issue(map[string]any{"name": sdjwt.Disclosable{Value: "Ada"}}, &hold.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	holder, err := sdjwt.NewHolder(hold, jose.ES256)
	if err != nil {
		t.Fatal(err)
	}
	presentation, err := holder.Present(issued, testKB())
	if err != nil {
		t.Fatal(err)
	}
	v, err := sdjwt.NewVerifier(&iss.PublicKey, testTyp, sdjwt.WithAlgorithms(jose.ES256))
	if err != nil {
		t.Fatal(err)
	}
	got, err := v.Verify(presentation)
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	if got.Claims["name"] != "Ada" {
		t.Errorf("name = %v", got.Claims["name"])
	}
	// An EdDSA-only verifier refuses the ES256 issuer before using a key.
	if _, err := sdjwt.NewVerifier(&iss.PublicKey, testTyp, sdjwt.WithAlgorithms(jose.EdDSA)); err != nil {
		t.Fatal(err)
	}
	edOnly, _ := sdjwt.NewVerifier(&iss.PublicKey, testTyp, sdjwt.WithAlgorithms(jose.EdDSA))
	_, err = edOnly.Verify(presentation)
	wantErr(t, err, sdjwt.ErrAlgorithm, `sdjwt: algorithm not accepted: "ES256"`)
}

func TestDecoys(t *testing.T) {
	issued, err := testIssuer(t, 4).Issue(map[string]any{"a": sdjwt.Disclosable{Value: 1}, "l": []any{sdjwt.Disclosable{Value: "x"}}}, holderKey.Public())
	if err != nil {
		t.Fatal(err)
	}
	payload := issuerPayload(t, issued.IssuerJWT).(map[string]any)
	if n := len(payload["_sd"].([]any)); n != 5 {
		t.Errorf("_sd has %d digests, want 1 + 4 decoys", n)
	}
	if n := len(payload["l"].([]any)); n != 5 {
		t.Errorf("array has %d elements, want 1 + 4 decoys", n)
	}
	if payload["_sd_alg"] != "sha-256" {
		t.Errorf("_sd_alg = %v", payload["_sd_alg"])
	}
	got, err := testVerifier(t, sdjwt.InsecureSkipKeyBinding()).Verify(issued.String())
	if err != nil {
		t.Fatal(err)
	}
	mustEqual(t, "array after decoys", got.Claims["l"], any([]any{"x"}))
}

func TestIssueRefuses(t *testing.T) {
	for _, c := range []struct {
		name   string
		claims map[string]any
		want   string
	}{
		{"reserved _sd", map[string]any{"_sd": []any{}}, `sdjwt: claim name "_sd" is reserved`},
		{"reserved ...", map[string]any{"x": map[string]any{"...": "y"}}, `sdjwt: claim name "..." is reserved`},
		{"own cnf", map[string]any{"cnf": "x"}, `sdjwt: claim "cnf" is set by the issuer`},
		{"own _sd_alg", map[string]any{"_sd_alg": "sha-256"}, `sdjwt: claim "_sd_alg" is set by the issuer`},
		{"disclosable reserved name", map[string]any{"_sd": sdjwt.Disclosable{Value: 1}}, `sdjwt: claim name "_sd" is reserved`},
	} {
		_, err := testIssuer(t, 0).Issue(c.claims, holderKey.Public())
		if err == nil || err.Error() != c.want {
			t.Errorf("%s: got %v, want %s", c.name, err, c.want)
		}
	}
	_, err := sdjwt.NewIssuer(issuerKey, jose.ES256, testTyp, testRand(1), 0)
	wantErr(t, err, sdjwt.ErrAlgorithm, "sdjwt: algorithm not accepted: ES256 with key type ed25519.PrivateKey")
	_, err = sdjwt.NewIssuer(issuerKey, jose.HS256, testTyp, testRand(1), 0)
	wantErr(t, err, sdjwt.ErrAlgorithm, "sdjwt: algorithm not accepted: HS256 with key type ed25519.PrivateKey")
}

func TestSelectRefuses(t *testing.T) {
	issued, err := testIssuer(t, 0).Issue(roundTripClaims(), holderKey.Public())
	if err != nil {
		t.Fatal(err)
	}
	street := digestsOf(t, issued, "street")[0]
	_, err = issued.Select(street)
	wantErr(t, err, sdjwt.ErrDisclosure, "sdjwt: disclosure rejected: disclosure "+street+" is referenced by no digest")
	_, err = issued.Select("nope")
	wantErr(t, err, sdjwt.ErrDisclosure, "sdjwt: disclosure rejected: disclosure nope is not part of the SD-JWT")
	given := digestsOf(t, issued, "given_name")[0]
	_, err = issued.Select(given, given)
	wantErr(t, err, sdjwt.ErrDisclosure, "sdjwt: disclosure rejected: disclosure given twice: "+given)
	presented, err := testHolder(t).Present(issued, testKB())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := testHolder(t).Present(&sdjwt.SDJWT{IssuerJWT: issued.IssuerJWT, KeyBinding: strings.Split(presented, "~")[7]}, testKB()); err == nil {
		t.Error("Present accepted an SD-JWT that already has key binding")
	}
	_, err = testHolder(t).Present(issued, sdjwt.KeyBindingClaims{Nonce: "n", Audience: "a", IssuedAt: testNow, Extra: map[string]any{"sd_hash": "x"}})
	if err == nil || err.Error() != `sdjwt: extra key binding claim "sd_hash" is reserved` {
		t.Errorf("reserved extra claim: %v", err)
	}
}

func wantErr(t testing.TB, err, sentinel error, msg string) {
	t.Helper()
	if err == nil {
		t.Errorf("no error, want %q", msg)
		return
	}
	if !errors.Is(err, sentinel) || err.Error() != msg {
		t.Errorf("error %q (is %v: %v)\n want %q", err, sentinel, errors.Is(err, sentinel), msg)
	}
}
