package mcpgate_test

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/dgraph-io/badger/v4"
	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mandate-dev/mandate/credentials"
	"github.com/mandate-dev/mandate/did"
	"github.com/mandate-dev/mandate/internal/testkeys"
	"github.com/mandate-dev/mandate/presentation"
	"github.com/mandate-dev/mandate/presentation/audit"
	"github.com/mandate-dev/mandate/presentation/gatekeeper"
	"github.com/mandate-dev/mandate/presentation/mcpgate"
)

var (
	alice       = testkeys.New("alice")
	agent       = testkeys.New("agent")
	verifierKey = testkeys.New("verifier")
)

func openMemory() (*badger.DB, error) {
	return badger.Open(badger.DefaultOptions("").WithInMemory(true).WithLogger(nil))
}

// upstream is an MCP server with document tools that records every call
// it receives.
type upstream struct {
	mu    sync.Mutex
	calls []string // "name {args}"
}

func (u *upstream) received() []string {
	u.mu.Lock()
	defer u.mu.Unlock()
	return append([]string(nil), u.calls...)
}

func (u *upstream) server() *mcp.Server {
	s := mcp.NewServer(&mcp.Implementation{Name: "docs", Version: "v1"}, nil)
	docArgs := map[string]any{"type": "object", "properties": map[string]any{"doc": map[string]any{"type": "string"}}, "required": []any{"doc"}}
	for _, name := range []string{"read_doc", "write_doc", "edit_doc", "delete_doc", "find_doc", "pay_doc"} {
		s.AddTool(&mcp.Tool{Name: name, Description: name + " a document", InputSchema: docArgs}, u.handle)
	}
	own := map[string]any{"type": "object", "properties": map[string]any{"doc": map[string]any{"type": "string"}, "justification": map[string]any{"type": "string"}}}
	s.AddTool(&mcp.Tool{Name: "own_justification", InputSchema: own}, u.handle)
	return s
}

func (u *upstream) handle(_ context.Context, r *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
	u.mu.Lock()
	u.calls = append(u.calls, r.Params.Name+" "+string(r.Params.Arguments))
	u.mu.Unlock()
	return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: r.Params.Name + " done"}}}, nil
}

var docTools = mcpgate.Tools{
	"read_doc":          mustTool("docs:read", "docs:acme/{doc}"),
	"write_doc":         mustTool("docs:write", "docs:acme/{doc}"),
	"edit_doc":          mustTool("docs:edit", "docs:acme/{doc}"),
	"own_justification": mustTool("docs:read", "docs:acme/{doc}"),
	"find_doc":          mustTool("docs:read", "docs:acme/{doc|lower}"), // an upstream that ignores case
	"pay_doc":           withContext(mustTool("docs:pay", "docs:acme/{doc}"), map[string]string{"amount": "amount", "memo": "memo"}),
	// delete_doc is not mapped.
}

func withContext(t mcpgate.Tool, c map[string]string) mcpgate.Tool {
	t.Context = c
	return t
}

func mustTool(action, resource string) mcpgate.Tool {
	t, err := mcpgate.NewTool(action, resource)
	if err != nil {
		panic(err)
	}
	return t
}

type fixture struct {
	gw       *mcpgate.Gateway
	session  *mcp.ClientSession
	upstream *upstream
	verifier *presentation.Verifier
}

// setUp runs upstream <- gateway <- agent client, each over in-memory
// transports, with a verifier in process.
func setUp(t testing.TB) *fixture { return setUpWith(t, nil) }

// setUpWith is setUp with the gateway's options changed by edit.
func setUpWith(t testing.TB, edit func(*mcpgate.Options)) *fixture {
	t.Helper()
	ctx := context.Background()
	f := &fixture{upstream: &upstream{}}
	db, err := openMemory()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	f.verifier, err = presentation.New(presentation.Config{
		Audience: "https://docs.example", Resolver: did.KeyResolver{}, TrustedRoots: []string{alice.DID()},
		Store: db, Signer: verifierKey,
	})
	if err != nil {
		t.Fatal(err)
	}
	root, err := credentials.Issue(alice, credentials.Template{
		Subject: agent.DID(), Purpose: "keep the public documents tidy",
		Grants: []credentials.Grant{
			{ID: "urn:mandate:grant:read", Action: "docs:read", Resource: "docs:acme/public"},
			{ID: "urn:mandate:grant:pay", Action: "docs:pay", Resource: "docs:acme/*", Constraints: credentials.Constraints{MaxAmount: &payBudget}},
			{ID: "urn:mandate:grant:edit", Action: "docs:edit", Resource: "docs:acme/*",
				Constraints: credentials.Constraints{Approval: credentials.ApprovalRequired}},
		},
		Forbidden: []credentials.Forbidden{{Action: "docs:write"}},
	}, credentials.IssueOptions{})
	if err != nil {
		t.Fatal(err)
	}
	upT, gwUpT := mcp.NewInMemoryTransports()
	upSession, err := f.upstream.server().Connect(ctx, upT, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { upSession.Close() })
	up, err := mcp.NewClient(&mcp.Implementation{Name: "gateway", Version: "v1"}, nil).Connect(ctx, gwUpT, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { up.Close() })
	o := mcpgate.Options{
		Upstream: up, Tools: docTools,
		Wallet:    gatekeeper.Holder{Signer: agent, Held: presentation.Held{LDP: [][]*credentials.Credential{{root}}}},
		Decider:   gatekeeper.Local(f.verifier),
		Approvals: mcpgate.LocalApprovals(f.verifier), ApproveHint: "mandate approve %s --verifier 127.0.0.1:7443",
	}
	if edit != nil {
		edit(&o)
	}
	gw, err := mcpgate.New(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	f.gw = gw
	srvT, cliT := mcp.NewInMemoryTransports()
	ss, err := gw.Server().Connect(ctx, srvT, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ss.Close() })
	f.session, err = mcp.NewClient(&mcp.Implementation{Name: "agent", Version: "v1"}, nil).Connect(ctx, cliT, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.session.Close() })
	return f
}

func (f *fixture) call(t *testing.T, name string, args any) *mcp.CallToolResult {
	t.Helper()
	res, err := f.session.CallTool(context.Background(), &mcp.CallToolParams{Name: name, Arguments: args})
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return res
}

func (f *fixture) records(t *testing.T) []audit.Record {
	t.Helper()
	recs, err := f.verifier.AuditLog().List(audit.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	return recs
}

func text(r *mcp.CallToolResult) string {
	var b strings.Builder
	for _, c := range r.Content {
		if tc, ok := c.(*mcp.TextContent); ok {
			b.WriteString(tc.Text)
		}
	}
	return b.String()
}

func TestToolsList(t *testing.T) {
	f := setUp(t)
	res, err := f.session.ListTools(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	// write_doc: forbidden; delete_doc: unmapped; own_justification: its
	// schema has the gateway's argument already.
	var names []string
	for _, tool := range res.Tools {
		names = append(names, tool.Name)
		schema := tool.InputSchema.(map[string]any)
		props := schema["properties"].(map[string]any)
		j, ok := props["justification"].(map[string]any)
		if _, doc := props["doc"]; !ok || !doc || j["type"] != "string" || j["maxLength"] != float64(presentation.MaxIntentBytes) {
			t.Errorf("%s: schema %v", tool.Name, schema)
		}
		if req := schema["required"].([]any); len(req) != 1 || req[0] != "doc" {
			t.Errorf("%s: required %v: the justification must stay optional", tool.Name, req)
		}
	}
	if strings.Join(names, ",") != "edit_doc,find_doc,pay_doc,read_doc" {
		t.Fatalf("tools/list: %v", names)
	}
	if _, err := f.session.ListTools(context.Background(), &mcp.ListToolsParams{Cursor: "x"}); err == nil || !strings.Contains(err.Error(), "unknown cursor") {
		t.Errorf("cursor: %v", err)
	}
}

var payBudget int64 = 100

// A tool's context mapping puts arguments in the request's context: the
// verifier enforces a grant's maxAmount on "amount" (which it could not
// through the gateway before), and the record shows what was decided.
func TestToolContext(t *testing.T) {
	f := setUp(t)
	cases := []struct {
		args any
		want string // the text's start
	}{
		{map[string]any{"doc": "invoice-1", "amount": 60, "memo": "May rent"}, "pay_doc done"},
		{map[string]any{"doc": "invoice-2", "amount": 50, "memo": "June rent"}, "mandate: DENY AMOUNT_EXCEEDED: "},
		{map[string]any{"doc": "invoice-2", "amount": 40, "memo": "June rent"}, "pay_doc done"},
		{map[string]any{"doc": "invoice-3", "memo": "no amount"}, `mandate: DENY MALFORMED: mcpgate: argument "amount" is required (it is the request's context "amount")`},
		{json.RawMessage(`{"doc":"invoice-3","amount":1.5,"memo":"x"}`), `mandate: DENY MALFORMED: mcpgate: argument "amount": 1.5 is not an integer in canonical form (it is the request's context "amount")`},
		{json.RawMessage(`{"doc":"invoice-3","amount":[1],"memo":"x"}`), `mandate: DENY MALFORMED: mcpgate: argument "amount" must be a string or an integer (it is the request's context "amount")`},
		{json.RawMessage(`{"doc":"invoice-3","amount":-0,"memo":"x"}`), `mandate: DENY MALFORMED: mcpgate: argument "amount": -0 is not an integer in canonical form (it is the request's context "amount")`},
		{map[string]any{"doc": "invoice-3", "amount": 1, "memo": strings.Repeat("m", presentation.MaxContextValBytes+1)}, `mandate: DENY MALFORMED: mcpgate: argument "memo" is longer than 1024 bytes`},
		{json.RawMessage(`{"doc":"invoice-3","amount":1,"memo":"x","Amount":99}`), `mandate: DENY MALFORMED: mcpgate: arguments "amount" and "Amount" differ only by case`},
	}
	for i, c := range cases {
		if res := f.call(t, "pay_doc", c.args); !strings.HasPrefix(text(res), c.want) {
			t.Errorf("call %d: %q, want %q", i, text(res), c.want)
		}
	}
	recs := f.records(t)
	if len(recs) != len(cases) || recs[0].Context["amount"] != "60" || recs[0].Context["memo"] != "May rent" || recs[0].Decision != "ALLOW" ||
		recs[1].Reasons[0] != "AMOUNT_EXCEEDED" || recs[2].Context["amount"] != "40" {
		t.Fatalf("records: %+v", recs)
	}
	if got := f.upstream.received(); len(got) != 2 {
		t.Fatalf("the upstream received %q", got)
	}
	// Arguments that are not UTF-8 are refused: decoding would replace the
	// bad bytes, and the gateway would decide on other text than it forwards.
	res, err := f.gw.CallTool(context.Background(), "pay_doc", json.RawMessage("{\"doc\":\"x\",\"amount\":1,\"memo\":\"\xff\"}"))
	if err != nil || text(res) != "mandate: DENY MALFORMED: the arguments are not UTF-8 (audit 10)" {
		t.Fatalf("not UTF-8: %q %v", text(res), err)
	}
}

// brokenWallet cannot be reached: it neither lists nor presents.
type brokenWallet struct{}

func (brokenWallet) Powers(context.Context) (gatekeeper.Powers, error) {
	return gatekeeper.Powers{}, errors.New("holder: connection refused")
}

func (brokenWallet) Present(context.Context, presentation.Challenge, presentation.Request) (string, []byte, error) {
	return "", nil, errors.New("holder: connection refused")
}

// A wallet that cannot be reached lists nothing (a JSON-RPC internal error)
// and presents nothing: every call is DENY PRESENTATION_MISSING, recorded.
func TestUnreachableWallet(t *testing.T) {
	f := setUpWith(t, func(o *mcpgate.Options) { o.Wallet = brokenWallet{} })
	_, err := f.session.ListTools(context.Background(), nil)
	var rpcErr *jsonrpc.Error
	if !errors.As(err, &rpcErr) || rpcErr.Code != jsonrpc.CodeInternalError ||
		rpcErr.Message != "mcpgate: the wallet could not list its powers: holder: connection refused" {
		t.Fatalf("tools/list: %#v", err)
	}
	res := f.call(t, "read_doc", map[string]any{"doc": "public"})
	if want := "mandate: DENY PRESENTATION_MISSING: the agent's wallet did not present: holder: connection refused (audit 1)"; text(res) != want {
		t.Fatalf("read_doc: %q, want %q", text(res), want)
	}
	if got := f.upstream.received(); len(got) != 0 {
		t.Fatalf("the upstream received %q", got)
	}
}

func TestBlockedCalls(t *testing.T) {
	f := setUp(t)
	long := strings.Repeat("a", mcpgate.MaxArgumentBytes+1)
	cases := []struct {
		name string
		tool string
		args any
		want string // the text's start
	}{
		{"not granted", "read_doc", map[string]any{"doc": "private"}, "mandate: DENY NOT_GRANTED: the agent's wallet holds no chain that covers or forbids docs:read on docs:acme/private"},
		{"forbidden", "write_doc", map[string]any{"doc": "public"}, "mandate: DENY FORBIDDEN: "},
		{"unmapped", "delete_doc", map[string]any{"doc": "public"}, `mandate: DENY UNMAPPED: tool "delete_doc" is not mapped to an action by the gateway's configuration`},
		{"unknown tool", "nope", nil, `mandate: DENY UNMAPPED: tool "nope" is not mapped`},
		{"dot segments", "read_doc", map[string]any{"doc": "public/../private"}, `mandate: DENY MALFORMED: mcpgate: argument "doc": "public/../private" holds a dot segment`},
		{"wildcard", "read_doc", map[string]any{"doc": "*"}, `mandate: DENY MALFORMED: mcpgate: argument "doc": "*" holds '*'`},
		{"slash", "read_doc", map[string]any{"doc": "public/x"}, `mandate: DENY MALFORMED: mcpgate: argument "doc": "public/x" holds '/'`},
		{"empty", "read_doc", map[string]any{"doc": ""}, `mandate: DENY MALFORMED: mcpgate: argument "doc" is empty`},
		{"control", "read_doc", map[string]any{"doc": "pub\nlic"}, `mandate: DENY MALFORMED: mcpgate: argument "doc": "pub\nlic" holds '\n'`},
		{"too long", "read_doc", map[string]any{"doc": long}, `mandate: DENY MALFORMED: mcpgate: argument "doc" is longer than 128 bytes`},
		{"missing", "read_doc", map[string]any{}, `mandate: DENY MALFORMED: mcpgate: argument "doc" is required (it names the resource)`},
		{"object", "read_doc", map[string]any{"doc": map[string]any{"a": 1}}, `mandate: DENY MALFORMED: mcpgate: argument "doc" must be a string or an integer`},
		{"not an object", "read_doc", []int{1}, `mandate: DENY MALFORMED: the arguments are not a JSON object`},
		{"justification not a string", "read_doc", map[string]any{"doc": "public", "justification": 7}, `mandate: DENY MALFORMED: argument "justification" must be a string`},
		{"justification too long", "read_doc", map[string]any{"doc": "public", "justification": strings.Repeat("x", presentation.MaxIntentBytes+1)}, `mandate: DENY MALFORMED: argument "justification" is longer than 4096 bytes`},
		{"own justification", "own_justification", map[string]any{"doc": "public"}, `mandate: DENY MALFORMED: the upstream tool has its own "justification" argument`},
		// A decoder that matches keys without regard to case (Go's encoding/json, into a struct) would read
		// the second key; the gateway would have decided on the first (found by a review: ALLOW on
		// docs:acme/public, upstream acted on private).
		{"a key that differs by case", "read_doc", json.RawMessage(`{"doc":"public","Doc":"private"}`),
			`mandate: DENY MALFORMED: mcpgate: arguments "doc" and "Doc" differ only by case`},
		{"a key that folds to the argument", "read_doc", json.RawMessage(`{"doc":"public","DOC":"private"}`),
			`mandate: DENY MALFORMED: mcpgate: arguments "doc" and "DOC" differ only by case`},
		{"a key that folds by Unicode", "read_doc", json.RawMessage(`{"doc":"public","\u212aey":"x","key":"y"}`),
			"mandate: DENY MALFORMED: mcpgate: arguments \"key\" and \"\u212aey\" differ only by case"},
		{"the argument named by case alone", "read_doc", json.RawMessage(`{"Doc":"private"}`),
			`mandate: DENY MALFORMED: mcpgate: arguments "doc" and "Doc" differ only by case`},
		{"the justification by case", "read_doc", map[string]any{"doc": "public", "Justification": "because"},
			`mandate: DENY MALFORMED: mcpgate: arguments "justification" and "Justification" differ only by case`},
		// İ and ı fold only to themselves, but lower and upper to i and I (found by a second review).
		{"a dotted capital I", "read_doc", json.RawMessage(`{"doc":"public","justificat\u0130on":"x"}`),
			"mandate: DENY MALFORMED: mcpgate: arguments \"justification\" and \"justificat\u0130on\" differ only by case"},
		{"a dotless i", "read_doc", json.RawMessage(`{"doc":"public","text":"a","text\u0131":"b","TEXTI":"c"}`),
			"mandate: DENY MALFORMED: mcpgate: arguments \"TEXTI\" and \"text\u0131\" differ only by case"},
		{"-0 for 0", "read_doc", json.RawMessage(`{"doc":-0}`),
			"mandate: DENY MALFORMED: mcpgate: argument \"doc\": -0 is not an integer as a resource may hold it (write 0)"},
		{"two other keys by case", "read_doc", map[string]any{"doc": "public", "text": "a", "TEXT": "b"},
			`mandate: DENY MALFORMED: mcpgate: arguments "TEXT" and "text" differ only by case`},
		{"long tool name, cut on a character", "x" + strings.Repeat("é", 600), nil, `mandate: DENY UNMAPPED: tool "xéé`},
	}
	for _, c := range cases {
		res := f.call(t, c.tool, c.args)
		if !res.IsError || !strings.HasPrefix(text(res), c.want) {
			t.Errorf("%s: error %v, text %q, want %q", c.name, res.IsError, text(res), c.want)
		}
		meta, _ := res.Meta[mcpgate.MetaKey].(map[string]any)
		if meta["outcome"] != "DENY" || meta["auditId"] == nil {
			t.Errorf("%s: meta %v", c.name, res.Meta)
		}
	}
	if got := f.upstream.received(); len(got) != 0 {
		t.Errorf("the upstream received %v", got)
	}
	// Every call has its record, each a DENY with the reason the agent was told.
	recs := f.records(t)
	if len(recs) != len(cases) {
		t.Fatalf("%d audit records for %d calls", len(recs), len(cases))
	}
	for i, r := range recs {
		reason := strings.Fields(strings.TrimPrefix(cases[i].want, "mandate: DENY "))[0]
		if r.Decision != "DENY" || len(r.Reasons) != 1 || r.Reasons[0]+":" != reason || !utf8.ValidString(r.Context[mcpgate.ToolContextKey]) ||
			!strings.HasPrefix(cases[i].tool, r.Context[mcpgate.ToolContextKey]) || len(r.Context[mcpgate.ToolContextKey]) < len(cases[i].tool) && len(r.Context[mcpgate.ToolContextKey]) < presentation.MaxContextValBytes-1 {
			t.Errorf("record %d (%s): %s %v %v", i, cases[i].name, r.Decision, r.Reasons, r.Context)
		}
	}
	if r := recs[1]; r.Actor != agent.DID() || r.Principal != alice.DID() || r.Action != "docs:write" || r.Resource != "docs:acme/public" {
		t.Errorf("FORBIDDEN record: %+v", r)
	}
}

// Resources are compared byte for byte. {doc|lower} decides on the lower
// case and forwards it so: "PUBLIC" is docs:acme/public and reaches the
// upstream as "public"; without the filter "PUBLIC" is another document.
func TestLowerFilter(t *testing.T) {
	f := setUp(t)
	if res := f.call(t, "find_doc", map[string]any{"doc": "PuBLIC"}); res.IsError {
		t.Fatalf("find_doc PuBLIC: %q", text(res))
	}
	if res := f.call(t, "find_doc", map[string]any{"doc": 7}); !strings.HasPrefix(text(res), "mandate: DENY NOT_GRANTED: ") {
		t.Fatalf("find_doc 7: %q", text(res))
	}
	if res := f.call(t, "read_doc", map[string]any{"doc": "PUBLIC"}); !strings.HasPrefix(text(res), "mandate: DENY NOT_GRANTED: ") {
		t.Fatalf("read_doc PUBLIC: %q", text(res))
	}
	if got := f.upstream.received(); len(got) != 1 || got[0] != `find_doc {"doc":"public"}` {
		t.Fatalf("the upstream received %q", got)
	}
	recs := f.records(t)
	if len(recs) != 3 || recs[0].Decision != "ALLOW" || recs[0].Resource != "docs:acme/public" || recs[2].Resource != "docs:acme/PUBLIC" {
		t.Fatalf("records: %+v", recs)
	}
}

func TestAllowedCallForwardsWithoutJustification(t *testing.T) {
	f := setUp(t)
	const why = "tidy the public document's headings"
	res := f.call(t, "read_doc", map[string]any{"doc": "public", "justification": why})
	if res.IsError || text(res) != "read_doc done" {
		t.Fatalf("read_doc: %v %q", res.IsError, text(res))
	}
	// A repeated key reaches the upstream as the value decided on.
	res = f.call(t, "read_doc", json.RawMessage(`{"doc":"private","doc":"public"}`))
	if res.IsError {
		t.Fatalf("repeated key: %q", text(res))
	}
	got := f.upstream.received()
	if len(got) != 2 || got[0] != `read_doc {"doc":"public"}` || got[1] != `read_doc {"doc":"public"}` {
		t.Fatalf("the upstream received %q", got)
	}
	recs := f.records(t)
	if len(recs) != 2 || recs[0].Decision != "ALLOW" || recs[0].Intent != why || recs[0].Grant != "urn:mandate:grant:read" ||
		recs[0].Resource != "docs:acme/public" || recs[1].Decision != "ALLOW" || recs[1].Intent != "" {
		t.Fatalf("records: %+v", recs)
	}
}

func TestApprovalThroughTheGateway(t *testing.T) {
	f := setUp(t)
	args := map[string]any{"doc": "draft", "text": "teh -> the", "justification": "fix a typo in the draft"}
	res := f.call(t, "edit_doc", args)
	meta, _ := res.Meta[mcpgate.MetaKey].(map[string]any)
	id, _ := meta["approvalId"].(string)
	want := "mandate: NEEDS_APPROVAL APPROVAL_REQUIRED: "
	if !res.IsError || id == "" || !strings.HasPrefix(text(res), want) ||
		!strings.Contains(text(res), "Approval request "+id+" waits for the principal (mandate approve "+id+" --verifier 127.0.0.1:7443); once it is approved, call edit_doc again with the same arguments") {
		t.Fatalf("edit_doc: %v %q %v", res.IsError, text(res), res.Meta)
	}
	// Asked again before anyone answered: still waiting.
	if res := f.call(t, "edit_doc", args); !strings.HasPrefix(text(res), want) {
		t.Fatalf("before the answer: %q", text(res))
	}
	r, err := f.verifier.Approval(id)
	if err != nil {
		t.Fatal(err)
	}
	answer, err := presentation.SignAnswer(alice, r, true, 5*time.Minute, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.verifier.Answer(context.Background(), id, answer); err != nil {
		t.Fatal(err)
	}
	// What the resource does not name is bound all the same: another text is
	// another call, which the approval does not cover.
	swapped := map[string]any{"doc": "draft", "text": "delete every paragraph", "justification": "fix a typo in the draft"}
	if res := f.call(t, "edit_doc", swapped); !strings.HasPrefix(text(res), want) {
		t.Fatalf("another text after approval: %q", text(res))
	}
	if res := f.call(t, "edit_doc", args); res.IsError || text(res) != "edit_doc done" {
		t.Fatalf("after approval: %q", text(res))
	}
	// Another justification is another request: the approval does not carry over.
	other := map[string]any{"doc": "draft", "justification": "rewrite the draft"}
	if res := f.call(t, "edit_doc", other); !strings.HasPrefix(text(res), want) {
		t.Fatalf("other intent: %q", text(res))
	}
	if got := f.upstream.received(); len(got) != 1 || got[0] != `edit_doc {"doc":"draft","text":"teh -\u003e the"}` {
		t.Fatalf("the upstream received %q", got)
	}
	// The records carry the digest of the arguments forwarded.
	sum := sha256.Sum256([]byte(`{"doc":"draft","text":"teh -\u003e the"}`))
	recs := f.records(t)
	allowed := recs[len(recs)-2]
	if allowed.Decision != "ALLOW" || allowed.Context[mcpgate.ArgumentsContextKey] != "sha-256:"+base64.RawURLEncoding.EncodeToString(sum[:]) {
		t.Fatalf("ALLOW record: %s %v", allowed.Decision, allowed.Context)
	}
}
