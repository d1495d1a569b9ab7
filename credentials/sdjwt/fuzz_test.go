package sdjwt_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/mandate-dev/mandate/credentials/sdjwt"
)

// FuzzParse feeds compact and JSON-serialized SD-JWTs, seeded from every RFC
// 9901 example, to the parsers and the verifier. Nothing may panic, and an
// accepted input must be internally consistent.
func FuzzParse(f *testing.F) {
	for _, name := range []string{"main-example-sd-jwt-issuance.txt", "main-example-sd-jwt-kb-presentation.txt", "main-example-issuer-signed-jwt.txt"} {
		f.Add(strings.TrimSpace(string(readVector(f, name))))
	}
	var structured struct {
		Examples map[string]structuredExample `json:"examples"`
	}
	if err := json.Unmarshal(readVector(f, "examples-structured.json"), &structured); err != nil {
		f.Fatal(err)
	}
	for _, ex := range structured.Examples {
		for _, s := range ex.SDJWTs {
			f.Add(s.Value)
		}
		for _, d := range ex.Disclosures {
			f.Add(d.Disclosure)
		}
	}
	var serialized struct {
		Examples []jsonExample `json:"examples"`
	}
	if err := json.Unmarshal(readVector(f, "json-serialization-examples.json"), &serialized); err != nil {
		f.Fatal(err)
	}
	for _, ex := range serialized.Examples {
		f.Add(string(ex.Value))
	}
	f.Add(plainKB(f, map[string]any{"a": sdjwt.Disclosable{Value: []any{sdjwt.Disclosable{Value: 1}}}}))

	withKB := vectorVerifier(f, "example+sd-jwt")
	withoutKB := vectorVerifier(f, "example+sd-jwt", sdjwt.InsecureSkipKeyBinding())
	ours := testVerifier(f)
	// Behind a valid signature, so that mutated Disclosures reach the
	// processing of digests.
	issuerSigned := strings.TrimSpace(string(readVector(f, "main-example-issuer-signed-jwt.txt")))
	f.Fuzz(func(t *testing.T, in string) {
		if s, err := sdjwt.Parse(in, sdjwt.DefaultLimits); err == nil {
			if s.String() != in {
				t.Fatalf("Parse is not lossless:\n in  %q\n out %q", in, s.String())
			}
		}
		if s, err := sdjwt.ParseJSON([]byte(in), sdjwt.DefaultLimits); err == nil {
			_, _ = withKB.VerifyParsed(s)
		}
		_, _ = sdjwt.DecodeDisclosure(in, sdjwt.DefaultLimits)
		if r, err := withoutKB.Verify(issuerSigned + "~" + in); err == nil && len(r.Claims) == 0 {
			t.Fatal("verified without claims")
		}
		for _, v := range []*sdjwt.Verifier{withKB, withoutKB, ours} {
			r, err := v.Verify(in)
			if err != nil {
				continue
			}
			_ = r.Validate(time.Unix(1748536865, 0), vectorValidation(t))
		}
	})
}
