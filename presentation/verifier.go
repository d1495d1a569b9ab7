package presentation

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/dgraph-io/badger/v4"

	"github.com/mandate-dev/mandate/credentials"
	"github.com/mandate-dev/mandate/did"
	"github.com/mandate-dev/mandate/intent/cel"
	"github.com/mandate-dev/mandate/internal/aries"
	"github.com/mandate-dev/mandate/internal/strictjson"
	"github.com/mandate-dev/mandate/presentation/audit"
	"github.com/mandate-dev/mandate/presentation/limits"
	"github.com/mandate-dev/mandate/presentation/policy"
)

// MaxPresentationBytes bounds a presentation: a full chain plus the envelope.
const MaxPresentationBytes = credentials.MaxChainBytes + 16<<10

// Challenge lifetimes.
const (
	DefaultChallengeTTL = 2 * time.Minute
	MaxChallengeTTL     = 10 * time.Minute
)

// Config is a verifier's trusted material and state. A Config that has not
// made a security choice is refused by Validate.
type Config struct {
	// Audience is this verifier's identity; presentations must name it.
	Audience string
	// Formats are the presentation formats this verifier accepts, its
	// policy, listed in every Challenge (nil: ["ldp"]). See FormatLDP,
	// FormatSDJWT, FormatBBS; any other is refused by Validate.
	Formats []string
	// Resolver resolves issuer and holder DIDs. Required.
	Resolver did.Resolver
	// TrustedRoots are the principal DIDs whose root credentials this
	// verifier accepts. Empty means nothing is trusted.
	TrustedRoots []string
	// InsecureTrustAnyRoot accepts a root from any principal. Unsafe: for
	// demos and tests only; it conflicts with TrustedRoots.
	InsecureTrustAnyRoot bool
	// Trust policy (presentation/policy, trust.go): which principals are
	// trusted for which resources, which actions need a witnessed root,
	// the accepted formats and DID methods. It conflicts with TrustedRoots
	// and InsecureTrustAnyRoot, and sets Formats.
	Policy *policy.Policy
	// Status fetches status list credentials: a *statushttp.Fetcher whose
	// Verify is credentials.Verifier.VerifyStatusList. Nil: a credential
	// that carries status entries is denied STATUS_UNAVAILABLE.
	Status StatusSource
	// RequireStatus denies a credential that carries no revocation entry
	// (it could never be taken back).
	RequireStatus bool
	// MaxStatusLists bounds the status lists one decision fetches
	// (0: DefaultMaxStatusLists).
	MaxStatusLists int
	// Signer is the verifier's own DID key: it names who answered in every
	// audit record and signs the audit log's checkpoints. Required.
	Signer credentials.Signer
	// AuditCheckpointEvery is how many records pass between signed
	// checkpoints (0: audit.DefaultCheckpointEvery).
	AuditCheckpointEvery uint64
	// ApprovalTTL is how long an approval request waits for an answer
	// (default 15 minutes).
	ApprovalTTL time.Duration
	// Store keeps nonces, usage counters, approval requests and the audit
	// log. Required.
	Store *badger.DB
	// Intent is the intent stage: which checkers judge each request
	// against the chain's declared purposes. No checkers: the stage is not
	// run (grant conditions are still enforced).
	Intent IntentPolicy
	// ChallengeTTL is how long a nonce is valid (default 2 minutes).
	ChallengeTTL time.Duration
	Now          func() time.Time // nil: time.Now
	Rand         io.Reader        // nil: crypto/rand
	Logger       *slog.Logger     // nil: discard
}

// Validate refuses a configuration that is incomplete or contradictory.
func (c Config) Validate() error {
	switch {
	case c.Audience == "":
		return errors.New("presentation: config: an audience is required")
	case c.Resolver == nil:
		return errors.New("presentation: config: a DID resolver is required")
	case c.Store == nil:
		return errors.New("presentation: config: a store is required")
	case c.Signer == nil:
		return errors.New("presentation: config: a signer is required (the verifier signs its audit log)")
	case c.ApprovalTTL < 0 || c.ApprovalTTL > 24*time.Hour:
		return errors.New("presentation: config: ApprovalTTL must be 0..24h")
	case len(c.TrustedRoots) == 0 && !c.InsecureTrustAnyRoot && c.Policy == nil:
		return errors.New("presentation: config: no trusted roots: give a Policy, name them, or set InsecureTrustAnyRoot")
	case len(c.TrustedRoots) > 0 && c.InsecureTrustAnyRoot:
		return errors.New("presentation: config: TrustedRoots and InsecureTrustAnyRoot conflict")
	case c.RequireStatus && c.Status == nil:
		return errors.New("presentation: config: RequireStatus needs a Status source")
	case c.ChallengeTTL < 0 || c.ChallengeTTL > MaxChallengeTTL:
		return fmt.Errorf("presentation: config: ChallengeTTL must be 0..%s", MaxChallengeTTL)
	}
	if err := c.Intent.validate(); err != nil {
		return err
	}
	if err := validateFormats(c.Formats); err != nil {
		return err
	}
	if err := c.validateTrust(); err != nil {
		return err
	}
	for _, r := range c.TrustedRoots {
		if !strings.HasPrefix(r, "did:") {
			return fmt.Errorf("presentation: config: trusted root %q is not a DID", r)
		}
	}
	return nil
}

// Verifier decides requests, deny by default. It is safe for concurrent use.
type Verifier struct {
	cfg    Config
	creds  *credentials.Verifier
	bbs    *credentials.BBSVerifier // nil unless FormatBBS is accepted
	nonces *NonceStore
	audit  *audit.Log
	conds  *cel.Engine
	log    *slog.Logger
	// commitMu serialises the last step of every decision: counters, an
	// approval's single use and the audit record, in one transaction.
	commitMu sync.Mutex
	watchers watchers
}

// New builds a verifier from a validated Config.
func New(cfg Config) (*Verifier, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.ChallengeTTL == 0 {
		cfg.ChallengeTTL = DefaultChallengeTTL
	}
	if cfg.ApprovalTTL == 0 {
		cfg.ApprovalTTL = DefaultApprovalTTL
	}
	if cfg.MaxStatusLists <= 0 {
		cfg.MaxStatusLists = DefaultMaxStatusLists
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	cfg = cfg.withPolicy()
	if len(cfg.Formats) == 0 {
		cfg.Formats = []string{FormatLDP}
	}
	cfg.Formats = slices.Clone(cfg.Formats)
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	cv, err := credentials.NewVerifier(cfg.Resolver)
	if err != nil {
		return nil, err
	}
	al, err := audit.New(cfg.Store, audit.Options{Signer: cfg.Signer, CheckpointEvery: cfg.AuditCheckpointEvery, Now: cfg.Now})
	if err != nil {
		return nil, err
	}
	conds, err := cel.NewEngine(cel.EngineOptions{})
	if err != nil {
		return nil, err
	}
	if cfg.Intent.Timeout == 0 {
		cfg.Intent.Timeout = DefaultIntentTimeout
	}
	var bbs *credentials.BBSVerifier
	if slices.Contains(cfg.Formats, FormatBBS) {
		if bbs, err = credentials.NewBBSVerifier(); err != nil {
			return nil, err
		}
	}
	return &Verifier{cfg: cfg, creds: cv, bbs: bbs, nonces: NewNonceStore(cfg.Store, cfg.Rand), audit: al, conds: conds, log: log}, nil
}

// Audience returns the verifier's audience.
func (v *Verifier) Audience() string { return v.cfg.Audience }

// Accepts reports whether format is one of the verifier's accepted
// formats ("" is FormatLDP).
func (v *Verifier) Accepts(format string) bool {
	if format == "" {
		format = FormatLDP
	}
	return slices.Contains(v.cfg.Formats, format)
}

// Challenge issues a single-use nonce for this verifier's audience.
func (v *Verifier) Challenge(ctx context.Context) (Challenge, error) {
	now := v.cfg.Now()
	exp := now.Add(v.cfg.ChallengeTTL)
	n, err := v.nonces.Issue(v.cfg.Audience, now, exp)
	if err != nil {
		return Challenge{}, err
	}
	return Challenge{Nonce: n, Audience: v.cfg.Audience, ExpiresAt: exp, Formats: slices.Clone(v.cfg.Formats)}, nil
}

// denial is a pipeline failure: the reason code and what went wrong.
type denial struct {
	reason Reason
	err    error
}

func (d *denial) Error() string { return string(d.reason) + ": " + d.err.Error() }

func deny(r Reason, format string, args ...any) *denial {
	return &denial{reason: r, err: fmt.Errorf(format, args...)}
}

// AuthorizeOption adds to one Authorize call.
type AuthorizeOption func(*state)

// WithApproval attaches a signed approval (from ApprovalService) for a grant
// that requires one.
func WithApproval(answer string) AuthorizeOption { return func(s *state) { s.answer = answer } }

// WithFormat names the presentation's format (default FormatLDP); a
// format the verifier does not accept is denied MALFORMED.
func WithFormat(format string) AuthorizeOption { return func(s *state) { s.format = format } }

// Authorize runs the verification pipeline on a presentation for req and
// stops at the first failure, then records the decision in the audit log.
// Any error, and any panic, is a DENY; a decision that cannot be recorded
// is a DENY too.
func (v *Verifier) Authorize(ctx context.Context, presentation []byte, req Request, opts ...AuthorizeOption) (d Decision) {
	defer func() {
		if r := recover(); r != nil {
			d = Decision{Outcome: Deny, Reasons: []Reason{ReasonInternalError}, Message: "verifier panic"}
			v.log.Error("authorize panicked", "panic", fmt.Sprint(r))
		}
	}()
	d = Decision{Outcome: Deny}
	st := &state{req: req, now: v.cfg.Now()}
	for _, o := range opts {
		o(st)
	}
	err := v.run(ctx, presentation, st)
	d.Principal, d.Actor, d.Chain, d.Grant, d.Checks = st.principal(), st.holder, st.ids(), st.grant, st.checks
	d.applyError(err)
	v.commit(st, &d)
	v.log.Info("decision", "outcome", d.Outcome.String(), "reasons", d.Reasons, "actor", d.Actor,
		"principal", d.Principal, "action", st.req.Action, "resource", st.req.Resource, "grant", d.Grant, "audit", d.AuditID)
	return d
}

// applyError sets the outcome from the pipeline's result.
func (d *Decision) applyError(err error) {
	var dn *denial
	var na *needsApproval
	var ex *limits.Exceeded
	switch {
	case err == nil:
		d.Outcome, d.Reasons, d.Message = Allow, nil, ""
	case errors.As(err, &na):
		d.Outcome, d.Reasons, d.Message, d.ApprovalID = NeedsApproval, slices.Clone(na.reasons), na.message, na.id
	case errors.As(err, &ex):
		d.Outcome, d.Reasons, d.Message, d.RetryAt = Deny, []Reason{Reason(ex.Reason)}, ex.Error(), ex.RetryAt
	case errors.As(err, &dn):
		d.Outcome, d.Reasons, d.Message = Deny, []Reason{dn.reason}, dn.err.Error()
	default:
		d.Outcome, d.Reasons, d.Message = Deny, []Reason{ReasonInternalError}, err.Error()
	}
}

// state is what the pipeline has learnt so far.
type state struct {
	req    Request
	format string
	now    time.Time
	holder string
	chain  []*credentials.Credential
	grant  string
	// uses are the grants charged by an ALLOW, one per link.
	uses   []limits.Use
	amount *int64
	// answer is the signed approval attached to the call; useApproval the
	// request it answers (consumed by an ALLOW), newApproval a request to
	// record with NEEDS_APPROVAL.
	answer      string
	useApproval *ApprovalRequest
	approver    string
	newApproval *ApprovalRequest
	// checks are the intent checkers' verdicts; escalated why they want a human.
	checks    []CheckerVerdict
	escalated string
}

func (s *state) principal() string {
	if len(s.chain) == 0 {
		return ""
	}
	return s.chain[0].Subject.Principal
}

func (s *state) ids() []string {
	out := make([]string, len(s.chain))
	for i, c := range s.chain {
		out[i] = c.ID
	}
	return out
}

func (v *Verifier) run(ctx context.Context, data []byte, st *state) error {
	if err := st.req.Validate(); err != nil {
		st.req = st.req.Bounded() // what the audit log keeps of a request that is not one
		return deny(ReasonMalformed, "%w", err)
	}
	if !v.Accepts(st.format) {
		return deny(ReasonMalformed, "format %.32q is not accepted by this verifier", st.format)
	}
	// Signatures and holder binding depend on the format; every stage
	// after them is shared.
	var err error
	switch st.format {
	case FormatLDP, "": // "" is the ldp of callers that predate formats
		err = v.checkLDP(ctx, data, st)
	case FormatSDJWT:
		err = v.checkSDJWT(ctx, data, st)
	case FormatBBS:
		err = v.checkBBS(ctx, data, st)
	default: // accepted but not known here: never guess a path
		err = deny(ReasonMalformed, "format %.32q has no verification path", st.format)
	}
	if err != nil {
		return err
	}
	if err := checkChain(st.chain); err != nil {
		return err
	}
	if err := checkWindows(st.chain, st.now); err != nil {
		return err
	}
	if err := checkForbidden(st.chain, st.req); err != nil {
		return err
	}
	candidates, err := matchGrants(st.chain[len(st.chain)-1], st.req, st.now)
	if err != nil {
		return err
	}
	st.grant = candidates[0].ID
	// Trust comes before status: status lists are fetched from URLs that
	// credentials name, and only a trusted chain may make us fetch.
	if err := v.checkTrust(st.chain, st.req); err != nil {
		return err
	}
	g, links, err := v.checkStatus(ctx, st.chain, candidates, st.now)
	if err != nil {
		return err
	}
	st.grant = g.ID
	if err := v.checkConditions(ctx, st, g, links); err != nil {
		return err
	}
	if err := v.checkLimits(st, links); err != nil {
		return err
	}
	if err := v.checkIntent(ctx, st, g); err != nil {
		return err
	}
	if g.ApprovalRequired() || st.escalated != "" {
		return v.checkApproval(ctx, st, g)
	}
	return nil
}

// checkLDP verifies a JSON-LD presentation (§7.3): the signatures and
// the holder's binding to this verifier, one use, one request.
func (v *Verifier) checkLDP(ctx context.Context, data []byte, st *state) error {
	vp, err := parseVP(data)
	if err != nil {
		return err
	}
	if err := v.checkSignatures(ctx, vp, st); err != nil {
		return err
	}
	st.holder = vp.holder // named as actor only once its proof verified
	return v.checkBinding(vp, st)
}

// checkSignatures verifies every credential's proof explicitly (aries'
// ParsePresentation does not), then the holder's proof over the whole
// presentation, and strict JSON-LD on the envelope.
func (v *Verifier) checkSignatures(ctx context.Context, vp *parsedVP, st *state) error {
	for i, m := range vp.creds {
		c, err := v.creds.VerifyMap(ctx, m)
		if err != nil {
			return credentialDenial(fmt.Errorf("link %d: %w", i, err))
		}
		st.chain = append(st.chain, c)
	}
	ld, err := credentials.LD()
	if err != nil {
		return err
	}
	opts, err := ld.Verify(vp.doc, func(vm string) (ed25519.PublicKey, error) {
		owner, _, _ := strings.Cut(vm, "#")
		if owner != vp.holder {
			return nil, fmt.Errorf("holder proof key %s does not belong to holder %s", vm, vp.holder)
		}
		return did.PublicKey(ctx, v.cfg.Resolver, vm, "authentication")
	})
	if err != nil {
		if errors.Is(err, did.ErrMethodNotSupported) {
			return deny(ReasonUnsupportedDIDMethod, "holder: %w", err)
		}
		if errors.Is(err, did.ErrResolution) {
			return deny(ReasonDIDResolutionFailed, "holder: %w", err)
		}
		if errors.Is(err, aries.ErrProofShape) {
			return deny(ReasonMalformed, "holder proof: %w", err)
		}
		return deny(ReasonSignatureInvalid, "holder proof: %w", err)
	}
	if opts.Purpose != "authentication" {
		return deny(ReasonSignatureInvalid, "holder proofPurpose %q, want authentication", opts.Purpose)
	}
	if err := ld.Strict(vp.envelope()); err != nil {
		return deny(ReasonMalformed, "%w", err)
	}
	vp.proof = opts
	return nil
}

// checkBinding ties the presentation to this verifier, one use, one request.
func (v *Verifier) checkBinding(vp *parsedVP, st *state) error {
	leaf := st.chain[len(st.chain)-1]
	if leaf.Subject.ID != vp.holder {
		return deny(ReasonHolderMismatch, "presented by %s, but the leaf credential was granted to %s", vp.holder, leaf.Subject.ID)
	}
	if vp.proof.Domain != v.cfg.Audience {
		return deny(ReasonAudienceMismatch, "presentation is for %q, this verifier is %q", vp.proof.Domain, v.cfg.Audience)
	}
	if err := v.consumeNonce(vp.proof.Challenge, st.now); err != nil {
		return err
	}
	want, err := st.req.Digest()
	if err != nil {
		return err
	}
	if vp.requestDigest != want {
		return deny(ReasonRequestMismatch, "presentation is bound to another request")
	}
	return nil
}

func checkChain(chain []*credentials.Credential) error {
	if err := credentials.CheckChain(chain); err != nil {
		return credentialDenial(err)
	}
	return nil
}

func checkWindows(chain []*credentials.Credential, now time.Time) error {
	for _, c := range chain {
		if now.Before(c.IssuanceDate) {
			return deny(ReasonNotYetValid, "%s is valid from %s", c.ID, c.IssuanceDate.Format(time.RFC3339))
		}
		if c.ExpirationDate != nil && !now.Before(*c.ExpirationDate) {
			return deny(ReasonExpired, "%s expired at %s", c.ID, c.ExpirationDate.Format(time.RFC3339))
		}
	}
	return nil
}

// checkForbidden runs before grant matching: deny wins, and a forbidden
// action is reported as FORBIDDEN even when no grant names it.
func checkForbidden(chain []*credentials.Credential, req Request) error {
	for _, c := range chain {
		for _, f := range c.Subject.Forbidden {
			if f.Forbids(req.Action, req.Resource) {
				return deny(ReasonForbidden, "%s forbids %s", c.ID, f.Action)
			}
		}
	}
	return nil
}

// matchGrants finds the leaf grants for the request, best first. Among
// grants that match, those inside their time window are candidates; if all
// are outside, the reason says so.
func matchGrants(leaf *credentials.Credential, req Request, now time.Time) ([]credentials.Grant, error) {
	var outside error
	var candidates []credentials.Grant
	for _, g := range leaf.Subject.Grants {
		if !g.Allows(req.Action, req.Resource) {
			continue
		}
		if err := grantWindow(g, now); err != nil {
			outside = err
			continue
		}
		candidates = append(candidates, g)
	}
	if len(candidates) == 0 {
		if outside != nil {
			return nil, outside
		}
		return nil, deny(ReasonNotGranted, "no grant covers %s on %s", req.Action, req.Resource)
	}
	// Prefer a grant that needs no approval and carries no limit.
	slices.SortStableFunc(candidates, func(a, b credentials.Grant) int { return burden(a) - burden(b) })
	return candidates, nil
}

// grantWindow denies a grant outside its notBefore/notAfter window.
func grantWindow(g credentials.Grant, now time.Time) error {
	c := g.Constraints
	switch {
	case c.NotBefore != nil && now.Before(*c.NotBefore):
		return deny(ReasonNotYetValid, "grant %s is valid from %s", g.ID, c.NotBefore.Format(time.RFC3339))
	case c.NotAfter != nil && !now.Before(*c.NotAfter):
		return deny(ReasonExpired, "grant %s ended at %s", g.ID, c.NotAfter.Format(time.RFC3339))
	}
	return nil
}

// burden orders candidate grants: one without conditions is not denied for
// them, one without limits spends no budget, one without approval asks no human.
func burden(g credentials.Grant) int {
	n := 0
	c := g.Constraints
	if len(c.Conditions) > 0 {
		n++
	}
	if c.Rate != nil || c.MaxUses != nil || c.MaxAmount != nil {
		n += 2
	}
	if g.ApprovalRequired() {
		n += 4
	}
	return n
}

// credentialDenial maps a credentials error to its reason code.
func credentialDenial(err error) error {
	table := []struct {
		err    error
		reason Reason
	}{
		{credentials.ErrUnsupportedDIDMethod, ReasonUnsupportedDIDMethod},
		{credentials.ErrDIDResolution, ReasonDIDResolutionFailed},
		{credentials.ErrSignature, ReasonSignatureInvalid},
		{credentials.ErrMalformed, ReasonMalformed},
		{credentials.ErrParentDigest, ReasonParentDigestMismatch},
		{credentials.ErrChainBroken, ReasonChainBroken},
		{credentials.ErrScopeEscalation, ReasonScopeEscalation},
		{credentials.ErrDelegationNotAllowed, ReasonDelegationNotAllowed},
		{credentials.ErrDepthExceeded, ReasonDepthExceeded},
	}
	for _, t := range table {
		if errors.Is(err, t.err) {
			return &denial{reason: t.reason, err: err}
		}
	}
	return err // unknown: INTERNAL_ERROR, still a DENY
}

// parsedVP is a presentation's envelope, read before any proof is checked.
type parsedVP struct {
	doc           map[string]any
	holder        string
	requestDigest string
	creds         []map[string]any
	proof         proofFields
}

type proofFields = aries.ProofOptions

func (p *parsedVP) envelope() map[string]any {
	out := make(map[string]any, len(p.doc))
	for k, v := range p.doc {
		if k != "verifiableCredential" {
			out[k] = v
		}
	}
	return out
}

var vpKeys = map[string]bool{"@context": true, "type": true, "holder": true, "requestDigest": true, "verifiableCredential": true, "proof": true}

func parseVP(data []byte) (*parsedVP, error) {
	var doc map[string]any
	if err := strictjson.Decode(data, MaxPresentationBytes, &doc); err != nil {
		return nil, deny(ReasonMalformed, "%w", err)
	}
	if doc == nil {
		return nil, deny(ReasonMalformed, "presentation is not a JSON object")
	}
	for k := range doc {
		if !vpKeys[k] {
			return nil, deny(ReasonMalformed, "member %q is not allowed in a presentation", k)
		}
	}
	if !strictjson.EqualStrings(doc["@context"], vpContext) || !strictjson.EqualStrings(doc["type"], []string{"VerifiablePresentation"}) {
		return nil, deny(ReasonMalformed, "presentation @context or type is not Mandate's")
	}
	vp := &parsedVP{doc: doc}
	vp.holder, _ = doc["holder"].(string)
	vp.requestDigest, _ = doc["requestDigest"].(string)
	if !strings.HasPrefix(vp.holder, "did:") || vp.requestDigest == "" {
		return nil, deny(ReasonMalformed, "presentation needs a holder DID and a requestDigest")
	}
	list, ok := doc["verifiableCredential"].([]any)
	if !ok || len(list) == 0 || len(list) > credentials.MaxChainLinks {
		return nil, deny(ReasonMalformed, "verifiableCredential must hold 1..%d credentials", credentials.MaxChainLinks)
	}
	for i, e := range list {
		m, ok := e.(map[string]any)
		if !ok {
			return nil, deny(ReasonMalformed, "credential %d is not an object", i)
		}
		// A credential is held to its own limit inside a presentation too,
		// as if it had been sent alone (measured compactly re-encoded).
		if b, err := json.Marshal(m); err != nil || len(b) > credentials.MaxCredentialBytes {
			return nil, deny(ReasonMalformed, "credential %d is %d bytes, limit %d", i, len(b), credentials.MaxCredentialBytes)
		}
		vp.creds = append(vp.creds, m)
	}
	return vp, nil
}
