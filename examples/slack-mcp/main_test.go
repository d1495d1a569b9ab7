package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mandate-dev/mandate/credentials"
	"github.com/mandate-dev/mandate/examples/slack-mcp/slack"
	"github.com/mandate-dev/mandate/internal/testkeys"
	"github.com/mandate-dev/mandate/presentation"
	"github.com/mandate-dev/mandate/presentation/audit"
	"github.com/mandate-dev/mandate/presentation/gatekeeper"
	"github.com/mandate-dev/mandate/presentation/mcpgate"
	"github.com/mandate-dev/mandate/wallet"
	"github.com/mandate-dev/mandate/wallet/holder"
)

// serveEnv makes this test binary the Slack MCP server (`slack-mcp serve`) when the gateway under test
// starts it as its upstream.
const serveEnv = "SLACK_MCP_TEST_SERVE"

func TestMain(m *testing.M) {
	if os.Getenv(serveEnv) == "1" && len(os.Args) > 1 && os.Args[1] == "serve" {
		if err := serve(context.Background(), os.Args[2:]); err != nil {
			os.Exit(2)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

var wantSteps = []string{"LISTED list_channels,read_channel", "ALLOW", "DENY NOT_GRANTED", "DENY FORBIDDEN", "NOT RECEIVED"}

func checkSteps(t *testing.T, steps []slack.Step) {
	t.Helper()
	if len(steps) != len(wantSteps) {
		t.Fatalf("%d steps, want %d: %+v", len(steps), len(wantSteps), steps)
	}
	for i, s := range steps {
		if s.Got != wantSteps[i] || s.Expected != wantSteps[i] {
			t.Errorf("step %d %q: got %s (%s), expected %s, want %s", i+1, s.Name, s.Got, s.Detail, s.Expected, wantSteps[i])
		}
	}
	if d := steps[1].Detail; d != "bob: The release is on Thursday. / carol: I'll write the notes." {
		t.Errorf("#general read: %q", d)
	}
	if d := steps[3].Detail; !strings.HasPrefix(d, "mandate: DENY FORBIDDEN: ") || !strings.Contains(d, " forbids slack:post (audit ") {
		t.Errorf("post_message: %q", d)
	}
}

// TestStory plays the example as `go run` does.
func TestStory(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	steps, err := slack.Run(ctx)
	if err != nil {
		t.Fatal(err)
	}
	checkSteps(t, steps)
	var out bytes.Buffer
	if !report(&out, steps) || !strings.Contains(out.String(), "5 of 5 steps as expected") {
		t.Errorf("report:\n%s", out.String())
	}
}

// wantRecord is one audit record as the tests expect it.
type wantRecord struct{ decision, reason, action, resource, intent string }

func checkRecords(t *testing.T, recs []audit.Record, want []wantRecord, principal, actor string) {
	t.Helper()
	if len(recs) != len(want) {
		t.Fatalf("%d audit records, want %d: %+v", len(recs), len(want), recs)
	}
	for i, r := range recs {
		w := want[i]
		reason := ""
		if len(r.Reasons) > 0 {
			reason = r.Reasons[0]
		}
		if r.Decision != w.decision || reason != w.reason || r.Action != w.action || r.Resource != w.resource || r.Intent != w.intent {
			t.Errorf("record %d: %s %v %s %s %q, want %+v", i, r.Decision, r.Reasons, r.Action, r.Resource, r.Intent, w)
		}
		if r.Context[mcpgate.ToolContextKey] == "" {
			t.Errorf("record %d names no tool: %v", i, r.Context)
		}
		// The verifier knows who acted for whom whenever the wallet presented.
		if w.reason != "NOT_GRANTED" && w.reason != "MALFORMED" && (r.Principal != principal || r.Actor != actor) {
			t.Errorf("record %d: principal %s actor %s", i, r.Principal, r.Actor)
		}
	}
}

// TestStreamableHTTP drives a real MCP client session over streamable HTTP on loopback through the gateway
// (in process, with an in-process verifier) to the Slack server.
func TestStreamableHTTP(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	alice, assistant := testkeys.New("alice"), testkeys.New("assistant")
	db, err := slack.OpenMemory()
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	v, err := slack.NewVerifier(db, testkeys.New("verifier"), alice.DID())
	if err != nil {
		t.Fatal(err)
	}
	root, err := slack.Issue(alice, assistant.DID())
	if err != nil {
		t.Fatal(err)
	}
	tools, err := slack.Tools()
	if err != nil {
		t.Fatal(err)
	}
	ws := slack.NewWorkspace()
	upT, gwT := mcp.NewInMemoryTransports()
	upSession, err := ws.Server().Connect(ctx, upT, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer upSession.Close()
	up, err := mcp.NewClient(&mcp.Implementation{Name: "gateway", Version: "v1"}, nil).Connect(ctx, gwT, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer up.Close()
	gw, err := mcpgate.New(ctx, mcpgate.Options{
		Upstream: up, Tools: tools, Decider: gatekeeper.Local(v),
		Wallet: gatekeeper.Holder{Signer: assistant, Held: presentation.Held{LDP: [][]*credentials.Credential{{root}}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	token := mcpgate.NewToken()
	h, err := gw.Handler(token)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	defer srv.Close()
	session, err := mcp.NewClient(&mcp.Implementation{Name: "agent", Version: "v1"}, nil).
		Connect(ctx, &mcp.StreamableClientTransport{Endpoint: srv.URL + "/mcp", HTTPClient: &http.Client{Transport: &mcpgate.BearerTransport{Token: token}}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer session.Close()
	checkSteps(t, slack.Play(ctx, session, ws.Received))
	// An argument cannot widen the resource.
	for _, ch := range []string{"general/../random", "*"} {
		res, err := session.CallTool(ctx, &mcp.CallToolParams{Name: "read_channel", Arguments: map[string]any{"channel": ch}})
		if err != nil {
			t.Fatal(err)
		}
		if o, r := slack.Outcome(res); o != "DENY" || r != "MALFORMED" {
			t.Errorf("channel %q: %s %s (%s)", ch, o, r, slack.Text(res))
		}
	}
	// The Slack server got one call: the read, without the justification.
	if got := ws.Calls(); len(got) != 1 || got[0].Tool != "read_channel" || got[0].Arguments != `{"channel":"general"}` {
		t.Errorf("the Slack server received %+v", got)
	}
	recs, err := v.AuditLog().List(audit.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	checkRecords(t, recs, []wantRecord{
		{"ALLOW", "", "slack:read", "slack:acme/general", slack.Intent},
		{"DENY", "NOT_GRANTED", "slack:read", "slack:acme/leadership", "see what leadership said"},
		{"DENY", "FORBIDDEN", "slack:post", "slack:acme/general", "reply for Alice"},
		{"DENY", "MALFORMED", "slack:read", "", ""},
		{"DENY", "MALFORMED", "slack:read", "", ""},
	}, alice.DID(), assistant.DID())
}

// TestStdioThroughTheCLI runs `mandate mcp-gateway --config` as the agent's MCP server over stdio, with
// the assistant's wallet served on a Unix socket (wallet/holder), a gRPC verifier on loopback, and the
// Slack server as the gateway's upstream command.
func TestStdioThroughTheCLI(t *testing.T) { throughTheCLI(t, false) }

// TestStreamableHTTPThroughTheCLI is the same with `--listen 127.0.0.1:0 --token-file`: the agent's MCP
// client speaks streamable HTTP to http://ADDR/mcp with the bearer token the gateway wrote (mode 0600).
func TestStreamableHTTPThroughTheCLI(t *testing.T) { throughTheCLI(t, true) }

func throughTheCLI(t *testing.T, listen bool) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	dir := t.TempDir()
	bin := buildMandate(t, dir)
	alice := testkeys.New("alice")
	w, err := wallet.Create(filepath.Join(dir, "assistant"), []byte("assistant passphrase"), wallet.WithKDFParams(1, 64, 1))
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	root, err := slack.Issue(alice, w.DID())
	if err != nil {
		t.Fatal(err)
	}
	b, err := credentials.EncodeChain([]*credentials.Credential{root})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.PutChain(root.ID, b); err != nil {
		t.Fatal(err)
	}
	sock := filepath.Join(dir, "w.sock")
	wl, err := holder.Listen(sock)
	if err != nil {
		t.Fatal(err)
	}
	ws := holder.NewGRPCServer(w, nil, nil)
	go ws.Serve(wl)
	defer ws.Stop()
	db, err := slack.OpenMemory()
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	v, err := slack.NewVerifier(db, testkeys.New("verifier"), alice.DID())
	if err != nil {
		t.Fatal(err)
	}
	vl, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	vs := gatekeeper.NewGRPCServer(v)
	go vs.Serve(vl)
	defer vs.Stop()

	record := filepath.Join(dir, "calls.jsonl")
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cfg := string(slack.GatewayYAML)
	for old, new := range map[string]string{
		"command: [go, run, ./examples/slack-mcp, serve]": "command: [" + strconv.Quote(self) + ", serve, --record, " + strconv.Quote(record) + "]",
		"socket: assistant-wallet.sock":                   "socket: " + strconv.Quote(sock),
		"address: 127.0.0.1:7443":                         "address: " + vl.Addr().String(),
	} {
		if !strings.Contains(cfg, old) {
			t.Fatalf("gateway.yaml has no %q", old)
		}
		cfg = strings.Replace(cfg, old, new, 1)
	}
	cfgPath := filepath.Join(dir, "gateway.yaml")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	stderr, err := os.Create(filepath.Join(dir, "gateway.log"))
	if err != nil {
		t.Fatal(err)
	}
	defer stderr.Close()
	args := []string{"mcp-gateway", "--config", cfgPath}
	tokenFile := filepath.Join(dir, "gateway.token")
	if listen {
		args = append(args, "--listen", "127.0.0.1:0", "--token-file", tokenFile)
	}
	cmd := exec.Command(bin, args...)
	cmd.Env, cmd.Stderr = append(os.Environ(), serveEnv+"=1"), stderr
	var transport mcp.Transport = &mcp.CommandTransport{Command: cmd, TerminateDuration: 5 * time.Second}
	if listen {
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		defer stopGateway(t, cmd)
		url := gatewayURL(ctx, t, stderr.Name())
		fi, err := os.Stat(tokenFile)
		if err != nil || fi.Mode().Perm() != 0o600 {
			t.Fatalf("token file: %v %v", fi, err)
		}
		token := strings.TrimSpace(readFile(t, tokenFile))
		transport = &mcp.StreamableClientTransport{Endpoint: url, HTTPClient: &http.Client{Transport: &mcpgate.BearerTransport{Token: token}}}
	}
	session, err := mcp.NewClient(&mcp.Implementation{Name: "agent", Version: "v1"}, nil).Connect(ctx, transport, nil)
	if err != nil {
		t.Fatalf("connect: %v\n%s", err, readFile(t, stderr.Name()))
	}
	received := func(tool string) bool {
		return slices.ContainsFunc(recorded(t, record), func(c slack.Call) bool { return c.Tool == tool })
	}
	checkSteps(t, slack.Play(ctx, session, received))
	if err := session.Close(); err != nil {
		t.Logf("close: %v", err)
	}
	if got := recorded(t, record); len(got) != 1 || got[0].Tool != "read_channel" || got[0].Arguments != `{"channel":"general"}` {
		t.Errorf("the Slack server received %+v", got)
	}
	// The remote verifier records every call: what it decided, and the refusal before any presentation
	// (NOT_GRANTED), which the gateway reports with VerifierService.Refuse.
	recs, err := v.AuditLog().List(audit.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	checkRecords(t, recs, []wantRecord{
		{"ALLOW", "", "slack:read", "slack:acme/general", slack.Intent},
		{"DENY", "NOT_GRANTED", "slack:read", "slack:acme/leadership", "see what leadership said"},
		{"DENY", "FORBIDDEN", "slack:post", "slack:acme/general", "reply for Alice"},
	}, alice.DID(), w.DID())
	if log := readFile(t, stderr.Name()); !strings.Contains(log, `msg="tool call blocked" tool=read_channel outcome=DENY reasons=[NOT_GRANTED] action=slack:read resource=slack:acme/leadership`) {
		t.Errorf("gateway log:\n%s", log)
	}
}

// gatewayURL waits for the gateway's "listening" log line and returns its url.
func gatewayURL(ctx context.Context, t *testing.T, logPath string) string {
	t.Helper()
	for ctx.Err() == nil {
		for _, line := range strings.Split(readFile(t, logPath), "\n") {
			if _, rest, ok := strings.Cut(line, `msg="mcp gateway listening" url=`); ok {
				return strings.Fields(rest)[0]
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("the gateway did not listen:\n%s", readFile(t, logPath))
	return ""
}

// stopGateway interrupts the gateway and waits for it (5 s, then kills it).
func stopGateway(t *testing.T, cmd *exec.Cmd) {
	_ = cmd.Process.Signal(os.Interrupt)
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("gateway exit: %v", err)
		}
	case <-time.After(5 * time.Second):
		_ = cmd.Process.Kill()
		<-done
		t.Error("the gateway did not stop on interrupt")
	}
}

// buildMandate builds the mandate command into dir.
func buildMandate(t *testing.T, dir string) string {
	t.Helper()
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("the go command is needed to build mandate: %v", err)
	}
	bin := filepath.Join(dir, "mandate")
	out, err := exec.Command(goTool, "build", "-o", bin, "github.com/mandate-dev/mandate/cmd/mandate").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// recorded reads the calls the Slack server wrote with --record.
func recorded(t *testing.T, path string) []slack.Call {
	t.Helper()
	f, err := os.Open(path)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []slack.Call
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var c struct {
			Tool      string          `json:"tool"`
			Arguments json.RawMessage `json:"arguments"`
		}
		if err := json.Unmarshal(sc.Bytes(), &c); err != nil {
			t.Fatalf("record %q: %v", sc.Text(), err)
		}
		out = append(out, slack.Call{Tool: c.Tool, Arguments: string(c.Arguments)})
	}
	return out
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
