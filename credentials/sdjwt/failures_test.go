package sdjwt_test

import (
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/mandate-dev/mandate/credentials/sdjwt"
)

// TestVerifyRefuses: every way an SD-JWT can be wrong, each with its exact
// error. Tokens are built by hand so that the verifier, not the issuer,
// is what is tested.
func TestVerifyRefuses(t *testing.T) {
	dGiven := disclosure(t, "salt-1", "given_name", "Ada")
	dElem := disclosure(t, "salt-2", "fr")
	hGiven, hElem := sdjwt.Digest(dGiven), sdjwt.Digest(dElem)
	plain := func(claims map[string]any, disclosures ...string) string {
		return issuerJWT(t, claims) + "~" + strings.Join(append(disclosures, ""), "~")
	}
	pubBytes := []byte(issuerKey[32:]) // the raw Ed25519 public key
	payload := []byte(`{"_sd":["` + hGiven + `"]}`)

	cases := []struct {
		name    string
		in      string
		opts    []sdjwt.Option
		err     error
		message string
	}{
		{name: "alg none", in: rawJWT(t, map[string]any{"alg": "none", "typ": testTyp}, payload, nil) + "~" + dGiven + "~",
			err: sdjwt.ErrAlgorithm, message: `sdjwt: algorithm not accepted: "none"`},
		{name: "HS256 signed with the public key bytes as the secret", in: rawJWT(t, map[string]any{"alg": "HS256", "typ": testTyp}, payload, signHS256(pubBytes)) + "~" + dGiven + "~",
			err: sdjwt.ErrAlgorithm, message: `sdjwt: algorithm not accepted: "HS256"`},
		{name: "no alg", in: rawJWT(t, map[string]any{"typ": testTyp}, payload, signEd25519(issuerKey)) + "~",
			err: sdjwt.ErrAlgorithm, message: `sdjwt: algorithm not accepted: ""`},
		{name: "ES256 header on an Ed25519 key", in: rawJWT(t, map[string]any{"alg": "ES256", "typ": testTyp}, payload, signEd25519(issuerKey)) + "~",
			err: sdjwt.ErrAlgorithm, message: "sdjwt: algorithm not accepted: ES256 does not match the key"},
		{name: "signed by another key", in: rawJWT(t, map[string]any{"alg": "EdDSA", "typ": testTyp}, payload, signEd25519(strangerKy)) + "~",
			err: sdjwt.ErrSignature, message: "sdjwt: signature invalid: EdDSA signature does not verify"},
		{name: "wrong typ", in: rawJWT(t, map[string]any{"alg": "EdDSA", "typ": "kb+jwt"}, payload, signEd25519(issuerKey)) + "~",
			err: sdjwt.ErrMalformed, message: `sdjwt: malformed: typ "kb+jwt", want "test+sd-jwt"`},
		{name: "crit header", in: rawJWT(t, map[string]any{"alg": "EdDSA", "typ": testTyp, "crit": []string{"x"}, "x": 1}, payload, signEd25519(issuerKey)) + "~",
			err: sdjwt.ErrMalformed, message: "sdjwt: malformed: crit header parameters are not understood"},
		{name: "duplicate JSON member in payload", in: rawJWT(t, map[string]any{"alg": "EdDSA", "typ": testTyp}, []byte(`{"a":1,"a":2}`), signEd25519(issuerKey)) + "~",
			err: sdjwt.ErrMalformed, message: `sdjwt: malformed: duplicate JSON member "a"`},
		{name: "payload not an object", in: rawJWT(t, map[string]any{"alg": "EdDSA", "typ": testTyp}, []byte(`[1]`), signEd25519(issuerKey)) + "~",
			err: sdjwt.ErrMalformed, message: "sdjwt: malformed: issuer-signed JWT payload is not a JSON object"},
		{name: "_sd_alg sha-512", in: plain(map[string]any{"_sd_alg": "sha-512"}),
			err: sdjwt.ErrAlgorithm, message: "sdjwt: algorithm not accepted: _sd_alg sha-512, only sha-256 is accepted"},
		{name: "_sd_alg not a string", in: plain(map[string]any{"_sd_alg": 256}),
			err: sdjwt.ErrAlgorithm, message: "sdjwt: algorithm not accepted: _sd_alg 256, only sha-256 is accepted"},
		{name: "nested _sd_alg", in: plain(map[string]any{"a": map[string]any{"_sd_alg": "sha-256"}}),
			err: sdjwt.ErrDisclosure, message: "sdjwt: disclosure rejected: _sd_alg is allowed only at the top level"},
		{name: "duplicate digest in _sd", in: plain(map[string]any{"_sd": []any{hGiven, hGiven}}, dGiven),
			err: sdjwt.ErrDisclosure, message: "sdjwt: disclosure rejected: digest " + hGiven + " appears more than once"},
		{name: "duplicate digest in _sd and an array", in: plain(map[string]any{"_sd": []any{hElem}, "l": []any{map[string]any{"...": hElem}}}),
			err: sdjwt.ErrDisclosure, message: "sdjwt: disclosure rejected: digest " + hElem + " appears more than once"},
		{name: "duplicate decoy digest", in: plain(map[string]any{"_sd": []any{"decoy"}, "o": map[string]any{"_sd": []any{"decoy"}}}),
			err: sdjwt.ErrDisclosure, message: "sdjwt: disclosure rejected: digest decoy appears more than once"},
		{name: "disclosure whose digest appears nowhere", in: plain(map[string]any{"_sd": []any{hGiven}}, dGiven, dElem),
			err: sdjwt.ErrDisclosure, message: "sdjwt: disclosure rejected: disclosure " + hElem + " is referenced by no digest"},
		{name: "disclosure given twice", in: plain(map[string]any{"_sd": []any{hGiven}}, dGiven, dGiven),
			err: sdjwt.ErrDisclosure, message: "sdjwt: disclosure rejected: disclosure given twice: " + hGiven},
		{name: "_sd not an array", in: plain(map[string]any{"_sd": hGiven}, dGiven),
			err: sdjwt.ErrDisclosure, message: "sdjwt: disclosure rejected: _sd is not an array"},
		{name: "_sd holding a number", in: plain(map[string]any{"_sd": []any{1}}),
			err: sdjwt.ErrDisclosure, message: "sdjwt: disclosure rejected: _sd holds a non-string"},
		{name: "disclosure claiming _sd", in: plain(map[string]any{}, disclosure(t, "s", "_sd", []any{})),
			err: sdjwt.ErrDisclosure, message: `sdjwt: disclosure rejected: disclosure claims the reserved name "_sd" (disclosure 0)`},
		{name: "disclosure claiming ...", in: plain(map[string]any{}, disclosure(t, "s", "...", "x")),
			err: sdjwt.ErrDisclosure, message: `sdjwt: disclosure rejected: disclosure claims the reserved name "..." (disclosure 0)`},
		{name: "disclosed name already in the object", in: plain(map[string]any{"given_name": "Eve", "_sd": []any{hGiven}}, dGiven),
			err: sdjwt.ErrDisclosure, message: `sdjwt: disclosure rejected: disclosed claim "given_name" already exists`},
		{name: "two disclosures of one name", in: plain(map[string]any{"_sd": []any{hGiven, sdjwt.Digest(disclosure(t, "salt-9", "given_name", "Eve"))}}, dGiven, disclosure(t, "salt-9", "given_name", "Eve")),
			err: sdjwt.ErrDisclosure, message: `sdjwt: disclosure rejected: disclosed claim "given_name" already exists`},
		{name: "array element disclosure in _sd", in: plain(map[string]any{"_sd": []any{hElem}}, dElem),
			err: sdjwt.ErrDisclosure, message: "sdjwt: disclosure rejected: array element disclosure " + hElem + " referenced from _sd"},
		{name: "object property disclosure in an array", in: plain(map[string]any{"l": []any{map[string]any{"...": hGiven}}}, dGiven),
			err: sdjwt.ErrDisclosure, message: "sdjwt: disclosure rejected: object property disclosure " + hGiven + " referenced from an array"},
		{name: "... key outside an array digest", in: plain(map[string]any{"o": map[string]any{"...": hElem, "x": 1}}),
			err: sdjwt.ErrDisclosure, message: `sdjwt: disclosure rejected: "..." is a key only of an array element digest`},
		{name: "malformed base64url disclosure", in: plain(map[string]any{}, "not*base64"),
			err: sdjwt.ErrMalformed, message: "sdjwt: malformed: disclosure is not base64url (disclosure 0)"},
		{name: "padded base64url disclosure", in: plain(map[string]any{}, dElem+"="),
			err: sdjwt.ErrMalformed, message: "sdjwt: malformed: disclosure is not base64url (disclosure 0)"},
		{name: "malformed JSON disclosure", in: plain(map[string]any{}, b64([]byte(`["s", "n",`))),
			err: sdjwt.ErrMalformed, message: "sdjwt: malformed: invalid JSON (disclosure 0)"},
		{name: "trailing data in a disclosure", in: plain(map[string]any{}, b64([]byte(`["s","n",1] 2`))),
			err: sdjwt.ErrMalformed, message: "sdjwt: malformed: trailing data after JSON value (disclosure 0)"},
		{name: "disclosure not an array", in: plain(map[string]any{}, b64([]byte(`{"s":1}`))),
			err: sdjwt.ErrMalformed, message: "sdjwt: malformed: disclosure is not a JSON array (disclosure 0)"},
		{name: "disclosure of one element", in: plain(map[string]any{}, disclosure(t, "s")),
			err: sdjwt.ErrMalformed, message: "sdjwt: malformed: disclosure array has 1 elements, want 2 or 3 (disclosure 0)"},
		{name: "disclosure of four elements", in: plain(map[string]any{}, disclosure(t, "s", "n", 1, 2)),
			err: sdjwt.ErrMalformed, message: "sdjwt: malformed: disclosure array has 4 elements, want 2 or 3 (disclosure 0)"},
		{name: "salt not a string", in: plain(map[string]any{}, disclosure(t, 1, "n", "v")),
			err: sdjwt.ErrMalformed, message: "sdjwt: malformed: disclosure salt is not a string (disclosure 0)"},
		{name: "claim name not a string", in: plain(map[string]any{}, disclosure(t, "s", 1, "v")),
			err: sdjwt.ErrMalformed, message: "sdjwt: malformed: disclosure claim name is not a string (disclosure 0)"},
		{name: "empty disclosure", in: issuerJWT(t, map[string]any{}) + "~~",
			err: sdjwt.ErrMalformed, message: "sdjwt: malformed: empty disclosure (disclosure 0)"},
		{name: "no tilde", in: issuerJWT(t, map[string]any{}),
			err: sdjwt.ErrMalformed, message: "sdjwt: malformed: no '~' after the issuer-signed JWT"},
		{name: "JWT of two segments", in: "a.b~",
			err: sdjwt.ErrMalformed, message: "sdjwt: malformed: a JWT has 3 segments, got 2 (issuer-signed JWT)"},
		{name: "whole SD-JWT too large", in: strings.Repeat("a", sdjwt.DefaultLimits.MaxBytes+1),
			err: sdjwt.ErrTooLarge, message: "sdjwt: too large: 262145 bytes, limit 262144"},
		{name: "too many disclosures", in: "a.b.c~" + strings.Repeat("x~", 5),
			opts: []sdjwt.Option{sdjwt.WithLimits(sdjwt.Limits{MaxBytes: 1000, MaxDisclosures: 4, MaxDisclosureBytes: 100, MaxDepth: 8})},
			err:  sdjwt.ErrTooLarge, message: "sdjwt: too large: 5 disclosures, limit 4"},
		{name: "disclosure too large", in: plain(map[string]any{}, disclosure(t, "s", "n", strings.Repeat("v", 100))),
			opts: []sdjwt.Option{sdjwt.WithLimits(sdjwt.Limits{MaxBytes: 10000, MaxDisclosures: 4, MaxDisclosureBytes: 100, MaxDepth: 8})},
			err:  sdjwt.ErrTooLarge, message: "sdjwt: too large: disclosure of 150 bytes, limit 100 (disclosure 0)"},
		{name: "claims nested too deeply", in: plain(map[string]any{"a": map[string]any{"b": map[string]any{"c": map[string]any{}}}}),
			opts: []sdjwt.Option{sdjwt.WithLimits(sdjwt.Limits{MaxBytes: 10000, MaxDisclosures: 4, MaxDisclosureBytes: 100, MaxDepth: 3})},
			err:  sdjwt.ErrTooLarge, message: "sdjwt: too large: JSON nested too deeply"},
		{name: "key binding required, none presented", in: plain(map[string]any{"_sd": []any{hGiven}}, dGiven), opts: []sdjwt.Option{},
			err: sdjwt.ErrKeyBindingMissing, message: "sdjwt: key binding missing: no key binding JWT presented"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			opts := c.opts
			if opts == nil {
				opts = []sdjwt.Option{sdjwt.InsecureSkipKeyBinding()}
			}
			got, err := testVerifier(t, opts...).Verify(c.in)
			if got != nil {
				t.Errorf("returned a result with the error")
			}
			wantErr(t, err, c.err, c.message)
		})
	}
}

// TestKeyBindingRefuses: the Key Binding JWT and its validation.
func TestKeyBindingRefuses(t *testing.T) {
	issued, err := testIssuer(t, 1).Issue(roundTripClaims(), holderKey.Public())
	if err != nil {
		t.Fatal(err)
	}
	one, err := issued.Select(digestsOf(t, issued, "given_name")...)
	if err != nil {
		t.Fatal(err)
	}
	prefix := one.String()
	edKB := map[string]any{"alg": "EdDSA", "typ": "kb+jwt"}
	holderPub := []byte(holderKey[32:])

	// Another credential by the same issuer for the same holder: its
	// Disclosure must not be accepted in this one.
	other, err := testIssuer(t, 0).Issue(map[string]any{"given_name": sdjwt.Disclosable{Value: "Eve"}}, holderKey.Public())
	if err != nil {
		t.Fatal(err)
	}
	swapped := one.IssuerJWT + "~" + other.Disclosures[0].Encoded + "~"
	noCnf := issuerJWTWithout(t) + "~"

	cases := []struct {
		name    string
		in      string
		err     error
		message string
	}{
		{"key binding alg none", prefix + kbJWT(t, map[string]any{"alg": "none", "typ": "kb+jwt"}, prefix, nil, nil),
			sdjwt.ErrAlgorithm, `sdjwt: algorithm not accepted: "none" (key binding JWT)`},
		{"key binding HS256 with the holder's public key as secret", prefix + kbJWT(t, map[string]any{"alg": "HS256", "typ": "kb+jwt"}, prefix, signHS256(holderPub), nil),
			sdjwt.ErrAlgorithm, `sdjwt: algorithm not accepted: "HS256" (key binding JWT)`},
		{"key binding signed by another key", prefix + kbJWT(t, edKB, prefix, signEd25519(strangerKy), nil),
			sdjwt.ErrSignature, "sdjwt: signature invalid: EdDSA signature does not verify (key binding JWT)"},
		{"key binding signed by the issuer", prefix + kbJWT(t, edKB, prefix, signEd25519(issuerKey), nil),
			sdjwt.ErrSignature, "sdjwt: signature invalid: EdDSA signature does not verify (key binding JWT)"},
		{"key binding typ jwt", prefix + kbJWT(t, map[string]any{"alg": "EdDSA", "typ": "JWT"}, prefix, signEd25519(holderKey), nil),
			sdjwt.ErrMalformed, `sdjwt: malformed: typ "JWT", want "kb+jwt" (key binding JWT)`},
		{"sd_hash over other disclosures", prefix + kbJWT(t, edKB, issued.String(), signEd25519(holderKey), nil),
			sdjwt.ErrSDHash, "sdjwt: sd_hash mismatch: key binding JWT is bound to another SD-JWT"},
		{"disclosure removed after binding", one.IssuerJWT + "~" + kbJWT(t, edKB, prefix, signEd25519(holderKey), nil),
			sdjwt.ErrSDHash, "sdjwt: sd_hash mismatch: key binding JWT is bound to another SD-JWT"},
		{"disclosure swapped from another credential", swapped + kbJWT(t, edKB, swapped, signEd25519(holderKey), nil),
			sdjwt.ErrDisclosure, "sdjwt: disclosure rejected: disclosure " + other.Disclosures[0].Digest + " is referenced by no digest"},
		{"no nonce", prefix + kbJWT(t, edKB, prefix, signEd25519(holderKey), func(c map[string]any) { delete(c, "nonce") }),
			sdjwt.ErrKeyBinding, "sdjwt: key binding invalid: nonce must be a non-empty string"},
		{"aud as an array", prefix + kbJWT(t, edKB, prefix, signEd25519(holderKey), func(c map[string]any) { c["aud"] = []string{"a"} }),
			sdjwt.ErrKeyBinding, "sdjwt: key binding invalid: aud must be a non-empty string"},
		{"no sd_hash", prefix + kbJWT(t, edKB, prefix, signEd25519(holderKey), func(c map[string]any) { delete(c, "sd_hash") }),
			sdjwt.ErrKeyBinding, "sdjwt: key binding invalid: sd_hash must be a non-empty string"},
		{"no iat", prefix + kbJWT(t, edKB, prefix, signEd25519(holderKey), func(c map[string]any) { delete(c, "iat") }),
			sdjwt.ErrKeyBinding, "sdjwt: key binding invalid: iat is required"},
		{"iat a string", prefix + kbJWT(t, edKB, prefix, signEd25519(holderKey), func(c map[string]any) { c["iat"] = "now" }),
			sdjwt.ErrKeyBinding, "sdjwt: key binding invalid: iat is not a number"},
		{"no cnf in the credential", noCnf + kbJWT(t, edKB, noCnf, signEd25519(holderKey), nil),
			sdjwt.ErrKeyBindingMissing, "sdjwt: key binding missing: no cnf claim"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := testVerifier(t).Verify(c.in)
			wantErr(t, err, c.err, c.message)
		})
	}

	// The honest presentation verifies; validation then fails for each
	// wrong expectation, with its own error.
	good := prefix + kbJWT(t, edKB, prefix, signEd25519(holderKey), nil)
	v, err := testVerifier(t).Verify(good)
	if err != nil {
		t.Fatalf("honest presentation: %v", err)
	}
	expired, err := testVerifier(t).Verify(plainKB(t, map[string]any{"exp": testNow.Add(-time.Minute).Unix()}))
	if err != nil {
		t.Fatal(err)
	}
	early, err := testVerifier(t).Verify(plainKB(t, map[string]any{"nbf": testNow.Add(time.Hour).Unix()}))
	if err != nil {
		t.Fatal(err)
	}
	skipped, err := testVerifier(t, sdjwt.InsecureSkipKeyBinding()).Verify(one.String())
	if err != nil {
		t.Fatal(err)
	}
	with := func(edit func(*sdjwt.Validation)) sdjwt.Validation {
		w := testValidation
		edit(&w)
		return w
	}
	for _, c := range []struct {
		name    string
		r       *sdjwt.Verified
		now     time.Time
		want    sdjwt.Validation
		err     error
		message string
	}{
		{"replayed to another challenge", v, testNow, with(func(w *sdjwt.Validation) { w.Nonce = "n-2" }),
			sdjwt.ErrNonce, "sdjwt: nonce mismatch: key binding JWT answers another challenge"},
		{"wrong audience", v, testNow, with(func(w *sdjwt.Validation) { w.Audience = "https://other.test" }),
			sdjwt.ErrAudience, `sdjwt: audience mismatch: key binding JWT is for "https://verifier.test"`},
		{"key binding too old", v, testNow.Add(6 * time.Minute), testValidation,
			sdjwt.ErrExpired, "sdjwt: outside validity window: key binding JWT older than 5m0s"},
		{"key binding from the future", v, testNow.Add(-time.Minute), testValidation,
			sdjwt.ErrExpired, "sdjwt: outside validity window: key binding JWT issued in the future"},
		{"credential expired", expired, testNow, testValidation,
			sdjwt.ErrExpired, "sdjwt: outside validity window: expired at 2026-05-01T11:59:00Z"},
		{"credential not yet valid", early, testNow, testValidation,
			sdjwt.ErrExpired, "sdjwt: outside validity window: not valid before 2026-05-01T13:00:00Z"},
	} {
		t.Run(c.name, func(t *testing.T) { wantErr(t, c.r.Validate(c.now, c.want), c.err, c.message) })
	}
	if err := v.Validate(testNow.Add(20*time.Second), testValidation); err != nil {
		t.Errorf("within the skew: %v", err)
	}
	if err := v.Validate(testNow, sdjwt.Validation{Audience: "a", MaxAge: time.Minute}); err == nil || err.Error() != "sdjwt: validation needs a nonce, an audience and a max age" {
		t.Errorf("validation without a nonce: %v", err)
	}
	if err := skipped.Validate(testNow, testValidation); err != nil {
		t.Errorf("InsecureSkipKeyBinding result: %v", err)
	}
}

// issuerJWTWithout signs a credential that names no holder key.
func issuerJWTWithout(t testing.TB) string {
	return rawJWT(t, map[string]any{"alg": "EdDSA", "typ": testTyp}, []byte(`{"iss":"x"}`), signEd25519(issuerKey))
}

// plainKB issues claims and presents them with an honest key binding.
func plainKB(t testing.TB, claims map[string]any) string {
	t.Helper()
	issued, err := testIssuer(t, 0).Issue(claims, holderKey.Public())
	if err != nil {
		t.Fatal(err)
	}
	p, err := testHolder(t).Present(issued, testKB())
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestNewVerifierRefuses(t *testing.T) {
	for _, c := range []struct {
		name string
		key  any
		typ  string
		opts []sdjwt.Option
		want string
	}{
		{"no typ", issuerKey.Public(), "", nil, `sdjwt: issuer JWT typ "" is not usable`},
		{"typ of a key binding JWT", issuerKey.Public(), "kb+jwt", nil, `sdjwt: issuer JWT typ "kb+jwt" is not usable`},
		{"HMAC accepted", issuerKey.Public(), testTyp, []sdjwt.Option{sdjwt.WithAlgorithms(jose.HS256)}, "sdjwt: algorithm not accepted: HS256 is not supported"},
		{"none accepted", issuerKey.Public(), testTyp, []sdjwt.Option{sdjwt.WithAlgorithms("none")}, "sdjwt: algorithm not accepted: none is not supported"},
		{"no algorithm", issuerKey.Public(), testTyp, []sdjwt.Option{sdjwt.WithAlgorithms()}, "sdjwt: no accepted algorithm"},
		{"symmetric key", []byte("secret"), testTyp, nil, "sdjwt: algorithm not accepted: key type []uint8 is not accepted (issuer key)"},
		{"no key", nil, testTyp, nil, "sdjwt: algorithm not accepted: key type <nil> is not accepted (issuer key)"},
		{"zero limit", issuerKey.Public(), testTyp, []sdjwt.Option{sdjwt.WithLimits(sdjwt.Limits{})}, "sdjwt: every limit must be positive"},
	} {
		_, err := sdjwt.NewVerifier(c.key, c.typ, c.opts...)
		if err == nil || err.Error() != c.want {
			t.Errorf("%s: %v, want %s", c.name, err, c.want)
		}
	}
}

func TestVerifyIssuedRefusesKeyBinding(t *testing.T) {
	p := plainKB(t, map[string]any{"a": 1})
	_, err := testVerifier(t).VerifyIssued(p)
	wantErr(t, err, sdjwt.ErrMalformed, "sdjwt: malformed: an issued SD-JWT carries no key binding JWT")
}

// TestVerifyParsedRechecks: a hand-built SDJWT whose Digest field lies about
// its Encoded Disclosure gains nothing.
func TestVerifyParsedRechecks(t *testing.T) {
	real := disclosure(t, "salt-1", "role", "reader")
	forged := disclosure(t, "salt-1", "role", "admin")
	s := &sdjwt.SDJWT{
		IssuerJWT:   issuerJWT(t, map[string]any{"_sd": []any{sdjwt.Digest(real)}}),
		Disclosures: []sdjwt.Disclosure{{Encoded: forged, Digest: sdjwt.Digest(real), Name: "role", Value: "admin"}},
	}
	_, err := testVerifier(t, sdjwt.InsecureSkipKeyBinding()).VerifyParsed(s)
	wantErr(t, err, sdjwt.ErrDisclosure, "sdjwt: disclosure rejected: disclosure "+sdjwt.Digest(forged)+" is referenced by no digest")
}
