package gatekeeper

import (
	"context"
	"errors"
	"io"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/emptypb"

	"github.com/mandate-dev/mandate/presentation"
	mandatev1 "github.com/mandate-dev/mandate/protos/mandate/v1"
)

// The client interceptors answer a gatekeeper's challenge with the agent's
// wallet. A grpc.PerRPCCredentials cannot do this: it runs before the call,
// and the challenge (a nonce of the server's verifier) and the request the
// server maps the call to only come back in the refusal of the call.

// UnaryClientInterceptor makes unary calls through a protected service: it
// calls; if the server answers Unauthenticated with a challenge, it asks p
// for a presentation of exactly the request the server named (with the
// intent of WithIntent) and calls once more, with the approval of
// WithApproval if any. It presents only to a verifier whose audience is
// audience; an empty audience fails every challenged call.
func UnaryClientInterceptor(p Presenter, audience string) grpc.UnaryClientInterceptor {
	return func(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
		err := invoker(firstLeg(ctx), method, req, reply, cc, opts...)
		ch, r, ok := challengeOf(err)
		if !ok {
			return err
		}
		retry, perr := presented(ctx, p, audience, ch, r)
		if perr != nil {
			return perr
		}
		return invoker(retry, method, req, reply, cc, opts...)
	}
}

// StreamClientInterceptor is UnaryClientInterceptor for streams. A protected
// server sends its headers (MetadataDecision) on ALLOW before the handler
// runs and refuses with a trailers-only response, so the interceptor waits
// for the headers before it hands the stream over: a refusal is the error
// of opening the stream, and a challenge is answered before the caller has
// sent anything. Use it only towards protected services: a server that
// sends no headers until it has read the caller's messages would never
// answer.
func StreamClientInterceptor(p Presenter, audience string) grpc.StreamClientInterceptor {
	return func(ctx context.Context, desc *grpc.StreamDesc, cc *grpc.ClientConn, method string, streamer grpc.Streamer, opts ...grpc.CallOption) (grpc.ClientStream, error) {
		s, err := openAdmitted(firstLeg(ctx), desc, cc, method, streamer, opts)
		ch, r, ok := challengeOf(err)
		if !ok {
			return s, err
		}
		retry, perr := presented(ctx, p, audience, ch, r)
		if perr != nil {
			return nil, perr
		}
		return openAdmitted(retry, desc, cc, method, streamer, opts)
	}
}

// openAdmitted opens a stream and waits for its headers: either the server
// let the call through, or the stream ended and its status is returned.
func openAdmitted(ctx context.Context, desc *grpc.StreamDesc, cc *grpc.ClientConn, method string, streamer grpc.Streamer, opts []grpc.CallOption) (grpc.ClientStream, error) {
	s, err := streamer(ctx, desc, cc, method, opts...)
	if err != nil {
		return nil, err
	}
	md, err := s.Header()
	if err != nil {
		return nil, err
	}
	if md != nil {
		return s, nil
	}
	// Trailers only: the call ended before any handler ran. Nothing is
	// decoded (no message follows a trailers-only response).
	if err := s.RecvMsg(&emptypb.Empty{}); err != nil && !errors.Is(err, io.EOF) {
		return nil, err
	}
	return s, nil
}

// firstLeg is ctx with the caller's intent: the server binds it into the
// request it names in its challenge.
func firstLeg(ctx context.Context) context.Context {
	if intent := IntentFrom(ctx); intent != "" {
		return metadata.AppendToOutgoingContext(ctx, MetadataIntent, intent)
	}
	return ctx
}

// presented asks p for a presentation for r under ch and returns the
// context of the retry, carrying it.
func presented(ctx context.Context, p Presenter, audience string, ch presentation.Challenge, r presentation.Request) (context.Context, error) {
	switch {
	case audience == "":
		return nil, status.Error(codes.Unauthenticated, "gatekeeper: client interceptor has no audience to present to")
	case ch.Audience != audience:
		return nil, status.Errorf(codes.Unauthenticated, "gatekeeper: challenge is for audience %.128q, this client presents only to %.128q", ch.Audience, audience)
	case p == nil:
		return nil, status.Error(codes.Unauthenticated, "gatekeeper: client interceptor has no presenter")
	}
	r.Intent = IntentFrom(ctx)
	if err := r.Validate(); err != nil {
		return nil, status.Errorf(codes.Unauthenticated, "gatekeeper: the server names an invalid request: %v", err)
	}
	format, vp, err := p.Present(ctx, ch, r)
	if err != nil {
		return nil, status.Errorf(codes.Unauthenticated, "gatekeeper: the wallet presents nothing for %s on %s: %v", r.Action, r.Resource, err)
	}
	kv := []string{MetadataPresentation, string(vp), MetadataFormat, format}
	if r.Intent != "" {
		kv = append(kv, MetadataIntent, r.Intent)
	}
	if a := ApprovalFrom(ctx); a != "" {
		kv = append(kv, MetadataApproval, a)
	}
	return metadata.AppendToOutgoingContext(ctx, kv...), nil
}

// challengeOf reads a gatekeeper's challenge from a call's error: code
// Unauthenticated with one ChallengeResponse and one Request in details.
func challengeOf(err error) (presentation.Challenge, presentation.Request, bool) {
	st, ok := status.FromError(err)
	if !ok || st.Code() != codes.Unauthenticated {
		return presentation.Challenge{}, presentation.Request{}, false
	}
	var ch *mandatev1.ChallengeResponse
	var r *mandatev1.Request
	for _, d := range st.Details() {
		switch d := d.(type) {
		case *mandatev1.ChallengeResponse:
			if ch != nil {
				return presentation.Challenge{}, presentation.Request{}, false
			}
			ch = d
		case *mandatev1.Request:
			if r != nil {
				return presentation.Challenge{}, presentation.Request{}, false
			}
			r = d
		}
	}
	if ch == nil || r == nil || ch.GetNonce() == "" {
		return presentation.Challenge{}, presentation.Request{}, false
	}
	return presentation.Challenge{Nonce: ch.GetNonce(), Audience: ch.GetAudience(), ExpiresAt: ch.GetExpiresAt().AsTime(), Formats: ch.GetFormats()},
		presentation.Request{Action: r.GetAction(), Resource: r.GetResource(), Intent: r.GetIntent(), Context: r.GetContext()}, true
}

// ErrorDecision returns the decision a protected service refused a call
// with (its AuthorizeResponse detail: DENY with reasons, NEEDS_APPROVAL with
// the approval id). It reports false for any other error.
func ErrorDecision(err error) (presentation.Decision, bool) {
	st, ok := status.FromError(err)
	if !ok || st.Code() == codes.OK {
		return presentation.Decision{}, false
	}
	for _, d := range st.Details() {
		if r, ok := d.(*mandatev1.AuthorizeResponse); ok {
			return FromProto(r), true
		}
	}
	return presentation.Decision{}, false
}
