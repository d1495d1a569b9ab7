package presentation_test

import (
	"strings"
	"testing"
	"time"

	"github.com/dgraph-io/badger/v4"

	"github.com/mandate-dev/mandate/did"
	"github.com/mandate-dev/mandate/internal/testkeys"
	"github.com/mandate-dev/mandate/presentation"
	"github.com/mandate-dev/mandate/presentation/policy"
)

// TestCrossOrgMethodOutsidePolicy: a verifier whose policy lists only did:key refuses the company's did:web
// chain as UNSUPPORTED_DID_METHOD without fetching its document, though its resolver could resolve did:web.
func TestCrossOrgMethodOutsidePolicy(t *testing.T) {
	w := newCrossOrg(t)
	chain := w.chain(t, w.company, w.legal, botRead)
	p, err := policy.Parse([]byte("version: 1\nroots:\n  - principal: " + testkeys.New("cross-key-root").DID() +
		"\n    resources: [\"erp:invoices/*\"]\nformats: [ldp]\nalgorithms: [Ed25519Signature2020]\ndidMethods: [key]\n"))
	if err != nil {
		t.Fatal(err)
	}
	db, err := badger.Open(badger.DefaultOptions("").WithInMemory(true).WithLogger(nil))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	res, err := did.NewMethods(map[string]did.Resolver{"key": did.KeyResolver{}, "web": did.NewWebResolver(did.WebOptions{Client: w.host.Client()})})
	if err != nil {
		t.Fatal(err)
	}
	w.v, err = presentation.New(presentation.Config{Audience: "https://erp.acme.example", Resolver: res, Policy: p,
		Store: db, Signer: verifierKey, Now: func() time.Time { return w.now }})
	if err != nil {
		t.Fatal(err)
	}
	before := w.host.Hits(w.company.DID())
	d := w.authorize(t, chain, readInvoice)
	expect(t, d, presentation.Deny, presentation.ReasonUnsupportedDIDMethod)
	if !strings.Contains(d.Message, "accepted methods are [key]") {
		t.Fatalf("message %q does not name the accepted methods", d.Message)
	}
	if hits := w.host.Hits(w.company.DID()); hits != before {
		t.Fatalf("the company's document was fetched %d times", hits-before)
	}
}
