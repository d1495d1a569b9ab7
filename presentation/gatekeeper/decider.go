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
	now := time.Now
	if h.Now != nil {
		now = h.Now
	}
	f, vp, err := h.Held.Present(h.Signer, ch, req, now())
	if errors.Is(err, presentation.ErrNoChain) {
		return h.Held.PresentForbidding(h.Signer, ch, req, now())
	}
	return f, vp, err
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
// every link. It decides nothing (the verifier does); a gateway uses it to
// leave out what the agent could never be allowed.
type Powers struct {
	Grants    []Power
	Forbidden []Power
}

// Covers reports whether some grant's action pattern covers action and no
// forbidden entry forbids action on every resource.
func (p Powers) Covers(action string) bool {
	for _, f := range p.Forbidden {
		if f.Resource == "" && scope.MatchAction(f.Action, action) {
			return false
		}
	}
	return slices.ContainsFunc(p.Grants, func(g Power) bool { return scope.MatchAction(g.Action, action) })
}

// Powers lists h's powers (chain ids are "ldp/N", "sd-jwt/N", "bbs/N").
func (h Holder) Powers(context.Context) (Powers, error) {
	var p Powers
	add := func(format string, i int, subjects []credentials.Subject) {
		id := fmt.Sprintf("%s/%d", format, i)
		for _, s := range subjects {
			for _, f := range s.Forbidden {
				p.Forbidden = append(p.Forbidden, Power{Action: f.Action, Resource: f.Resource, Chain: id, Format: format})
			}
		}
		for _, g := range subjects[len(subjects)-1].Grants {
			p.Grants = append(p.Grants, Power{Action: g.Action, Resource: g.Resource, Grant: g.ID, Chain: id, Format: format})
		}
	}
	subjectsOf := func(chain []*credentials.Credential) []credentials.Subject {
		out := make([]credentials.Subject, len(chain))
		for i, c := range chain {
			out[i] = c.Subject
		}
		return out
	}
	for i, c := range h.Held.LDP {
		if len(c) > 0 {
			add(presentation.FormatLDP, i, subjectsOf(c))
		}
	}
	for i, c := range h.Held.SDJWT {
		// The holder's own SD-JWTs: every Disclosure is at hand.
		if creds, err := sdpoa.VerifyChain(c); err == nil && len(creds) > 0 {
			add(presentation.FormatSDJWT, i, subjectsOf(creds))
		}
	}
	for i, c := range h.Held.BBS {
		if len(c) > 0 {
			add(presentation.FormatBBS, i, subjectsOf(c))
		}
	}
	return p, nil
}
