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
// under the relationship asked for, of the one accepted type, and for
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
			if vm.Controller != owner || doc.ID != owner || vm.Type != "Ed25519VerificationKey2020" {
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
