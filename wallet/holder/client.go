package holder

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strings"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/mandate-dev/mandate/presentation"
	"github.com/mandate-dev/mandate/presentation/gatekeeper"
	mandatev1 "github.com/mandate-dev/mandate/protos/mandate/v1"
)

// MaxResponseBytes bounds what the client reads from the wallet: one
// presentation, or a list of powers.
const MaxResponseBytes = presentation.MaxPresentationBytes + 64<<10

// Client asks a wallet service to present. It is a gatekeeper.Presenter.
type Client struct {
	rpc  mandatev1.WalletServiceClient
	conn *grpc.ClientConn
}

// Dial connects to the wallet service on the Unix socket at path. The
// connection is made on the first call; the socket's file mode decides
// whether it is allowed (no transport security is needed on a local
// socket).
func Dial(path string) (*Client, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("holder: socket path: %w", err)
	}
	conn, err := grpc.NewClient("unix://"+abs,
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(MaxResponseBytes)))
	if err != nil {
		return nil, fmt.Errorf("holder: dial %s: %w", abs, err)
	}
	return &Client{rpc: mandatev1.NewWalletServiceClient(conn), conn: conn}, nil
}

// NewClient wraps a WalletService client (a connection the caller owns).
func NewClient(rpc mandatev1.WalletServiceClient) *Client { return &Client{rpc: rpc} }

// Close closes the connection Dial made (nothing for NewClient's).
func (c *Client) Close() error {
	if c.conn == nil {
		return nil
	}
	return c.conn.Close()
}

// Present implements gatekeeper.Presenter: the wallet's presentation of req
// bound to ch, and its format. When the wallet holds no chain that covers
// or forbids req, the error wraps presentation.ErrNoChain.
func (c *Client) Present(ctx context.Context, ch presentation.Challenge, req presentation.Request) (string, []byte, error) {
	format, vp, _, err := c.PresentChain(ctx, ch, req)
	return format, vp, err
}

// PresentChain is Present that also returns the wallet's id of the chain
// presented.
func (c *Client) PresentChain(ctx context.Context, ch presentation.Challenge, req presentation.Request) (format string, vp []byte, chainID string, err error) {
	in := &mandatev1.PresentRequest{
		Challenge: &mandatev1.ChallengeResponse{Nonce: ch.Nonce, Audience: ch.Audience, Formats: ch.Formats},
		Request:   &mandatev1.Request{Action: req.Action, Resource: req.Resource, Intent: req.Intent, Context: req.Context},
	}
	if !ch.ExpiresAt.IsZero() {
		in.Challenge.ExpiresAt = timestamppb.New(ch.ExpiresAt)
	}
	r, err := c.rpc.Present(ctx, in)
	if err != nil {
		return "", nil, "", callError("present", err)
	}
	// Fail closed on an answer that is not a presentation in a format the
	// challenge asked for.
	if len(r.GetPresentation()) == 0 {
		return "", nil, "", fmt.Errorf("holder: present: the wallet returned no presentation")
	}
	if !slices.Contains(ch.Formats, r.GetFormat()) {
		return "", nil, "", fmt.Errorf("holder: present: the wallet returned format %.32q, not one the challenge lists %v", r.GetFormat(), ch.Formats)
	}
	return r.GetFormat(), r.GetPresentation(), r.GetChainId(), nil
}

// Powers lists the wallet's grants and forbidden entries (Chain is the
// wallet's chain id), leaving out what the wallet service's clock says has
// expired or is not yet valid (ListPowers).
func (c *Client) Powers(ctx context.Context) (gatekeeper.Powers, error) {
	r, err := c.rpc.ListPowers(ctx, &mandatev1.ListPowersRequest{})
	if err != nil {
		return gatekeeper.Powers{}, callError("list powers", err)
	}
	var p gatekeeper.Powers
	for _, g := range r.GetGrants() {
		p.Grants = append(p.Grants, fromProto(g))
	}
	for _, f := range r.GetForbidden() {
		p.Forbidden = append(p.Forbidden, fromProto(f))
	}
	return p, nil
}

func fromProto(p *mandatev1.Power) gatekeeper.Power {
	return gatekeeper.Power{Action: p.GetAction(), Resource: p.GetResource(), Grant: p.GetGrantId(), Chain: p.GetChainId(), Format: p.GetFormat()}
}

// Identity returns the wallet's primary DID and its other DIDs that hold
// chains.
func (c *Client) Identity(ctx context.Context) (did string, others []string, err error) {
	r, err := c.rpc.Identity(ctx, &mandatev1.IdentityRequest{})
	if err != nil {
		return "", nil, callError("identity", err)
	}
	if r.GetDid() == "" {
		return "", nil, fmt.Errorf("holder: identity: the wallet returned no DID")
	}
	return r.GetDid(), r.GetOtherDids(), nil
}

// callError wraps a failed call; NotFound wraps presentation.ErrNoChain so
// that callers can errors.Is it.
func callError(op string, err error) error {
	if s, ok := status.FromError(err); ok && s.Code() == codes.NotFound {
		// The wallet's message starts with ErrNoChain's text: keep its detail once.
		detail, found := strings.CutPrefix(s.Message(), presentation.ErrNoChain.Error())
		if !found {
			detail = ": " + s.Message()
		}
		return fmt.Errorf("holder: %s: %w%s", op, presentation.ErrNoChain, detail)
	}
	return fmt.Errorf("holder: %s: %w", op, err)
}
