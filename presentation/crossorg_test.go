package presentation_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/dgraph-io/badger/v4"

	"github.com/mandate-dev/mandate/credentials"
	"github.com/mandate-dev/mandate/did"
	"github.com/mandate-dev/mandate/internal/testkeys"
	"github.com/mandate-dev/mandate/internal/webhost"
	"github.com/mandate-dev/mandate/presentation"
	"github.com/mandate-dev/mandate/presentation/policy"
)

// crossOrg is a company (did:web) granting a partner's procurement agent (did:key) invoice:read on its ERP
// invoices, witnessed by its legal department (did:web); the agent delegates to a reconciliation bot.
type crossOrg struct {
	host                    *webhost.Host
	company, legal, partner *webhost.Org
	agent, bot              *testkeys.Key
	v                       *presentation.Verifier
	now                     time.Time
	opts                    credentials.IssueOptions
}

const crossOrgPolicy = `version: 1
roots:
  - principal: $COMPANY
    resources: ["erp:invoices/*"]
witness:
  - actions: ["invoice:*"]
    resources: ["erp:invoices/*"]
    by: [$LEGAL]
formats: [ldp]
algorithms: [Ed25519Signature2020]
didMethods: [key, web]
`

func newCrossOrg(t *testing.T) *crossOrg {
	t.Helper()
	h, err := webhost.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close() })
	w := &crossOrg{host: h, agent: testkeys.New("procurement-agent"), bot: testkeys.New("reconciliation-bot"), now: t0.Add(time.Hour)}
	w.opts = credentials.IssueOptions{Now: func() time.Time { return t0 }}
	for _, o := range []struct {
		org          **webhost.Org
		domain, path string
	}{{&w.company, "acme.example", ""}, {&w.legal, "acme.example", "legal"}, {&w.partner, "partner.example", ""}} {
		if *o.org, err = h.NewOrg(o.domain, o.path, o.domain+o.path); err != nil {
			t.Fatal(err)
		}
	}
	p, err := policy.Parse([]byte(strings.NewReplacer("$COMPANY", w.company.DID(), "$LEGAL", w.legal.DID()).Replace(crossOrgPolicy)))
	if err != nil {
		t.Fatal(err)
	}
	db, err := badger.Open(badger.DefaultOptions("").WithInMemory(true).WithLogger(nil))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	res, err := did.NewMethods(map[string]did.Resolver{"key": did.KeyResolver{}, "web": did.NewWebResolver(did.WebOptions{Client: h.Client()})})
	if err != nil {
		t.Fatal(err)
	}
	w.v, err = presentation.New(presentation.Config{Audience: "https://erp.acme.example", Resolver: res, Policy: p,
		Store: db, Signer: verifierKey, Now: func() time.Time { return w.now }})
	if err != nil {
		t.Fatal(err)
	}
	return w
}

// root issues by issuer to the agent, witnessed by witness (nil: none), then delegates to the bot.
func (w *crossOrg) chain(t *testing.T, issuer credentials.Signer, witness credentials.Signer, botGrant credentials.Grant) []*credentials.Credential {
	t.Helper()
	root, err := credentials.Issue(issuer, credentials.Template{
		Subject: w.agent.DID(), Purpose: "Reconcile the partner's deliveries against Acme's invoices",
		Grants: []credentials.Grant{
			{ID: "urn:mandate:grant:invoices", Action: "invoice:read", Resource: "erp:invoices/*"},
			{ID: "urn:mandate:grant:disputes", Action: "invoice:dispute", Resource: "erp:invoices/*",
				Constraints: credentials.Constraints{Approval: credentials.ApprovalRequired}},
		},
		Delegation: credentials.Delegation{Allowed: true, MaxDepth: 1},
	}, w.opts)
	if err != nil {
		t.Fatal(err)
	}
	if witness != nil {
		if root, err = credentials.Witness(witness, root, w.opts.Now); err != nil {
			t.Fatal(err)
		}
	}
	child, err := credentials.SignUnchecked(w.agent, credentials.Subject{
		ID: w.bot.DID(), Principal: issuer.DID(), Purpose: "Reconcile invoices of 2026",
		Grants: []credentials.Grant{botGrant}, Parent: parentOf(t, root),
	}, credentials.Template{}, w.opts)
	if err != nil {
		t.Fatal(err)
	}
	return []*credentials.Credential{root, child}
}

func parentOf(t *testing.T, c *credentials.Credential) *credentials.Parent {
	d, err := c.LinkDigest()
	if err != nil {
		t.Fatal(err)
	}
	return &credentials.Parent{ID: c.ID, Digest: d}
}

func (w *crossOrg) authorize(t *testing.T, chain []*credentials.Credential, req presentation.Request) presentation.Decision {
	t.Helper()
	ch, err := w.v.Challenge(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	vp, err := presentation.Present(w.bot, chain, ch, req, w.now)
	if err != nil {
		t.Fatal(err)
	}
	return w.v.Authorize(context.Background(), vp, req)
}

var (
	readInvoice = presentation.Request{Action: "invoice:read", Resource: "erp:invoices/2026-0042", Intent: "reconcile invoice 2026-0042"}
	botRead     = credentials.Grant{ID: "urn:mandate:grant:read-2026", Action: "invoice:read", Resource: "erp:invoices/*"}
)

func TestCrossOrgChain(t *testing.T) {
	w := newCrossOrg(t)
	mallory := testkeys.New("cross-mallory")
	dispute := presentation.Request{Action: "invoice:dispute", Resource: "erp:invoices/2026-0042", Intent: "dispute invoice 2026-0042"}
	for _, tc := range []struct {
		name    string
		chain   func() []*credentials.Credential
		req     presentation.Request
		outcome presentation.Outcome
		reason  presentation.Reason
		msg     string
	}{
		{"witnessed company root, bot reads an invoice", func() []*credentials.Credential { return w.chain(t, w.company, w.legal, botRead) },
			readInvoice, presentation.Allow, "", ""},
		{"the partner's own root for the company's invoices", func() []*credentials.Credential { return w.chain(t, w.partner, w.legal, botRead) },
			readInvoice, presentation.Deny, presentation.ReasonUntrustedRoot, "the trust policy does not trust principal " + w.partner.DID()},
		{"the same chain without the witness", func() []*credentials.Credential { return w.chain(t, w.company, nil, botRead) },
			readInvoice, presentation.Deny, presentation.ReasonWitnessRequired, "the root has no witness"},
		{"witnessed by the wrong witness", func() []*credentials.Credential { return w.chain(t, w.company, mallory, botRead) },
			readInvoice, presentation.Deny, presentation.ReasonWitnessRequired, "it was witnessed by " + mallory.DID()},
		{"a resource outside the grants", func() []*credentials.Credential {
			return w.chain(t, w.company, w.legal, credentials.Grant{ID: "urn:mandate:grant:read-2026", Action: "invoice:read", Resource: "erp:invoices/*"})
		}, presentation.Request{Action: "invoice:read", Resource: "erp:payroll/2026", Intent: "x"}, presentation.Deny, presentation.ReasonNotGranted, ""},
		{"the bot widens the agent's grant", func() []*credentials.Credential {
			return w.chain(t, w.company, w.legal, credentials.Grant{ID: "urn:mandate:grant:pay", Action: "invoice:pay", Resource: "erp:invoices/*"})
		}, presentation.Request{Action: "invoice:pay", Resource: "erp:invoices/2026-0042", Intent: "pay"}, presentation.Deny, presentation.ReasonScopeEscalation, ""},
		{"the bot drops the approval of disputes", func() []*credentials.Credential {
			return w.chain(t, w.company, w.legal, credentials.Grant{ID: "urn:mandate:grant:dispute", Action: "invoice:dispute", Resource: "erp:invoices/*"})
		}, dispute, presentation.Deny, presentation.ReasonScopeEscalation, ""},
		{"disputes still need the company's approval", func() []*credentials.Credential {
			return w.chain(t, w.company, w.legal, credentials.Grant{ID: "urn:mandate:grant:dispute", Action: "invoice:dispute", Resource: "erp:invoices/*",
				Constraints: credentials.Constraints{Approval: credentials.ApprovalRequired}})
		}, dispute, presentation.NeedsApproval, presentation.ReasonApprovalRequired, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := w.authorize(t, tc.chain(), tc.req)
			expect(t, d, tc.outcome, tc.reason)
			if !strings.Contains(d.Message, tc.msg) {
				t.Fatalf("message %q does not mention %q", d.Message, tc.msg)
			}
			if tc.outcome == presentation.Allow && (d.Principal != w.company.DID() || d.Actor != w.bot.DID()) {
				t.Fatalf("principal %s actor %s", d.Principal, d.Actor)
			}
		})
	}
}

// A did:web document that cannot be had is DID_RESOLUTION_FAILED, and a DID method outside the policy's list
// is refused before any document is fetched.
func TestCrossOrgResolution(t *testing.T) {
	w := newCrossOrg(t)
	chain := w.chain(t, w.company, w.legal, botRead)
	w.host.Remove(w.company.DID())
	expect(t, w.authorize(t, chain, readInvoice), presentation.Deny, presentation.ReasonDIDResolutionFailed)

	// A company whose document claims another DID's id is refused.
	impostor, err := w.host.NewOrg("impostor.example", "", "impostor")
	if err != nil {
		t.Fatal(err)
	}
	doc, _ := did.WebDocument(w.company.DID(), testkeys.New("x").PublicKey())
	_ = w.host.Publish(doc) // the company's document is back, but under another key
	b := []byte(`{"@context":["https://www.w3.org/ns/did/v1"],"id":"` + w.company.DID() + `","verificationMethod":[]}`)
	_ = w.host.PublishRaw(impostor.DID(), b)
	d := w.authorize(t, w.chain(t, impostor, w.legal, botRead), readInvoice)
	expect(t, d, presentation.Deny, presentation.ReasonDIDResolutionFailed)
	if want := "is not the DID"; !strings.Contains(d.Message, want) {
		t.Fatalf("message %q", d.Message)
	}
}
