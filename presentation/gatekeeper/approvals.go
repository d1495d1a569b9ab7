package gatekeeper

import (
	"context"
	"errors"
	"fmt"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/mandate-dev/mandate/credentials"
	"github.com/mandate-dev/mandate/presentation"
	mandatev1 "github.com/mandate-dev/mandate/protos/mandate/v1"
)

// ApprovalServer implements mandatev1.ApprovalServiceServer over a Verifier.
type ApprovalServer struct {
	mandatev1.UnimplementedApprovalServiceServer
	v *presentation.Verifier
}

// NewApprovalServer returns the approval service for v.
func NewApprovalServer(v *presentation.Verifier) *ApprovalServer { return &ApprovalServer{v: v} }

// ListPending implements mandatev1.ApprovalServiceServer.
func (s *ApprovalServer) ListPending(context.Context, *mandatev1.ListPendingRequest) (*mandatev1.ListPendingResponse, error) {
	rs, err := s.v.PendingApprovals()
	if err != nil {
		return nil, toStatus(err)
	}
	out := &mandatev1.ListPendingResponse{}
	for _, r := range rs {
		out.Approvals = append(out.Approvals, ApprovalToProto(r))
	}
	return out, nil
}

// GetApproval implements mandatev1.ApprovalServiceServer.
func (s *ApprovalServer) GetApproval(_ context.Context, in *mandatev1.GetApprovalRequest) (*mandatev1.GetApprovalResponse, error) {
	r, err := s.v.Approval(in.GetId())
	if err != nil {
		return nil, toStatus(err)
	}
	return &mandatev1.GetApprovalResponse{Approval: ApprovalToProto(r)}, nil
}

// Answer implements mandatev1.ApprovalServiceServer.
func (s *ApprovalServer) Answer(ctx context.Context, in *mandatev1.AnswerRequest) (*mandatev1.AnswerResponse, error) {
	r, err := s.v.Answer(ctx, in.GetId(), in.GetAnswer())
	if err != nil {
		return nil, toStatus(err)
	}
	return &mandatev1.AnswerResponse{Approval: ApprovalToProto(r)}, nil
}

// Watch implements mandatev1.ApprovalServiceServer.
func (s *ApprovalServer) Watch(_ *mandatev1.WatchRequest, stream grpc.ServerStreamingServer[mandatev1.WatchResponse]) error {
	for r := range s.v.WatchApprovals(stream.Context()) {
		if err := stream.Send(&mandatev1.WatchResponse{Approval: ApprovalToProto(r)}); err != nil {
			return err
		}
	}
	return nil
}

var approvalStates = map[presentation.ApprovalState]mandatev1.ApprovalState{
	presentation.ApprovalPending:  mandatev1.ApprovalState_APPROVAL_STATE_PENDING,
	presentation.ApprovalApproved: mandatev1.ApprovalState_APPROVAL_STATE_APPROVED,
	presentation.ApprovalDenied:   mandatev1.ApprovalState_APPROVAL_STATE_DENIED,
	presentation.ApprovalUsed:     mandatev1.ApprovalState_APPROVAL_STATE_USED,
	presentation.ApprovalExpired:  mandatev1.ApprovalState_APPROVAL_STATE_EXPIRED,
}

// ApprovalToProto converts an approval request for the wire.
func ApprovalToProto(r presentation.ApprovalRequest) *mandatev1.Approval {
	return &mandatev1.Approval{
		Id: r.ID, State: approvalStates[r.State], Actor: r.Actor, Principal: r.Principal, Approvers: r.Approvers,
		Chain: r.Chain, GrantId: r.Grant, RequestDigest: r.RequestDigest, Audience: r.Audience,
		Request:   &mandatev1.Request{Action: r.Request.Action, Resource: r.Request.Resource, Intent: r.Request.Intent, Context: r.Request.Context},
		Created:   timestamppb.New(r.Created),
		ExpiresAt: timestamppb.New(r.Expires),
		Answer:    r.Answer, Approver: r.Approver,
	}
}

// ApprovalFromProto converts a wire approval request back. An unknown state
// is an error, never taken for approved.
func ApprovalFromProto(p *mandatev1.Approval) (presentation.ApprovalRequest, error) {
	r := presentation.ApprovalRequest{
		ID: p.GetId(), Actor: p.GetActor(), Principal: p.GetPrincipal(), Approvers: p.GetApprovers(),
		Chain: p.GetChain(), Grant: p.GetGrantId(), RequestDigest: p.GetRequestDigest(), Audience: p.GetAudience(),
		Created: p.GetCreated().AsTime(), Expires: p.GetExpiresAt().AsTime(), Answer: p.GetAnswer(), Approver: p.GetApprover(),
		Request: presentation.Request{Action: p.GetRequest().GetAction(), Resource: p.GetRequest().GetResource(),
			Intent: p.GetRequest().GetIntent(), Context: p.GetRequest().GetContext()},
	}
	for s, ps := range approvalStates {
		if ps == p.GetState() {
			r.State = s
			return r, nil
		}
	}
	return r, fmt.Errorf("gatekeeper: approval %s has unknown state %v", r.ID, p.GetState())
}

// ApprovalClient is the approver's (and the waiting agent's) side.
type ApprovalClient struct {
	rpc mandatev1.ApprovalServiceClient
}

// NewApprovalClient wraps an ApprovalService client.
func NewApprovalClient(rpc mandatev1.ApprovalServiceClient) *ApprovalClient {
	return &ApprovalClient{rpc: rpc}
}

// Pending lists the requests waiting for an answer.
func (c *ApprovalClient) Pending(ctx context.Context) ([]presentation.ApprovalRequest, error) {
	resp, err := c.rpc.ListPending(ctx, &mandatev1.ListPendingRequest{})
	if err != nil {
		return nil, fmt.Errorf("gatekeeper: list pending: %w", err)
	}
	var out []presentation.ApprovalRequest
	for _, p := range resp.GetApprovals() {
		r, err := ApprovalFromProto(p)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, nil
}

// Get fetches one request (with its signed answer once given).
func (c *ApprovalClient) Get(ctx context.Context, id string) (presentation.ApprovalRequest, error) {
	resp, err := c.rpc.GetApproval(ctx, &mandatev1.GetApprovalRequest{Id: id})
	if err != nil {
		return presentation.ApprovalRequest{}, fmt.Errorf("gatekeeper: get approval: %w", err)
	}
	return ApprovalFromProto(resp.GetApproval())
}

// Answer signs approve (or deny) for request id with the approver's key,
// valid for ttl, and sends it. The request is fetched first so that the
// approver signs exactly what the verifier recorded.
func (c *ApprovalClient) Answer(ctx context.Context, approver credentials.Signer, id string, approve bool, ttl time.Duration, now time.Time) (presentation.ApprovalRequest, error) {
	r, err := c.Get(ctx, id)
	if err != nil {
		return r, err
	}
	if r.State != presentation.ApprovalPending {
		return r, errors.New("gatekeeper: request " + id + " is " + string(r.State) + ", not pending")
	}
	token, err := presentation.SignAnswer(approver, r, approve, ttl, now)
	if err != nil {
		return r, err
	}
	resp, err := c.rpc.Answer(ctx, &mandatev1.AnswerRequest{Id: id, Answer: token})
	if err != nil {
		return r, fmt.Errorf("gatekeeper: answer: %w", err)
	}
	return ApprovalFromProto(resp.GetApproval())
}
