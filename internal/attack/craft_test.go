package attack_test

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"testing"
	"time"

	"github.com/multiformats/go-multibase"

	"github.com/mandate-dev/mandate/credentials"
	"github.com/mandate-dev/mandate/credentials/status"
	"github.com/mandate-dev/mandate/did"
	"github.com/mandate-dev/mandate/internal/aries"
	"github.com/mandate-dev/mandate/internal/testkeys"
	"github.com/mandate-dev/mandate/presentation"
)

// vpContext is the presentation @context (SPEC §7.3).
var vpContext = []string{credentials.ContextCredentialsV1, credentials.ContextEd25519_2020, credentials.ContextPoAV1}

// copyJSON deep-copies a JSON value through encoding/json.
func copyJSON(t testing.TB, v any) map[string]any {
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

// raws returns copies of the chain's signed credentials as JSON objects.
func raws(t testing.TB, chain ...*credentials.Credential) []map[string]any {
	t.Helper()
	out := make([]map[string]any, len(chain))
	for i, c := range chain {
		out[i] = copyJSON(t, c.Raw)
	}
	return out
}

func subjectOf(m map[string]any) map[string]any { return m["credentialSubject"].(map[string]any) }

func proofOf(m map[string]any) map[string]any {
	if l, ok := m["proof"].([]any); ok {
		return l[0].(map[string]any)
	}
	return m["proof"].(map[string]any)
}

// holderProof says how the holder's proof is made: by which key, naming
// which verification method, for which purpose and challenge.
type holderProof struct {
	key     *testkeys.Key
	vm      string // "" means key's own
	purpose string // "" means authentication
	ch      presentation.Challenge
}

// signVP builds a presentation envelope around creds for req, lets edit
// change it, and signs it as p says. This is what a malicious holder can
// always do: the holder proof covers whatever the holder chooses to sign.
func signVP(t testing.TB, holder string, creds []map[string]any, req presentation.Request, p holderProof, edit func(map[string]any)) []byte {
	t.Helper()
	digest, err := req.Digest()
	if err != nil {
		t.Fatal(err)
	}
	list := make([]any, len(creds))
	for i, c := range creds {
		list[i] = c
	}
	doc := map[string]any{
		"@context": vpContext, "type": []string{"VerifiablePresentation"}, "holder": holder,
		"requestDigest": digest, "verifiableCredential": list,
	}
	if edit != nil {
		edit(doc)
	}
	opts := aries.ProofOptions{VerificationMethod: p.vm, Purpose: p.purpose, Created: t0, Challenge: p.ch.Nonce, Domain: p.ch.Audience}
	if opts.VerificationMethod == "" {
		opts.VerificationMethod = p.key.VerificationMethod()
	}
	if opts.Purpose == "" {
		opts.Purpose = "authentication"
	}
	return ldSign(t, doc, opts, p.key)
}

// resign replaces a credential's proof with one by key, naming vm, for
// purpose: an issuer (or anyone) re-signing edited content.
func resign(t testing.TB, m map[string]any, key *testkeys.Key, vm, purpose string) map[string]any {
	t.Helper()
	delete(m, "proof")
	return copyJSON(t, json.RawMessage(ldSign(t, m, aries.ProofOptions{VerificationMethod: vm, Purpose: purpose, Created: t0}, key)))
}

func ldSign(t testing.TB, doc map[string]any, opts aries.ProofOptions, key *testkeys.Key) []byte {
	t.Helper()
	b, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	ld, err := credentials.LD()
	if err != nil {
		t.Fatal(err)
	}
	out, err := ld.Sign(b, opts, key.Sign)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// editJSON decodes signed bytes, applies f and encodes them again: a change
// made after signing.
func editJSON(t testing.TB, b []byte, f func(map[string]any)) []byte {
	t.Helper()
	m := copyJSON(t, json.RawMessage(b))
	f(m)
	out, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// didKey builds a did:key from a multicodec code and key bytes, whatever
// they are: the identifiers a careless resolver might accept.
func didKey(t testing.TB, codec uint64, key []byte) string {
	t.Helper()
	s, err := multibase.Encode(multibase.Base58BTC, append(binary.AppendUvarint(nil, codec), key...))
	if err != nil {
		t.Fatal(err)
	}
	return "did:key:" + s
}

// withIssuer re-issues a signed credential as if issuer (with key id vm)
// had signed it, with key's signature.
func withIssuer(t testing.TB, c *credentials.Credential, issuer, vm string, key *testkeys.Key) map[string]any {
	t.Helper()
	m := copyJSON(t, c.Raw)
	m["issuer"] = issuer
	return resign(t, m, key, vm, "assertionMethod")
}

// keyOnlyUnder is a DID resolver whose document for one did:key lists the
// key under a single relationship: a DID document from a method whose
// documents separate their keys by purpose, as did:web documents do.
type keyOnlyUnder struct {
	did          string
	relationship string // "assertionMethod" or "authentication"
}

func (r keyOnlyUnder) Resolve(ctx context.Context, d string) (*did.Document, error) {
	doc, err := did.KeyResolver{}.Resolve(ctx, d)
	if err != nil || d != r.did {
		return doc, err
	}
	switch r.relationship {
	case "assertionMethod":
		doc.Authentication = nil
	case "authentication":
		doc.AssertionMethod = nil
	}
	return doc, nil
}

// fixedRand yields the same bytes every time: an issuer whose random source
// repeats gives two credentials one id.
type fixedRand byte

func (f fixedRand) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = byte(f)
	}
	return len(p), nil
}

// rootTemplate is alice's root for cases that need their own: one grant,
// delegable depth times.
func rootTemplate(g credentials.Grant, depth int, forbidden ...credentials.Forbidden) credentials.Template {
	return credentials.Template{
		Subject: assistant.DID(), Purpose: "Keep Alice's inbox organised", Grants: []credentials.Grant{g},
		Forbidden: forbidden, Delegation: credentials.Delegation{Allowed: depth > 0, MaxDepth: depth},
	}
}

func grant(name, action, resource string) credentials.Grant {
	return credentials.Grant{ID: "urn:mandate:grant:" + name, Action: action, Resource: resource}
}

func until(d time.Duration) *time.Time { return ptr(t0.Add(d)) }

// pointStatus is an issuer's status allocator that points the credential's
// revocation entry at any URL it likes: a delegating agent chooses its
// children's status lists.
type pointStatus string

func (url pointStatus) Allocate(string, []string) (status.Allocation, error) {
	e := status.Entry{ID: string(url) + "#7", Type: status.TypeBitstringEntry, Purpose: status.Revocation, Index: 7, ListURL: string(url), StatusSize: 1}
	return status.Allocation{Credential: []status.Entry{e}}, nil
}

// pointedChild is a legitimate child of the control root whose status entry
// is at url.
func (w *world) pointedChild(t testing.TB, url string) *credentials.Credential {
	t.Helper()
	o := w.issued
	o.Status = pointStatus(url)
	c, err := credentials.Delegate(assistant, []*credentials.Credential{w.root}, credentials.Template{Subject: summarizer.DID(), Purpose: "p",
		Grants: []credentials.Grant{grant("r", "email:read", "mailbox:alice/*")}}, o)
	if err != nil {
		t.Fatal(err)
	}
	return c
}
