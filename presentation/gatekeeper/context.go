package gatekeeper

import (
	"context"

	"github.com/mandate-dev/mandate/presentation"
)

type (
	decisionKey struct{}
	intentKey   struct{}
	approvalKey struct{}
)

// NewContext returns ctx carrying the Decision that let a call through; the
// HTTP middleware and the gRPC interceptors set it before the handler runs.
func NewContext(ctx context.Context, d presentation.Decision) context.Context {
	return context.WithValue(ctx, decisionKey{}, d)
}

// DecisionFrom returns the Decision that let this call through, if any.
func DecisionFrom(ctx context.Context) (presentation.Decision, bool) {
	d, ok := ctx.Value(decisionKey{}).(presentation.Decision)
	return d, ok
}

// WithIntent returns ctx carrying the agent's stated reason for the calls
// made with it; the client halves bind it into their presentations.
func WithIntent(ctx context.Context, intent string) context.Context {
	return context.WithValue(ctx, intentKey{}, intent)
}

// IntentFrom returns the intent set by WithIntent ("" when none).
func IntentFrom(ctx context.Context) string {
	s, _ := ctx.Value(intentKey{}).(string)
	return s
}

// WithApproval returns ctx carrying a signed approval (the compact JWS of an
// answered approval request) for the client halves to attach.
func WithApproval(ctx context.Context, answer string) context.Context {
	return context.WithValue(ctx, approvalKey{}, answer)
}

// ApprovalFrom returns the approval set by WithApproval ("" when none).
func ApprovalFrom(ctx context.Context) string {
	s, _ := ctx.Value(approvalKey{}).(string)
	return s
}
