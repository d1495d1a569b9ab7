package external

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/mandate-dev/mandate/intent"
	mandatev1 "github.com/mandate-dev/mandate/protos/mandate/v1"
)

// SocketEnv is the environment variable that gives a plugin the path of the
// unix socket it must listen on.
const SocketEnv = "MANDATE_INTENT_PLUGIN_SOCKET"

// Serve is a plugin's main loop: it listens on the socket named by
// SocketEnv (mode 0600) and serves checker until ctx is done.
func Serve(ctx context.Context, checker intent.Checker) error {
	path := os.Getenv(SocketEnv)
	if path == "" {
		return errors.New("external: " + SocketEnv + " is not set (is this program running as a plugin?)")
	}
	if !filepath.IsAbs(path) {
		return fmt.Errorf("external: %s %q is not an absolute path", SocketEnv, path)
	}
	lis, err := net.Listen("unix", path)
	if err != nil {
		return fmt.Errorf("external: %w", err)
	}
	if err := os.Chmod(path, 0o600); err != nil {
		lis.Close()
		return fmt.Errorf("external: %w", err)
	}
	return ServeListener(ctx, lis, checker)
}

// ServeListener serves checker as an IntentCheckerService on lis until ctx
// is done; then it stops at once (a hung check does not hold it up) and
// returns nil. Messages are limited to MaxMessageBytes both ways.
func ServeListener(ctx context.Context, lis net.Listener, checker intent.Checker) error {
	if checker == nil {
		lis.Close()
		return errors.New("external: no checker to serve")
	}
	srv := grpc.NewServer(grpc.MaxRecvMsgSize(MaxMessageBytes), grpc.MaxSendMsgSize(MaxMessageBytes))
	mandatev1.RegisterIntentCheckerServiceServer(srv, &server{checker: checker})
	stop := context.AfterFunc(ctx, srv.Stop)
	defer stop()
	err := srv.Serve(lis)
	if ctx.Err() != nil {
		return nil
	}
	return fmt.Errorf("external: serve: %w", err)
}

type server struct {
	mandatev1.UnimplementedIntentCheckerServiceServer
	checker intent.Checker
}

func (s *server) Check(ctx context.Context, req *mandatev1.CheckRequest) (resp *mandatev1.CheckResponse, err error) {
	defer func() {
		if p := recover(); p != nil {
			resp, err = nil, status.Errorf(codes.Internal, "external: checker panicked: %v", p)
		}
	}()
	a, err := s.checker.Check(ctx, fromRequest(req))
	if err != nil {
		return nil, toStatus(err)
	}
	return toResponse(a)
}

// toStatus is the one place a checker's error becomes a gRPC status.
func toStatus(err error) error {
	code := codes.Unknown
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		code = codes.DeadlineExceeded
	case errors.Is(err, context.Canceled):
		code = codes.Canceled
	}
	return status.Error(code, cut(err.Error(), MaxReasonBytes))
}

func fromRequest(req *mandatev1.CheckRequest) intent.Request {
	g := req.GetGrant()
	return intent.Request{
		Action: req.GetAction(), Resource: req.GetResource(), Intent: req.GetIntent(), Context: req.GetContext(),
		Purposes: req.GetPurposes(), Principal: req.GetPrincipal(), Actor: req.GetActor(), Chain: req.GetChain(),
		Grant: intent.Grant{ID: g.GetId(), Action: g.GetAction(), Resource: g.GetResource(), Conditions: g.GetConditions()},
	}
}

func toResponse(a intent.Answer) (*mandatev1.CheckResponse, error) {
	resp := &mandatev1.CheckResponse{Reason: cut(a.Reason, MaxReasonBytes), Confidence: a.Confidence}
	switch a.Verdict {
	case intent.Allow:
		resp.Verdict = mandatev1.Verdict_VERDICT_ALLOW
	case intent.Deny:
		resp.Verdict = mandatev1.Verdict_VERDICT_DENY
	case intent.Escalate:
		resp.Verdict = mandatev1.Verdict_VERDICT_ESCALATE
	default:
		return nil, status.Errorf(codes.Internal, "external: checker gave unknown verdict %d", a.Verdict)
	}
	return resp, nil
}
