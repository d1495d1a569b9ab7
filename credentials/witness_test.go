package credentials_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/mandate-dev/mandate/credentials"
	"github.com/mandate-dev/mandate/did"
	"github.com/mandate-dev/mandate/internal/testkeys"
)

func witnessedRoot(t *testing.T) (*credentials.Credential, *credentials.Credential) {
	t.Helper()
	principal, agent, legal := testkeys.New("w-principal"), testkeys.New("w-agent"), testkeys.New("w-legal")
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	root, err := credentials.Issue(principal, credentials.Template{
		Subject: agent.DID(), Purpose: "Read the company's invoices to reconcile them",
		Grants:     []credentials.Grant{{ID: "urn:mandate:grant:read", Action: "invoice:read", Resource: "erp:invoices/*"}},
		Delegation: credentials.Delegation{Allowed: true, MaxDepth: 1},
	}, credentials.IssueOptions{Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	w, err := credentials.Witness(legal, root, func() time.Time { return now })
	if err != nil {
		t.Fatal(err)
	}
	return root, w
}

func TestWitness(t *testing.T) {
	_, w := witnessedRoot(t)
	v, _ := credentials.NewVerifier(did.KeyResolver{})
	b, _ := w.Marshal()
	got, err := v.Verify(context.Background(), b)
	if err != nil {
		t.Fatal(err)
	}
	if want := testkeys.New("w-legal").DID(); got.Witness != want {
		t.Fatalf("Witness = %q, want %q", got.Witness, want)
	}
	proofs := w.Raw["proof"].([]any)
	if len(proofs) != 2 || proofs[1].(map[string]any)["proofPurpose"] != "witness" {
		t.Fatalf("proofs = %v", proofs)
	}
	if _, err := credentials.Witness(testkeys.New("other"), got, nil); err == nil || !errors.Is(err, credentials.ErrMalformed) {
		t.Fatalf("witnessing twice: %v", err)
	}
	if _, err := credentials.Witness(testkeys.New("w-principal"), mustRoot(t), nil); err == nil ||
		err.Error() != "credentials: malformed credential: the witness "+testkeys.New("w-principal").DID()+" is the credential's issuer or subject" {
		t.Fatalf("principal as witness: %v", err)
	}
}

func mustRoot(t *testing.T) *credentials.Credential {
	r, _ := witnessedRoot(t)
	return r
}

// Every proof present must verify: a witness proof that does not is a
// signature failure, never ignored; one in the wrong place is refused.
func TestWitnessRefusals(t *testing.T) {
	root, w := witnessedRoot(t)
	v, _ := credentials.NewVerifier(did.KeyResolver{})
	edit := func(f func(p []any) []any) []byte {
		b, _ := w.Marshal()
		m, _ := credentials.Decode(b)
		m["proof"] = f(m["proof"].([]any))
		out, _ := credentials.CanonicalJSON(m)
		return out
	}
	rootProof := root.Raw["proof"]
	for _, tc := range []struct {
		name string
		doc  []byte
		want error
		text string
	}{
		{"forged witness signature", edit(func(p []any) []any {
			q := p[1].(map[string]any)
			q["proofValue"] = p[0].(map[string]any)["proofValue"]
			return p
		}), credentials.ErrSignature, ""},
		{"witness by the principal", edit(func(p []any) []any {
			q := map[string]any{}
			for k, v := range p[0].(map[string]any) {
				q[k] = v
			}
			q["proofPurpose"] = "witness"
			return []any{p[0], q}
		}), credentials.ErrSignature, "is the credential's issuer or subject"},
		{"witness with assertion purpose", edit(func(p []any) []any {
			p[1].(map[string]any)["proofPurpose"] = "assertionMethod"
			return p
		}), credentials.ErrSignature, `second proof's proofPurpose "assertionMethod", want witness`},
		{"witness first", edit(func(p []any) []any { return []any{p[1], p[0]} }), credentials.ErrSignature, `issuer proofPurpose "witness", want assertionMethod`},
		{"three proofs", edit(func(p []any) []any { return append(p, rootProof) }), credentials.ErrSignature, "has 3 proofs, want 1..2"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := v.Verify(context.Background(), tc.doc)
			if !errors.Is(err, tc.want) || !strings.Contains(err.Error(), tc.text) {
				t.Fatalf("error = %v, want %v containing %q", err, tc.want, tc.text)
			}
		})
	}
}
