package gatekeeper

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/mandate-dev/mandate/credentials"
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
	// (presentation.Verifier.Refuse). A Remote decider cannot write the
	// verifier's log; it returns the DENY with no AuditID.
	Refuse(ctx context.Context, req presentation.Request, reason presentation.Reason, message string) presentation.Decision
}

// Local is a Decider over an in-process verifier.
func Local(v *presentation.Verifier) Decider { return local{v} }

type local struct{ v *presentation.Verifier }

func (l local) Challenge(ctx context.Context) (presentation.Challenge, error) {
	return l.v.Challenge(ctx)
}

func (l local) Decide(ctx context.Context, format string, vp []byte, req presentation.Request, approval string) (presentation.Decision, error) {
	if len(vp) == 0 {
		return presentation.Decision{Outcome: presentation.Deny}, errors.New("gatekeeper: presentation is missing")
	}
	if !l.v.Accepts(format) {
		return presentation.Decision{Outcome: presentation.Deny}, fmt.Errorf("gatekeeper: format %.32q is not accepted by this verifier", format)
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
	if approval == "" {
		return r.c.SendFormat(ctx, format, vp, req)
	}
	return r.c.SendFormat(ctx, format, vp, req, approval)
}

func (remote) Refuse(_ context.Context, _ presentation.Request, reason presentation.Reason, message string) presentation.Decision {
	return presentation.Decision{Outcome: presentation.Deny, Reasons: []presentation.Reason{reason}, Message: message}
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
