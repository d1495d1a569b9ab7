package gatekeeper

import (
	"context"
	"errors"
	"fmt"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/mandate-dev/mandate/presentation"
	mandatev1 "github.com/mandate-dev/mandate/protos/mandate/v1"
)

// MaxMessageBytes bounds a gRPC message: a full presentation plus the request.
const MaxMessageBytes = presentation.MaxPresentationBytes + 64<<10

// errInput marks a request that is malformed before any decision is made.
var errInput = errors.New("gatekeeper: invalid request")

// Server implements mandatev1.VerifierServiceServer over a Verifier.
type Server struct {
	mandatev1.UnimplementedVerifierServiceServer
	v *presentation.Verifier
}

// NewServer returns the service for v.
func NewServer(v *presentation.Verifier) *Server { return &Server{v: v} }

// NewGRPCServer returns a gRPC server with the verifier service, the
// standard health service (serving), and message size limits.
func NewGRPCServer(v *presentation.Verifier, opts ...grpc.ServerOption) *grpc.Server {
	opts = append([]grpc.ServerOption{grpc.MaxRecvMsgSize(MaxMessageBytes)}, opts...)
	s := grpc.NewServer(opts...)
	mandatev1.RegisterVerifierServiceServer(s, NewServer(v))
	mandatev1.RegisterApprovalServiceServer(s, NewApprovalServer(v))
	h := health.NewServer()
	h.SetServingStatus("", healthpb.HealthCheckResponse_SERVING)
	h.SetServingStatus(mandatev1.VerifierService_ServiceDesc.ServiceName, healthpb.HealthCheckResponse_SERVING)
	h.SetServingStatus(mandatev1.ApprovalService_ServiceDesc.ServiceName, healthpb.HealthCheckResponse_SERVING)
	healthpb.RegisterHealthServer(s, h)
	return s
}

// Challenge implements mandatev1.VerifierServiceServer.
func (s *Server) Challenge(ctx context.Context, _ *mandatev1.ChallengeRequest) (*mandatev1.ChallengeResponse, error) {
	ch, err := s.v.Challenge(ctx)
	if err != nil {
		return nil, toStatus(err)
	}
	return &mandatev1.ChallengeResponse{
		Nonce: ch.Nonce, Audience: ch.Audience, ExpiresAt: timestamppb.New(ch.ExpiresAt), Formats: ch.Formats,
	}, nil
}

// Authorize implements mandatev1.VerifierServiceServer.
func (s *Server) Authorize(ctx context.Context, in *mandatev1.AuthorizeRequest) (*mandatev1.AuthorizeResponse, error) {
	req, err := fromProto(in)
	if err != nil {
		return nil, toStatus(err)
	}
	// Fail closed: only the formats of the verifier's policy are decided.
	if !s.v.Accepts(in.GetFormat()) {
		return nil, toStatus(errors.Join(errInput, fmt.Errorf("format %.32q is not accepted by this verifier", in.GetFormat())))
	}
	opts := []presentation.AuthorizeOption{presentation.WithFormat(in.GetFormat())}
	if a := in.GetApproval(); a != "" {
		opts = append(opts, presentation.WithApproval(a))
	}
	return ToProto(s.v.Authorize(ctx, in.GetPresentation(), req, opts...)), nil
}

// Refuse implements mandatev1.VerifierServiceServer: a gatekeeper's refusal
// before any presentation, recorded (presentation.Verifier.Refuse bounds
// what it keeps, and can only deny).
func (s *Server) Refuse(_ context.Context, in *mandatev1.RefuseRequest) (*mandatev1.RefuseResponse, error) {
	r := in.GetRequest()
	req := presentation.Request{Action: r.GetAction(), Resource: r.GetResource(), Intent: r.GetIntent(), Context: r.GetContext()}
	d := s.v.Refuse(req, presentation.Reason(in.GetReason()), "%s", in.GetMessage())
	return &mandatev1.RefuseResponse{Decision: ToProto(d)}, nil
}

func fromProto(in *mandatev1.AuthorizeRequest) (presentation.Request, error) {
	r := in.GetRequest()
	switch {
	case r == nil:
		return presentation.Request{}, errors.Join(errInput, errors.New("request is missing"))
	case len(in.GetPresentation()) == 0:
		return presentation.Request{}, errors.Join(errInput, errors.New("presentation is missing"))
	}
	return presentation.Request{Action: r.GetAction(), Resource: r.GetResource(), Intent: r.GetIntent(), Context: r.GetContext()}, nil
}

// ToProto converts a Decision for the wire.
func ToProto(d presentation.Decision) *mandatev1.AuthorizeResponse {
	out := &mandatev1.AuthorizeResponse{
		Decision: mandatev1.Decision_DECISION_DENY, Message: d.Message, Principal: d.Principal,
		Actor: d.Actor, Chain: d.Chain, GrantId: d.Grant, AuditId: d.AuditID, ApprovalId: d.ApprovalID,
	}
	if !d.RetryAt.IsZero() {
		out.RetryAt = timestamppb.New(d.RetryAt)
	}
	switch d.Outcome {
	case presentation.Allow:
		out.Decision = mandatev1.Decision_DECISION_ALLOW
	case presentation.NeedsApproval:
		out.Decision = mandatev1.Decision_DECISION_NEEDS_APPROVAL
	}
	for _, r := range d.Reasons {
		out.Reasons = append(out.Reasons, string(r))
	}
	for _, c := range d.Checks {
		out.Checkers = append(out.Checkers, &mandatev1.CheckerVerdict{Checker: c.Checker, Verdict: c.Verdict, Reason: c.Reason, Confidence: c.Confidence})
	}
	return out
}

// FromProto converts a wire decision back. Anything but an explicit ALLOW
// with no reasons is not an allow.
func FromProto(r *mandatev1.AuthorizeResponse) presentation.Decision {
	d := presentation.Decision{
		Outcome: presentation.Deny, Message: r.GetMessage(), Principal: r.GetPrincipal(),
		Actor: r.GetActor(), Chain: r.GetChain(), Grant: r.GetGrantId(), AuditID: r.GetAuditId(), ApprovalID: r.GetApprovalId(),
	}
	if r.GetRetryAt() != nil {
		d.RetryAt = r.GetRetryAt().AsTime()
	}
	for _, s := range r.GetReasons() {
		d.Reasons = append(d.Reasons, presentation.Reason(s))
	}
	for _, c := range r.GetCheckers() {
		d.Checks = append(d.Checks, presentation.CheckerVerdict{Checker: c.GetChecker(), Verdict: c.GetVerdict(), Reason: c.GetReason(), Confidence: c.GetConfidence()})
	}
	switch {
	case r.GetDecision() == mandatev1.Decision_DECISION_ALLOW && len(d.Reasons) == 0:
		d.Outcome = presentation.Allow
	case r.GetDecision() == mandatev1.Decision_DECISION_NEEDS_APPROVAL:
		d.Outcome = presentation.NeedsApproval
	}
	return d
}

// toStatus is the one place where errors become gRPC codes.
func toStatus(err error) error {
	switch {
	case errors.Is(err, errInput), errors.Is(err, presentation.ErrAnswerInvalid):
		return status.Error(codes.InvalidArgument, err.Error())
	case errors.Is(err, presentation.ErrApprovalNotFound):
		return status.Error(codes.NotFound, err.Error())
	case errors.Is(err, presentation.ErrApprovalClosed):
		return status.Error(codes.FailedPrecondition, err.Error())
	case errors.Is(err, context.Canceled):
		return status.Error(codes.Canceled, "canceled")
	case errors.Is(err, context.DeadlineExceeded):
		return status.Error(codes.DeadlineExceeded, "deadline exceeded")
	default:
		return status.Error(codes.Internal, "verifier error")
	}
}
