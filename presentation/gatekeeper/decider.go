package gatekeeper

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/mandate-dev/mandate/credentials"
	"github.com/mandate-dev/mandate/credentials/scope"
	"github.com/mandate-dev/mandate/credentials/sdpoa"
	"github.com/mandate-dev/mandate/presentation"
	mandatev1 "github.com/mandate-dev/mandate/protos/mandate/v1"
)

// Decider is the verifier a gatekeeper asks: in process (Local) or over
// gRPC (Remote). The HTTP middleware, the gRPC interceptors and the MCP
// gateway all decide through it, so a service can move its verifier out of
// process without changing its handlers.
type Decider interface {
	// Challenge hands out a fresh single-use challenge.
	Challenge(ctx context.Context) (presentation.Challenge, error)
	// Decide verifies one presentation for req. A denial is a Decision, not
	// an error; an error (transport, malformed input) must be taken as DENY.
	Decide(ctx context.Context, format string, vp []byte, req presentation.Request, approval string) (presentation.Decision, error)
	// Refuse records a DENY for a call refused before any presentation
	// (presentation.Verifier.Refuse, or VerifierService.Refuse). It always
	// returns a DENY; AuditID is empty when the refusal could not be recorded.
	Refuse(ctx context.Context, req presentation.Request, reason presentation.Reason, message string) presentation.Decision
}

// ErrInvalidPresentation marks a Decide error caused by the call itself (no
// presentation, a format the verifier does not accept, input over a limit),
// not by the verifier: a gatekeeper answers it as malformed input, where any
// other Decide error is the verifier's failure. Both are DENY.
var ErrInvalidPresentation = errors.New("gatekeeper: invalid presentation")

// Local is a Decider over an in-process verifier.
func Local(v *presentation.Verifier) Decider { return local{v} }

type local struct{ v *presentation.Verifier }

func (l local) Challenge(ctx context.Context) (presentation.Challenge, error) {
	return l.v.Challenge(ctx)
}

func (l local) Decide(ctx context.Context, format string, vp []byte, req presentation.Request, approval string) (presentation.Decision, error) {
	if len(vp) == 0 {
		return presentation.Decision{Outcome: presentation.Deny}, fmt.Errorf("%w: presentation is missing", ErrInvalidPresentation)
	}
	if !l.v.Accepts(format) {
		return presentation.Decision{Outcome: presentation.Deny}, fmt.Errorf("%w: format %.32q is not accepted by this verifier", ErrInvalidPresentation, format)
	}
	opts := []presentation.AuthorizeOption{presentation.WithFormat(format)}
	if approval != "" {
		opts = append(opts, presentation.WithApproval(approval))
	}
	return l.v.Authorize(ctx, vp, req, opts...), nil
}

func (l local) Refuse(_ context.Context, req presentation.Request, reason presentation.Reason, message string) presentation.Decision {
	return l.v.Refuse(req, reason, "%s", message)
}

// Remote is a Decider over a VerifierService client.
func Remote(rpc mandatev1.VerifierServiceClient) Decider { return remote{NewClient(rpc, nil)} }

type remote struct{ c *Client }

func (r remote) Challenge(ctx context.Context) (presentation.Challenge, error) {
	return r.c.Challenge(ctx)
}

func (r remote) Decide(ctx context.Context, format string, vp []byte, req presentation.Request, approval string) (presentation.Decision, error) {
	var approvals []string
	if approval != "" {
		approvals = append(approvals, approval)
	}
	d, err := r.c.SendFormat(ctx, format, vp, req, approvals...)
	switch status.Code(err) {
	case codes.InvalidArgument, codes.ResourceExhausted:
		err = fmt.Errorf("%w: %w", ErrInvalidPresentation, err)
	}
	return d, err
}

// Refuse records the refusal with the verifier (VerifierService.Refuse).
// When that fails the refusal stands all the same, with no AuditID: the
// Decision Client.Refuse returns beside its error.
func (r remote) Refuse(ctx context.Context, req presentation.Request, reason presentation.Reason, message string) presentation.Decision {
	d, _ := r.c.Refuse(ctx, req, reason, message)
	return d
}

// Presenter makes a presentation bound to a challenge and a request: the
// agent's wallet, in process (Holder) or over its socket (wallet/holder).
// It returns the format chosen and the presentation.
type Presenter interface {
	Present(ctx context.Context, ch presentation.Challenge, req presentation.Request) (format string, vp []byte, err error)
}

// Holder is a Presenter over chains and a key held in process (tests, and
// an agent that opens its own wallet). Now is the clock (nil: time.Now).
type Holder struct {
	Signer credentials.Signer
	Held   presentation.Held
	Now    func() time.Time
}

// Present implements Presenter with Held.Present, and Held.PresentForbidding
// when no chain covers req.
func (h Holder) Present(_ context.Context, ch presentation.Challenge, req presentation.Request) (string, []byte, error) {
	now := h.now()
	f, vp, err := h.Held.Present(h.Signer, ch, req, now)
	if errors.Is(err, presentation.ErrNoChain) {
		return h.Held.PresentForbidding(h.Signer, ch, req, now)
	}
	return f, vp, err
}

func (h Holder) now() time.Time {
	if h.Now != nil {
		return h.Now()
	}
	return time.Now()
}

// Power is one grant, or one forbidden entry, of a chain the agent holds.
type Power struct {
	Action   string // action pattern
	Resource string // resource pattern ("" for a forbidden entry over every resource)
	Grant    string // the grant's id ("" for a forbidden entry)
	Chain    string // the holder's id of the chain
	Format   string // the chain's format
}

// Powers is what an agent holds, leaf grants and the forbidden entries of
// every link. It decides nothing (the verifier decides every call); a
// gateway uses it to leave out what the agent could never be allowed.
type Powers struct {
	Grants    []Power
	Forbidden []Power
}

// Covers reports whether some grant's action pattern covers action and no
// forbidden entry of the same chain (Power.Chain) forbids action on every
// resource the grant names: a forbidden entry accumulates down its own
// chain, and the verifier checks only the chain presented. A grant Covers
// keeps may still be denied (the verifier checks time, status, limits and
// the resource of each call); one it drops could only be denied FORBIDDEN.
func (p Powers) Covers(action string) bool {
	return slices.ContainsFunc(p.Grants, func(g Power) bool {
		return scope.MatchAction(g.Action, action) && !slices.ContainsFunc(p.Forbidden, func(f Power) bool {
			return f.Chain == g.Chain && scope.MatchAction(f.Action, action) && forbidsAll(f.Resource, g.Resource)
		})
	})
}

// forbidsAll reports whether a forbidden entry's resource pattern covers
// every resource a grant's pattern names: "" and "*" cover all.
func forbidsAll(forbidden, granted string) bool {
	return forbidden == "" || scope.ResourceSubset(granted, forbidden)
}

// Powers lists h's powers at h.Now (chain ids are "ldp/N", "sd-jwt/N",
// "bbs/N"). A chain with a link that has expired or is not yet valid is
// left out, forbidden entries and all, and so is a grant outside its
// notBefore/notAfter window: the verifier could only deny them.
func (h Holder) Powers(context.Context) (Powers, error) {
	var p Powers
	now := h.now()
	add := func(format string, i int, chain []*credentials.Credential) {
		if len(chain) == 0 || slices.ContainsFunc(chain, func(c *credentials.Credential) bool { return !linkValid(c, now) }) {
			return
		}
		id := fmt.Sprintf("%s/%d", format, i)
		for _, c := range chain {
			for _, f := range c.Subject.Forbidden {
				p.Forbidden = append(p.Forbidden, Power{Action: f.Action, Resource: f.Resource, Chain: id, Format: format})
			}
		}
		for _, g := range chain[len(chain)-1].Subject.Grants {
			if grantValid(g.Constraints, now) {
				p.Grants = append(p.Grants, Power{Action: g.Action, Resource: g.Resource, Grant: g.ID, Chain: id, Format: format})
			}
		}
	}
	for i, c := range h.Held.LDP {
		add(presentation.FormatLDP, i, c)
	}
	for i, c := range h.Held.SDJWT {
		// The holder's own SD-JWTs: every Disclosure is at hand.
		if creds, err := sdpoa.VerifyChain(c); err == nil {
			add(presentation.FormatSDJWT, i, creds)
		}
	}
	for i, c := range h.Held.BBS {
		add(presentation.FormatBBS, i, c)
	}
	return p, nil
}

// linkValid is the verifier's window of a link: issued, not expired.
func linkValid(c *credentials.Credential, now time.Time) bool {
	return !now.Before(c.IssuanceDate) && (c.ExpirationDate == nil || now.Before(*c.ExpirationDate))
}

// grantValid is the verifier's window of a grant: notBefore, notAfter.
func grantValid(c credentials.Constraints, now time.Time) bool {
	return (c.NotBefore == nil || !now.Before(*c.NotBefore)) && (c.NotAfter == nil || now.Before(*c.NotAfter))
}
