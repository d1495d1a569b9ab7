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

// Client is the agent's side: it asks the verifier for a challenge, builds
// a presentation bound to it, and asks for a decision.
type Client struct {
	rpc mandatev1.VerifierServiceClient
	now func() time.Time
}

// NewClient wraps a VerifierService client; now is the clock (nil: time.Now).
func NewClient(rpc mandatev1.VerifierServiceClient, now func() time.Time) *Client {
	if now == nil {
		now = time.Now
	}
	return &Client{rpc: rpc, now: now}
}

// Challenge fetches a fresh challenge.
func (c *Client) Challenge(ctx context.Context) (presentation.Challenge, error) {
	r, err := c.rpc.Challenge(ctx, &mandatev1.ChallengeRequest{})
	if err != nil {
		return presentation.Challenge{}, fmt.Errorf("gatekeeper: challenge: %w", err)
	}
	return presentation.Challenge{Nonce: r.GetNonce(), Audience: r.GetAudience(), ExpiresAt: r.GetExpiresAt().AsTime(), Formats: r.GetFormats()}, nil
}

// Send submits a presentation for req, with a signed approval when one is
// given (approval may be "").
func (c *Client) Send(ctx context.Context, vp []byte, req presentation.Request, approval ...string) (presentation.Decision, error) {
	return c.SendFormat(ctx, presentation.FormatLDP, vp, req, approval...)
}

// SendFormat is Send for a presentation in the given format.
func (c *Client) SendFormat(ctx context.Context, format string, vp []byte, req presentation.Request, approval ...string) (presentation.Decision, error) {
	in := &mandatev1.AuthorizeRequest{
		Presentation: vp, Format: format,
		Request: &mandatev1.Request{Action: req.Action, Resource: req.Resource, Intent: req.Intent, Context: req.Context},
	}
	if len(approval) > 0 {
		in.Approval = approval[0]
	}
	r, err := c.rpc.Authorize(ctx, in)
	if err != nil {
		return presentation.Decision{Outcome: presentation.Deny}, fmt.Errorf("gatekeeper: authorize: %w", err)
	}
	return FromProto(r), nil
}

// Authorize does the whole exchange for one request: challenge, choose the
// holder's chain that covers req, present, decide.
func (c *Client) Authorize(ctx context.Context, holder credentials.Signer, chains [][]*credentials.Credential, req presentation.Request, approval ...string) (presentation.Decision, error) {
	chain, err := presentation.Select(chains, holder.DID(), req.Action, req.Resource, c.now())
	if err != nil {
		return presentation.Decision{Outcome: presentation.Deny}, err
	}
	ch, err := c.Challenge(ctx)
	if err != nil {
		return presentation.Decision{Outcome: presentation.Deny}, err
	}
	vp, err := presentation.Present(holder, chain, ch, req, c.now())
	if err != nil {
		return presentation.Decision{Outcome: presentation.Deny}, err
	}
	return c.Send(ctx, vp, req, approval...)
}

// AuthorizeHeld does the whole exchange with negotiation: challenge, then
// the first format the verifier accepts in which a held chain covers req
// (Held.Present), present, decide. It returns the format used.
func (c *Client) AuthorizeHeld(ctx context.Context, holder credentials.Signer, held presentation.Held, req presentation.Request, approval ...string) (presentation.Decision, string, error) {
	ch, err := c.Challenge(ctx)
	if err != nil {
		return presentation.Decision{Outcome: presentation.Deny}, "", err
	}
	format, vp, err := held.Present(holder, ch, req, c.now())
	if err != nil {
		return presentation.Decision{Outcome: presentation.Deny}, "", err
	}
	d, err := c.SendFormat(ctx, format, vp, req, approval...)
	return d, format, err
}

// Refuse asks the verifier to record a gatekeeper's refusal of a call made
// without a presentation (VerifierService.Refuse). The answer is a DENY
// whatever the verifier says. What is sent is req.Bounded() and message
// made valid UTF-8 and cut to presentation.MaxRefusalMessageBytes: a
// protobuf string must be UTF-8, and a refusal that cannot be sent cannot be
// recorded.
func (c *Client) Refuse(ctx context.Context, req presentation.Request, reason presentation.Reason, message string) (presentation.Decision, error) {
	req, message = req.Bounded(), presentation.RefusalMessage(message)
	r, err := c.rpc.Refuse(ctx, &mandatev1.RefuseRequest{
		Request: &mandatev1.Request{Action: req.Action, Resource: req.Resource, Intent: req.Intent, Context: req.Context},
		Reason:  string(reason), Message: message,
	})
	if err != nil {
		return presentation.Decision{Outcome: presentation.Deny, Reasons: []presentation.Reason{reason}, Message: message}, fmt.Errorf("gatekeeper: refuse: %w", err)
	}
	d := FromProto(r.GetDecision())
	if d.Outcome != presentation.Deny || len(d.Reasons) == 0 {
		return presentation.Decision{Outcome: presentation.Deny, Reasons: []presentation.Reason{reason}, Message: message},
			errors.New("gatekeeper: refuse: the verifier answered something other than a DENY")
	}
	return d, nil
}
