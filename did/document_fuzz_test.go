package did_test

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/mandate-dev/mandate/did"
	"github.com/mandate-dev/mandate/internal/strictjson"
)

// staticResolver returns one document, whatever it is asked: a DID method
// that fetches documents (did:web) hands PublicKey attacker-chosen JSON.
type staticResolver struct{ doc *did.Document }

func (r staticResolver) Resolve(context.Context, string) (*did.Document, error) { return r.doc, nil }

// FuzzPublicKey decodes a DID document from arbitrary JSON, as a resolver
// that fetches documents would, and asks PublicKey for a verification
// method of it. PublicKey never panics, names its package in every error,
// and returns a key only for a method that is the document's own, listed
// under the relationship asked for, of an accepted type, and for
// did:key the key the identifier encodes.
func FuzzPublicKey(f *testing.F) {
	for _, s := range didStrings(f, ccgDir+"ed25519-x25519.json") {
		if strings.ContainsAny(s, "#/?") {
			continue
		}
		doc, err := did.KeyResolver{}.Resolve(context.Background(), s)
		if err != nil {
			f.Fatal(err)
		}
		b, err := json.Marshal(doc)
		if err != nil {
			f.Fatal(err)
		}
		vm := doc.VerificationMethod[0].ID
		f.Add(b, vm, "assertionMethod")
		f.Add(b, vm, "authentication")
		f.Add(b, vm, "keyAgreement")
		web := strings.ReplaceAll(string(b), s, "did:web:example.com")
		f.Add([]byte(web), "did:web:example.com#"+strings.TrimPrefix(s, "did:key:"), "assertionMethod")
		f.Add([]byte(strings.Replace(string(b), `"verificationMethod":[`, `"verificationMethod":[`+
			strings.TrimSuffix(strings.SplitN(string(b), `"verificationMethod":[`, 2)[1], "]")+",", 1)), vm, "assertionMethod")
	}
	f.Fuzz(func(t *testing.T, data []byte, vmID, rel string) {
		var doc *did.Document
		if err := strictjson.Decode(data, 64<<10, &doc); err != nil {
			return
		}
		key, err := did.PublicKey(context.Background(), staticResolver{doc}, vmID, rel)
		if err != nil {
			if key != nil || !strings.HasPrefix(err.Error(), "did: ") {
				t.Fatalf("PublicKey = %x, %v", key, err)
			}
			return
		}
		if len(key) != 32 || doc == nil || (rel != "assertionMethod" && rel != "authentication") {
			t.Fatalf("key %x for relationship %q", key, rel)
		}
		owner, _, _ := strings.Cut(vmID, "#")
		n := 0
		for _, vm := range doc.VerificationMethod {
			if vm.ID != vmID {
				continue
			}
			n++
			if vm.Controller != owner || doc.ID != owner || vm.Type != "Ed25519VerificationKey2020" && vm.Type != "JsonWebKey2020" {
				t.Fatalf("accepted method %+v of document %s", vm, doc.ID)
			}
		}
		listed := doc.AssertionMethod
		if rel == "authentication" {
			listed = doc.Authentication
		}
		if n != 1 || !slices.Contains(listed, vmID) {
			t.Fatalf("accepted %s: %d methods with that id, listed under %s: %v", vmID, n, rel, listed)
		}
		if strings.HasPrefix(vmID, "did:key:") {
			want, err := did.ParseKey(vmID)
			if err != nil || !want.Equal(key) {
				t.Fatalf("did:key %s gave key %x, identifier encodes %x (%v)", vmID, key, want, err)
			}
		}
	})
}

// FuzzParseWebDocument reads arbitrary bytes as the did:web document of
// did:web:example.com, as WebResolver does with what it fetched. Whatever it
// accepts is that DID's own document, every relationship names one of its
// methods, each method yields a 32-byte key through PublicKey, and the
// document re-encodes to bytes that parse to the same document.
func FuzzParseWebDocument(f *testing.F) {
	const web = "did:web:example.com"
	pub := make([]byte, 32)
	pub[0] = 1
	doc, err := did.WebDocument(web, pub)
	if err != nil {
		f.Fatal(err)
	}
	b, err := json.Marshal(doc)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b)
	s := string(b)
	x := "AQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
	f.Add([]byte(`{"@context":"https://www.w3.org/ns/did/v1","id":"` + web + `","verificationMethod":[{"id":"` + web +
		`#k","type":"JsonWebKey2020","controller":"` + web + `","publicKeyJwk":{"kty":"OKP","crv":"Ed25519","x":"` + x +
		`"}}],"assertionMethod":["` + web + `#k"],"service":[{"id":"#s","type":"X"}]}`))
	f.Add([]byte(strings.Replace(s, `"type":"`, `"Type":"`, 1)))
	f.Add([]byte(strings.Replace(s, `"controller":"`+web, `"controller":"did:web:evil.example`, 1)))
	f.Add([]byte(strings.Replace(s, `"authentication":["`, `"authentication":["did:web:example.com#other","`, 1)))
	f.Fuzz(func(t *testing.T, data []byte) {
		doc, err := did.ParseWebDocument(web, data)
		if err != nil {
			if doc != nil {
				t.Fatalf("a document and an error: %v", err)
			}
			return
		}
		if doc.ID != web || len(doc.VerificationMethod) == 0 {
			t.Fatalf("accepted document %s with %d methods", doc.ID, len(doc.VerificationMethod))
		}
		for _, vm := range doc.VerificationMethod {
			for _, rel := range []string{"assertionMethod", "authentication"} {
				key, err := did.PublicKey(context.Background(), staticResolver{doc}, vm.ID, rel)
				if err == nil && len(key) != 32 || err != nil && !strings.Contains(err.Error(), "is not listed under") {
					t.Fatalf("method %s under %s: key %x, %v", vm.ID, rel, key, err)
				}
			}
		}
		enc, err := json.Marshal(doc)
		if err != nil {
			t.Fatal(err)
		}
		again, err := did.ParseWebDocument(web, enc)
		if err != nil {
			t.Fatalf("re-encoded document %s refused: %v", enc, err)
		}
		if enc2, _ := json.Marshal(again); string(enc2) != string(enc) {
			t.Fatalf("document changed on re-encoding:\n%s\n%s", enc, enc2)
		}
	})
}
