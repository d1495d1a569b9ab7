package mcpgate

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"slices"
	"sync"
	"unicode/utf8"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mandate-dev/mandate/presentation"
	"github.com/mandate-dev/mandate/presentation/gatekeeper"
)

// Limits of the gateway.
const (
	// MaxArgumentsBytes bounds one call's arguments.
	MaxArgumentsBytes = 1 << 20
	// MaxUpstreamTools bounds the upstream's tool list.
	MaxUpstreamTools = 1024
	// maxPending bounds the calls remembered as waiting for an approval.
	maxPending = 1024
)

// ToolContextKey is the request context entry that names the MCP tool: it
// is bound into the presentation and recorded in the audit log.
const ToolContextKey = "mcp.tool"

// ArgumentsContextKey is the request context entry that holds the digest of
// the arguments forwarded ("sha-256:" and the unpadded base64url SHA-256 of
// their JSON, keys sorted, justification removed). It binds the
// presentation, the decision, an approval and the audit record to the exact
// call: an argument the resource does not name (a message's text) cannot
// change between the approval and the call.
const ArgumentsContextKey = "mcp.arguments"

// Wallet is the agent's wallet as the gateway sees it: it presents, and it
// says what it holds (for tools/list). wallet/holder.Client is one over
// the wallet's socket; gatekeeper.Holder one in process.
type Wallet interface {
	gatekeeper.Presenter
	Powers(ctx context.Context) (gatekeeper.Powers, error)
}

// Approvals fetches an approval request with its signed answer once given:
// gatekeeper.ApprovalClient over gRPC, or LocalApprovals in process.
type Approvals interface {
	Get(ctx context.Context, id string) (presentation.ApprovalRequest, error)
}

// LocalApprovals reads approval requests from an in-process verifier.
func LocalApprovals(v *presentation.Verifier) Approvals { return localApprovals{v} }

type localApprovals struct{ v *presentation.Verifier }

func (l localApprovals) Get(_ context.Context, id string) (presentation.ApprovalRequest, error) {
	return l.v.Approval(id)
}

// Options configure a Gateway.
type Options struct {
	// Upstream is the session with the MCP server the gateway forwards to.
	// Required; the caller closes it.
	Upstream *mcp.ClientSession
	// Tools map tool names to requests. Required: nothing mapped, nothing
	// passes.
	Tools Tools
	// Wallet presents for the agent. Required.
	Wallet Wallet
	// Decider is the verifier. Required.
	Decider gatekeeper.Decider
	// Approvals, when set, lets a call that waited for approval go through
	// once approved: the same call again carries the signed answer.
	Approvals Approvals
	// ApproveHint is how a person approves, shown with NEEDS_APPROVAL; %s
	// is the approval request's id ("" : "mandate approve %s --verifier ADDR").
	ApproveHint string
	// Justification is the argument added for the stated intent
	// ("": DefaultJustification).
	Justification string
	// Logger (nil: discard).
	Logger *slog.Logger
}

// Gateway is an MCP server that decides every tool call with the agent's
// Power of Attorney before forwarding it upstream. It holds no key: the
// wallet presents, the verifier decides. Safe for concurrent use.
type Gateway struct {
	o   Options
	log *slog.Logger

	mu       sync.Mutex
	upstream map[string]*mcp.Tool // the upstream's tools, as last listed
	pending  map[string]string    // request digest -> approval request id
}

// New builds a gateway and lists the upstream's tools once.
func New(ctx context.Context, o Options) (*Gateway, error) {
	switch {
	case o.Upstream == nil:
		return nil, errors.New("mcpgate: an upstream session is required")
	case len(o.Tools) == 0:
		return nil, errors.New("mcpgate: no tools are mapped: every call would be blocked")
	case o.Wallet == nil:
		return nil, errors.New("mcpgate: a wallet is required")
	case o.Decider == nil:
		return nil, errors.New("mcpgate: a decider is required")
	}
	if o.Justification == "" {
		o.Justification = DefaultJustification
	}
	if !validArgName(o.Justification) {
		return nil, fmt.Errorf("mcpgate: justification %.64q is not an argument name", o.Justification)
	}
	for name, t := range o.Tools {
		if err := validToolName(name); err != nil {
			return nil, fmt.Errorf("mcpgate: %w", err)
		}
		if _, err := NewTool(t.Action, t.Resource.String()); err != nil {
			return nil, fmt.Errorf("mcpgate: tool %q: %w", name, err)
		}
		if err := t.checkContext(o.Justification); err != nil {
			return nil, fmt.Errorf("mcpgate: tool %q: %w", name, err)
		}
	}
	if o.ApproveHint == "" {
		o.ApproveHint = "mandate approve %s --verifier ADDR"
	}
	log := o.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	o.Tools = maps.Clone(o.Tools)
	g := &Gateway{o: o, log: log, pending: map[string]string{}}
	tools, err := g.refresh(ctx)
	if err != nil {
		return nil, err
	}
	for name := range o.Tools {
		if _, ok := tools[name]; !ok {
			log.Warn("mapped tool not offered by the upstream", "tool", name)
		}
	}
	return g, nil
}

// Server returns an MCP server for the agent: tools/list and tools/call
// go through the gateway; it offers no prompts or resources.
func (g *Gateway) Server() *mcp.Server {
	s := mcp.NewServer(&mcp.Implementation{Name: "mandate-mcp-gateway", Version: "v1"}, &mcp.ServerOptions{
		Logger:       g.log,
		Capabilities: &mcp.ServerCapabilities{Tools: &mcp.ToolCapabilities{}},
	})
	s.AddReceivingMiddleware(g.middleware)
	return s
}

// Handler serves the gateway over MCP's streamable HTTP transport, at any
// path, to a client that sends token as a bearer token (Authorization:
// Bearer TOKEN, BearerTransport). Whoever reaches the gateway acts with
// the agent's powers, so the token stands in for the wallet socket's file
// mode: without it any local process could. A token shorter than
// MinTokenBytes is an error.
func (g *Gateway) Handler(token string) (http.Handler, error) {
	if err := CheckToken(token); err != nil {
		return nil, err
	}
	s := g.Server()
	h := mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return s }, &mcp.StreamableHTTPOptions{
		Logger: g.log, MaxRequestBodyBytes: MaxArgumentsBytes + 64<<10,
	})
	return requireBearer(token, h, g.log), nil
}

// middleware takes tools/list and tools/call: a call to a tool that is not
// listed is still decided (and recorded), never answered "unknown tool".
func (g *Gateway) middleware(next mcp.MethodHandler) mcp.MethodHandler {
	return func(ctx context.Context, method string, req mcp.Request) (mcp.Result, error) {
		switch method {
		case "tools/list":
			r, ok := req.(*mcp.ListToolsRequest)
			if !ok {
				return nil, errors.New("mcpgate: tools/list: unexpected request type")
			}
			return g.listTools(ctx, r.Params)
		case "tools/call":
			r, ok := req.(*mcp.CallToolRequest)
			if !ok || r.Params == nil {
				return nil, errors.New("mcpgate: tools/call: unexpected request type")
			}
			return g.CallTool(ctx, r.Params.Name, r.Params.Arguments)
		}
		return next(ctx, method, req)
	}
}

// refresh lists the upstream's tools.
func (g *Gateway) refresh(ctx context.Context) (map[string]*mcp.Tool, error) {
	tools := map[string]*mcp.Tool{}
	for t, err := range g.o.Upstream.Tools(ctx, nil) {
		if err != nil {
			return nil, fmt.Errorf("mcpgate: upstream tools/list: %w", err)
		}
		if len(tools) == MaxUpstreamTools {
			return nil, fmt.Errorf("mcpgate: upstream lists more than %d tools", MaxUpstreamTools)
		}
		tools[t.Name] = t
	}
	g.mu.Lock()
	g.upstream = tools
	g.mu.Unlock()
	return tools, nil
}

// upstreamTool is the upstream's tool of that name, listing again when it
// is not known yet (nil when the upstream does not offer it).
func (g *Gateway) upstreamTool(ctx context.Context, name string) (*mcp.Tool, error) {
	g.mu.Lock()
	t := g.upstream[name]
	g.mu.Unlock()
	if t != nil {
		return t, nil
	}
	tools, err := g.refresh(ctx)
	if err != nil {
		return nil, err
	}
	return tools[name], nil
}

// listTools is the upstream's list, fetched anew, without the tools that
// are not mapped or whose action the wallet holds no grant for, each with
// the justification argument added to its input schema.
func (g *Gateway) listTools(ctx context.Context, p *mcp.ListToolsParams) (*mcp.ListToolsResult, error) {
	if p != nil && p.Cursor != "" {
		// Everything is on the first page.
		return nil, &jsonrpc.Error{Code: jsonrpc.CodeInvalidParams, Message: "mcpgate: unknown cursor"}
	}
	tools, err := g.refresh(ctx)
	if err != nil {
		return nil, &jsonrpc.Error{Code: jsonrpc.CodeInternalError, Message: err.Error()}
	}
	powers, err := g.o.Wallet.Powers(ctx)
	if err != nil {
		return nil, &jsonrpc.Error{Code: jsonrpc.CodeInternalError, Message: "mcpgate: the wallet could not list its powers: " + err.Error()}
	}
	res := &mcp.ListToolsResult{Tools: []*mcp.Tool{}, Cacheable: mcp.Cacheable{CacheScope: "private"}}
	for _, name := range sortedKeys(tools) {
		m, ok := g.o.Tools[name]
		if !ok || !powers.Covers(m.Action) {
			continue
		}
		t, err := withJustification(tools[name], g.o.Justification)
		if err != nil {
			g.log.Warn("tool left out of tools/list", "tool", name, "err", err)
			continue
		}
		res.Tools = append(res.Tools, t)
	}
	return res, nil
}

// CallTool decides one call and forwards it when allowed. A blocked call
// is a tool error (IsError) whose text names the outcome and reason code.
// Every call, allowed or not, goes through the decider, which records it.
func (g *Gateway) CallTool(ctx context.Context, name string, args json.RawMessage) (*mcp.CallToolResult, error) {
	req, forward, d, refused := g.request(ctx, name, args)
	if refused {
		return g.blocked(name, req, d), nil
	}
	d = g.decide(ctx, req)
	if !d.Allowed() {
		return g.blocked(name, req, d), nil
	}
	g.log.Info("tool call allowed", "tool", name, "action", req.Action, "resource", req.Resource, "audit", d.AuditID)
	res, err := g.o.Upstream.CallTool(ctx, &mcp.CallToolParams{Name: name, Arguments: forward})
	if err != nil {
		return nil, fmt.Errorf("mcpgate: upstream %s: %w", name, err)
	}
	if res.Content == nil {
		res.Content = []mcp.Content{}
	}
	return res, nil
}

// request maps a call to its presentation.Request and the arguments to
// forward (without the justification). A call that cannot be mapped is
// refused, and recorded, here.
func (g *Gateway) request(ctx context.Context, name string, raw json.RawMessage) (presentation.Request, json.RawMessage, presentation.Decision, bool) {
	req := presentation.Request{Context: map[string]string{ToolContextKey: clip(name, presentation.MaxContextValBytes)}}
	refuse := func(r presentation.Reason, format string, args ...any) (presentation.Request, json.RawMessage, presentation.Decision, bool) {
		return req, nil, g.o.Decider.Refuse(ctx, req, r, fmt.Sprintf(format, args...)), true
	}
	m, ok := g.o.Tools[name]
	if !ok {
		return refuse(presentation.ReasonUnmapped, "tool %.128q is not mapped to an action by the gateway's configuration", name)
	}
	req.Action = m.Action
	if len(raw) > MaxArgumentsBytes {
		return refuse(presentation.ReasonMalformed, "the arguments are longer than %d bytes", MaxArgumentsBytes)
	}
	if !utf8.Valid(raw) {
		// Decoding would replace the bad bytes, so what is decided on would
		// not be what is forwarded.
		return refuse(presentation.ReasonMalformed, "the arguments are not UTF-8")
	}
	args := map[string]json.RawMessage{}
	if len(raw) > 0 && string(raw) != "null" {
		if err := json.Unmarshal(raw, &args); err != nil || args == nil {
			return refuse(presentation.ReasonMalformed, "the arguments are not a JSON object")
		}
	}
	if err := checkKeys(args, append(append(m.Resource.Args(), g.o.Justification), slices.Collect(maps.Values(m.Context))...)); err != nil {
		return refuse(presentation.ReasonMalformed, "%v", err)
	}
	if j, ok := args[g.o.Justification]; ok {
		if err := json.Unmarshal(j, &req.Intent); err != nil {
			return refuse(presentation.ReasonMalformed, "argument %q must be a string", g.o.Justification)
		}
		if len(req.Intent) > presentation.MaxIntentBytes {
			return refuse(presentation.ReasonMalformed, "argument %q is longer than %d bytes", g.o.Justification, presentation.MaxIntentBytes)
		}
		delete(args, g.o.Justification)
	}
	res, err := m.Resource.Render(args)
	if err != nil {
		return refuse(presentation.ReasonMalformed, "%v", err)
	}
	req.Resource = res
	if err := m.Resource.Lower(args); err != nil {
		return refuse(presentation.ReasonMalformed, "%v", err)
	}
	for _, k := range sortedKeys(m.Context) {
		v, err := contextValue(m.Context[k], k, args)
		if err != nil {
			return refuse(presentation.ReasonMalformed, "%v", err)
		}
		req.Context[k] = v
	}
	if t, err := g.upstreamTool(ctx, name); err != nil {
		return refuse(presentation.ReasonMalformed, "%v", err)
	} else if t != nil && hasProperty(t.InputSchema, g.o.Justification) {
		return refuse(presentation.ReasonMalformed, "the upstream tool has its own %q argument: name another in the gateway's justification setting", g.o.Justification)
	}
	// Re-encoded from the map the decision read: a repeated key reaches
	// the upstream as the value that was decided on.
	forward, err := json.Marshal(args)
	if err != nil {
		return refuse(presentation.ReasonMalformed, "arguments: %v", err)
	}
	sum := sha256.Sum256(forward)
	req.Context[ArgumentsContextKey] = "sha-256:" + base64.RawURLEncoding.EncodeToString(sum[:])
	return req, forward, presentation.Decision{}, false
}

// decide asks the wallet for a presentation and the verifier for a
// decision. Whatever fails is a DENY, recorded by the decider.
func (g *Gateway) decide(ctx context.Context, req presentation.Request) presentation.Decision {
	digest, err := req.Digest()
	if err != nil {
		return g.o.Decider.Refuse(ctx, req, presentation.ReasonMalformed, err.Error())
	}
	approval := g.approval(ctx, digest)
	ch, err := g.o.Decider.Challenge(ctx)
	if err != nil {
		return g.o.Decider.Refuse(ctx, req, presentation.ReasonInternalError, "no challenge from the verifier: "+err.Error())
	}
	format, vp, err := g.o.Wallet.Present(ctx, ch, req)
	switch {
	case errors.Is(err, presentation.ErrNoChain):
		return g.o.Decider.Refuse(ctx, req, presentation.ReasonNotGranted, "the agent's wallet holds no chain that covers or forbids "+req.Action+" on "+req.Resource)
	case err != nil:
		return g.o.Decider.Refuse(ctx, req, presentation.ReasonPresentationMissing, "the agent's wallet did not present: "+err.Error())
	}
	d, err := g.o.Decider.Decide(ctx, format, vp, req, approval)
	if err != nil {
		return g.o.Decider.Refuse(ctx, req, presentation.ReasonInternalError, "no decision: "+err.Error())
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	switch {
	case d.Outcome == presentation.NeedsApproval && d.ApprovalID != "":
		if len(g.pending) >= maxPending {
			clear(g.pending) // forgetting only costs a new approval request
		}
		g.pending[digest] = d.ApprovalID
	case d.Allowed() && approval != "":
		delete(g.pending, digest)
	}
	return d
}

// approval is the signed answer to the approval request that this exact
// request (action, resource, intent) waits for, once a person approved it.
func (g *Gateway) approval(ctx context.Context, digest string) string {
	if g.o.Approvals == nil {
		return ""
	}
	g.mu.Lock()
	id := g.pending[digest]
	g.mu.Unlock()
	if id == "" {
		return ""
	}
	r, err := g.o.Approvals.Get(ctx, id)
	if err != nil {
		g.log.Warn("approval request not fetched", "approval", id, "err", err)
		return ""
	}
	if r.State != presentation.ApprovalApproved {
		return ""
	}
	return r.Answer
}

// blocked is the tool error for a call that was not allowed.
func (g *Gateway) blocked(name string, req presentation.Request, d presentation.Decision) *mcp.CallToolResult {
	if d.Outcome == presentation.Allow { // an ALLOW with reasons is not an ALLOW
		d.Outcome = presentation.Deny
	}
	reasons := make([]string, len(d.Reasons))
	for i, r := range d.Reasons {
		reasons[i] = string(r)
	}
	if len(reasons) == 0 {
		reasons = []string{string(presentation.ReasonInternalError)}
	}
	text := fmt.Sprintf("mandate: %s %s: %s", d.Outcome, reasons[0], d.Message)
	if d.Outcome == presentation.NeedsApproval {
		text += fmt.Sprintf(". Approval request %s waits for the principal (%s); once it is approved, call %s again with the same arguments",
			d.ApprovalID, fmt.Sprintf(g.o.ApproveHint, d.ApprovalID), name)
	}
	if d.AuditID != "" {
		text += " (audit " + d.AuditID + ")"
	}
	g.log.Info("tool call blocked", "tool", name, "outcome", d.Outcome.String(), "reasons", reasons,
		"action", req.Action, "resource", req.Resource, "audit", d.AuditID, "approval", d.ApprovalID)
	meta := map[string]any{"outcome": d.Outcome.String(), "reasons": reasons}
	if d.AuditID != "" {
		meta["auditId"] = d.AuditID
	}
	if d.ApprovalID != "" {
		meta["approvalId"] = d.ApprovalID
	}
	return &mcp.CallToolResult{
		IsError: true,
		Content: []mcp.Content{&mcp.TextContent{Text: text}},
		Meta:    mcp.Meta{MetaKey: meta},
	}
}

// MetaKey is the _meta entry of a blocked call's result: the outcome, the
// reason codes and the audit and approval ids, for programs.
const MetaKey = "dev.mandate/decision"

// clip cuts s to at most n bytes, on a UTF-8 boundary.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
