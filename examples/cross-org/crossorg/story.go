// Package crossorg is the cross-organisation story of examples/cross-org, which `mandate demo` plays too:
// Acme (did:web) grants a partner's procurement agent (did:key) invoice:read on its ERP invoices, witnessed
// by Acme's legal department (did:web); the agent delegates a narrower part to a reconciliation bot, which
// presents the chain to Acme's ERP verifier under the trust policy in policy.yaml (docs/POLICY.md).
//
// Everything is real but the network: the did:web documents are served over HTTPS by internal/webhost (a
// loopback host with a certificate authority made in memory, whose client dials only loopback), Acme's
// status lists by a plain HTTP server on 127.0.0.1, and the verifier keeps its store in memory.
package crossorg

import (
	"context"
	_ "embed"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/dgraph-io/badger/v4"

	"github.com/mandate-dev/mandate/credentials"
	"github.com/mandate-dev/mandate/credentials/status"
	"github.com/mandate-dev/mandate/credentials/status/statushttp"
	"github.com/mandate-dev/mandate/did"
	"github.com/mandate-dev/mandate/internal/testkeys"
	"github.com/mandate-dev/mandate/internal/webhost"
	"github.com/mandate-dev/mandate/presentation"
	"github.com/mandate-dev/mandate/presentation/policy"
)

// Audience is the ERP verifier's identity.
const Audience = "https://erp.acme.example"

// world is the cast, Acme's status registry and the running verifier.
type world struct {
	acme, legal, partner *webhost.Org  // did:web, served by the loopback host
	agent, bot           *testkeys.Key // did:key: the partner's procurement agent and its reconciliation bot
	registry             *status.Registry
	statusDir            string
	verifier             *presentation.Verifier
	maxAge               time.Duration // the policy's status.maxAge
	offset               atomic.Int64  // the verifier's clock runs this far ahead ("later" steps)
}

func (w *world) now() time.Time { return time.Now().Add(time.Duration(w.offset.Load())) }

// setUp starts the did:web host and the status server, publishes the organisations' documents, and builds
// the verifier from the rendered policy. The returned function stops everything.
func setUp() (*world, func(), error) {
	var closers []func()
	closeAll := func() {
		for i := len(closers) - 1; i >= 0; i-- {
			closers[i]()
		}
	}
	w, err := build(&closers)
	if err != nil {
		closeAll()
		return nil, nil, err
	}
	return w, closeAll, nil
}

func build(closers *[]func()) (*world, error) {
	host, err := webhost.Start()
	if err != nil {
		return nil, err
	}
	*closers = append(*closers, func() { host.Close() })
	w := &world{agent: testkeys.New("partner procurement agent"), bot: testkeys.New("partner reconciliation bot")}
	for _, o := range []struct {
		org                *(*webhost.Org)
		domain, path, name string
	}{
		{&w.acme, "acme.example", "", "acme"},
		{&w.legal, "acme.example", "legal", "acme legal department"},
		{&w.partner, "partner.example", "", "partner"},
	} {
		if *o.org, err = host.NewOrg(o.domain, o.path, o.name); err != nil {
			return nil, err
		}
	}
	pol, err := renderPolicy(map[string]string{"ACME": w.acme.DID(), "ACME_LEGAL": w.legal.DID(), "PORT": strconv.Itoa(host.Port)})
	if err != nil {
		return nil, err
	}
	p, err := policy.Parse(pol)
	if err != nil {
		return nil, fmt.Errorf("crossorg: policy.yaml: %w", err)
	}
	w.maxAge = p.StatusMaxAge
	res, err := did.NewMethods(map[string]did.Resolver{"key": did.KeyResolver{}, "web": did.NewWebResolver(did.WebOptions{Client: host.Client()})})
	if err != nil {
		return nil, err
	}
	fetcher, err := w.startStatus(res, closers)
	if err != nil {
		return nil, err
	}
	db, err := openMemory()
	if err != nil {
		return nil, err
	}
	*closers = append(*closers, func() { db.Close() })
	w.verifier, err = presentation.New(presentation.Config{
		Audience: Audience, Resolver: res, Policy: p, Status: fetcher, Store: db,
		Signer: testkeys.New("acme erp verifier"), Now: w.now,
	})
	return w, err
}

// startStatus gives Acme a status registry whose lists a loopback HTTP server publishes, and returns the
// verifier's fetcher: it verifies each list against its issuer's did:web document.
func (w *world) startStatus(res did.Resolver, closers *[]func()) (*statushttp.Fetcher, error) {
	dir, err := os.MkdirTemp("", "mandate-cross-org-")
	if err != nil {
		return nil, err
	}
	*closers = append(*closers, func() { os.RemoveAll(dir) })
	w.statusDir = dir
	h, err := statushttp.NewHandler(dir)
	if err != nil {
		return nil, err
	}
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("crossorg: listen: %w", err)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}
	go srv.Serve(lis)
	*closers = append(*closers, func() { srv.Close() })
	db, err := openMemory()
	if err != nil {
		return nil, err
	}
	*closers = append(*closers, func() { db.Close() })
	w.registry = status.NewRegistry(db, nil, nil)
	if err := w.registry.Configure(status.RegistryConfig{BaseURL: "http://" + lis.Addr().String(), Prefix: "acme", Dir: dir}); err != nil {
		return nil, err
	}
	cv, err := credentials.NewVerifier(res)
	if err != nil {
		return nil, err
	}
	return &statushttp.Fetcher{MaxAge: w.maxAge, Timeout: 5 * time.Second, Verify: cv.VerifyStatusList, Now: w.now}, nil
}

// openMemory opens a small in-memory badger store.
func openMemory() (*badger.DB, error) {
	return badger.Open(badger.DefaultOptions("").WithInMemory(true).WithLogger(nil).
		WithMemTableSize(8 << 20).WithNumCompactors(2).WithBlockCacheSize(8 << 20))
}

// publish signs Acme's status lists with its did:web key and writes them for the status server.
func (w *world) publish() error {
	cfg, err := w.registry.Config()
	if err != nil {
		return err
	}
	lists, err := w.registry.Lists()
	if err != nil {
		return err
	}
	for _, l := range lists {
		signed, err := credentials.SignStatusList(w.acme, l, cfg.Validity, cfg.TTL, credentials.IssueOptions{Now: w.now})
		if err != nil {
			return err
		}
		if err := statushttp.WriteFile(w.statusDir, l.Name, signed); err != nil {
			return err
		}
	}
	return nil
}

var readInvoice = presentation.Request{Action: "invoice:read", Resource: "erp:invoices/2026-0042",
	Intent: "reconcile the partner's delivery 0042 against invoice 2026-0042"}

// root is what an issuer grants the partner's procurement agent: reading Acme's invoices, disputing them
// with Acme's approval, and delegating once.
func (w *world) root(issuer credentials.Signer, reg credentials.StatusAllocator) (*credentials.Credential, error) {
	return credentials.Issue(issuer, credentials.Template{
		Subject: w.agent.DID(), Purpose: "Reconcile the partner's deliveries against Acme's invoices",
		Grants: []credentials.Grant{
			{ID: "urn:mandate:grant:invoices-read", Action: "invoice:read", Resource: "erp:invoices/*"},
			{ID: "urn:mandate:grant:invoices-dispute", Action: "invoice:dispute", Resource: "erp:invoices/*",
				Constraints: credentials.Constraints{Approval: credentials.ApprovalRequired}},
		},
		Delegation: credentials.Delegation{Allowed: true, MaxDepth: 1},
	}, credentials.IssueOptions{Status: reg})
}

// chain has the agent delegate a narrower part of root to the bot: reading only, at most 100 an hour, no
// further delegation. Delegate refuses anything wider.
func (w *world) chain(root *credentials.Credential) ([]*credentials.Credential, error) {
	child, err := credentials.Delegate(w.agent, []*credentials.Credential{root}, credentials.Template{
		Subject: w.bot.DID(), Purpose: "Reconcile the partner's deliveries of 2026 against Acme's invoices",
		Grants: []credentials.Grant{{ID: "urn:mandate:grant:reconcile", Action: "invoice:read", Resource: "erp:invoices/*",
			Constraints: credentials.Constraints{Rate: &credentials.Rate{Count: 100, Per: "PT1H"}}}},
	}, credentials.IssueOptions{})
	if err != nil {
		return nil, err
	}
	return []*credentials.Credential{root, child}, nil
}

// present has the bot ask the verifier for a challenge and present chain for req.
func (w *world) present(ctx context.Context, s Step, chain []*credentials.Credential, req presentation.Request) Step {
	s.Action, s.Resource = req.Action, req.Resource
	ch, err := w.verifier.Challenge(ctx)
	if err != nil {
		return errStep(s, err)
	}
	vp, err := presentation.Present(w.bot, chain, ch, req, w.now())
	if err != nil {
		return errStep(s, err)
	}
	d := w.verifier.Authorize(ctx, vp, req)
	s.Outcome, s.Got, s.Detail, s.Principal, s.Actor = d.Outcome.String(), d.Outcome.String(), d.Message, d.Principal, d.Actor
	if len(d.Reasons) > 0 {
		s.Reason = string(d.Reasons[0])
		s.Got += " " + s.Reason
	}
	return s
}

// story is the steps, in order; the last revokes the chain of the first.
func (w *world) story() []func(context.Context) Step {
	var witnessed []*credentials.Credential
	return []func(context.Context) Step{
		func(ctx context.Context) Step {
			s := Step{Name: "Acme's root, witnessed by Acme Legal; the bot reads an invoice", Expected: "ALLOW"}
			root, err := w.root(w.acme, w.registry)
			if err == nil {
				root, err = credentials.Witness(w.legal, root, w.now)
			}
			if err == nil {
				witnessed, err = w.chain(root)
			}
			if err == nil {
				err = w.publish()
			}
			if err != nil {
				return errStep(s, err)
			}
			return w.present(ctx, s, witnessed, readInvoice)
		},
		func(ctx context.Context) Step {
			s := Step{Name: "a root the partner issued itself for Acme's invoices", Expected: "DENY UNTRUSTED_ROOT"}
			root, err := w.root(w.partner, nil)
			if err != nil {
				return errStep(s, err)
			}
			chain, err := w.chain(root)
			if err != nil {
				return errStep(s, err)
			}
			return w.present(ctx, s, chain, readInvoice)
		},
		func(ctx context.Context) Step {
			s := Step{Name: "Acme's root without Acme Legal's witness", Expected: "DENY WITNESS_REQUIRED"}
			root, err := w.root(w.acme, w.registry)
			if err != nil {
				return errStep(s, err)
			}
			chain, err := w.chain(root)
			if err != nil {
				return errStep(s, err)
			}
			return w.present(ctx, s, chain, readInvoice)
		},
		func(ctx context.Context) Step {
			s := Step{Name: "Acme revokes its grant to the partner's agent; the bot reads again", Expected: "DENY REVOKED"}
			if witnessed == nil {
				return errStep(s, errNoChain)
			}
			if _, err := w.registry.Revoke(witnessed[0].ID, ""); err != nil {
				return errStep(s, err)
			}
			if err := w.publish(); err != nil {
				return errStep(s, err)
			}
			w.offset.Add(int64(w.maxAge + time.Second)) // past the cached list's age: the verifier fetches again
			return w.present(ctx, s, witnessed, readInvoice)
		},
	}
}

//go:embed policy.yaml
var policyTemplate string

// Step is one request of the story, what the verifier answered and what it should have.
type Step struct {
	Name     string
	Action   string
	Resource string
	Expected string // "ALLOW", or the outcome and its first reason: "DENY UNTRUSTED_ROOT"
	Got      string // as Expected
	Outcome  string // ALLOW, DENY, NEEDS_APPROVAL, or ERROR when the step could not be played
	Reason   string // the decision's first reason, "" for ALLOW
	Detail   string // the decision's message, or the error that kept the step from running
	// Principal and Actor are the decision's: the root principal and the presenting agent.
	Principal, Actor string
}

// OK reports whether the step got its expected outcome.
func (s Step) OK() bool { return s.Got == s.Expected }

// Request is "action resource".
func (s Step) Request() string { return s.Action + " " + s.Resource }

// Run plays the story and returns its steps. An error means the story could not be set up.
func Run(ctx context.Context) ([]Step, error) {
	w, closeAll, err := setUp()
	if err != nil {
		return nil, err
	}
	defer closeAll()
	var steps []Step
	for _, play := range w.story() {
		if err := ctx.Err(); err != nil {
			return steps, fmt.Errorf("crossorg: %w", err)
		}
		steps = append(steps, play(ctx))
	}
	return steps, nil
}

// renderPolicy fills policy.yaml's ${NAME} placeholders; a name without a value is an error, so the
// template and the program cannot drift apart silently.
func renderPolicy(values map[string]string) ([]byte, error) {
	var missing []string
	out := os.Expand(policyTemplate, func(name string) string {
		v, ok := values[name]
		if !ok && !slices.Contains(missing, name) {
			missing = append(missing, name)
		}
		return v
	})
	if len(missing) > 0 {
		return nil, fmt.Errorf("crossorg: policy.yaml: no value for %s", strings.Join(missing, ", "))
	}
	return []byte(out), nil
}

// errStep is a step that could not be played.
func errStep(s Step, err error) Step {
	s.Outcome, s.Got, s.Detail = "ERROR", "ERROR", err.Error()
	return s
}

var errNoChain = errors.New("crossorg: the first step made no chain to revoke")
