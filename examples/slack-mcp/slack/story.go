// Package slack is the story of examples/slack-mcp, which `mandate demo` plays too: Alice's assistant is
// wired to a Slack MCP server through Mandate's MCP gateway (presentation/mcpgate). Alice's Power of
// Attorney (poa.yaml) lets it list the channels and read #general, and forbids posting; the gateway maps
// each tool to an action and a resource (gateway.yaml). The assistant reads #general, is refused
// #leadership, does not see post_message in its tools, calls it anyway and is blocked FORBIDDEN; the Slack
// server never receives the post.
//
// Everything is real but the network: a verifier with an in-memory store, the assistant's wallet served on
// a Unix socket (the gateway holds no key), the gateway served over MCP's streamable HTTP on 127.0.0.1, the
// Slack server (Workspace) over an in-memory MCP transport.
package slack

import (
	"context"
	_ "embed"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/dgraph-io/badger/v4"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mandate-dev/mandate/credentials"
	"github.com/mandate-dev/mandate/did"
	"github.com/mandate-dev/mandate/internal/testkeys"
	"github.com/mandate-dev/mandate/presentation"
	"github.com/mandate-dev/mandate/presentation/gatekeeper"
	"github.com/mandate-dev/mandate/presentation/mcpgate"
	"github.com/mandate-dev/mandate/wallet"
	"github.com/mandate-dev/mandate/wallet/holder"
)

// Audience is the verifier's identity.
const Audience = "https://slack.acme.example"

// Intent is the assistant's justification for reading #general.
const Intent = "summarise what the team said in #general for Alice"

// PoA is Alice's grant file for her assistant.
//
//go:embed poa.yaml
var PoA []byte

// GatewayYAML is the gateway's configuration file.
//
//go:embed gateway.yaml
var GatewayYAML []byte

// Issue signs Alice's Power of Attorney (PoA) for the assistant.
func Issue(principal credentials.Signer, assistant string) (*credentials.Credential, error) {
	f, err := credentials.ParseGrantFile(PoA)
	if err != nil {
		return nil, fmt.Errorf("slack: poa.yaml: %w", err)
	}
	t, err := f.Template(assistant)
	if err != nil {
		return nil, fmt.Errorf("slack: poa.yaml: %w", err)
	}
	return credentials.Issue(principal, t, credentials.IssueOptions{})
}

// Tools is the tool mapping of gateway.yaml.
func Tools() (mcpgate.Tools, error) {
	c, err := mcpgate.ParseConfig(GatewayYAML)
	if err != nil {
		return nil, fmt.Errorf("slack: gateway.yaml: %w", err)
	}
	return c.Tools, nil
}

// NewVerifier is the verifier of the story: it trusts principal's roots and keeps its store in db.
func NewVerifier(db *badger.DB, signer credentials.Signer, principal string) (*presentation.Verifier, error) {
	return presentation.New(presentation.Config{
		Audience: Audience, Resolver: did.KeyResolver{}, TrustedRoots: []string{principal}, Store: db, Signer: signer,
	})
}

// OpenMemory opens a small in-memory badger store.
func OpenMemory() (*badger.DB, error) {
	return badger.Open(badger.DefaultOptions("").WithInMemory(true).WithLogger(nil).
		WithMemTableSize(8 << 20).WithNumCompactors(2).WithBlockCacheSize(8 << 20))
}

// Step is one move of the assistant, what the gateway answered and what it should have.
type Step struct {
	Name     string
	Tool     string
	Action   string
	Resource string
	Expected string // "ALLOW", "DENY FORBIDDEN", "LISTED list_channels,read_channel", "NOT RECEIVED"
	Got      string // as Expected
	Outcome  string // ALLOW, DENY, NEEDS_APPROVAL, LISTED, NOT RECEIVED, RECEIVED, or ERROR
	Reason   string // the first reason code of a blocked call
	Detail   string // the tool's text, or the error that kept the step from running
}

// OK reports whether the step got its expected outcome.
func (s Step) OK() bool { return s.Got == s.Expected }

// Request is "action resource".
func (s Step) Request() string { return strings.TrimSpace(s.Action + " " + s.Resource) }

// Outcome reads a tool call's result as the gateway's decision: ALLOW, or the outcome and first reason
// code of a blocked call (from the result's _meta).
func Outcome(res *mcp.CallToolResult) (outcome, reason string) {
	if !res.IsError {
		return "ALLOW", ""
	}
	meta, _ := res.Meta[mcpgate.MetaKey].(map[string]any)
	outcome, _ = meta["outcome"].(string)
	if rs, ok := meta["reasons"].([]any); ok && len(rs) > 0 {
		reason, _ = rs[0].(string)
	}
	if outcome == "" {
		return "ERROR", ""
	}
	return outcome, reason
}

// Text is a result's text content.
func Text(res *mcp.CallToolResult) string {
	var b strings.Builder
	for _, c := range res.Content {
		if t, ok := c.(*mcp.TextContent); ok {
			b.WriteString(t.Text)
		}
	}
	return b.String()
}

// Run plays the story and returns its steps. An error means the story could not be set up.
func Run(ctx context.Context) ([]Step, error) {
	var closers []func()
	defer func() {
		for i := len(closers) - 1; i >= 0; i-- {
			closers[i]()
		}
	}()
	ws := NewWorkspace()
	session, err := setUp(ctx, ws, &closers)
	if err != nil {
		return nil, err
	}
	return Play(ctx, session, ws.Received), nil
}

func setUp(ctx context.Context, ws *Workspace, closers *[]func()) (*mcp.ClientSession, error) {
	alice := testkeys.New("alice (principal)")
	db, err := OpenMemory()
	if err != nil {
		return nil, err
	}
	*closers = append(*closers, func() { db.Close() })
	v, err := NewVerifier(db, testkeys.New("acme slack verifier"), alice.DID())
	if err != nil {
		return nil, err
	}
	wallet, err := serveWallet(alice, closers)
	if err != nil {
		return nil, err
	}
	tools, err := Tools()
	if err != nil {
		return nil, err
	}
	upT, gwT := mcp.NewInMemoryTransports()
	upSession, err := ws.Server().Connect(ctx, upT, nil)
	if err != nil {
		return nil, err
	}
	*closers = append(*closers, func() { upSession.Close() })
	up, err := mcp.NewClient(&mcp.Implementation{Name: "mandate-mcp-gateway", Version: "v1"}, nil).Connect(ctx, gwT, nil)
	if err != nil {
		return nil, err
	}
	*closers = append(*closers, func() { up.Close() })
	gw, err := mcpgate.New(ctx, mcpgate.Options{
		Upstream: up, Tools: tools, Decider: gatekeeper.Local(v),
		Wallet: wallet,
	})
	if err != nil {
		return nil, err
	}
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("slack: listen: %w", err)
	}
	token := mcpgate.NewToken()
	h, err := gw.Handler(token)
	if err != nil {
		lis.Close()
		return nil, err
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}
	go srv.Serve(lis)
	*closers = append(*closers, func() { srv.Close() })
	client := &http.Client{Transport: &mcpgate.BearerTransport{Token: token}}
	session, err := mcp.NewClient(&mcp.Implementation{Name: "alice-assistant", Version: "v1"}, nil).
		Connect(ctx, &mcp.StreamableClientTransport{Endpoint: "http://" + lis.Addr().String() + "/mcp", HTTPClient: client}, nil)
	if err != nil {
		return nil, err
	}
	*closers = append(*closers, func() { session.Close() })
	return session, nil
}

// Play is the assistant's moves over an MCP session with the gateway; received reports whether the Slack
// server behind it ever received a call to a tool.
func Play(ctx context.Context, session *mcp.ClientSession, received func(tool string) bool) []Step {
	steps := []Step{listStep(ctx, session)}
	calls := []struct {
		name, tool, action, resource, expected string
		args                                   map[string]any
	}{
		{"the assistant reads #general", "read_channel", "slack:read", "slack:acme/general", "ALLOW",
			map[string]any{"channel": "general", "justification": Intent}},
		{"the assistant reads #leadership", "read_channel", "slack:read", "slack:acme/leadership", "DENY NOT_GRANTED",
			map[string]any{"channel": "leadership", "justification": "see what leadership said"}},
		{"the assistant posts into #general anyway", "post_message", "slack:post", "slack:acme/general", "DENY FORBIDDEN",
			map[string]any{"channel": "general", "text": "Sounds good, ship it!", "justification": "reply for Alice"}},
	}
	for _, c := range calls {
		s := Step{Name: c.name, Tool: c.tool, Action: c.action, Resource: c.resource, Expected: c.expected}
		if err := ctx.Err(); err != nil {
			steps = append(steps, errStep(s, err))
			continue
		}
		res, err := session.CallTool(ctx, &mcp.CallToolParams{Name: c.tool, Arguments: c.args})
		if err != nil {
			steps = append(steps, errStep(s, err))
			continue
		}
		s.Outcome, s.Reason = Outcome(res)
		s.Got = strings.TrimSpace(s.Outcome + " " + s.Reason)
		s.Detail = strings.ReplaceAll(strings.TrimSpace(Text(res)), "\n", " / ")
		steps = append(steps, s)
	}
	s := Step{Name: "the Slack server never received post_message", Tool: "post_message", Expected: "NOT RECEIVED", Outcome: "NOT RECEIVED"}
	if received("post_message") {
		s.Outcome = "RECEIVED"
	}
	s.Got = s.Outcome
	return append(steps, s)
}

func listStep(ctx context.Context, session *mcp.ClientSession) Step {
	s := Step{Name: "the assistant lists its tools (post_message is left out)", Expected: "LISTED list_channels,read_channel"}
	res, err := session.ListTools(ctx, nil)
	if err != nil {
		return errStep(s, err)
	}
	var names []string
	for _, t := range res.Tools {
		names = append(names, t.Name)
	}
	s.Outcome, s.Got = "LISTED", "LISTED "+strings.Join(names, ",")
	return s
}

func errStep(s Step, err error) Step {
	s.Outcome, s.Got, s.Detail = "ERROR", "ERROR", err.Error()
	return s
}

// serveWallet makes the assistant's wallet in a temporary directory, imports Alice's PoA into it, serves it
// on a Unix socket (`mandate serve wallet`) and returns a client of that socket: the gateway presents
// through it and never holds the assistant's key.
func serveWallet(alice credentials.Signer, closers *[]func()) (*holder.Client, error) {
	dir, err := os.MkdirTemp("", "slack-mcp-")
	if err != nil {
		return nil, fmt.Errorf("slack: %w", err)
	}
	*closers = append(*closers, func() { os.RemoveAll(dir) })
	// A throwaway wallet with a fast KDF; real wallets keep the default Argon2id cost.
	w, err := wallet.Create(filepath.Join(dir, "assistant"), []byte("slack-mcp example assistant"), wallet.WithKDFParams(1, 64, 1))
	if err != nil {
		return nil, fmt.Errorf("slack: assistant wallet: %w", err)
	}
	*closers = append(*closers, func() { w.Close() })
	root, err := Issue(alice, w.DID())
	if err != nil {
		return nil, err
	}
	chain, err := credentials.EncodeChain([]*credentials.Credential{root})
	if err != nil {
		return nil, err
	}
	if err := w.PutChain("slack", chain); err != nil {
		return nil, fmt.Errorf("slack: assistant wallet: %w", err)
	}
	socket := filepath.Join(dir, "assistant-wallet.sock")
	lis, err := holder.Listen(socket)
	if err != nil {
		return nil, fmt.Errorf("slack: %w", err)
	}
	srv := holder.NewGRPCServer(w, nil, nil)
	go srv.Serve(lis)
	*closers = append(*closers, srv.Stop)
	c, err := holder.Dial(socket)
	if err != nil {
		return nil, fmt.Errorf("slack: %w", err)
	}
	*closers = append(*closers, func() { c.Close() })
	return c, nil
}
