package sdjwt_test

import (
	"bytes"
	"crypto/ecdsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/mandate-dev/mandate/credentials/sdjwt"
)

// The RFC 9901 examples, read-only (see shared/vectors).
const vectorsDir = "../../../shared/vectors/sd-jwt/rfc9901"

// The examples' key binding JWTs were made at this time (their iat).
var vectorKBTime = time.Unix(1748536865, 0)

func readVector(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(vectorsDir, name))
	if err != nil {
		t.Fatalf("vector %s: %v", name, err)
	}
	return b
}

func decodeJSON(t testing.TB, b []byte) any {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		t.Fatalf("decoding JSON: %v", err)
	}
	return v
}

// renumber round-trips v through JSON so that numbers are json.Number, as in
// the package's output.
func renumber(t testing.TB, v any) any {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return decodeJSON(t, b)
}

type exampleKeys struct {
	IssuerPublic  jose.JSONWebKey `json:"issuer_public_jwk"`
	IssuerPrivate jose.JSONWebKey `json:"issuer_private_jwk_from_examples_settings_yml"`
	HolderPrivate jose.JSONWebKey `json:"holder_private_jwk_from_examples_settings_yml"`
	Nonce         string          `json:"key_binding_nonce"`
	Audience      string          `json:"verifier_aud"`
	Issuer        string          `json:"issuer"`
}

func vectorKeys(t testing.TB) exampleKeys {
	t.Helper()
	var k exampleKeys
	if err := json.Unmarshal(readVector(t, "example-keys.json"), &k); err != nil {
		t.Fatal(err)
	}
	return k
}

func vectorVerifier(t testing.TB, typ string, opts ...sdjwt.Option) *sdjwt.Verifier {
	t.Helper()
	v, err := sdjwt.NewVerifier(vectorKeys(t).IssuerPublic.Key, typ, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func vectorValidation(t testing.TB) sdjwt.Validation {
	k := vectorKeys(t)
	return sdjwt.Validation{Nonce: k.Nonce, Audience: k.Audience, MaxAge: 5 * time.Minute, Skew: time.Minute}
}

// signWithExampleKey signs a payload given by the RFC (sections 4.2 and 6
// show payloads but no signed JWT) with the examples' issuer key.
func signWithExampleKey(t testing.TB, payload any) string {
	t.Helper()
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: vectorKeys(t).IssuerPrivate.Key.(*ecdsa.PrivateKey)},
		(&jose.SignerOptions{}).WithType("example+sd-jwt"))
	if err != nil {
		t.Fatal(err)
	}
	body, err := json.Marshal(payload)
	if err != nil {
		t.Fatal(err)
	}
	jws, err := signer.Sign(body)
	if err != nil {
		t.Fatal(err)
	}
	compact, err := jws.CompactSerialize()
	if err != nil {
		t.Fatal(err)
	}
	return compact
}

func issuerPayload(t testing.TB, compact string) any {
	t.Helper()
	b, err := base64.RawURLEncoding.DecodeString(strings.Split(compact, ".")[1])
	if err != nil {
		t.Fatal(err)
	}
	return decodeJSON(t, b)
}

func mustEqual(t testing.TB, what string, got, want any) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		g, _ := json.Marshal(got)
		w, _ := json.Marshal(want)
		t.Errorf("%s:\n got  %s\n want %s", what, g, w)
	}
}

// mustContain checks that every claim of want is in got with the same value.
func mustContain(t testing.TB, what string, got map[string]any, want map[string]any) {
	t.Helper()
	for k, w := range want {
		mustEqual(t, what+" claim "+k, got[k], w)
	}
}

func TestMainExample(t *testing.T) {
	keys := vectorKeys(t)
	issuance := strings.TrimSpace(string(readVector(t, "main-example-sd-jwt-issuance.txt")))
	issuerJWT := strings.TrimSpace(string(readVector(t, "main-example-issuer-signed-jwt.txt")))
	v := vectorVerifier(t, "example+sd-jwt")

	issued, err := v.VerifyIssued(issuance)
	if err != nil {
		t.Fatalf("VerifyIssued: %v", err)
	}
	if !strings.HasPrefix(issuance, issuerJWT+"~") {
		t.Error("issuance does not start with the issuer-signed JWT")
	}
	mustEqual(t, "issuer-signed payload", issuerPayload(t, issuerJWT), decodeJSON(t, readVector(t, "main-example-sd-jwt-payload.json")))
	mustContain(t, "all disclosed", issued.Claims, decodeJSON(t, readVector(t, "main-example-input-claims.json")).(map[string]any))
	if len(issued.Disclosures) != 10 {
		t.Errorf("issued with %d disclosures, want 10", len(issued.Disclosures))
	}

	presentation := strings.TrimSpace(string(readVector(t, "main-example-sd-jwt-kb-presentation.txt")))
	got, err := v.Verify(presentation)
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	mustEqual(t, "processed payload", any(got.Claims), decodeJSON(t, readVector(t, "main-example-expected-processed-payload.json")))
	mustEqual(t, "key binding payload", any(got.KeyBinding.Claims), decodeJSON(t, readVector(t, "main-example-kb-jwt-payload.json")))
	withoutKB := presentation[:strings.LastIndex(presentation, "~")+1]
	if h := sdjwt.Digest(withoutKB); h != got.KeyBinding.SDHash {
		t.Errorf("sd_hash: recomputed %s, presented %s", h, got.KeyBinding.SDHash)
	}
	if err := got.Validate(vectorKBTime.Add(30*time.Second), vectorValidation(t)); err != nil {
		t.Errorf("Validate: %v", err)
	}
	if got.KeyBinding.Nonce != keys.Nonce || got.KeyBinding.Audience != keys.Audience {
		t.Errorf("key binding nonce/aud = %q/%q", got.KeyBinding.Nonce, got.KeyBinding.Audience)
	}
}

type encodingExamples struct {
	Variants struct {
		Cases []struct {
			Variant    string `json:"variant"`
			Disclosure string `json:"disclosure"`
			SHA256     string `json:"sha256"`
		} `json:"cases"`
	} `json:"disclosure_encoding_variants"`
	Array struct {
		Disclosure string          `json:"disclosure"`
		SHA256     string          `json:"sha256"`
		Decoded    []any           `json:"disclosure_array"`
		Payload    json.RawMessage `json:"sd_payload"`
		With       json.RawMessage `json:"expected_with_disclosure"`
		Without    json.RawMessage `json:"expected_without_disclosure"`
	} `json:"array_element_disclosure"`
	Object struct {
		Disclosure string          `json:"disclosure"`
		Payload    json.RawMessage `json:"sd_payload"`
		With       json.RawMessage `json:"expected_with_disclosure"`
		Without    json.RawMessage `json:"expected_without_disclosure"`
	} `json:"object_property_embedding"`
}

// TestDisclosureEncoding runs RFC 9901 sections 4.2.1 to 4.2.4: the digest
// is over the encoded string as received, and embedding in objects and
// arrays, with and without the Disclosure.
func TestDisclosureEncoding(t *testing.T) {
	var ex encodingExamples
	if err := json.Unmarshal(readVector(t, "disclosure-encoding-and-embedding-examples.json"), &ex); err != nil {
		t.Fatal(err)
	}
	for _, c := range ex.Variants.Cases {
		d, err := sdjwt.DecodeDisclosure(c.Disclosure, sdjwt.DefaultLimits)
		if err != nil {
			t.Fatalf("%s: %v", c.Variant, err)
		}
		if d.Digest != c.SHA256 {
			t.Errorf("%s: digest %s, want %s", c.Variant, d.Digest, c.SHA256)
		}
		if d.Salt != "_26bc4LT-ac6q2KI6cBW5es" || d.Name != "family_name" || d.Value != "Möbius" || d.IsArrayElement {
			t.Errorf("%s: decoded %+v", c.Variant, d)
		}
	}

	d, err := sdjwt.DecodeDisclosure(ex.Array.Disclosure, sdjwt.DefaultLimits)
	if err != nil {
		t.Fatal(err)
	}
	if d.Digest != ex.Array.SHA256 || !d.IsArrayElement || d.Salt != ex.Array.Decoded[0] || d.Value != ex.Array.Decoded[1] {
		t.Errorf("array element disclosure decoded as %+v", d)
	}

	v := vectorVerifier(t, "example+sd-jwt", sdjwt.InsecureSkipKeyBinding())
	for _, c := range []struct {
		name                   string
		payload, with, without json.RawMessage
		disclosure             string
	}{
		{"array element", ex.Array.Payload, ex.Array.With, ex.Array.Without, ex.Array.Disclosure},
		{"object property", ex.Object.Payload, ex.Object.With, ex.Object.Without, ex.Object.Disclosure},
	} {
		jwt := signWithExampleKey(t, decodeJSON(t, c.payload))
		got, err := v.Verify(jwt + "~" + c.disclosure + "~")
		if err != nil {
			t.Fatalf("%s with disclosure: %v", c.name, err)
		}
		mustEqual(t, c.name+" with disclosure", any(got.Claims), decodeJSON(t, c.with))
		if got, err = v.Verify(jwt + "~"); err != nil {
			t.Fatalf("%s without disclosure: %v", c.name, err)
		}
		mustEqual(t, c.name+" without disclosure", any(got.Claims), decodeJSON(t, c.without))
	}
}

type structuredExample struct {
	Disclosures []struct {
		Digest     string `json:"sha256_digest"`
		Disclosure string `json:"disclosure"`
		Decoded    []any  `json:"decoded"`
	} `json:"disclosures"`
	JSONBlocks []struct {
		Label string          `json:"label"`
		Value json.RawMessage `json:"value"`
	} `json:"json_blocks"`
	SDJWTs []struct {
		Label     string         `json:"label"`
		Value     string         `json:"value"`
		Header    map[string]any `json:"header"`
		KBPayload map[string]any `json:"kb_jwt_payload"`
		N         *int           `json:"n_disclosures"`
	} `json:"sd_jwts"`
}

// TestStructuredExamples runs every example of RFC 9901 sections 5, 6 and
// appendix A: digests of the given Disclosures, issuer signatures, the
// payload used for each SD-JWT, key binding and sd_hash, and the Processed
// SD-JWT Payload.
func TestStructuredExamples(t *testing.T) {
	var file struct {
		Examples map[string]structuredExample `json:"examples"`
	}
	if err := json.Unmarshal(readVector(t, "examples-structured.json"), &file); err != nil {
		t.Fatal(err)
	}
	sections := make([]string, 0, len(file.Examples))
	for name := range file.Examples {
		sections = append(sections, name)
	}
	sort.Strings(sections)
	// Section 6's input claims are shared by 6.1 to 6.3.
	var nestedInput map[string]any
	for _, b := range file.Examples["6. Considerations on Nested Data in SD-JWTs"].JSONBlocks {
		nestedInput = decodeJSON(t, b.Value).(map[string]any)
	}
	for _, name := range sections {
		shared := map[string]any(nil)
		if strings.HasPrefix(name, "6.") {
			shared = nestedInput
		}
		t.Run(name, func(t *testing.T) { runStructured(t, file.Examples[name], shared) })
	}
}

func runStructured(t *testing.T, ex structuredExample, nestedInput map[string]any) {
	var all []string
	for _, d := range ex.Disclosures {
		got, err := sdjwt.DecodeDisclosure(d.Disclosure, sdjwt.DefaultLimits)
		if err != nil {
			t.Fatalf("disclosure %s: %v", d.Disclosure, err)
		}
		if got.Digest != d.Digest {
			t.Errorf("digest of %s is %s, RFC says %s", d.Disclosure, got.Digest, d.Digest)
		}
		decoded := []any{got.Salt, got.Name, got.Value}
		if got.IsArrayElement {
			decoded = []any{got.Salt, got.Value}
		}
		mustEqual(t, "decoded disclosure", renumber(t, decoded), renumber(t, d.Decoded))
		all = append(all, d.Disclosure)
	}

	var input, processed map[string]any
	var payloads []any
	var kbPayload any
	for _, b := range ex.JSONBlocks {
		v := decodeJSON(t, b.Value)
		switch {
		case strings.Contains(b.Label, "input JWT Claims Set"):
			input = v.(map[string]any)
		case strings.Contains(b.Label, "Processed SD"):
			processed = v.(map[string]any)
		case strings.Contains(b.Label, "Key Binding JWT"):
			kbPayload = v
		case bytes.Contains(b.Value, []byte(`"_sd"`)) || bytes.Contains(b.Value, []byte(`"..."`)):
			payloads = append(payloads, v)
		default:
			t.Fatalf("unclassified JSON block %q", b.Label)
		}
	}
	if input == nil {
		input = nestedInput
	}

	var issuerJWTs []string
	for i, s := range ex.SDJWTs {
		typ, _ := s.Header["typ"].(string)
		if !strings.Contains(s.Value, "~") { // the issuer-signed JWT alone
			if _, err := vectorVerifier(t, typ, sdjwt.InsecureSkipKeyBinding()).Verify(s.Value + "~"); err != nil {
				t.Errorf("sd_jwt %d: issuer-signed JWT: %v", i, err)
			}
			continue
		}
		issuerJWTs = append(issuerJWTs, s.Value[:strings.Index(s.Value, "~")])
		opts := []sdjwt.Option{}
		if s.KBPayload == nil {
			opts = append(opts, sdjwt.InsecureSkipKeyBinding())
		}
		got, err := vectorVerifier(t, typ, opts...).Verify(s.Value)
		if err != nil {
			t.Errorf("sd_jwt %d (%s): %v", i, s.Label, err)
			continue
		}
		if s.N != nil && len(got.Disclosures) != *s.N {
			t.Errorf("sd_jwt %d: %d disclosures, want %d", i, len(got.Disclosures), *s.N)
		}
		if s.KBPayload != nil {
			mustEqual(t, "key binding payload", any(got.KeyBinding.Claims), renumber(t, s.KBPayload))
			if kbPayload != nil {
				mustEqual(t, "key binding payload block", any(got.KeyBinding.Claims), kbPayload)
			}
			if err := got.Validate(vectorKBTime, vectorValidation(t)); err != nil {
				t.Errorf("sd_jwt %d: Validate: %v", i, err)
			}
		}
		// The last SD-JWT of an example is the presentation the RFC
		// processes.
		if processed != nil && i == len(ex.SDJWTs)-1 {
			mustEqual(t, "processed payload", got.Claims, processed)
		}
	}
	// 5.2 presents the SD-JWT of 5.1 and repeats neither its payload nor
	// its Disclosures.
	for _, jwt := range issuerJWTs {
		if len(payloads) > 0 {
			mustEqual(t, "issuer-signed payload", issuerPayload(t, jwt), payloads[0])
		}
	}
	if len(issuerJWTs) == 0 {
		// Section 6 gives payloads, not signed JWTs: sign them with the
		// examples' key.
		for _, p := range payloads {
			issuerJWTs = append(issuerJWTs, signWithExampleKey(t, p))
		}
	}

	// Every Disclosure the issuer-signed JWT references, presented
	// together, reveals the whole input claim set.
	for _, jwt := range issuerJWTs {
		full := jwt + "~"
		for _, d := range referenced(t, jwt, all) {
			full += d + "~"
		}
		got, err := vectorVerifier(t, jwtType(t, jwt), sdjwt.InsecureSkipKeyBinding()).Verify(full)
		if err != nil {
			t.Errorf("all disclosures: %v", err)
			continue
		}
		mustContain(t, "all disclosed", got.Claims, input)
	}
	t.Logf("%d disclosures, %d SD-JWTs, %d payloads, input %v, processed %v, key binding block %v",
		len(all), len(ex.SDJWTs), len(payloads), input != nil, processed != nil, kbPayload != nil)
}

// referenced keeps the Disclosures whose digests the payload or another
// kept Disclosure mentions (section 6.2 shows two payloads for one list).
func referenced(t testing.TB, jwt string, all []string) []string {
	text, _ := json.Marshal(issuerPayload(t, jwt))
	var out []string
	for changed := true; changed; {
		changed = false
		for _, d := range all {
			dd, _ := sdjwt.DecodeDisclosure(d, sdjwt.DefaultLimits)
			if bytes.Contains(text, []byte(dd.Digest)) && !containsString(out, d) {
				out = append(out, d)
				b, _ := base64.RawURLEncoding.DecodeString(d)
				text = append(text, b...)
				changed = true
			}
		}
	}
	return out
}

func containsString(list []string, s string) bool {
	for _, e := range list {
		if e == s {
			return true
		}
	}
	return false
}

// jwtType is the typ of a compact JWT's header: example+sd-jwt in most
// examples, dc+sd-jwt in A.3.
func jwtType(t testing.TB, jwt string) string {
	t.Helper()
	b, err := base64.RawURLEncoding.DecodeString(strings.Split(jwt, ".")[0])
	if err != nil {
		t.Fatal(err)
	}
	typ, _ := decodeJSON(t, b).(map[string]any)["typ"].(string)
	return typ
}

type jsonExample struct {
	Section string          `json:"section"`
	Value   json.RawMessage `json:"value"`
	Checks  map[string]bool `json:"collector_checks"`
}

// TestJSONSerialization runs RFC 9901 section 8: flattened and general JWS
// JSON serialization, with and without key binding.
func TestJSONSerialization(t *testing.T) {
	var file struct {
		Examples []jsonExample `json:"examples"`
	}
	if err := json.Unmarshal(readVector(t, "json-serialization-examples.json"), &file); err != nil {
		t.Fatal(err)
	}
	if len(file.Examples) != 3 {
		t.Fatalf("%d examples, want 3", len(file.Examples))
	}
	for i, ex := range file.Examples {
		s, err := sdjwt.ParseJSON(ex.Value, sdjwt.DefaultLimits)
		if err != nil {
			t.Fatalf("example %d (%s): %v", i, ex.Section, err)
		}
		var opts []sdjwt.Option
		if s.KeyBinding == "" {
			opts = append(opts, sdjwt.InsecureSkipKeyBinding())
		}
		got, err := vectorVerifier(t, "example+sd-jwt", opts...).VerifyParsed(s)
		if err != nil {
			t.Fatalf("example %d (%s): %v", i, ex.Section, err)
		}
		if s.KeyBinding != "" {
			if err := got.Validate(vectorKBTime, vectorValidation(t)); err != nil {
				t.Errorf("example %d: Validate: %v", i, err)
			}
		}
		if len(got.Disclosures) == 0 {
			t.Errorf("example %d: no disclosures", i)
		}
	}

	// Section 8.3: the second signature is made with a key the RFC does not
	// publish, so it must not verify with the published one.
	var general struct {
		Payload    string `json:"payload"`
		Signatures []struct {
			Protected string `json:"protected"`
			Signature string `json:"signature"`
		} `json:"signatures"`
	}
	if err := json.Unmarshal(file.Examples[2].Value, &general); err != nil {
		t.Fatal(err)
	}
	second := general.Signatures[1].Protected + "." + general.Payload + "." + general.Signatures[1].Signature + "~"
	_, err := vectorVerifier(t, "example+sd-jwt", sdjwt.InsecureSkipKeyBinding()).Verify(second)
	if !errors.Is(err, sdjwt.ErrSignature) || err.Error() != "sdjwt: signature invalid: ES256 signature does not verify" {
		t.Errorf("second signature of 8.3: %v", err)
	}
}
