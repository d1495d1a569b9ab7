// Package demo plays Mandate's main story end to end on loopback: real
// wallets in a temporary directory, a real gRPC verifier with a badger
// store, real signatures. `mandate demo` runs it.
package demo

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"

	"github.com/dgraph-io/badger/v4"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/mandate-dev/mandate/credentials"
	"github.com/mandate-dev/mandate/credentials/sdpoa"
	"github.com/mandate-dev/mandate/credentials/status"
	"github.com/mandate-dev/mandate/credentials/status/statushttp"
	"github.com/mandate-dev/mandate/did"
	"github.com/mandate-dev/mandate/intent"
	"github.com/mandate-dev/mandate/intent/lexical"
	"github.com/mandate-dev/mandate/presentation"
	"github.com/mandate-dev/mandate/presentation/audit"
	"github.com/mandate-dev/mandate/presentation/gatekeeper"
	mandatev1 "github.com/mandate-dev/mandate/protos/mandate/v1"
	"github.com/mandate-dev/mandate/wallet"
)

// Step is one line of the story and its result.
type Step struct {
	Name     string   `json:"name"`
	Agent    string   `json:"agent"`
	Action   string   `json:"action"`
	Resource string   `json:"resource"`
	Decision string   `json:"decision"`
	Reasons  []string `json:"reasons"`
	Expected string   `json:"expected"`
	Detail   string   `json:"-"`
	// Format is the presentation format, when not ldp; GrantsSeen and
	// GrantsHeld count the grants the verifier was shown and the grants
	// the presented chain holds (sd-jwt, bbs).
	Format     string `json:"format,omitempty"`
	GrantsSeen int    `json:"grantsSeen,omitempty"`
	GrantsHeld int    `json:"grantsHeld,omitempty"`
}

// Disclosure is "grants seen N of M held" for a selectively disclosed
// presentation, "" otherwise.
func (s Step) Disclosure() string {
	if s.Format == "" {
		return ""
	}
	return fmt.Sprintf("%s: grants seen %d of %d held", s.Format, s.GrantsSeen, s.GrantsHeld)
}

// OK reports whether the step got its expected decision and reason.
func (s Step) OK() bool { return s.Outcome() == s.Expected }

// Outcome is the decision with its first reason, in the form of Expected.
func (s Step) Outcome() string {
	if len(s.Reasons) == 0 {
		return s.Decision
	}
	return s.Decision + " " + strings.Join(s.Reasons, " ")
}

// Report is the demo's result: the steps, then the verifier's audit trail
// as it stood before the last step tampered with it.
type Report struct {
	OK    bool           `json:"ok"`
	Steps []Step         `json:"steps"`
	Audit []audit.Record `json:"audit"`
}

// Options tune the demo for tests.
type Options struct {
	Dir      string                 // working directory; "" makes (and removes) a temporary one
	KDF      func() []wallet.Option // wallet options (tests use cheap KDF parameters)
	Progress func(Step)             // called after each step
}

// Audience is the demo verifier's audience.
const Audience = "https://mail.example.com"

// world is the cast and the running verifier.
type world struct {
	ctx                              context.Context
	principal, assistant, summarizer *wallet.Wallet
	verifierID                       *wallet.Wallet // the mail service's own DID: it signs the audit log
	store                            *badger.DB
	verifier                         *presentation.Verifier
	client                           *gatekeeper.Client
	approvals                        *gatekeeper.ApprovalClient
	rpc                              mandatev1.VerifierServiceClient
	offset                           atomic.Int64 // the verifier's clock runs this far ahead (the "a week later" step)
	started                          time.Time
	statusServer                     *http.Server // serves the issuers' signed status lists
	// purposeCheck is the verifier's intent checkers at delegation time.
	purposeCheck func([]*credentials.Credential, credentials.Subject) error
	bbs          bbsWorld // the BBS+ run's keys and verifier
}

// statusMaxAge is how long the demo verifier trusts a cached status list;
// the story moves its clock past it to see a change.
const statusMaxAge = time.Minute

func (w *world) now() time.Time { return time.Now().Add(time.Duration(w.offset.Load())) }

// Run plays the story and returns the report. An error means the demo
// could not be set up, not that a step failed.
func Run(ctx context.Context, o Options) (Report, error) {
	dir := o.Dir
	if dir == "" {
		tmp, err := os.MkdirTemp("", "mandate-demo-")
		if err != nil {
			return Report{}, err
		}
		defer os.RemoveAll(tmp)
		dir = tmp
	}
	w := &world{ctx: ctx, started: time.Now()}
	var wopts []wallet.Option
	if o.KDF != nil {
		wopts = o.KDF()
	}
	closeAll, err := w.setUp(dir, wopts)
	if err != nil {
		return Report{}, err
	}
	defer closeAll()
	story, err := w.cast()
	if err != nil {
		return Report{}, err
	}
	rep := Report{OK: true}
	play := func(s Step) {
		if o.Progress != nil {
			o.Progress(s)
		}
		rep.OK = rep.OK && s.OK()
		rep.Steps = append(rep.Steps, s)
	}
	for _, step := range story {
		play(step())
	}
	cross, err := crossOrg(ctx)
	if err != nil {
		return rep, err
	}
	for _, s := range cross {
		play(s)
	}
	gateway, err := mcpGateway(ctx)
	if err != nil {
		return rep, err
	}
	for _, s := range gateway {
		play(s)
	}
	play(w.verifyAudit())
	if rep.Audit, err = w.verifier.AuditLog().List(audit.Filter{}); err != nil {
		return rep, err
	}
	play(w.tamperAudit(rep.Audit))
	return rep, nil
}

// verifyAudit runs `mandate audit verify`'s check on the verifier's log.
func (w *world) verifyAudit() Step {
	s := Step{Name: "audit trail verifies (hash chain, signed checkpoints)", Agent: "auditor", Expected: "VERIFIED", Reasons: []string{}}
	r, err := audit.Verify(w.ctx, w.store, did.KeyResolver{})
	if err != nil {
		s.Decision, s.Detail = "FAILED", err.Error()
		return s
	}
	s.Decision, s.Detail = "VERIFIED", fmt.Sprintf("%d records, %d checkpoints", r.Records, r.Checkpoints)
	return s
}

// tamperAudit turns the recorded DENY of "assistant sends mail" into an
// ALLOW in the store, as an insider might, and shows verify naming it.
func (w *world) tamperAudit(recs []audit.Record) Step {
	s := Step{Name: "one stored audit record changed (DENY rewritten as ALLOW)", Agent: "auditor", Decision: "UNDETECTED", Reasons: []string{}}
	var target uint64
	for _, r := range recs {
		if r.Action == sendMail.Action && r.Decision == "DENY" {
			target = r.Seq
			break
		}
	}
	s.Expected = fmt.Sprintf("DETECTED record %d was altered (hash mismatch)", target)
	err := w.store.Update(func(txn *badger.Txn) error {
		item, err := txn.Get(audit.RecordKey(target))
		if err != nil {
			return err
		}
		b, err := item.ValueCopy(nil)
		if err != nil {
			return err
		}
		return txn.Set(audit.RecordKey(target), bytes.Replace(b, []byte(`"decision":"DENY"`), []byte(`"decision":"ALLOW"`), 1))
	})
	if err != nil {
		s.Decision, s.Detail = "ERROR", err.Error()
		return s
	}
	var te *audit.TamperError
	if _, err := audit.Verify(w.ctx, w.store, did.KeyResolver{}); errors.As(err, &te) {
		s.Decision, s.Reasons = "DETECTED", []string{te.Problem}
	}
	return s
}

func (w *world) setUp(dir string, wopts []wallet.Option) (func(), error) {
	var closers []func()
	closeAll := func() {
		for i := len(closers) - 1; i >= 0; i-- {
			closers[i]()
		}
	}
	pass := []byte("demo passphrase, not a secret")
	for _, p := range []struct {
		name string
		w    **wallet.Wallet
	}{{"principal", &w.principal}, {"assistant", &w.assistant}, {"summarizer", &w.summarizer}, {"verifier-id", &w.verifierID}} {
		wl, err := wallet.Create(filepath.Join(dir, p.name), pass, wopts...)
		if err != nil {
			closeAll()
			return nil, fmt.Errorf("demo: wallet %s: %w", p.name, err)
		}
		*p.w = wl
		closers = append(closers, func() { wl.Close() })
	}
	db, err := badger.Open(badger.DefaultOptions(filepath.Join(dir, "verifier")).WithLogger(nil).
		WithMemTableSize(8 << 20).WithValueLogFileSize(16 << 20).WithNumCompactors(2).WithBlockCacheSize(8 << 20))
	if err != nil {
		closeAll()
		return nil, fmt.Errorf("demo: verifier store: %w", err)
	}
	closers = append(closers, func() { db.Close() })
	fetcher, err := w.startStatus(filepath.Join(dir, "status"), &closers)
	if err != nil {
		closeAll()
		return nil, err
	}
	lex, err := lexical.New(lexical.Config{})
	if err != nil {
		closeAll()
		return nil, err
	}
	policy := presentation.IntentPolicy{Checkers: []intent.Checker{lex}}
	w.purposeCheck = presentation.PurposeCheck(policy, w.now)
	v, err := presentation.New(presentation.Config{
		Audience: Audience, Resolver: did.KeyResolver{}, TrustedRoots: []string{w.principal.DID()},
		Store: db, Now: w.now, Status: fetcher, RequireStatus: true, Signer: w.verifierID, Intent: policy,
		Formats: []string{presentation.FormatLDP, presentation.FormatSDJWT},
	})
	if err != nil {
		closeAll()
		return nil, err
	}
	w.store, w.verifier = db, v
	if err := w.startBBS(dir, policy, &closers); err != nil {
		closeAll()
		return nil, err
	}
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		closeAll()
		return nil, fmt.Errorf("demo: listen: %w", err)
	}
	srv := gatekeeper.NewGRPCServer(v)
	go srv.Serve(lis)
	closers = append(closers, srv.GracefulStop)
	conn, err := grpc.NewClient(lis.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		closeAll()
		return nil, err
	}
	closers = append(closers, func() { conn.Close() })
	w.rpc = mandatev1.NewVerifierServiceClient(conn)
	w.client = gatekeeper.NewClient(w.rpc, w.now)
	w.approvals = gatekeeper.NewApprovalClient(mandatev1.NewApprovalServiceClient(conn))
	return closeAll, nil
}

// startStatus runs the status server on loopback, gives the two issuers
// (the principal and the delegating assistant) status registries published
// through it, and returns the verifier's fetcher.
func (w *world) startStatus(dir string, closers *[]func()) (*statushttp.Fetcher, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	h, err := statushttp.NewHandler(dir)
	if err != nil {
		return nil, err
	}
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("demo: listen: %w", err)
	}
	w.statusServer = &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}
	go w.statusServer.Serve(lis)
	*closers = append(*closers, func() { w.statusServer.Close() })
	base := "http://" + lis.Addr().String()
	for prefix, wl := range map[string]*wallet.Wallet{"alice": w.principal, "assistant": w.assistant} {
		if err := wl.StatusRegistry().Configure(status.RegistryConfig{BaseURL: base, Prefix: prefix, Dir: dir}); err != nil {
			return nil, err
		}
	}
	cv, err := credentials.NewVerifier(did.KeyResolver{})
	if err != nil {
		return nil, err
	}
	return &statushttp.Fetcher{MaxAge: statusMaxAge, Timeout: 5 * time.Second, Verify: cv.VerifyStatusList, Now: w.now}, nil
}

// publish re-signs an issuer's status lists and writes them for the server.
func publish(wl *wallet.Wallet) error {
	cfg, err := wl.StatusRegistry().Config()
	if err != nil {
		return err
	}
	_, err = wl.PublishStatus(cfg.Dir, credentials.IssueOptions{})
	return err
}

// chains loads what a wallet holds.
func chains(wl *wallet.Wallet) ([][]*credentials.Credential, error) {
	stored, err := wl.Chains()
	if err != nil {
		return nil, err
	}
	var out [][]*credentials.Credential
	for _, s := range stored {
		if sdpoa.IsChain(s.Chain) {
			continue // sdChains
		}
		c, err := credentials.DecodeChain(s.Chain)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, nil
}

func store(wl *wallet.Wallet, chain []*credentials.Credential) error {
	b, err := credentials.EncodeChain(chain)
	if err != nil {
		return err
	}
	return wl.PutChain(chain[len(chain)-1].ID, b)
}

func decisionStep(name, agent string, req presentation.Request, expected string, d presentation.Decision, err error) Step {
	s := Step{Name: name, Agent: agent, Action: req.Action, Resource: req.Resource, Expected: expected,
		Decision: d.Outcome.String(), Reasons: []string{}}
	for _, r := range d.Reasons {
		s.Reasons = append(s.Reasons, string(r))
	}
	s.Detail = d.Message
	if err != nil {
		s.Decision, s.Reasons, s.Detail = "ERROR", []string{}, err.Error()
	}
	return s
}

// reasonOf names the credentials error behind a refusal at issuance.
func reasonOf(err error) string {
	for _, e := range []struct {
		err  error
		code presentation.Reason
	}{
		{credentials.ErrScopeEscalation, presentation.ReasonScopeEscalation},
		{credentials.ErrDelegationNotAllowed, presentation.ReasonDelegationNotAllowed},
		{credentials.ErrDepthExceeded, presentation.ReasonDepthExceeded},
		{credentials.ErrPurposeOutside, presentation.ReasonIntentMismatch},
	} {
		if errors.Is(err, e.err) {
			return string(e.code)
		}
	}
	return strings.ToUpper(err.Error())
}
