package credentials_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	badger "github.com/dgraph-io/badger/v4"

	"github.com/mandate-dev/mandate/credentials"
	"github.com/mandate-dev/mandate/credentials/status"
)

const (
	statusBase     = "https://status.example/lists"
	listValidity   = 24 * time.Hour
	listTTL        = 5 * time.Minute
	revocationList = statusBase + "/alice-revocation-1"
)

// storedList is a list of MinBits entries with the given indices set.
func storedList(t *testing.T, name string, p status.Purpose, set ...int) status.StoredList {
	t.Helper()
	bits, err := status.NewBitstring(status.MinBits)
	if err != nil {
		t.Fatal(err)
	}
	for _, i := range set {
		if err := bits.Set(i, 1, 1); err != nil {
			t.Fatal(err)
		}
	}
	return status.StoredList{Name: name, URL: statusBase + "/" + name, Purpose: p, Bits: bits, Updated: now}
}

func signList(t *testing.T, s credentials.Signer, l status.StoredList) []byte {
	t.Helper()
	signed, err := credentials.SignStatusList(s, l, listValidity, listTTL, opts)
	if err != nil {
		t.Fatalf("SignStatusList: %v", err)
	}
	return signed
}

// editJSON decodes data, applies f and encodes it again.
func editJSON(t *testing.T, data []byte, f func(m map[string]any)) []byte {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	f(m)
	out, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// reencode rewrites a signed list's encodedList with bit index set to v,
// well formed so that only the signature can catch it.
func reencode(t *testing.T, index int, v uint64) func(m map[string]any) {
	return func(m map[string]any) {
		sub := subject(m)
		bits, err := status.DecodeBitstring(sub["encodedList"].(string))
		if err != nil {
			t.Fatal(err)
		}
		if err := bits.Set(index, 1, v); err != nil {
			t.Fatal(err)
		}
		if sub["encodedList"], err = bits.Encode(); err != nil {
			t.Fatal(err)
		}
	}
}

func TestSignStatusList(t *testing.T) {
	for _, p := range []status.Purpose{status.Revocation, status.Suspension} {
		t.Run(string(p), func(t *testing.T) {
			l := storedList(t, "alice-"+string(p)+"-1", p, 0, 77, status.MinBits-1)
			lc, err := verifier(t).VerifyStatusList(context.Background(), signList(t, alice, l))
			if err != nil {
				t.Fatalf("VerifyStatusList: %v", err)
			}
			until := now.Add(listValidity)
			want := status.ListCredential{
				ID: l.URL, Type: status.TypeBitstringCredential, Issuer: alice.DID(), ValidFrom: now,
				ValidUntil: &until, SubjectID: l.URL + "#list", Purposes: []status.Purpose{p}, TTL: listTTL,
			}
			got := *lc
			got.Bits, got.Raw = nil, nil
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("list credential = %+v\nwant %+v", got, want)
			}
			if set := lc.Bits.SetIndices(1); !slices.Equal(set, []int{0, 77, status.MinBits - 1}) || lc.Bits.Len() != status.MinBits {
				t.Fatalf("list of %d bits with %v set, want %d bits with [0 77 %d]", lc.Bits.Len(), set, status.MinBits, status.MinBits-1)
			}
			entry := status.Entry{Type: status.TypeBitstringEntry, Purpose: p, Index: 77, ListURL: l.URL, StatusSize: 1}
			if v, err := lc.Status(entry); err != nil || v != 1 {
				t.Fatalf("Status(77) = %d, %v; want 1", v, err)
			}
		})
	}
}

func TestVerifyStatusListRejects(t *testing.T) {
	signed := signList(t, alice, storedList(t, "alice-revocation-1", status.Revocation, 77))
	otherProof := signList(t, alice, storedList(t, "alice-revocation-2", status.Revocation, 77))
	edit := func(f func(m map[string]any)) []byte { return editJSON(t, signed, f) }
	tests := []struct {
		name    string
		data    []byte
		wantErr error
		wantMsg string
	}{
		// Well-formed lists that say something else than what was signed:
		// the shape check passes, the proof does not.
		{"revoked bit cleared", edit(reencode(t, 77, 0)), credentials.ErrSignature, ""},
		{"bit set", edit(reencode(t, 5, 1)), credentials.ErrSignature, ""},
		{"purpose changed", edit(func(m map[string]any) { subject(m)["statusPurpose"] = "suspension" }), credentials.ErrSignature, ""},
		{"ttl raised", edit(func(m map[string]any) { subject(m)["ttl"] = 366 * 24 * 3600 * 1000 }), credentials.ErrSignature, ""},
		{"expiry extended", edit(func(m map[string]any) { m["expirationDate"] = "2030-01-01T00:00:00Z" }), credentials.ErrSignature, ""},
		{"id moved", edit(func(m map[string]any) { m["id"] = statusBase + "/alice-revocation-9" }), credentials.ErrSignature, ""},
		{"issuer changed", edit(func(m map[string]any) { m["issuer"] = assistant.DID() }),
			credentials.ErrSignature, "does not belong to issuer"},
		{"issuer and key changed", edit(func(m map[string]any) {
			m["issuer"] = assistant.DID()
			proofOf(m)["verificationMethod"] = assistant.VerificationMethod()
		}), credentials.ErrSignature, ""},
		{"proof of another list", edit(func(m map[string]any) {
			var o map[string]any
			if err := json.Unmarshal(otherProof, &o); err != nil {
				t.Fatal(err)
			}
			m["proof"] = o["proof"]
		}), credentials.ErrSignature, ""},
		{"proof removed", edit(func(m map[string]any) { delete(m, "proof") }), credentials.ErrSignature, "no proof"},
		{"proof purpose changed", edit(func(m map[string]any) { proofOf(m)["proofPurpose"] = "authentication" }), credentials.ErrSignature, ""},
		{"unsupported DID method", edit(func(m map[string]any) {
			m["issuer"] = "did:example:123"
			proofOf(m)["verificationMethod"] = "did:example:123#k"
		}), credentials.ErrUnsupportedDIDMethod, ""},

		// Shape: refused before the proof is looked at.
		{"undefined member in credentialSubject", edit(func(m map[string]any) { subject(m)["note"] = "x" }),
			credentials.ErrMalformed, `unknown member "note" in credentialSubject`},
		{"VC 2.0 context", edit(func(m map[string]any) { m["@context"] = []any{"https://www.w3.org/ns/credentials/v2"} }),
			credentials.ErrMalformed, "@context must be exactly"},
		{"status context missing", edit(func(m map[string]any) {
			m["@context"] = []any{credentials.ContextCredentialsV1, credentials.ContextEd25519_2020}
		}), credentials.ErrMalformed, "@context must be exactly"},
		{"contexts reordered", edit(func(m map[string]any) {
			m["@context"] = []any{credentials.ContextCredentialsV1, credentials.ContextStatusV1, credentials.ContextEd25519_2020}
		}), credentials.ErrMalformed, "@context must be exactly"},
		{"StatusList2021 list", edit(func(m map[string]any) {
			// A well-formed StatusList2021 credential in every other respect.
			m["type"] = []any{"VerifiableCredential", status.TypeSL2021Credential}
			sub := subject(m)
			delete(sub, "ttl")
			sub["type"] = status.TypeSL2021List
			sub["encodedList"] = strings.TrimPrefix(sub["encodedList"].(string), "u")
		}), credentials.ErrMalformed, "want " + status.TypeBitstringCredential},
		{"VC 2.0 date in a VC 1.1 list", edit(func(m map[string]any) { m["validUntil"] = "2030-01-01T00:00:00Z" }),
			credentials.ErrMalformed, "validUntil does not belong"},
		{"encodedList not multibase", edit(func(m map[string]any) {
			subject(m)["encodedList"] = strings.TrimPrefix(subject(m)["encodedList"].(string), "u")
		}), credentials.ErrMalformed, "multibase"},
		{"duplicate key", []byte(`{"id":"a","id":"b"}`), credentials.ErrMalformed, "duplicate key"},
		{"not an object", []byte(`[]`), credentials.ErrMalformed, ""},
		{"oversized", append(slices.Clone(signed), make([]byte, credentials.MaxStatusListBytes)...), credentials.ErrMalformed, "limit"},

		// Strict JSON-LD: an undefined top-level term drops out of the signed
		// RDF, so the proof still verifies; the strict check after it refuses.
		{"undefined top-level member", edit(func(m map[string]any) { m["note"] = "x" }), credentials.ErrMalformed, "strict JSON-LD"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			lc, err := verifier(t).VerifyStatusList(context.Background(), tt.data)
			if lc != nil || !errors.Is(err, tt.wantErr) {
				t.Fatalf("VerifyStatusList = %v, %v; want %v", lc, err, tt.wantErr)
			}
			for _, other := range []error{credentials.ErrSignature, credentials.ErrMalformed, credentials.ErrUnsupportedDIDMethod} {
				if other != tt.wantErr && errors.Is(err, other) {
					t.Fatalf("err = %v: is %v as well as %v", err, other, tt.wantErr)
				}
			}
			if !strings.Contains(err.Error(), tt.wantMsg) {
				t.Fatalf("err = %v, want it to mention %q", err, tt.wantMsg)
			}
		})
	}
}

// TestVerifyStatusListPadding: whitespace the JSON decoder skips does not
// break the proof, up to the size limit.
func TestVerifyStatusListPadding(t *testing.T) {
	signed := signList(t, alice, storedList(t, "alice-revocation-1", status.Revocation, 77))
	padded := append(slices.Clone(signed), []byte(strings.Repeat(" ", credentials.MaxStatusListBytes-len(signed)))...)
	if _, err := verifier(t).VerifyStatusList(context.Background(), padded); err != nil {
		t.Fatalf("list of exactly MaxStatusListBytes: %v", err)
	}
}

// statusRegistry is a configured registry in memory with seeded randomness.
func statusRegistry(t *testing.T, prefix string) *status.Registry {
	t.Helper()
	db, err := badger.Open(badger.DefaultOptions("").WithInMemory(true).WithLogger(nil))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	r := status.NewRegistry(db, rand.NewChaCha8([32]byte{1}), func() time.Time { return now })
	if err := r.Configure(status.RegistryConfig{BaseURL: statusBase, Prefix: prefix}); err != nil {
		t.Fatal(err)
	}
	return r
}

func entriesFrom(es []status.Entry) []credentials.StatusEntry {
	out := make([]credentials.StatusEntry, 0, len(es))
	for _, e := range es {
		out = append(out, credentials.StatusEntryFrom(e))
	}
	return out
}

// checkStatus asserts that c carries exactly the entries reg recorded for
// it: [revocation, suspension] for the credential and for each grant.
func checkStatus(t *testing.T, reg *status.Registry, c *credentials.Credential) {
	t.Helper()
	rec, err := reg.Record(c.ID)
	if err != nil {
		t.Fatalf("Record(%s): %v", c.ID, err)
	}
	purposes := func(es []credentials.StatusEntry) []string {
		var out []string
		for _, e := range es {
			out = append(out, e.Purpose)
		}
		return out
	}
	want := []string{"revocation", "suspension"}
	if !slices.Equal(purposes(c.Status), want) || !reflect.DeepEqual(c.Status, entriesFrom(rec.Credential)) {
		t.Fatalf("credentialStatus = %+v, want %+v", c.Status, entriesFrom(rec.Credential))
	}
	for _, g := range c.Subject.Grants {
		if !slices.Equal(purposes(g.Status), want) || !reflect.DeepEqual(g.Status, entriesFrom(rec.Grants[g.ID])) {
			t.Fatalf("grant %s status = %+v, want %+v", g.ID, g.Status, entriesFrom(rec.Grants[g.ID]))
		}
	}
}

func TestIssueWithStatus(t *testing.T) {
	reg := statusRegistry(t, "alice")
	c, err := credentials.Issue(alice, rootTemplate(), credentials.IssueOptions{Now: opts.Now, Status: reg})
	if err != nil {
		t.Fatal(err)
	}
	checkStatus(t, reg, c)
	raw, _ := c.Marshal()
	got, err := verifier(t).Verify(context.Background(), raw)
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	if !reflect.DeepEqual(got.Status, c.Status) || !reflect.DeepEqual(got.Subject.Grants, c.Subject.Grants) {
		t.Fatalf("verified status %+v / grants %+v differ from issued", got.Status, got.Subject.Grants)
	}
	// The entries are signed: pointing a grant or the credential at another
	// bit breaks the proof.
	for name, f := range map[string]func(m map[string]any){
		"grant entry moved": func(m map[string]any) {
			g := subject(m)["grants"].([]any)[0].(map[string]any)
			g["status"].([]any)[0].(map[string]any)["statusListIndex"] = "1"
		},
		"credential entry moved": func(m map[string]any) {
			m["credentialStatus"].([]any)[0].(map[string]any)["statusListIndex"] = "1"
		},
	} {
		if _, err := verifier(t).Verify(context.Background(), mutate(t, c, f)); !errors.Is(err, credentials.ErrSignature) {
			t.Errorf("%s: %v, want ErrSignature", name, err)
		}
	}
}

// TestTemplateStatusReplaced: entries are the issuer's to assign. A template
// whose grants carry entries (copied from another credential, or from the
// parent) gets fresh ones from the registry, or none without one, and the
// caller's template is left as it was.
func TestTemplateStatusReplaced(t *testing.T) {
	reg := statusRegistry(t, "alice")
	withReg := credentials.IssueOptions{Now: opts.Now, Status: reg}
	first, err := credentials.Issue(alice, rootTemplate(), withReg)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := rootTemplate()
	tmpl.Grants = slices.Clone(first.Subject.Grants)
	copied := fmt.Sprint(tmpl.Grants)

	second, err := credentials.Issue(alice, tmpl, withReg)
	if err != nil {
		t.Fatal(err)
	}
	checkStatus(t, reg, second)
	for i, g := range second.Subject.Grants {
		if reflect.DeepEqual(g.Status, first.Subject.Grants[i].Status) {
			t.Fatalf("grant %s kept the copied entries %+v", g.ID, g.Status)
		}
	}
	if fmt.Sprint(tmpl.Grants) != copied {
		t.Fatal("Issue changed the caller's template")
	}

	plain, err := credentials.Issue(alice, tmpl, opts)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := plain.Raw["credentialStatus"]; ok || plain.Status != nil {
		t.Fatalf("issued without a registry: credentialStatus %+v", plain.Status)
	}
	for _, g := range plain.Subject.Grants {
		if g.Status != nil {
			t.Fatalf("issued without a registry: grant %s kept the copied entries %+v", g.ID, g.Status)
		}
	}

	// A delegation that copies the parent's grants gets the delegator's
	// entries, never the parent issuer's.
	assistReg := statusRegistry(t, "assistant")
	child, err := credentials.Delegate(assistant, []*credentials.Credential{first}, credentials.Template{
		Subject: summarizer.DID(), Purpose: "Summarise Alice's inbox", Grants: first.Subject.Grants[:1],
	}, credentials.IssueOptions{Now: opts.Now, Status: assistReg})
	if err != nil {
		t.Fatal(err)
	}
	checkStatus(t, assistReg, child)
	for _, e := range child.Subject.Grants[0].Status {
		if !strings.HasPrefix(e.ListURL, statusBase+"/assistant-") {
			t.Fatalf("delegated grant entry %+v is not the assistant's", e)
		}
	}
}
