package credentials_test

import (
	"context"
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dgraph-io/badger/v4"

	"github.com/mandate-dev/mandate/credentials"
	"github.com/mandate-dev/mandate/credentials/status"
	"github.com/mandate-dev/mandate/did"
	"github.com/mandate-dev/mandate/internal/aries"
	"github.com/mandate-dev/mandate/internal/testkeys"
	"github.com/mandate-dev/mandate/presentation"
)

// conformanceDir holds the W3C VC Data Model 2.0 test-suite inputs
// (w3c/vc-data-model-2.0-test-suite @ 6e07524, tests/input): unsigned
// credentials and presentations, "-ok" ones valid in DM 2.0, "-fail" ones
// not.
const conformanceDir = "../../shared/vectors/negative/w3c-vc-data-model-2.0-test-suite-inputs"

// Expected errors. Mandate reads only its own VC 1.1 PoA credential and its
// own presentation, both with an exact @context list, so every input is
// refused, "-ok" ones included: each row says at which check and why.
const (
	credentialCtx   = `@context must be exactly \["https://www.w3.org/2018/credentials/v1"`
	presentationCtx = `presentation @context or type is not Mandate's`
)

// conformanceInputs is every input of the folder: file, a regexp the error
// must match (credentials.Decode+Parse for credentials, the verifier's
// MALFORMED message for presentations), and why. Where a document has two
// members Mandate does not define, the error names either: Parse checks
// members in map order.
var conformanceInputs = []struct {
	file, want, why string
}{
	{"credential-context-combo1-ok.json", credentialCtx, "valid DM 2.0; not a Mandate PoA: its base context is DM 2.0's, not the PoA credential's VC 1.1 list"},
	{"credential-context-combo2-ok.json", credentialCtx, "valid DM 2.0; not a Mandate PoA: its base context is DM 2.0's, not the PoA credential's VC 1.1 list"},
	{"credential-context-combo3-fail.json", credentialCtx, "a context URL with a space; refused at @context: its base context is DM 2.0's, not the PoA credential's VC 1.1 list"},
	{"credential-context-combo4-fail.json", credentialCtx, "a number in @context; refused at @context: its base context is DM 2.0's, not the PoA credential's VC 1.1 list"},
	{"credential-evidence-missing-type-fail.json", `member "evidence" is not allowed in a PoA credential`, "evidence without a type; refused before that: evidence is not a PoA credential member"},
	{"credential-evidence-ok.json", `member "evidence" is not allowed in a PoA credential`, "valid DM 2.0; not a Mandate PoA: evidence is not a PoA credential member"},
	{"credential-evidences-ok.json", `member "evidence" is not allowed in a PoA credential`, "valid DM 2.0; not a Mandate PoA: evidence is not a PoA credential member"},
	{"credential-id-multi-fail.json", credentialCtx, "two ids; refused before that: its base context is DM 2.0's, not the PoA credential's VC 1.1 list"},
	{"credential-id-nonidentifier-fail.json", credentialCtx, "a null id; refused before that: its base context is DM 2.0's, not the PoA credential's VC 1.1 list"},
	{"credential-id-not-url-fail.json", credentialCtx, "an id that is not a URL; refused before that: its base context is DM 2.0's, not the PoA credential's VC 1.1 list"},
	{"credential-id-other-ok.json", credentialCtx, "valid DM 2.0; not a Mandate PoA: its base context is DM 2.0's, not the PoA credential's VC 1.1 list"},
	{"credential-id-single-ok.json", credentialCtx, "valid DM 2.0; not a Mandate PoA: its base context is DM 2.0's, not the PoA credential's VC 1.1 list"},
	{"credential-id-subject-multi-fail.json", credentialCtx, "two subject ids; refused before that: its base context is DM 2.0's, not the PoA credential's VC 1.1 list"},
	{"credential-id-subject-single-ok.json", credentialCtx, "valid DM 2.0; not a Mandate PoA: its base context is DM 2.0's, not the PoA credential's VC 1.1 list"},
	{"credential-issuer-no-url-fail.json", credentialCtx, "an issuer that is not a URL; refused before that: its base context is DM 2.0's, not the PoA credential's VC 1.1 list"},
	{"credential-issuer-null-fail.json", credentialCtx, "a null issuer; refused before that: its base context is DM 2.0's, not the PoA credential's VC 1.1 list"},
	{"credential-issuer-object-id-no-url-fail.json", credentialCtx, "an issuer.id that is not a URL; refused before that: its base context is DM 2.0's, not the PoA credential's VC 1.1 list"},
	{"credential-issuer-object-id-null-fail.json", credentialCtx, "a null issuer.id; refused before that: its base context is DM 2.0's, not the PoA credential's VC 1.1 list"},
	{"credential-issuer-object-ok.json", credentialCtx, "valid DM 2.0; not a Mandate PoA: its base context is DM 2.0's, not the PoA credential's VC 1.1 list"},
	{"credential-missing-base-context-fail-or-inject.json", credentialCtx, "no base context (Mandate never injects one); refused before that: its base context is DM 2.0's, not the PoA credential's VC 1.1 list"},
	{"credential-missing-required-type-fail.json", credentialCtx, "no VerifiableCredential type; refused before that: its base context is DM 2.0's, not the PoA credential's VC 1.1 list"},
	{"credential-no-context-fail-or-inject.json", credentialCtx, "no @context (Mandate never injects one); refused before that: its base context is DM 2.0's, not the PoA credential's VC 1.1 list"},
	{"credential-no-issuer-fail.json", credentialCtx, "no issuer; refused before that: its base context is DM 2.0's, not the PoA credential's VC 1.1 list"},
	{"credential-no-subject-fail.json", credentialCtx, "no credentialSubject; refused before that: its base context is DM 2.0's, not the PoA credential's VC 1.1 list"},
	{"credential-no-type-fail.json", credentialCtx, "no type; refused before that: its base context is DM 2.0's, not the PoA credential's VC 1.1 list"},
	{"credential-ok.json", credentialCtx, "valid DM 2.0; not a Mandate PoA: its base context is DM 2.0's, not the PoA credential's VC 1.1 list"},
	{"credential-optional-type-ok.json", credentialCtx, "valid DM 2.0; not a Mandate PoA: its base context is DM 2.0's, not the PoA credential's VC 1.1 list"},
	{"credential-proof-missing-type-fail.json", credentialCtx, "a proof without a type; refused before that: its base context is DM 2.0's, not the PoA credential's VC 1.1 list"},
	{"credential-proof-ok.json", credentialCtx, "valid DM 2.0; not a Mandate PoA: its base context is DM 2.0's, not the PoA credential's VC 1.1 list"},
	{"credential-redef-type-fail.json", credentialCtx, "VerifiableCredential redefined; refused before that: its base context is DM 2.0's, not the PoA credential's VC 1.1 list"},
	{"credential-redef-type2-fail.json", credentialCtx, "a protected term redefined; refused before that: its base context is DM 2.0's, not the PoA credential's VC 1.1 list"},
	{"credential-refresh-no-type-fail.json", `member "refreshService" is not allowed in a PoA credential`, "refreshService without a type; refused before that: refreshService is not a PoA credential member"},
	{"credential-refresh-ok.json", `member "refreshService" is not allowed in a PoA credential`, "valid DM 2.0; not a Mandate PoA: refreshService is not a PoA credential member"},
	{"credential-refresh-type-ok.json", `member "refreshService" is not allowed in a PoA credential`, "valid DM 2.0; not a Mandate PoA: refreshService is not a PoA credential member"},
	{"credential-refreshs-ok.json", `member "refreshService" is not allowed in a PoA credential`, "valid DM 2.0; not a Mandate PoA: refreshService is not a PoA credential member"},
	{"credential-schema-no-id-fail.json", `member "credentialSchema" is not allowed in a PoA credential`, "credentialSchema without an id; refused before that: credentialSchema is not a PoA credential member"},
	{"credential-schema-no-type-fail.json", `member "credentialSchema" is not allowed in a PoA credential`, "credentialSchema without a type; refused before that: credentialSchema is not a PoA credential member"},
	{"credential-schema-non-url-id-fail.json", `member "credentialSchema" is not allowed in a PoA credential`, "a credentialSchema id that is not a URL; refused before that: credentialSchema is not a PoA credential member"},
	{"credential-schema-ok.json", `member "credentialSchema" is not allowed in a PoA credential`, "valid DM 2.0; not a Mandate PoA: credentialSchema is not a PoA credential member"},
	{"credential-schema-type-ok.json", `member "credentialSchema" is not allowed in a PoA credential`, "valid DM 2.0; not a Mandate PoA: credentialSchema is not a PoA credential member"},
	{"credential-schemas-ok.json", `member "credentialSchema" is not allowed in a PoA credential`, "valid DM 2.0; not a Mandate PoA: credentialSchema is not a PoA credential member"},
	{"credential-status-missing-id-ok.json", credentialCtx, "valid DM 2.0; not a Mandate PoA: its base context is DM 2.0's, not the PoA credential's VC 1.1 list"},
	{"credential-status-missing-type-fail.json", credentialCtx, "credentialStatus without a type; refused before that: its base context is DM 2.0's, not the PoA credential's VC 1.1 list"},
	{"credential-status-multiple-id-fail.json", credentialCtx, "credentialStatus with two ids; refused before that: its base context is DM 2.0's, not the PoA credential's VC 1.1 list"},
	{"credential-status-nonurl-id-fail.json", credentialCtx, "a credentialStatus id that is not a URL; refused before that: its base context is DM 2.0's, not the PoA credential's VC 1.1 list"},
	{"credential-status-ok.json", credentialCtx, "valid DM 2.0; not a Mandate PoA: its base context is DM 2.0's, not the PoA credential's VC 1.1 list"},
	{"credential-status-type-nonurl-fail.json", credentialCtx, "a credentialStatus type that is a number; refused before that: its base context is DM 2.0's, not the PoA credential's VC 1.1 list"},
	{"credential-subject-multiple-empty-fail.json", credentialCtx, "an empty second subject; refused before that: its base context is DM 2.0's, not the PoA credential's VC 1.1 list"},
	{"credential-subject-multiple-ok.json", credentialCtx, "valid DM 2.0; not a Mandate PoA: its base context is DM 2.0's, not the PoA credential's VC 1.1 list"},
	{"credential-subject-no-claims-fail.json", credentialCtx, "a subject with no claims; refused before that: its base context is DM 2.0's, not the PoA credential's VC 1.1 list"},
	{"credential-termsofuse-id-ok.json", `member "termsOfUse" is not allowed in a PoA credential`, "valid DM 2.0; not a Mandate PoA: termsOfUse is not a PoA credential member"},
	{"credential-termsofuse-missing-type-fail.json", `member "termsOfUse" is not allowed in a PoA credential`, "termsOfUse without a type; refused before that: termsOfUse is not a PoA credential member"},
	{"credential-termsofuse-no-type-fail.json", `member "termsOfUse" is not allowed in a PoA credential`, "termsOfUse with an id and no type; refused before that: termsOfUse is not a PoA credential member"},
	{"credential-termsofuse-ok.json", `member "termsOfUse" is not allowed in a PoA credential`, "valid DM 2.0; not a Mandate PoA: termsOfUse is not a PoA credential member"},
	{"credential-termsofuses-ok.json", `member "termsOfUse" is not allowed in a PoA credential`, "valid DM 2.0; not a Mandate PoA: termsOfUse is not a PoA credential member"},
	{"credential-type-mapped-nonurl-fail.json", credentialCtx, "a type mapped to a non-URL; refused before that: its base context is DM 2.0's, not the PoA credential's VC 1.1 list"},
	{"credential-type-mapped-url-ok.json", credentialCtx, "valid DM 2.0; not a Mandate PoA: its base context is DM 2.0's, not the PoA credential's VC 1.1 list"},
	{"credential-type-unmapped-fail.json", credentialCtx, "an unmapped type (@vocab null); refused before that: its base context is DM 2.0's, not the PoA credential's VC 1.1 list"},
	{"credential-type-url-ok.json", credentialCtx, "valid DM 2.0; not a Mandate PoA: its base context is DM 2.0's, not the PoA credential's VC 1.1 list"},
	{"credential-type-urls-order-1-ok.json", `member "validFrom" is not allowed in a PoA credential`, "valid DM 2.0; not a Mandate PoA: validFrom is not a PoA credential member"},
	{"credential-type-urls-order-2-ok.json", `member "validFrom" is not allowed in a PoA credential`, "valid DM 2.0; not a Mandate PoA: validFrom is not a PoA credential member"},
	{"credential-validUntil-validFrom-fail.json", `member "(validFrom|validUntil)" is not allowed in a PoA credential`, "validUntil before validFrom; refused before that: validFrom and validUntil are not PoA credential members (DM 2.0 dates; the member named is either)"},
	{"credential-validUntil-validFrom-ok.json", `member "(validFrom|validUntil)" is not allowed in a PoA credential`, "valid DM 2.0; not a Mandate PoA: validFrom and validUntil are not PoA credential members (DM 2.0 dates; the member named is either)"},
	{"credential-validfrom-far-future-ok.json", `member "validFrom" is not allowed in a PoA credential`, "valid DM 2.0; not a Mandate PoA: validFrom is not a PoA credential member"},
	{"credential-validfrom-invalid-fail.json", `member "validFrom" is not allowed in a PoA credential`, "validFrom not a dateTime; refused before that: validFrom is not a PoA credential member"},
	{"credential-validfrom-ms-ok.json", `member "validFrom" is not allowed in a PoA credential`, "valid DM 2.0; not a Mandate PoA: validFrom is not a PoA credential member"},
	{"credential-validfrom-tz-ok.json", `member "validFrom" is not allowed in a PoA credential`, "valid DM 2.0; not a Mandate PoA: validFrom is not a PoA credential member"},
	{"credential-validuntil-invalid-fail.json", `member "(validFrom|validUntil)" is not allowed in a PoA credential`, "validUntil not a dateTime; refused before that: validFrom and validUntil are not PoA credential members (DM 2.0 dates; the member named is either)"},
	{"credential-validuntil-ms-ok.json", `member "(validFrom|validUntil)" is not allowed in a PoA credential`, "valid DM 2.0; not a Mandate PoA: validFrom and validUntil are not PoA credential members (DM 2.0 dates; the member named is either)"},
	{"credential-validuntil-ok.json", `member "(validFrom|validUntil)" is not allowed in a PoA credential`, "valid DM 2.0; not a Mandate PoA: validFrom and validUntil are not PoA credential members (DM 2.0 dates; the member named is either)"},
	{"credential-validuntil-tz-ok.json", `member "(validFrom|validUntil)" is not allowed in a PoA credential`, "valid DM 2.0; not a Mandate PoA: validFrom and validUntil are not PoA credential members (DM 2.0 dates; the member named is either)"},
	{"names-and-descriptions/credential-description-extra-prop-en-fail.json", `member "description" is not allowed in a PoA credential`, "a language value with an extra member; refused before that: description is not a PoA credential member"},
	{"names-and-descriptions/credential-description-language-direction-en-ok.json", `member "description" is not allowed in a PoA credential`, "valid DM 2.0; not a Mandate PoA: description is not a PoA credential member"},
	{"names-and-descriptions/credential-description-language-en-ok.json", `member "description" is not allowed in a PoA credential`, "valid DM 2.0; not a Mandate PoA: description is not a PoA credential member"},
	{"names-and-descriptions/credential-description-ok.json", `member "description" is not allowed in a PoA credential`, "valid DM 2.0; not a Mandate PoA: description is not a PoA credential member"},
	{"names-and-descriptions/credential-description-optional-ok.json", credentialCtx, "valid DM 2.0; not a Mandate PoA: its base context is DM 2.0's, not the PoA credential's VC 1.1 list"},
	{"names-and-descriptions/credential-multi-language-description-ok.json", `member "description" is not allowed in a PoA credential`, "valid DM 2.0; not a Mandate PoA: description is not a PoA credential member"},
	{"names-and-descriptions/credential-multi-language-name-ok.json", `member "name" is not allowed in a PoA credential`, "valid DM 2.0; not a Mandate PoA: name is not a PoA credential member"},
	{"names-and-descriptions/credential-name-extra-prop-en-fail.json", `member "name" is not allowed in a PoA credential`, "a language value with an extra member; refused before that: name is not a PoA credential member"},
	{"names-and-descriptions/credential-name-language-direction-en-ok.json", `member "name" is not allowed in a PoA credential`, "valid DM 2.0; not a Mandate PoA: name is not a PoA credential member"},
	{"names-and-descriptions/credential-name-language-en-ok.json", `member "name" is not allowed in a PoA credential`, "valid DM 2.0; not a Mandate PoA: name is not a PoA credential member"},
	{"names-and-descriptions/credential-name-ok.json", `member "name" is not allowed in a PoA credential`, "valid DM 2.0; not a Mandate PoA: name is not a PoA credential member"},
	{"names-and-descriptions/credential-name-optional-ok.json", credentialCtx, "valid DM 2.0; not a Mandate PoA: its base context is DM 2.0's, not the PoA credential's VC 1.1 list"},
	{"names-and-descriptions/issuer-description-extra-prop-en-fail.json", credentialCtx, "an issuer language value with an extra member; refused before that: its base context is DM 2.0's, not the PoA credential's VC 1.1 list"},
	{"names-and-descriptions/issuer-description-language-direction-en-ok.json", credentialCtx, "valid DM 2.0; not a Mandate PoA: its base context is DM 2.0's, not the PoA credential's VC 1.1 list"},
	{"names-and-descriptions/issuer-description-language-en-ok.json", credentialCtx, "valid DM 2.0; not a Mandate PoA: its base context is DM 2.0's, not the PoA credential's VC 1.1 list"},
	{"names-and-descriptions/issuer-description-ok.json", credentialCtx, "valid DM 2.0; not a Mandate PoA: its base context is DM 2.0's, not the PoA credential's VC 1.1 list"},
	{"names-and-descriptions/issuer-description-optional-ok.json", credentialCtx, "valid DM 2.0; not a Mandate PoA: its base context is DM 2.0's, not the PoA credential's VC 1.1 list"},
	{"names-and-descriptions/issuer-multi-language-description-ok.json", credentialCtx, "valid DM 2.0; not a Mandate PoA: its base context is DM 2.0's, not the PoA credential's VC 1.1 list"},
	{"names-and-descriptions/issuer-multi-language-name-ok.json", credentialCtx, "valid DM 2.0; not a Mandate PoA: its base context is DM 2.0's, not the PoA credential's VC 1.1 list"},
	{"names-and-descriptions/issuer-name-extra-prop-en-fail.json", credentialCtx, "an issuer language value with an extra member; refused before that: its base context is DM 2.0's, not the PoA credential's VC 1.1 list"},
	{"names-and-descriptions/issuer-name-language-direction-en-ok.json", credentialCtx, "valid DM 2.0; not a Mandate PoA: its base context is DM 2.0's, not the PoA credential's VC 1.1 list"},
	{"names-and-descriptions/issuer-name-language-en-ok.json", credentialCtx, "valid DM 2.0; not a Mandate PoA: its base context is DM 2.0's, not the PoA credential's VC 1.1 list"},
	{"names-and-descriptions/issuer-name-ok.json", credentialCtx, "valid DM 2.0; not a Mandate PoA: its base context is DM 2.0's, not the PoA credential's VC 1.1 list"},
	{"names-and-descriptions/issuer-name-optional-ok.json", credentialCtx, "valid DM 2.0; not a Mandate PoA: its base context is DM 2.0's, not the PoA credential's VC 1.1 list"},
	{"presentation-context-combo1-ok.json", presentationCtx, "valid DM 2.0; not a Mandate PoA: its @context is DM 2.0's, not Mandate's presentation context"},
	{"presentation-context-combo2-ok.json", presentationCtx, "valid DM 2.0; not a Mandate PoA: its @context is DM 2.0's, not Mandate's presentation context"},
	{"presentation-context-order-fail.json", presentationCtx, "base context not first; refused before that: its @context is DM 2.0's, not Mandate's presentation context"},
	{"presentation-enveloped-vc-missing-type-fail.json", presentationCtx, "an enveloped VC without a type; refused before that: its @context is DM 2.0's, not Mandate's presentation context"},
	{"presentation-enveloped-vc-ok.json", presentationCtx, "valid DM 2.0; not a Mandate PoA: its @context is DM 2.0's, not Mandate's presentation context"},
	{"presentation-holder-fail.json", presentationCtx, "a holder that is not a URL; refused before that: its @context is DM 2.0's, not Mandate's presentation context"},
	{"presentation-holder-name-fail.json", presentationCtx, "a holder object without an id; refused before that: its @context is DM 2.0's, not Mandate's presentation context"},
	{"presentation-holder-object-fail.json", presentationCtx, "a holder.id that is not a URL; refused before that: its @context is DM 2.0's, not Mandate's presentation context"},
	{"presentation-holder-object-ok.json", presentationCtx, "valid DM 2.0; not a Mandate PoA: its @context is DM 2.0's, not Mandate's presentation context"},
	{"presentation-holder-ok.json", presentationCtx, "valid DM 2.0; not a Mandate PoA: its @context is DM 2.0's, not Mandate's presentation context"},
	{"presentation-id-ok.json", `member "id" is not allowed in a presentation`, "valid DM 2.0; not a Mandate PoA: id is not a member of a Mandate presentation"},
	{"presentation-missing-base-context-fail.json", presentationCtx, "no base context; refused before that: its @context is DM 2.0's, not Mandate's presentation context"},
	{"presentation-missing-required-type-fail.json", presentationCtx, "no VerifiablePresentation type; refused before that: its @context is DM 2.0's, not Mandate's presentation context"},
	{"presentation-multiple-vc-ok.json", presentationCtx, "valid DM 2.0; not a Mandate PoA: its @context is DM 2.0's, not Mandate's presentation context"},
	{"presentation-no-context-fail-or-inject.json", presentationCtx, "no @context (Mandate never injects one); refused before that: its @context is DM 2.0's, not Mandate's presentation context"},
	{"presentation-no-type-fail.json", presentationCtx, "no type; refused before that: its @context is DM 2.0's, not Mandate's presentation context"},
	{"presentation-ok.json", presentationCtx, "valid DM 2.0; not a Mandate PoA: its @context is DM 2.0's, not Mandate's presentation context"},
	{"presentation-optional-type-ok.json", presentationCtx, "valid DM 2.0; not a Mandate PoA: its @context is DM 2.0's, not Mandate's presentation context"},
	{"presentation-self-asserted-vc-holder-mismatch.json", presentationCtx, "self-asserted VC whose issuer is not the holder; refused before that: its @context is DM 2.0's, not Mandate's presentation context"},
	{"presentation-self-asserted-vc-issuer-mismatch.json", presentationCtx, "self-asserted VC whose issuer is not the holder; refused before that: its @context is DM 2.0's, not Mandate's presentation context"},
	{"presentation-self-asserted-vc-no-holder.json", presentationCtx, "self-asserted VC with no holder; refused before that: its @context is DM 2.0's, not Mandate's presentation context"},
	{"presentation-self-asserted-vc-ok.json", presentationCtx, "valid DM 2.0; not a Mandate PoA: its @context is DM 2.0's, not Mandate's presentation context"},
	{"presentation-vc-as-string-fail.json", presentationCtx, "a VC given as a string; refused before that: its @context is DM 2.0's, not Mandate's presentation context"},
	{"presentation-vc-missing-required-type-fail.json", presentationCtx, "a VC with an empty type; refused before that: its @context is DM 2.0's, not Mandate's presentation context"},
	{"presentation-vc-ok.json", presentationCtx, "valid DM 2.0; not a Mandate PoA: its @context is DM 2.0's, not Mandate's presentation context"},
}

func TestConformanceInputs(t *testing.T) {
	var files []string
	err := filepath.WalkDir(conformanceDir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(p, ".json") {
			rel, _ := filepath.Rel(conformanceDir, p)
			files = append(files, filepath.ToSlash(rel))
		}
		return err
	})
	if err != nil {
		t.Fatalf("conformance inputs: %v", err) // missing vectors fail, never skip
	}
	var listed []string
	for _, in := range conformanceInputs {
		listed = append(listed, in.file)
	}
	slices.Sort(files)
	if !slices.Equal(files, listed) {
		t.Fatalf("the folder holds %d inputs and the table %d: every input needs a row\nfolder: %q\ntable:  %q", len(files), len(listed), files, listed)
	}
	v := conformanceVerifier(t)
	for _, in := range conformanceInputs {
		t.Run(in.file, func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join(conformanceDir, in.file))
			if err != nil {
				t.Fatal(err)
			}
			want := regexp.MustCompile(in.want)
			if strings.HasPrefix(filepath.Base(in.file), "presentation-") {
				d := v.Authorize(context.Background(), data, conformanceRequest())
				if d.Outcome != presentation.Deny || !slices.Equal(d.Reasons, []presentation.Reason{presentation.ReasonMalformed}) || !want.MatchString(d.Message) {
					t.Fatalf("%s %v (%s), want DENY MALFORMED matching %q; row: %s", d.Outcome, d.Reasons, d.Message, in.want, in.why)
				}
				return
			}
			m, err := credentials.Decode(data)
			if err == nil {
				_, err = credentials.Parse(m)
			}
			if !errors.Is(err, credentials.ErrMalformed) || !want.MatchString(err.Error()) {
				t.Fatalf("err = %v, want ErrMalformed matching %q; row: %s", err, in.want, in.why)
			}
		})
	}
}

// The "-fail" inputs are refused at Mandate's @context before their own
// defect is reached. Here each defect is carried over into a real, signed
// PoA credential or presentation, to show that Mandate's own rules refuse it
// too (or, in one case, where they do not: see the row).
func TestConformanceDefectsInPoAShape(t *testing.T) {
	root := conformanceRoot(t)
	entry := func(m map[string]any) map[string]any { return m["credentialStatus"].([]any)[0].(map[string]any) }
	cases := []struct {
		input string // the suite input whose defect this is
		edit  func(m map[string]any)
		// resign re-signs the edited credential as alice, so that only the
		// defect is left to find.
		resign  bool
		wantErr error  // nil: accepted
		want    string // a substring of the error
	}{
		{"credential-context-combo3-fail", func(m map[string]any) { m["@context"].([]any)[3] = "https ://not-a-url/contexts/example/v1" }, false, credentials.ErrMalformed, "@context must be exactly"},
		{"credential-context-combo4-fail", func(m map[string]any) { m["@context"].([]any)[3] = 123192875 }, false, credentials.ErrMalformed, "@context must be exactly"},
		{"credential-id-multi-fail", func(m map[string]any) { m["id"] = []any{m["id"], "urn:uuid:00000000-0000-4000-8000-000000000000"} }, false, credentials.ErrMalformed, "id must be a urn:uuid"},
		{"credential-id-nonidentifier-fail", func(m map[string]any) { m["id"] = nil }, false, credentials.ErrMalformed, "id must be a urn:uuid"},
		{"credential-id-not-url-fail", func(m map[string]any) { m["id"] = "https ://not-a-url/vcs/343cf54b" }, false, credentials.ErrMalformed, "id must be a urn:uuid"},
		{"credential-id-subject-multi-fail", func(m map[string]any) { subject(m)["id"] = []any{assistant.DID(), summarizer.DID()} }, false, credentials.ErrMalformed, "credentialSubject: json: cannot unmarshal array"},
		{"credential-issuer-no-url-fail", func(m map[string]any) { m["issuer"] = "fake-issuer" }, false, credentials.ErrMalformed, "issuer must be a DID string"},
		{"credential-issuer-null-fail", func(m map[string]any) { m["issuer"] = nil }, false, credentials.ErrMalformed, "issuer must be a DID string"},
		{"credential-issuer-object-id-no-url-fail", func(m map[string]any) { m["issuer"] = map[string]any{"id": "fake-issuer"} }, false, credentials.ErrMalformed, "issuer must be a DID string"},
		{"credential-issuer-object-id-null-fail", func(m map[string]any) { m["issuer"] = map[string]any{"id": nil} }, false, credentials.ErrMalformed, "issuer must be a DID string"},
		{"credential-missing-base-context-fail-or-inject", func(m map[string]any) { m["@context"] = m["@context"].([]any)[1:] }, false, credentials.ErrMalformed, "@context must be exactly"},
		{"credential-missing-required-type-fail", func(m map[string]any) { m["type"] = []any{credentials.Type} }, false, credentials.ErrMalformed, "type must be exactly"},
		{"credential-no-context-fail-or-inject", func(m map[string]any) { delete(m, "@context") }, false, credentials.ErrMalformed, "@context must be exactly"},
		{"credential-no-issuer-fail", func(m map[string]any) { delete(m, "issuer") }, false, credentials.ErrMalformed, "issuer must be a DID string"},
		{"credential-no-subject-fail", func(m map[string]any) { delete(m, "credentialSubject") }, false, credentials.ErrMalformed, "credentialSubject: must be one object"},
		{"credential-no-type-fail", func(m map[string]any) { delete(m, "type") }, false, credentials.ErrMalformed, "type must be exactly"},
		{"credential-proof-missing-type-fail", func(m map[string]any) { delete(proofOf(m), "type") }, false, credentials.ErrSignature, `proof type "" is not accepted`},
		{"credential-redef-type-fail", func(m map[string]any) {
			m["@context"] = append(m["@context"].([]any), map[string]any{"VerifiableCredential": "https://example.org/#BadVerifiableCredential"})
		}, false, credentials.ErrMalformed, "@context must be exactly"},
		{"credential-redef-type2-fail", func(m map[string]any) {
			m["@context"] = append(m["@context"].([]any), map[string]any{credentials.Type: "https://example.org/#ExampleBadCredential"})
		}, false, credentials.ErrMalformed, "@context must be exactly"},
		{"credential-status-missing-type-fail", func(m map[string]any) { delete(entry(m), "type") }, false, credentials.ErrMalformed, `credentialStatus: status: malformed: status entry type "" is neither`},
		{"credential-status-multiple-id-fail", func(m map[string]any) {
			entry(m)["id"] = []any{"https://status.example/a#1", "https://status.example/a#2"}
		}, false, credentials.ErrMalformed, "credentialStatus: json: cannot unmarshal array"},
		{"credential-status-nonurl-id-fail", func(m map[string]any) { entry(m)["id"] = "https ://not-a-url/statusList/4" }, false, credentials.ErrMalformed, "credentialStatus: status: malformed: id \"https ://not-a-url/statusList/4\" has a space"},
		{"credential-status-type-nonurl-fail", func(m map[string]any) { entry(m)["type"] = 2 }, false, credentials.ErrMalformed, "credentialStatus: json: cannot unmarshal number"},
		{"credential-subject-multiple-empty-fail", func(m map[string]any) { m["credentialSubject"] = []any{subject(m), map[string]any{}} }, false, credentials.ErrMalformed, "credentialSubject: must be one object"},
		{"credential-subject-no-claims-fail", func(m map[string]any) { m["credentialSubject"] = map[string]any{} }, false, credentials.ErrMalformed, "id and principal must be DIDs"},
		{"credential-type-mapped-nonurl-fail", func(m map[string]any) { m["type"] = append(m["type"].([]any), "ExampleTestCredential") }, false, credentials.ErrMalformed, "type must be exactly"},
		{"credential-type-unmapped-fail", func(m map[string]any) { m["type"] = append(m["type"].([]any), "ExampleTestCredential") }, false, credentials.ErrMalformed, "type must be exactly"},
		{"credential-validfrom-invalid-fail", func(m map[string]any) { m["issuanceDate"] = "2023-02-23T21:41:38" }, false, credentials.ErrMalformed, "issuanceDate: parsing time"},
		{"credential-validuntil-invalid-fail", func(m map[string]any) { m["expirationDate"] = "not a date" }, false, credentials.ErrMalformed, "expirationDate: parsing time"},
		{"credential-validUntil-validFrom-fail", func(m map[string]any) { m["expirationDate"] = "2026-12-03T11:00:00Z" }, false, credentials.ErrMalformed, "expirationDate must be after issuanceDate"},
		{"credential-description-extra-prop-en-fail", func(m map[string]any) {
			m["description"] = map[string]any{"@value": "An Example Credential", "@language": "en", "url": "did:example:credential"}
		}, false, credentials.ErrMalformed, `member "description" is not allowed`},
		{"issuer-name-extra-prop-en-fail", func(m map[string]any) {
			m["issuer"] = map[string]any{"id": alice.DID(), "name": map[string]any{"@value": "ExampleIssuer", "@language": "en", "url": "did:example:issuer"}}
		}, false, credentials.ErrMalformed, "issuer must be a DID string"},
	}
	v := verifier(t)
	for _, c := range cases {
		t.Run(c.input, func(t *testing.T) {
			m := conformanceJSON(t, root.Raw)
			c.edit(m)
			if c.resign {
				m = conformanceSign(t, m)
			}
			data, err := json.Marshal(m)
			if err != nil {
				t.Fatal(err)
			}
			_, err = v.Verify(context.Background(), data)
			t.Logf("%v", err)
			if c.wantErr == nil {
				if err != nil {
					t.Fatalf("err = %v; this defect is accepted today, and the row says so", err)
				}
				return
			}
			if !errors.Is(err, c.wantErr) || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err = %v, want %v mentioning %q", err, c.wantErr, c.want)
			}
		})
	}
}

// The presentation inputs' defects, carried over into presentations that
// Mandate's verifier reads: all are denied.
func TestConformancePresentationDefects(t *testing.T) {
	root := conformanceRoot(t)
	forged, err := credentials.SignUnchecked(assistant, credentials.Subject{ID: assistant.DID(), Principal: alice.DID(), Purpose: "self-asserted",
		Grants: root.Subject.Grants[:1]}, credentials.Template{}, opts)
	if err != nil {
		t.Fatal(err)
	}
	vpMap := func(m map[string]any) []any { return m["verifiableCredential"].([]any) }
	cases := []struct {
		input  string
		holder credentials.Signer
		chain  []*credentials.Credential
		edit   func(m map[string]any) // after signing: parsing comes before any proof
		reason presentation.Reason
		want   string
	}{
		{"presentation-context-order-fail", assistant, nil, func(m map[string]any) { slices.Reverse(m["@context"].([]any)) }, presentation.ReasonMalformed, presentationCtx},
		{"presentation-missing-base-context-fail", assistant, nil, func(m map[string]any) { m["@context"] = m["@context"].([]any)[1:] }, presentation.ReasonMalformed, presentationCtx},
		{"presentation-missing-required-type-fail", assistant, nil, func(m map[string]any) { m["type"] = []any{"CredentialManagerPresentation"} }, presentation.ReasonMalformed, presentationCtx},
		{"presentation-no-context-fail-or-inject", assistant, nil, func(m map[string]any) { delete(m, "@context") }, presentation.ReasonMalformed, presentationCtx},
		{"presentation-no-type-fail", assistant, nil, func(m map[string]any) { delete(m, "type") }, presentation.ReasonMalformed, presentationCtx},
		{"presentation-holder-fail", assistant, nil, func(m map[string]any) { m["holder"] = strings.TrimPrefix(assistant.DID(), "did:key:") }, presentation.ReasonMalformed, "needs a holder DID"},
		{"presentation-holder-name-fail", assistant, nil, func(m map[string]any) { m["holder"] = map[string]any{"name": "Acme"} }, presentation.ReasonMalformed, "needs a holder DID"},
		{"presentation-holder-object-fail", assistant, nil, func(m map[string]any) { m["holder"] = map[string]any{"id": assistant.DID()} }, presentation.ReasonMalformed, "needs a holder DID"},
		{"presentation-self-asserted-vc-no-holder", assistant, nil, func(m map[string]any) { delete(m, "holder") }, presentation.ReasonMalformed, "needs a holder DID"},
		{"presentation-vc-as-string-fail", assistant, nil, func(m map[string]any) { m["verifiableCredential"] = []any{"eyJhbGciOiJFUzI1NiJ9.e30.sig"} }, presentation.ReasonMalformed, "credential 0 is not an object"},
		{"presentation-vc-missing-required-type-fail", assistant, nil, func(m map[string]any) { vpMap(m)[0].(map[string]any)["type"] = []any{} }, presentation.ReasonMalformed, "type must be exactly"},
		{"presentation-enveloped-vc-missing-type-fail", assistant, nil, func(m map[string]any) {
			m["verifiableCredential"] = []any{map[string]any{"@context": "https://www.w3.org/ns/credentials/v2", "id": "data:application/vc-ld+jwt,eyJ"}}
		}, presentation.ReasonMalformed, "@context must be exactly"},
		// Mandate has no self-asserted credentials: the holder must be the
		// leaf's subject, and a root must be issued by its principal.
		{"presentation-self-asserted-vc-holder-mismatch", summarizer, nil, nil, presentation.ReasonHolderMismatch, "but the leaf credential was granted to " + assistant.DID()},
		{"presentation-self-asserted-vc-issuer-mismatch", assistant, []*credentials.Credential{forged}, nil, presentation.ReasonChainBroken, "not by its principal " + alice.DID()},
	}
	v := conformanceVerifier(t)
	for _, c := range cases {
		t.Run(c.input, func(t *testing.T) {
			ch, err := v.Challenge(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			chain := c.chain
			if chain == nil {
				chain = []*credentials.Credential{root}
			}
			vp, err := presentation.Present(c.holder, chain, ch, conformanceRequest(), now)
			if err != nil {
				t.Fatal(err)
			}
			if c.edit != nil {
				m := conformanceJSON(t, json.RawMessage(vp))
				c.edit(m)
				if vp, err = json.Marshal(m); err != nil {
					t.Fatal(err)
				}
			}
			d := v.Authorize(context.Background(), vp, conformanceRequest())
			t.Logf("%s %v: %s", d.Outcome, d.Reasons, d.Message)
			if d.Outcome != presentation.Deny || !slices.Equal(d.Reasons, []presentation.Reason{c.reason}) || !regexp.MustCompile(c.want).MatchString(d.Message) {
				t.Fatalf("%s %v (%s), want DENY %s matching %q", d.Outcome, d.Reasons, d.Message, c.reason, c.want)
			}
		})
	}
}

// conformanceStatus gives a credential fixed status entries, so that the
// credentialStatus defects have an entry to break.
type conformanceStatus struct{}

func (conformanceStatus) Allocate(string, []string) (status.Allocation, error) {
	e := status.Entry{ID: "https://status.example/alice-revocation-1#7", Type: status.TypeBitstringEntry, Purpose: status.Revocation,
		Index: 7, ListURL: "https://status.example/alice-revocation-1", StatusSize: 1}
	return status.Allocation{Credential: []status.Entry{e}}, nil
}

// conformanceRoot is a valid PoA root with an expirationDate and a status entry.
func conformanceRoot(t *testing.T) *credentials.Credential {
	t.Helper()
	tmpl := rootTemplate()
	tmpl.ValidUntil = new(now.Add(48 * time.Hour))
	c, err := credentials.Issue(alice, tmpl, credentials.IssueOptions{Now: opts.Now, Status: conformanceStatus{}})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// conformanceSign replaces m's proof with alice's.
func conformanceSign(t *testing.T, m map[string]any) map[string]any {
	t.Helper()
	delete(m, "proof")
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	ld, err := credentials.LD()
	if err != nil {
		t.Fatal(err)
	}
	signed, err := ld.Sign(b, aries.ProofOptions{VerificationMethod: alice.VerificationMethod(), Purpose: "assertionMethod", Created: now}, alice.Sign)
	if err != nil {
		t.Fatal(err)
	}
	return conformanceJSON(t, json.RawMessage(signed))
}

func conformanceJSON(t *testing.T, v any) map[string]any {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// conformanceVerifier is a presentation verifier trusting alice, with no
// status source: every input here is refused long before status.
func conformanceVerifier(t *testing.T) *presentation.Verifier {
	t.Helper()
	db, err := badger.Open(badger.DefaultOptions("").WithInMemory(true).WithLogger(nil))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	v, err := presentation.New(presentation.Config{
		Audience: "https://conformance.example", Resolver: did.KeyResolver{}, TrustedRoots: []string{alice.DID()},
		Store: db, Signer: testkeys.New("conformance verifier"), Now: func() time.Time { return now.Add(time.Hour) },
	})
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func conformanceRequest() presentation.Request {
	return presentation.Request{Action: "email:read", Resource: "mailbox:alice/inbox"}
}
