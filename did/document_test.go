package did_test

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"testing"

	"github.com/mandate-dev/mandate/did"
)

// memResolver is an in-memory Resolver, standing in for resolvers of other methods.
type memResolver map[string]*did.Document

var errNotFound = errors.New("memresolver: not found")

func (m memResolver) Resolve(_ context.Context, id string) (*did.Document, error) {
	if doc, ok := m[id]; ok {
		return doc, nil
	}
	return nil, errNotFound
}

// aliceDoc returns alice's document from KeyResolver, changed by edit.
func aliceDoc(t *testing.T, edit func(*did.Document)) memResolver {
	t.Helper()
	doc, err := did.KeyResolver{}.Resolve(context.Background(), alice)
	if err != nil {
		t.Fatal(err)
	}
	edit(doc)
	return memResolver{alice: doc}
}

func TestDocumentJSON(t *testing.T) {
	doc, err := did.KeyResolver{}.Resolve(context.Background(), alice)
	if err != nil {
		t.Fatal(err)
	}
	got, err := json.MarshalIndent(doc, "", " ")
	if err != nil {
		t.Fatal(err)
	}
	want := `{
 "@context": [
  "https://www.w3.org/ns/did/v1",
  "https://w3id.org/security/suites/ed25519-2020/v1"
 ],
 "id": "` + alice + `",
 "verificationMethod": [
  {
   "id": "` + aliceVM + `",
   "type": "Ed25519VerificationKey2020",
   "controller": "` + alice + `",
   "publicKeyMultibase": "` + aliceMB + `"
  }
 ],
 "authentication": [
  "` + aliceVM + `"
 ],
 "assertionMethod": [
  "` + aliceVM + `"
 ],
 "capabilityDelegation": [
  "` + aliceVM + `"
 ],
 "capabilityInvocation": [
  "` + aliceVM + `"
 ]
}`
	if string(got) != want {
		t.Errorf("document JSON:\n%s\nwant:\n%s", got, want)
	}
}

func TestResolveErrors(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := (did.KeyResolver{}).Resolve(ctx, alice); !errors.Is(err, context.Canceled) {
		t.Errorf("Resolve with a cancelled context: error = %v; want %v", err, context.Canceled)
	}
	if _, err := (did.KeyResolver{}).Resolve(context.Background(), aliceVM); !errors.Is(err, did.ErrInvalidDID) {
		t.Errorf("Resolve(DID URL) error = %v; want %v", err, did.ErrInvalidDID)
	}
}

func TestPublicKey(t *testing.T) {
	alicePub, err := did.ParseKey(alice)
	if err != nil {
		t.Fatal(err)
	}
	const example = "did:example:carol"
	carol := ed25519.PublicKey(make([]byte, 32))
	carol[0] = 1
	carolMB, _ := did.FromPublicKey(carol)
	carolDoc := &did.Document{
		ID: example,
		VerificationMethod: []did.VerificationMethod{{ID: example + "#key-1", Type: "Ed25519VerificationKey2020",
			Controller: example, PublicKeyMultibase: carolMB[len("did:key:"):]}},
		AssertionMethod: []string{example + "#key-1"},
	}
	tests := []struct {
		name     string
		r        did.Resolver
		vm, rel  string
		wantKey  ed25519.PublicKey
		wantIs   error
		wantText string
	}{
		{name: "did:key assertion", r: did.KeyResolver{}, vm: aliceVM, rel: "assertionMethod", wantKey: alicePub},
		{name: "did:key authentication", r: did.KeyResolver{}, vm: aliceVM, rel: "authentication", wantKey: alicePub},
		{name: "other method through its resolver", r: memResolver{example: carolDoc}, vm: example + "#key-1",
			rel: "assertionMethod", wantKey: carol},
		{name: "not listed", r: memResolver{example: carolDoc}, vm: example + "#key-1", rel: "authentication",
			wantText: `did: verification method "did:example:carol#key-1" is not listed under authentication`},
		{name: "nil resolver", vm: aliceVM, rel: "assertionMethod", wantText: "did: nil resolver"},
		{name: "relationship outside the list", r: did.KeyResolver{}, vm: aliceVM, rel: "capabilityInvocation",
			wantText: `did: verification relationship "capabilityInvocation" is not supported: only assertionMethod or authentication`},
		{name: "no fragment", r: did.KeyResolver{}, vm: alice, rel: "assertionMethod", wantIs: did.ErrInvalidDIDURL,
			wantText: `did: invalid DID URL: verification method id "` + alice + `" has no fragment`},
		{name: "path", r: did.KeyResolver{}, vm: alice + "/x#" + aliceMB, rel: "assertionMethod", wantIs: did.ErrInvalidDIDURL},
		{name: "key agreement fragment", r: did.KeyResolver{},
			vm: alice + "#z6LShs9GGnqk85isEBzzshkuVWrVKsRp24GnDuHk8QWkARMW", rel: "assertionMethod",
			wantText: `did: verification method "` + alice + `#z6LShs9GGnqk85isEBzzshkuVWrVKsRp24GnDuHk8QWkARMW" is not in the document`},
		{name: "unsupported key type", r: did.KeyResolver{}, vm: "did:key:zDnaerx9CtbPJ1q36T5Ln5wYt3MQYeGRG5ehnPAmxcf5mDZpv#zDnaerx9CtbPJ1q36T5Ln5wYt3MQYeGRG5ehnPAmxcf5mDZpv",
			rel: "assertionMethod", wantIs: did.ErrUnsupportedPublicKeyType},
		{name: "resolver error", r: memResolver{}, vm: aliceVM, rel: "assertionMethod", wantIs: errNotFound,
			wantText: `did: resolve "` + alice + `": memresolver: not found`},
		{name: "document of another DID", r: memResolver{alice: carolDoc}, vm: aliceVM, rel: "assertionMethod",
			wantText: `did: resolver returned no document for "` + alice + `"`},
		{name: "2018 method type", rel: "assertionMethod", vm: aliceVM, wantIs: did.ErrUnsupportedPublicKeyType,
			r:        aliceDoc(t, func(d *did.Document) { d.VerificationMethod[0].Type = "Ed25519VerificationKey2018" }),
			wantText: `did: unsupported public key type: verification method type "Ed25519VerificationKey2018": only Ed25519VerificationKey2020 or JsonWebKey2020`},
		{name: "other controller", rel: "assertionMethod", vm: aliceVM,
			r:        aliceDoc(t, func(d *did.Document) { d.VerificationMethod[0].Controller = example }),
			wantText: `did: verification method "` + aliceVM + `" is controlled by "did:example:carol", not by "` + alice + `"`},
		{name: "duplicate method", rel: "assertionMethod", vm: aliceVM,
			r: aliceDoc(t, func(d *did.Document) {
				d.VerificationMethod = append(d.VerificationMethod, d.VerificationMethod[0])
			}),
			wantText: `did: verification method "` + aliceVM + `" appears more than once`},
		{name: "did:key document with another key", rel: "assertionMethod", vm: aliceVM,
			r:        aliceDoc(t, func(d *did.Document) { d.VerificationMethod[0].PublicKeyMultibase = bobMB }),
			wantText: `did: resolver gave "` + aliceVM + `" a key other than the one its did:key encodes`},
		{name: "P-256 publicKeyMultibase", rel: "assertionMethod", vm: aliceVM, wantIs: did.ErrUnsupportedPublicKeyType,
			r: aliceDoc(t, func(d *did.Document) {
				d.VerificationMethod[0].PublicKeyMultibase = "zDnaerx9CtbPJ1q36T5Ln5wYt3MQYeGRG5ehnPAmxcf5mDZpv"
			}),
			wantText: "did: unsupported public key type p256-pub: only ed25519-pub"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			key, err := did.PublicKey(context.Background(), tt.r, tt.vm, tt.rel)
			if tt.wantKey != nil {
				if err != nil || !key.Equal(tt.wantKey) {
					t.Errorf("PublicKey = %x, %v; want %x", key, err, tt.wantKey)
				}
				return
			}
			if err == nil || key != nil {
				t.Fatalf("PublicKey = %x, %v; want an error", key, err)
			}
			if tt.wantIs != nil && !errors.Is(err, tt.wantIs) {
				t.Errorf("error = %v; want %v", err, tt.wantIs)
			}
			if tt.wantText != "" && err.Error() != tt.wantText {
				t.Errorf("error = %v\nwant %s", err, tt.wantText)
			}
		})
	}
}
