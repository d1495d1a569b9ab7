package gatekeeper

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"

	"github.com/mandate-dev/mandate/presentation"
)

// DefaultMaxReplayBytes bounds the body Transport buffers to send it twice
// when the request has no GetBody.
const DefaultMaxReplayBytes = 1 << 20

// Transport is the agent's half of the HTTP gatekeeper: an
// http.RoundTripper that answers a Mandate challenge. It sends the request;
// on a 401 carrying a Mandate challenge it asks Presenter (the agent's
// wallet) for a presentation of exactly the challenge's action, resource and
// context, with the intent and approval of the request's context
// (WithIntent, WithApproval), and sends the request again, once: whatever
// the second answer is, it is the caller's. Agent code just uses an
// http.Client with this Transport.
//
// A request that already carries an Authorization header is sent as it is
// and its challenge is not answered. The body is sent twice: from GetBody,
// or buffered up to MaxReplayBytes when the request has none.
type Transport struct {
	// Base sends the requests (nil: http.DefaultTransport).
	Base http.RoundTripper
	// Presenter makes the presentations. Required.
	Presenter Presenter
	// Allow is asked before the wallet is: an error refuses to present for
	// a challenge that asks more than the agent expects (another action, a
	// resource it did not mean, an audience it does not know, a server that
	// is not that audience's). Required: a Transport without Allow presents
	// to no one, and a challenge with an empty audience is always refused.
	// Use AllowAudience with the audience's hosts: any server the client
	// reaches can relay a verifier's challenge, for a call of its choosing,
	// and spend the presentation at that verifier.
	Allow func(r *http.Request, ch presentation.Challenge, req presentation.Request) error
	// MaxReplayBytes bounds a buffered body (0: DefaultMaxReplayBytes).
	MaxReplayBytes int64
}

// ErrChallengeRefused is returned when Transport.Allow refuses a challenge.
var ErrChallengeRefused = errors.New("gatekeeper: challenge refused")

// AllowAudience is a Transport.Allow that presents only to the verifier
// named audience and, when hosts are given, only on a request to one of them
// (the request's URL host, "mail.example" or "127.0.0.1:8443", compared
// without regard to case). Give the hosts unless the client reaches no other
// server: without them any server the agent calls can relay the audience's
// challenge and spend the agent's presentation there. Over TLS the host is
// the server's authenticated name.
func AllowAudience(audience string, hosts ...string) func(*http.Request, presentation.Challenge, presentation.Request) error {
	hosts = slices.Clone(hosts)
	return func(r *http.Request, ch presentation.Challenge, _ presentation.Request) error {
		if ch.Audience != audience {
			return fmt.Errorf("audience %.128q is not %.128q", ch.Audience, audience)
		}
		if len(hosts) > 0 && !slices.ContainsFunc(hosts, func(h string) bool { return strings.EqualFold(h, r.URL.Host) }) {
			return fmt.Errorf("%.256q is not a host of audience %.128q", r.URL.Host, audience)
		}
		return nil
	}
}

// RoundTrip implements http.RoundTripper. It does not change r.
func (t *Transport) RoundTrip(r *http.Request) (*http.Response, error) {
	if t.Presenter == nil {
		closeBody(r)
		return nil, errors.New("gatekeeper: transport has no presenter")
	}
	base := t.Base
	if base == nil {
		base = http.DefaultTransport
	}
	if r.Header.Get("Authorization") != "" {
		return base.RoundTrip(r)
	}
	first, getBody, err := t.replayable(r)
	if err != nil {
		return nil, err
	}
	resp, err := base.RoundTrip(first)
	if err != nil || resp.StatusCode != http.StatusUnauthorized {
		return resp, err
	}
	h, ok := mandateChallenge(resp.Header)
	if !ok {
		return resp, nil
	}
	discard(resp)
	retry, err := t.answer(r, h, getBody)
	if err != nil {
		return nil, err
	}
	return base.RoundTrip(retry)
}

// replayable returns the first request to send and a way to get its body
// again.
func (t *Transport) replayable(r *http.Request) (*http.Request, func() (io.ReadCloser, error), error) {
	first := r.Clone(r.Context())
	if r.Body == nil || r.Body == http.NoBody {
		return first, func() (io.ReadCloser, error) { return http.NoBody, nil }, nil
	}
	if r.GetBody != nil {
		return first, r.GetBody, nil
	}
	limit := t.MaxReplayBytes
	if limit <= 0 {
		limit = DefaultMaxReplayBytes
	}
	buf, err := io.ReadAll(io.LimitReader(r.Body, limit+1))
	r.Body.Close()
	switch {
	case err != nil:
		return nil, nil, fmt.Errorf("gatekeeper: read the request body to send it again: %w", err)
	case int64(len(buf)) > limit:
		return nil, nil, fmt.Errorf("gatekeeper: the request body is larger than %d bytes and has no GetBody: it cannot be sent again with a presentation", limit)
	}
	getBody := func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(buf)), nil }
	first.Body, _ = getBody()
	first.GetBody = getBody
	return first, getBody, nil
}

// answer builds the retry of r carrying a presentation for challenge h.
func (t *Transport) answer(r *http.Request, h string, getBody func() (io.ReadCloser, error)) (*http.Request, error) {
	ctx := r.Context()
	ch, req, err := ParseMandateChallenge(h)
	if err != nil {
		return nil, err
	}
	req.Intent = IntentFrom(ctx)
	if err := req.Validate(); err != nil {
		return nil, fmt.Errorf("gatekeeper: %w", err)
	}
	if ch.Audience == "" {
		return nil, fmt.Errorf("%w: the challenge names no audience", ErrChallengeRefused)
	}
	if t.Allow == nil {
		return nil, fmt.Errorf("%w: the transport has no Allow (pin the audience with AllowAudience)", ErrChallengeRefused)
	}
	if err := t.Allow(r, ch, req); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrChallengeRefused, err)
	}
	approval := ApprovalFrom(ctx)
	if approval != "" {
		if err := checkApprovalHeader(approval); err != nil {
			return nil, err
		}
	}
	format, vp, err := t.Presenter.Present(ctx, ch, req)
	if err != nil {
		return nil, fmt.Errorf("gatekeeper: present %s on %s: %w", req.Action, req.Resource, err)
	}
	if len(vp) > presentation.MaxPresentationBytes {
		return nil, fmt.Errorf("gatekeeper: the presentation is larger than %d bytes", presentation.MaxPresentationBytes)
	}
	retry := r.Clone(ctx)
	if retry.Body, err = getBody(); err != nil {
		return nil, fmt.Errorf("gatekeeper: get the request body again: %w", err)
	}
	retry.GetBody = getBody // the base transport may need it once more (a connection lost before the answer)
	retry.Header.Set("Authorization", MandateAuthorization(vp))
	retry.Header.Set(HeaderFormat, format)
	if req.Intent != "" {
		retry.Header.Set(HeaderIntent, encodeIntent(req.Intent))
	}
	if approval != "" {
		retry.Header.Set(HeaderApproval, approval)
	}
	return retry, nil
}

// mandateChallenge finds the WWW-Authenticate field of scheme Mandate.
func mandateChallenge(h http.Header) (string, bool) {
	for _, v := range h.Values("WWW-Authenticate") {
		scheme, _, _ := strings.Cut(v, " ")
		if strings.EqualFold(scheme, HTTPScheme) {
			return v, true
		}
	}
	return "", false
}

// discard reads a little of a response body, so that the connection can be
// reused, and closes it.
func discard(resp *http.Response) {
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
}

func closeBody(r *http.Request) {
	if r.Body != nil {
		r.Body.Close()
	}
}
