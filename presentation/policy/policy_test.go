package policy_test

import (
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/mandate-dev/mandate/presentation/policy"
)

const valid = `version: 1
roots:
  - principal: did:web:acme.example
    resources: ["erp:invoices/*"]
formats: [ldp]
algorithms: [Ed25519Signature2020]
didMethods: [key, web]
`

func TestParseExample(t *testing.T) {
	b, err := os.ReadFile("testdata/example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	p, err := policy.Parse(b)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := p.Trusts("did:web:acme.example", "erp:invoices/7"); !ok {
		t.Error("acme not trusted for its invoices")
	}
	if _, ok := p.Trusts("did:web:partner.example:procurement", "erp:deliveries/1"); !ok {
		t.Error("partner domain not trusted for deliveries")
	}
	for _, c := range []struct{ principal, resource string }{
		{"did:web:partner.example", "erp:invoices/7"}, {"did:web:partner.example.evil", "erp:deliveries/1"},
		{"did:web:evilpartner.example", "erp:deliveries/1"}, {"did:key:z6Mkabc", "erp:invoices/7"},
	} {
		if _, ok := p.Trusts(c.principal, c.resource); ok {
			t.Errorf("%s trusted for %s", c.principal, c.resource)
		}
	}
	if w := p.WitnessesFor("invoice:read", "erp:invoices/7"); len(w) != 1 || w[0].By[0] != "did:web:acme.example:legal" || w[0].Line != 9 {
		t.Errorf("witness rules = %+v", w)
	}
	if w := p.WitnessesFor("order:read", "erp:orders/7"); len(w) != 0 {
		t.Errorf("witness rules for orders = %+v", w)
	}
	if p.StatusMaxAge != 5*time.Minute || len(p.Checkers) != 1 || string(p.Checkers[0].Config) != "{}" {
		t.Errorf("status %s checkers %+v", p.StatusMaxAge, p.Checkers)
	}
}

// The example in docs/POLICY.md is the file in testdata, byte for byte.
func TestDocExample(t *testing.T) {
	doc, err := os.ReadFile("../../docs/POLICY.md")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile("(?s)```yaml\n(.*?)```").FindSubmatch(doc)
	want, _ := os.ReadFile("testdata/example.yaml")
	if m == nil || string(m[1]) != string(want) {
		t.Fatal("docs/POLICY.md's first yaml block differs from presentation/policy/testdata/example.yaml")
	}
}

func TestParseRefusals(t *testing.T) {
	for _, tc := range []struct{ name, edit, want string }{
		{"unknown key", valid + "trustEverything: true\n", `policy: line 8: unknown key "trustEverything"`},
		{"unknown root key", strings.Replace(valid, "    resources:", "    resource: x\n    resources:", 1), `policy: line 4: unknown key "resource"`},
		{"duplicate key", valid + "formats: [ldp]\n", `policy: line 8: key "formats" appears twice`},
		{"version", strings.Replace(valid, "version: 1", "version: 2", 1), "policy: line 1: version must be 1"},
		{"no roots", strings.Replace(valid, "roots:\n  - principal: did:web:acme.example\n    resources: [\"erp:invoices/*\"]\n", "roots: []\n", 1),
			"policy: line 2: roots: need 1..256 trusted roots (a policy that trusts no root denies everything)"},
		{"both principal and domain", strings.Replace(valid, "    resources:", "    domain: acme.example\n    resources:", 1), "policy: line 3: a root names exactly one of principal or domain"},
		{"duplicate root", strings.Replace(valid, "formats:", "  - principal: did:web:acme.example\n    resources: [\"x:y\"]\nformats:", 1),
			"policy: line 5: principal did:web:acme.example is already trusted at line 3: one entry per root"},
		{"method not listed", strings.Replace(valid, "[key, web]", "[key]", 1), `policy: line 3: principal "did:web:acme.example": DID method "web" is not in didMethods`},
		{"unknown method", strings.Replace(valid, "[key, web]", "[key, ion]", 1), `policy: line 7: didMethods: "ion" is not one of key, web`},
		{"no formats", strings.Replace(valid, "formats: [ldp]\n", "", 1), "policy: formats: required, an explicit list (known: ldp, sd-jwt, bbs)"},
		{"bbs without its algorithm", strings.Replace(valid, "[ldp]", "[ldp, bbs]", 1), "policy: line 5: formats: bbs is accepted but its algorithm BbsBlsSignature2020 is not in algorithms"},
		{"bbs without did:key", strings.NewReplacer("[ldp]", "[bbs]", "[Ed25519Signature2020]", "[BbsBlsSignature2020]", "[key, web]", "[web]").Replace(valid),
			"policy: line 5: formats: bbs needs did:key (BBS+ issuers are BLS12-381 G2 did:keys), which is not in didMethods"},
		{"bbs twice", strings.NewReplacer("[ldp]", "[bbs, bbs]", "[Ed25519Signature2020]", "[BbsBlsSignature2020]").Replace(valid), `policy: line 5: formats: "bbs" is listed twice`},
		{"bbs proof type as algorithm", strings.Replace(valid, "[Ed25519Signature2020]", "[Ed25519Signature2020, BbsBlsSignatureProof2020]", 1),
			`policy: line 6: algorithms: "BbsBlsSignatureProof2020" is not one of Ed25519Signature2020, EdDSA, BbsBlsSignature2020`},
		{"format without its algorithm", strings.Replace(valid, "[ldp]", "[ldp, sd-jwt]", 1), "policy: line 5: formats: sd-jwt is accepted but its algorithm EdDSA is not in algorithms"},
		{"unknown algorithm", strings.Replace(valid, "[Ed25519Signature2020]", "[Ed25519Signature2020, RS256]", 1), `policy: line 6: algorithms: "RS256" is not one of Ed25519Signature2020, EdDSA, BbsBlsSignature2020`},
		{"bad resource", strings.Replace(valid, `"erp:invoices/*"`, `"erp:inv*"`, 1), "policy: line 3: resources: "},
		{"ip domain", strings.Replace(valid, "principal: did:web:acme.example", "domain: 127.0.0.1", 1), `policy: line 3: domain "127.0.0.1": did: invalid DID`},
		{"witness without by", valid + "witness:\n  - actions: [\"invoice:*\"]\n", "policy: line 9: witness: by: need 1..16 witness DIDs"},
		{"root witnesses itself", valid + "witness:\n  - actions: [\"invoice:*\"]\n    by: [did:web:acme.example]\n",
			`policy: line 9: witness: by: "did:web:acme.example" is a trusted root: a principal cannot witness its own instrument`},
		{"status age", valid + "status:\n  maxAge: forever\n", `policy: line 8: status.maxAge "forever" is not a duration such as 5m`},
		{"status age too long", valid + "status:\n  maxAge: 48h\n", `policy: line 8: status.maxAge must be 0..24h0m0s`},
		{"checker twice", valid + "intentCheckers:\n  - name: lexical\n  - name: lexical\n", `policy: line 10: intent checker "lexical" is listed twice`},
		{"alias", valid + "x: &a [1]\n", "policy: line 8: anchors and aliases are not allowed"},
		{"two documents", valid + "---\nversion: 1\n", "policy: line 8: a policy file holds one YAML document"},
		{"empty", "", "policy: file is empty"},
		{"not a mapping", "- a\n", "policy: line 1: the policy must be a mapping"},
		{"too large", valid + "#" + strings.Repeat("x", 64<<10) + "\n", "policy: file is 65699 bytes, limit 65536"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := policy.Parse([]byte(tc.edit))
			if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
				t.Fatalf("error = %v\nwant    %s", err, tc.want)
			}
		})
	}
}
