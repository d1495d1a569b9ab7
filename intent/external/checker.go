package external

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"

	"github.com/mandate-dev/mandate/intent"
	mandatev1 "github.com/mandate-dev/mandate/protos/mandate/v1"
)

// Name is the checker's registry name and its default Name().
const Name = "external"

// Limits of the wire protocol and of a plugin's life.
const (
	MaxMessageBytes     = 64 << 10 // one CheckRequest or CheckResponse
	MaxReasonBytes      = 1 << 10  // a reason is cut to this
	DefaultCallTimeout  = 10 * time.Second
	DefaultStartTimeout = 5 * time.Second
	MaxStartTimeout     = 60 * time.Second
	maxArgs             = 32
)

var checkerName = regexp.MustCompile(`^[a-z][a-z0-9-]{0,31}$`)

// Checker asks an IntentCheckerService. It is safe for concurrent use.
type Checker struct {
	name   string
	conn   *grpc.ClientConn
	client mandatev1.IntentCheckerServiceClient
	plugin *process // nil when dialled
	log    *slog.Logger
}

// Option configures Dial and Plugin.
type Option func(*options)

type options struct {
	name         string
	startTimeout time.Duration
	args, env    []string
	log          *slog.Logger
}

// WithName sets the name recorded in decisions (default "external").
func WithName(name string) Option { return func(o *options) { o.name = name } }

// WithStartTimeout bounds how long a plugin may take to listen (default
// DefaultStartTimeout, at most MaxStartTimeout).
func WithStartTimeout(d time.Duration) Option { return func(o *options) { o.startTimeout = d } }

// WithArgs passes command-line arguments to a plugin.
func WithArgs(args ...string) Option { return func(o *options) { o.args = args } }

// WithEnv names environment variables copied from this process to a
// plugin. A plugin sees nothing else of the environment but its socket.
func WithEnv(names ...string) Option { return func(o *options) { o.env = names } }

// WithLogger sets the logger (nil: discard). A plugin's stderr goes there.
func WithLogger(l *slog.Logger) Option { return func(o *options) { o.log = l } }

func buildOptions(opts []Option) (options, error) {
	o := options{name: Name, startTimeout: DefaultStartTimeout}
	for _, opt := range opts {
		opt(&o)
	}
	if o.log == nil {
		o.log = slog.New(slog.DiscardHandler)
	}
	switch {
	case !checkerName.MatchString(o.name):
		return o, fmt.Errorf("external: name %q is not [a-z][a-z0-9-]{0,31}", o.name)
	case o.startTimeout <= 0 || o.startTimeout > MaxStartTimeout:
		return o, fmt.Errorf("external: start timeout %s is not in (0, %s]", o.startTimeout, MaxStartTimeout)
	case len(o.args) > maxArgs:
		return o, fmt.Errorf("external: at most %d plugin arguments", maxArgs)
	}
	return o, nil
}

// Dial connects to a checker listening at address: "unix:///absolute/path"
// or a loopback TCP address ("127.0.0.1:7450", "[::1]:7450",
// "localhost:7450"). Anything else is refused: the protocol is plaintext
// gRPC and must not cross a network. No connection is made until the first
// Check.
func Dial(address string, opts ...Option) (*Checker, error) {
	o, err := buildOptions(opts)
	if err != nil {
		return nil, err
	}
	target, dial, err := parseAddress(address)
	if err != nil {
		return nil, err
	}
	return newChecker(target, dial, o, nil)
}

func newChecker(target string, dial func(context.Context, string) (net.Conn, error), o options, p *process) (*Checker, error) {
	conn, err := grpc.NewClient(target,
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithContextDialer(dial),
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(MaxMessageBytes), grpc.MaxCallSendMsgSize(MaxMessageBytes)),
	)
	if err != nil {
		return nil, fmt.Errorf("external: %w", err)
	}
	return &Checker{name: o.name, conn: conn, client: mandatev1.NewIntentCheckerServiceClient(conn), plugin: p, log: o.log}, nil
}

// parseAddress admits unix sockets by absolute path and loopback TCP. The
// dialer checks the peer it reached, so "localhost" cannot be resolved away
// from the machine.
func parseAddress(address string) (string, func(context.Context, string) (net.Conn, error), error) {
	if path, ok := strings.CutPrefix(address, "unix://"); ok {
		if !strings.HasPrefix(path, "/") {
			return "", nil, fmt.Errorf("external: address %q: a unix socket needs an absolute path (unix:///path)", address)
		}
		return "passthrough:///" + path, func(ctx context.Context, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, "unix", path)
		}, nil
	}
	host, _, err := net.SplitHostPort(address)
	if err != nil {
		return "", nil, fmt.Errorf("external: address %q is neither unix:///path nor host:port: %w", address, err)
	}
	if ip := net.ParseIP(host); !strings.EqualFold(host, "localhost") && (ip == nil || !ip.IsLoopback()) {
		return "", nil, fmt.Errorf("external: address %q is not loopback: plaintext gRPC only to unix sockets, 127.0.0.0/8, [::1] or localhost", address)
	}
	return "passthrough:///" + address, func(ctx context.Context, addr string) (net.Conn, error) {
		c, err := (&net.Dialer{}).DialContext(ctx, "tcp", addr)
		if err != nil {
			return nil, err
		}
		if a, ok := c.RemoteAddr().(*net.TCPAddr); !ok || !a.IP.IsLoopback() {
			c.Close()
			return nil, fmt.Errorf("external: %q reached %s, not a loopback address", addr, c.RemoteAddr())
		}
		return c, nil
	}, nil
}

// Name implements intent.Checker.
func (c *Checker) Name() string { return c.name }

// Check implements intent.Checker: one call, within ctx's deadline (or
// DefaultCallTimeout if it has none). A gRPC error, an unknown verdict, a
// confidence outside 0..1, or an exited plugin is an error, so a deny.
func (c *Checker) Check(ctx context.Context, r intent.Request) (intent.Answer, error) {
	if c.plugin != nil {
		if err := c.plugin.exited(); err != nil {
			return intent.Answer{}, err
		}
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, DefaultCallTimeout)
		defer cancel()
	}
	resp, err := c.client.Check(ctx, toProto(r))
	if err != nil {
		if c.plugin != nil {
			wait := time.Duration(0)
			if status.Code(err) == codes.Unavailable {
				wait = 200 * time.Millisecond
			}
			if perr := c.plugin.exitedWithin(wait); perr != nil {
				return intent.Answer{}, fmt.Errorf("%w (%v)", perr, err)
			}
		}
		// gRPC words a deadline several ways, and the server's copy of it
		// may fire a little before ctx's own.
		switch {
		case ctx.Err() != nil:
			return intent.Answer{}, fmt.Errorf("external: no answer in time: %w", ctx.Err())
		case status.Code(err) == codes.DeadlineExceeded:
			return intent.Answer{}, fmt.Errorf("external: no answer in time: %w", context.DeadlineExceeded)
		}
		return intent.Answer{}, fmt.Errorf("external: check: %w", err)
	}
	return fromProto(resp)
}

// Close ends the connection and, for a plugin, kills it and removes its
// directory.
func (c *Checker) Close() error {
	err := c.conn.Close()
	if c.plugin != nil {
		err = errors.Join(err, c.plugin.stop())
	}
	return err
}

func toProto(r intent.Request) *mandatev1.CheckRequest {
	return &mandatev1.CheckRequest{
		Action: r.Action, Resource: r.Resource, Intent: r.Intent, Context: r.Context,
		Purposes: r.Purposes, Principal: r.Principal, Actor: r.Actor, Chain: r.Chain,
		Grant: &mandatev1.CheckGrant{Id: r.Grant.ID, Action: r.Grant.Action, Resource: r.Grant.Resource, Conditions: r.Grant.Conditions},
	}
}

func fromProto(resp *mandatev1.CheckResponse) (intent.Answer, error) {
	a := intent.Answer{Reason: cut(resp.GetReason(), MaxReasonBytes), Confidence: resp.GetConfidence()}
	switch v := resp.GetVerdict(); v {
	case mandatev1.Verdict_VERDICT_ALLOW:
		a.Verdict = intent.Allow
	case mandatev1.Verdict_VERDICT_DENY:
		a.Verdict = intent.Deny
	case mandatev1.Verdict_VERDICT_ESCALATE:
		a.Verdict = intent.Escalate
	default:
		return intent.Answer{}, fmt.Errorf("external: verdict %s is not allow, deny or escalate", v)
	}
	if math.IsNaN(a.Confidence) || a.Confidence < 0 || a.Confidence > 1 {
		return intent.Answer{}, fmt.Errorf("external: confidence %v is not in 0..1", a.Confidence)
	}
	return a, nil
}

// cut shortens s to at most n bytes without splitting a UTF-8 sequence.
func cut(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// Config is the checker's registry configuration (JSON). Exactly one of
// Address and Plugin is set; a plugin needs its SHA-256.
type Config struct {
	Name          string   `json:"name,omitempty"`
	Address       string   `json:"address,omitempty"`
	Plugin        string   `json:"plugin,omitempty"`
	SHA256        string   `json:"sha256,omitempty"`
	Args          []string `json:"args,omitempty"`
	Env           []string `json:"env,omitempty"`
	TimeoutMillis int      `json:"timeoutMillis,omitempty"` // plugin start timeout
}

// Factory builds a checker from a JSON Config, for an intent.Registry.
// The caller owns the checker; it is an io.Closer.
func Factory(config json.RawMessage) (intent.Checker, error) {
	var cfg Config
	if err := intent.DecodeConfig(config, &cfg); err != nil {
		return nil, err
	}
	return New(cfg, nil)
}

// New builds a checker from cfg, logging to log (nil: discard).
func New(cfg Config, log *slog.Logger) (*Checker, error) {
	opts := []Option{WithLogger(log)}
	if cfg.Name != "" {
		opts = append(opts, WithName(cfg.Name))
	}
	if cfg.TimeoutMillis != 0 {
		opts = append(opts, WithStartTimeout(time.Duration(cfg.TimeoutMillis)*time.Millisecond))
	}
	switch {
	case (cfg.Address == "") == (cfg.Plugin == ""):
		return nil, errors.New("external: exactly one of address and plugin is needed")
	case cfg.Address != "" && (cfg.SHA256 != "" || cfg.Args != nil || cfg.Env != nil || cfg.TimeoutMillis != 0):
		return nil, errors.New("external: sha256, args, env and timeoutMillis are for a plugin, not an address")
	case cfg.Address != "":
		return Dial(cfg.Address, opts...)
	default:
		return Plugin(cfg.Plugin, cfg.SHA256, append(opts, WithArgs(cfg.Args...), WithEnv(cfg.Env...))...)
	}
}
