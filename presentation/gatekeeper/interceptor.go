package gatekeeper

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"unicode/utf8"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/protoadapt"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/mandate-dev/mandate/presentation"
	mandatev1 "github.com/mandate-dev/mandate/protos/mandate/v1"
)

// The gRPC metadata a protected call carries (docs/GRPC.md). Every key
// starting with MetadataPrefix is the gatekeeper's: the server interceptors
// take them out of the handler's incoming metadata.
const (
	MetadataPrefix = "mandate-"
	// MetadataPresentation is the presentation, raw bytes (at most
	// presentation.MaxPresentationBytes).
	MetadataPresentation = "mandate-presentation-bin"
	// MetadataFormat is the presentation's format ("ldp", "sd-jwt", "bbs").
	MetadataFormat = "mandate-format"
	// MetadataIntent is the agent's stated reason, UTF-8 (at most
	// presentation.MaxIntentBytes); it becomes the request's intent.
	MetadataIntent = "mandate-intent-bin"
	// MetadataApproval is a signed approval, a compact JWS (at most
	// presentation.MaxAnswerBytes).
	MetadataApproval = "mandate-approval"
	// MetadataDecision is the header a server interceptor sends on ALLOW
	// ("ALLOW"), before the handler runs; a stream client waits for it.
	MetadataDecision = "mandate-decision"
	// MetadataAuditID is the ALLOW's audit record id, sent with
	// MetadataDecision.
	MetadataAuditID = "mandate-audit-id"
)

// maxFormatBytes bounds the format value (the longest known format is 6 bytes).
const maxFormatBytes = 16

// MaxMetadataBytes is a header list size (grpc.MaxHeaderListSize) that
// admits the largest presentation, intent and approval the interceptors
// accept (binary values travel base64-encoded), plus 64 KiB for the call's
// other headers. gRPC's default, 16 MiB, reads far more before the
// interceptor can refuse it.
const MaxMetadataBytes = (presentation.MaxPresentationBytes+presentation.MaxIntentBytes)*4/3 + presentation.MaxAnswerBytes + 64<<10

// MethodMapper says which request a gRPC call is: its action, resource and
// context. For a stream req is nil (the interceptor runs before any message):
// map from the method and the incoming metadata. An error means the method
// is not mapped, and the call is refused (UNMAPPED). The mapper never sets
// Intent: that is the agent's, from MetadataIntent.
type MethodMapper func(ctx context.Context, fullMethod string, req any) (presentation.Request, error)

// ErrUnmappedMethod is what a MethodMapper built by MapMethods returns for
// a method it does not know.
var ErrUnmappedMethod = errors.New("gatekeeper: method is not mapped")

// MapMethods is a MethodMapper from a table of full method names
// ("/pkg.Service/Method"); any other method is unmapped.
func MapMethods(methods map[string]MethodMapper) MethodMapper {
	return func(ctx context.Context, fullMethod string, req any) (presentation.Request, error) {
		m, ok := methods[fullMethod]
		if !ok {
			return presentation.Request{}, ErrUnmappedMethod
		}
		return m(ctx, fullMethod, req)
	}
}

// InterceptorOption configures the server interceptors.
type InterceptorOption func(*interceptorConfig)

type interceptorConfig struct {
	exempt []string
	log    *slog.Logger
}

// ExemptMethods lets the named full methods ("/grpc.health.v1.Health/Check")
// through without any presentation or decision. Nothing is exempt unless
// named here; an exempt call's mandate-* metadata is still removed.
func ExemptMethods(fullMethods ...string) InterceptorOption {
	return func(c *interceptorConfig) { c.exempt = append(c.exempt, fullMethods...) }
}

// InterceptorLogger logs every refused call and decision (nil: discard).
func InterceptorLogger(l *slog.Logger) InterceptorOption {
	return func(c *interceptorConfig) { c.log = l }
}

// UnaryServerInterceptor protects unary calls: every call must carry a
// presentation, decided by d, for the request m maps it to; the handler runs
// only on ALLOW, with the Decision in its context (DecisionFrom).
func UnaryServerInterceptor(d Decider, m MethodMapper, opts ...InterceptorOption) grpc.UnaryServerInterceptor {
	g := newGuard(d, m, opts)
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		inner, err := g.admit(ctx, info.FullMethod, req, grpc.SetHeader)
		if err != nil {
			return nil, err
		}
		return handler(inner, req)
	}
}

// StreamServerInterceptor protects streams as UnaryServerInterceptor does
// unary calls; m is called with a nil request. On ALLOW the interceptor
// sends the response headers (MetadataDecision) before the handler runs, so
// a protected stream handler may set trailers but not headers.
func StreamServerInterceptor(d Decider, m MethodMapper, opts ...InterceptorOption) grpc.StreamServerInterceptor {
	g := newGuard(d, m, opts)
	return func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
		// The headers go out now: a stream client waits for them before it
		// hands the stream to its caller (docs/GRPC.md, the stream protocol).
		ctx, err := g.admit(ss.Context(), info.FullMethod, nil, grpc.SendHeader)
		if err != nil {
			return err
		}
		return handler(srv, decidedStream{ss, ctx})
	}
}

// decidedStream is a ServerStream whose context carries the Decision.
type decidedStream struct {
	grpc.ServerStream
	ctx context.Context
}

func (s decidedStream) Context() context.Context { return s.ctx }

type guard struct {
	d   Decider
	m   MethodMapper
	cfg interceptorConfig
}

func newGuard(d Decider, m MethodMapper, opts []InterceptorOption) *guard {
	g := &guard{d: d, m: m}
	for _, o := range opts {
		o(&g.cfg)
	}
	if g.cfg.log == nil {
		g.cfg.log = slog.New(slog.DiscardHandler)
	}
	return g
}

// admit decides one call. It returns the handler's context, or the status
// error the call ends with; nothing but an ALLOW returns a nil error. On
// ALLOW it gives the decision headers to header (grpc.SetHeader or
// grpc.SendHeader).
func (g *guard) admit(ctx context.Context, method string, req any, header func(context.Context, metadata.MD) error) (context.Context, error) {
	md, _ := metadata.FromIncomingContext(ctx)
	inner := metadata.NewIncomingContext(ctx, withoutMandate(md))
	if slices.Contains(g.cfg.exempt, method) {
		return inner, nil
	}
	if g.d == nil || g.m == nil {
		return nil, status.Error(codes.Unavailable, "gatekeeper: interceptor has no decider or method mapper")
	}
	r, err := g.mapCall(ctx, method, req)
	if err != nil {
		return nil, g.refuse(ctx, method, presentation.Request{}, codes.PermissionDenied, presentation.ReasonUnmapped, fmt.Sprintf("method %.128q: %v", method, err))
	}
	c, err := parseCarried(md)
	if err != nil {
		code := codes.InvalidArgument
		if errors.Is(err, errTooLarge) {
			code = codes.ResourceExhausted
		}
		return nil, g.refuse(ctx, method, r, code, presentation.ReasonMalformed, err.Error())
	}
	r.Intent = c.intent
	if err := r.Validate(); err != nil {
		return nil, g.refuse(ctx, method, r, codes.InvalidArgument, presentation.ReasonMalformed, "gatekeeper: mapped "+err.Error())
	}
	if len(c.vp) == 0 {
		return nil, g.challenge(ctx, method, r)
	}
	dec, err := g.d.Decide(ctx, c.format, c.vp, r, c.approval)
	if errors.Is(err, ErrInvalidPresentation) {
		return nil, g.refuse(ctx, method, r, codes.InvalidArgument, presentation.ReasonMalformed, err.Error())
	}
	if err != nil {
		g.cfg.log.Error("gatekeeper: decide failed", "method", method, "action", r.Action, "resource", r.Resource, "error", err)
		return nil, status.Error(codes.Unavailable, "gatekeeper: the verifier could not decide")
	}
	g.cfg.log.Info("gatekeeper: decision", "method", method, "outcome", dec.Outcome.String(), "reasons", dec.Reasons,
		"action", r.Action, "resource", r.Resource, "audit", dec.AuditID)
	if !dec.Allowed() {
		return nil, decisionStatus(dec)
	}
	if err := header(ctx, metadata.Pairs(MetadataDecision, presentation.Allow.String(), MetadataAuditID, dec.AuditID)); err != nil {
		g.cfg.log.Error("gatekeeper: send header", "method", method, "error", err)
		return nil, status.Error(codes.Unavailable, "gatekeeper: could not send the decision")
	}
	return NewContext(inner, dec), nil
}

// mapCall calls the mapper; a mapper that panics (a type assertion on a
// stream's nil request) maps nothing.
func (g *guard) mapCall(ctx context.Context, method string, req any) (r presentation.Request, err error) {
	defer func() {
		if p := recover(); p != nil {
			r, err = presentation.Request{}, fmt.Errorf("gatekeeper: the method mapper panicked: %v", p)
		}
	}()
	return g.m(ctx, method, req)
}

func (g *guard) refuse(ctx context.Context, method string, r presentation.Request, code codes.Code, reason presentation.Reason, msg string) error {
	dec := g.d.Refuse(ctx, r, reason, msg)
	g.cfg.log.Info("gatekeeper: refused", "method", method, "reason", reason, "message", msg, "audit", dec.AuditID)
	return withDetails(code, string(reason)+": "+msg, ToProto(dec))
}

// challenge answers a call without a presentation: a fresh challenge and
// the request as mapped, so that the client can present exactly that.
func (g *guard) challenge(ctx context.Context, method string, r presentation.Request) error {
	ch, err := g.d.Challenge(ctx)
	if err != nil {
		g.cfg.log.Error("gatekeeper: challenge failed", "method", method, "error", err)
		return status.Error(codes.Unavailable, "gatekeeper: the verifier could not give a challenge")
	}
	return withDetails(codes.Unauthenticated, "gatekeeper: a presentation is required for "+r.Action+" on "+r.Resource,
		&mandatev1.ChallengeResponse{Nonce: ch.Nonce, Audience: ch.Audience, ExpiresAt: timestamppb.New(ch.ExpiresAt), Formats: ch.Formats},
		&mandatev1.Request{Action: r.Action, Resource: r.Resource, Intent: r.Intent, Context: r.Context})
}

// decisionStatus is the status of a decision that is not an ALLOW.
func decisionStatus(d presentation.Decision) error {
	code := codes.PermissionDenied
	switch {
	case d.Outcome == presentation.NeedsApproval:
		code = codes.FailedPrecondition
	case slices.Contains(d.Reasons, presentation.ReasonRateLimited):
		code = codes.ResourceExhausted
	}
	msg := d.Outcome.String()
	for _, r := range d.Reasons {
		msg += " " + string(r)
	}
	if d.Message != "" {
		msg += ": " + d.Message
	}
	return withDetails(code, msg, ToProto(d))
}

// withDetails is a status error carrying details; if they cannot be
// attached the code and message still go out (the call is refused anyway).
func withDetails(code codes.Code, msg string, details ...protoadapt.MessageV1) error {
	st := status.New(code, msg)
	if with, err := st.WithDetails(details...); err == nil {
		st = with
	}
	return st.Err()
}

// carried is what the call's metadata carries for the gatekeeper.
type carried struct {
	vp       []byte
	format   string
	intent   string
	approval string
}

var errTooLarge = errors.New("too large")

// parseCarried reads and bounds the gatekeeper's metadata: each key at most
// once, each value within its limit, the intent UTF-8, a presentation with
// a known format.
func parseCarried(md metadata.MD) (carried, error) {
	one := func(key string, limit int) (string, error) {
		vs := md.Get(key)
		switch {
		case len(vs) > 1:
			return "", fmt.Errorf("gatekeeper: metadata %s is given %d times", key, len(vs))
		case len(vs) == 0:
			return "", nil
		case len(vs[0]) > limit:
			return "", fmt.Errorf("gatekeeper: metadata %s is %d bytes, limit %d: %w", key, len(vs[0]), limit, errTooLarge)
		}
		return vs[0], nil
	}
	var c carried
	vp, err := one(MetadataPresentation, presentation.MaxPresentationBytes)
	if err != nil {
		return c, err
	}
	c.vp = []byte(vp)
	if c.format, err = one(MetadataFormat, maxFormatBytes); err != nil {
		return c, err
	}
	if c.intent, err = one(MetadataIntent, presentation.MaxIntentBytes); err != nil {
		return c, err
	}
	if c.approval, err = one(MetadataApproval, presentation.MaxAnswerBytes); err != nil {
		return c, err
	}
	switch {
	case !utf8.ValidString(c.intent):
		return c, errors.New("gatekeeper: metadata " + MetadataIntent + " is not UTF-8")
	case len(c.vp) > 0 && c.format != presentation.FormatLDP && c.format != presentation.FormatSDJWT && c.format != presentation.FormatBBS:
		return c, fmt.Errorf("gatekeeper: metadata %s %.16q is not a known format (%s, %s, %s)", MetadataFormat, c.format,
			presentation.FormatLDP, presentation.FormatSDJWT, presentation.FormatBBS)
	}
	return c, nil
}

// withoutMandate is md without the gatekeeper's keys: the handler never
// sees a presentation it could reuse.
func withoutMandate(md metadata.MD) metadata.MD {
	out := metadata.MD{}
	for k, v := range md {
		if !strings.HasPrefix(k, MetadataPrefix) {
			out[k] = v
		}
	}
	return out
}
