package holder

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"

	"github.com/mandate-dev/mandate/credentials"
	"github.com/mandate-dev/mandate/presentation"
	"github.com/mandate-dev/mandate/presentation/gatekeeper"
	mandatev1 "github.com/mandate-dev/mandate/protos/mandate/v1"
	"github.com/mandate-dev/mandate/wallet"
)

// Limits on a Present call.
const (
	// MaxRequestBytes bounds a gRPC message to the wallet: a challenge and
	// one request (presentation.Request's own limits fit well inside).
	MaxRequestBytes = 64 << 10
	// MaxNonceBytes bounds a challenge's nonce.
	MaxNonceBytes = 512
	// MaxAudienceBytes bounds a challenge's audience.
	MaxAudienceBytes = 2048
)

// Decisions the wallet's log records for a presentation it made (the
// verifier's answer is not known to the wallet service).
const (
	// LogPresented: a chain that covers the request was presented.
	LogPresented = "PRESENTED"
	// LogPresentedForbidding: no chain covers the request, and one that
	// forbids it was presented so that the verifier records FORBIDDEN.
	LogPresentedForbidding = "PRESENTED_FORBIDDING"
)

var (
	// errInput marks a malformed call (InvalidArgument).
	errInput = errors.New("holder: invalid request")
	// errExpired marks a challenge past its expiry (FailedPrecondition).
	errExpired = errors.New("holder: challenge expired")
)

// Server implements mandatev1.WalletServiceServer over a wallet.
type Server struct {
	mandatev1.UnimplementedWalletServiceServer
	w   *wallet.Wallet
	log *slog.Logger
	now func() time.Time
}

// NewServer returns the service for w. log may be nil (discard); now is the
// clock (nil: time.Now).
func NewServer(w *wallet.Wallet, log *slog.Logger, now func() time.Time) *Server {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if now == nil {
		now = time.Now
	}
	return &Server{w: w, log: log, now: now}
}

// NewGRPCServer returns a gRPC server with the wallet service, the standard
// health service (serving), and a MaxRequestBytes limit on what it reads.
func NewGRPCServer(w *wallet.Wallet, log *slog.Logger, now func() time.Time, opts ...grpc.ServerOption) *grpc.Server {
	opts = append([]grpc.ServerOption{grpc.MaxRecvMsgSize(MaxRequestBytes)}, opts...)
	s := grpc.NewServer(opts...)
	mandatev1.RegisterWalletServiceServer(s, NewServer(w, log, now))
	h := health.NewServer()
	h.SetServingStatus("", healthpb.HealthCheckResponse_SERVING)
	h.SetServingStatus(mandatev1.WalletService_ServiceDesc.ServiceName, healthpb.HealthCheckResponse_SERVING)
	healthpb.RegisterHealthServer(s, h)
	return s
}

// Identity implements mandatev1.WalletServiceServer: the primary DID, and
// the wallet's BLS12-381 G2 did:keys that hold BBS+ chains.
func (s *Server) Identity(context.Context, *mandatev1.IdentityRequest) (*mandatev1.IdentityResponse, error) {
	c, err := loadChains(s.w)
	if err != nil {
		return nil, s.toStatus("identity", err)
	}
	out := &mandatev1.IdentityResponse{Did: s.w.DID()}
	for _, chain := range c.held.BBS {
		if len(chain) == 0 {
			continue
		}
		id := chain[len(chain)-1].Subject.ID
		if _, err := s.w.BBSSigner(id); err == nil && id != out.Did && !slices.Contains(out.OtherDids, id) {
			out.OtherDids = append(out.OtherDids, id)
		}
	}
	return out, nil
}

// Present implements mandatev1.WalletServiceServer.
func (s *Server) Present(ctx context.Context, in *mandatev1.PresentRequest) (*mandatev1.PresentResponse, error) {
	now := s.now()
	ch, req, err := presentInput(in, now)
	if err != nil {
		return nil, s.toStatus("present", err)
	}
	// Chains are read on each call, so that an import or a delete made
	// while the service runs is seen by the next presentation.
	c, err := loadChains(s.w)
	if err != nil {
		return nil, s.toStatus("present", err)
	}
	if _, err := presentation.PickFormat(ch.Formats, c.held.Formats()); err != nil {
		return nil, s.toStatus("present", fmt.Errorf("%w: %w", presentation.ErrNoChain, err))
	}
	h := gatekeeper.Holder{Signer: s.w, Held: c.held, Now: func() time.Time { return now }}
	format, vp, err := h.Present(ctx, ch, req)
	if err != nil {
		return nil, s.toStatus("present", err)
	}
	id, decision := c.presented(s.w, format, req, now)
	if err := s.record(wallet.LogEntry{
		Time: now, Verifier: ch.Audience, Audience: ch.Audience, Chain: id,
		Action: req.Action, Resource: req.Resource, Intent: req.Intent, Decision: decision,
	}); err != nil {
		return nil, s.toStatus("present", err)
	}
	s.log.Info("presented", "audience", ch.Audience, "action", req.Action, "resource", req.Resource, "format", format, "chain", id, "decision", decision)
	return &mandatev1.PresentResponse{Format: format, Presentation: vp, ChainId: id}, nil
}

// record appends e to the wallet's log. A presentation the wallet cannot
// record is not handed out: the log is the owner's account of what the
// agent was given.
func (s *Server) record(e wallet.LogEntry) error {
	_, err := s.w.Log(e)
	return err
}

// presentInput checks a Present call before any chain is read.
func presentInput(in *mandatev1.PresentRequest, now time.Time) (presentation.Challenge, presentation.Request, error) {
	pc, pr := in.GetChallenge(), in.GetRequest()
	bad := func(what string, args ...any) error {
		return fmt.Errorf("%w: "+what, append([]any{errInput}, args...)...)
	}
	switch {
	case pc == nil:
		return presentation.Challenge{}, presentation.Request{}, bad("challenge is missing")
	case pc.GetNonce() == "":
		return presentation.Challenge{}, presentation.Request{}, bad("challenge nonce is empty")
	case len(pc.GetNonce()) > MaxNonceBytes:
		return presentation.Challenge{}, presentation.Request{}, bad("challenge nonce is longer than %d bytes", MaxNonceBytes)
	case pc.GetAudience() == "":
		return presentation.Challenge{}, presentation.Request{}, bad("challenge audience is empty")
	case len(pc.GetAudience()) > MaxAudienceBytes:
		return presentation.Challenge{}, presentation.Request{}, bad("challenge audience is longer than %d bytes", MaxAudienceBytes)
	case pc.GetExpiresAt() == nil:
		return presentation.Challenge{}, presentation.Request{}, bad("challenge has no expiry")
	case pr == nil:
		return presentation.Challenge{}, presentation.Request{}, bad("request is missing")
	}
	if err := checkFormats(pc.GetFormats()); err != nil {
		return presentation.Challenge{}, presentation.Request{}, fmt.Errorf("%w: %w", errInput, err)
	}
	ch := presentation.Challenge{Nonce: pc.GetNonce(), Audience: pc.GetAudience(), ExpiresAt: pc.GetExpiresAt().AsTime(), Formats: pc.GetFormats()}
	req := presentation.Request{Action: pr.GetAction(), Resource: pr.GetResource(), Intent: pr.GetIntent(), Context: pr.GetContext()}
	if err := req.Validate(); err != nil {
		return ch, req, fmt.Errorf("%w: %w", errInput, err)
	}
	// A presentation for an expired challenge would only be refused by the
	// verifier: the caller must fetch a fresh one.
	if !now.Before(ch.ExpiresAt) {
		return ch, req, fmt.Errorf("%w at %s", errExpired, ch.ExpiresAt.UTC().Format(time.RFC3339))
	}
	return ch, req, nil
}

// checkFormats refuses no formats, an unknown one, or one listed twice.
func checkFormats(formats []string) error {
	known := []string{presentation.FormatBBS, presentation.FormatSDJWT, presentation.FormatLDP}
	if len(formats) == 0 {
		return errors.New("challenge lists no formats")
	}
	if len(formats) > len(known) {
		return fmt.Errorf("challenge lists %d formats, at most %d", len(formats), len(known))
	}
	for i, f := range formats {
		switch {
		case !slices.Contains(known, f):
			return fmt.Errorf("challenge format %.32q is unknown (known: %s)", f, strings.Join(known, ", "))
		case slices.Contains(formats[:i], f):
			return fmt.Errorf("challenge format %s is listed twice", f)
		}
	}
	return nil
}

// presented names the chain Held.Present (or PresentForbidding) chose, by
// the same selection with the same clock, and the log's decision.
func (c chains) presented(w *wallet.Wallet, format string, req presentation.Request, now time.Time) (string, string) {
	switch format {
	case presentation.FormatBBS:
		signer := credentials.Signer(w)
		if c.held.BBSHolder != nil {
			signer = c.held.BBSHolder
		}
		if sel, err := presentation.SelectBBS(c.held.BBS, signer.DID(), req.Action, req.Resource, now); err == nil {
			return c.id(format, slices.IndexFunc(c.held.BBS, func(l []*credentials.Credential) bool { return len(l) > 0 && &l[0] == &sel.Chain[0] })), LogPresented
		}
	case presentation.FormatSDJWT:
		if sel, err := presentation.SelectSDJWT(c.held.SDJWT, w.DID(), req.Action, req.Resource, now); err == nil {
			for i, l := range c.held.SDJWT {
				if len(l) > 0 && l[0] == sel.Chain[0] {
					return c.id(format, i), LogPresented
				}
			}
		}
	case presentation.FormatLDP:
		if chain, err := presentation.Select(c.held.LDP, w.DID(), req.Action, req.Resource, now); err == nil {
			return c.id(format, slices.IndexFunc(c.held.LDP, func(l []*credentials.Credential) bool { return len(l) > 0 && &l[0] == &chain[0] })), LogPresented
		}
		// PresentForbidding's choice: the first LDP chain granted to the
		// wallet with a link that forbids req.
		for i, chain := range c.held.LDP {
			if len(chain) == 0 || chain[len(chain)-1].Subject.ID != w.DID() {
				continue
			}
			for _, l := range chain {
				if slices.ContainsFunc(l.Subject.Forbidden, func(f credentials.Forbidden) bool { return f.Forbids(req.Action, req.Resource) }) {
					return c.id(format, i), LogPresentedForbidding
				}
			}
		}
	}
	return "", LogPresented
}

// ListPowers implements mandatev1.WalletServiceServer with
// gatekeeper.Holder.Powers at the server's clock (no expired or not yet
// valid chain, no grant outside its window), naming each chain by its
// wallet id.
func (s *Server) ListPowers(ctx context.Context, _ *mandatev1.ListPowersRequest) (*mandatev1.ListPowersResponse, error) {
	c, err := loadChains(s.w)
	if err != nil {
		return nil, s.toStatus("list powers", err)
	}
	p, err := gatekeeper.Holder{Signer: s.w, Held: c.held, Now: s.now}.Powers(ctx)
	if err != nil {
		return nil, s.toStatus("list powers", err)
	}
	out := &mandatev1.ListPowersResponse{}
	for _, set := range []struct {
		from []gatekeeper.Power
		to   *[]*mandatev1.Power
	}{{p.Grants, &out.Grants}, {p.Forbidden, &out.Forbidden}} {
		for _, g := range set.from {
			id, err := c.walletID(g.Chain)
			if err != nil {
				return nil, s.toStatus("list powers", err)
			}
			*set.to = append(*set.to, &mandatev1.Power{Action: g.Action, Resource: g.Resource, GrantId: g.Grant, ChainId: id, Format: g.Format})
		}
	}
	return out, nil
}

// walletID maps gatekeeper.Holder.Powers' chain id ("format/index") to the
// wallet's id of that chain.
func (c chains) walletID(holderID string) (string, error) {
	f, n, ok := strings.Cut(holderID, "/")
	i, err := strconv.Atoi(n)
	if id := c.id(f, i); ok && err == nil && id != "" {
		return id, nil
	}
	return "", fmt.Errorf("holder: no wallet chain for %q", holderID)
}

// toStatus is the one place where errors become gRPC codes. An error that
// is not the caller's is logged and answered without detail.
func (s *Server) toStatus(op string, err error) error {
	switch {
	case errors.Is(err, errInput):
		return status.Error(codes.InvalidArgument, err.Error())
	case errors.Is(err, errExpired):
		return status.Error(codes.FailedPrecondition, err.Error())
	case errors.Is(err, presentation.ErrNoChain):
		return status.Error(codes.NotFound, err.Error())
	case errors.Is(err, context.Canceled):
		return status.Error(codes.Canceled, "canceled")
	case errors.Is(err, context.DeadlineExceeded):
		return status.Error(codes.DeadlineExceeded, "deadline exceeded")
	}
	s.log.Error("wallet service error", "op", op, "err", err)
	return status.Error(codes.Internal, "holder: wallet error")
}
