// Throwaway: generates SPEC.md examples. Delete after use.
package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"os"
	"time"

	"github.com/mandate-dev/mandate/credentials"
	"github.com/mandate-dev/mandate/did"
	"github.com/mandate-dev/mandate/internal/testkeys"
	"github.com/mandate-dev/mandate/presentation"
)

type detRand struct{ n int }

func (r *detRand) Read(p []byte) (int, error) {
	for i := range p {
		s := sha256.Sum256([]byte(fmt.Sprint("spec", r.n)))
		p[i] = s[0]
		r.n++
	}
	return len(p), nil
}

func must[T any](v T, err error) T {
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	return v
}

func pretty(v any) string {
	b := must(json.Marshal(v))
	var out bytes.Buffer
	json.Indent(&out, b, "", "  ")
	return out.String()
}

func main() {
	alice, assistant, summarizer := testkeys.New("alice"), testkeys.New("assistant"), testkeys.New("summarizer")
	now := time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)
	opts := credentials.IssueOptions{Now: func() time.Time { return now }, Rand: &detRand{}}
	gf := must(credentials.ParseGrantFile(must(os.ReadFile("examples/grants/assistant.yaml"))))
	t := must(gf.Template(assistant.DID()))
	root := must(credentials.Issue(alice, t, opts))
	fmt.Println("=== alice", alice.DID(), alice.VerificationMethod())
	fmt.Println("=== assistant", assistant.DID())
	fmt.Println("=== summarizer", summarizer.DID())
	fmt.Println("=== root")
	fmt.Println(pretty(root.Raw))
	fmt.Println("=== root JCS")
	fmt.Println(string(must(credentials.CanonicalJSON(root.Raw))))
	fmt.Println("=== root digest", must(credentials.Digest(root.Raw)))

	opts.Now = func() time.Time { return now.Add(time.Hour) }
	sf := must(credentials.ParseGrantFile(must(os.ReadFile("examples/grants/summarizer.yaml"))))
	st := must(sf.Template(summarizer.DID()))
	child := must(credentials.Delegate(assistant, []*credentials.Credential{root}, st, opts))
	fmt.Println("=== child")
	fmt.Println(pretty(child.Raw))

	// Every constraint kind, as it serialises.
	nb, na := now, now.Add(30*24*time.Hour)
	uses, amount := int64(100), int64(5000)
	rich := credentials.Template{Subject: assistant.DID(), Purpose: "Pay Alice's utility bills",
		Grants: []credentials.Grant{{ID: "urn:mandate:grant:pay-utilities", Action: "payment:send", Resource: "bank:alice/checking",
			Constraints: credentials.Constraints{NotBefore: &nb, NotAfter: &na, Rate: &credentials.Rate{Count: 10, Per: "P1D"},
				MaxUses: &uses, MaxAmount: &amount, Approval: credentials.ApprovalRequired,
				Conditions: []string{"request.context.payee in ['acme-power', 'city-water']"}}}},
		Delegation: credentials.Delegation{}}
	rc := must(credentials.Issue(alice, rich, opts))
	fmt.Println("=== rich subject")
	fmt.Println(pretty(rc.Raw["credentialSubject"]))
	v := must(credentials.NewVerifier(did.KeyResolver{}))
	must(v.VerifyMap(context.Background(), rc.Raw))

	req := presentation.Request{Action: "email:read", Resource: "mailbox:alice/inbox", Intent: "morning summary", Context: map[string]string{"folder": "inbox"}}
	fmt.Println("=== request JCS")
	fmt.Println(string(must(credentials.CanonicalJSON(map[string]any{"action": req.Action, "resource": req.Resource, "intent": req.Intent, "context": map[string]any{"folder": "inbox"}}))))
	fmt.Println("=== request digest", must(req.Digest()))
	ch := presentation.Challenge{Nonce: "q0A1k7yXgJbq2mP3Z4nV9rS6tU8wX0yZa1b2c3d4e5f", Audience: "https://mail.example/verifier", ExpiresAt: now.Add(2 * time.Minute)}
	vp := must(presentation.Present(summarizer, []*credentials.Credential{root, child}, ch, req, now.Add(2*time.Hour)))
	var m map[string]any
	json.Unmarshal(vp, &m)
	m["verifiableCredential"] = []any{"<root credential as above>", "<child credential as above>"}
	fmt.Println("=== vp")
	fmt.Println(pretty(m))
}
