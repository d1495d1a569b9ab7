package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
)

// mandate runs the CLI in-process and returns stdout, stderr and the exit code.
func mandate(t *testing.T, ctx context.Context, args ...string) (string, string, int) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(ctx, args, &out, &errb)
	return out.String(), errb.String(), code
}

func must(t *testing.T, ctx context.Context, args ...string) string {
	t.Helper()
	out, errs, code := mandate(t, ctx, args...)
	if code != 0 {
		t.Fatalf("mandate %s: exit %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), code, out, errs)
	}
	return strings.TrimSpace(out)
}

func freeAddr(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

func TestCLIEndToEnd(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	dir := t.TempDir()
	t.Setenv("MANDATE_PASSPHRASE", "correct horse battery staple")
	p := func(name string) string { return filepath.Join(dir, name) }

	alice := must(t, ctx, "wallet", "init", "--wallet", p("alice"))
	assistant := must(t, ctx, "wallet", "init", "--wallet", p("assistant"))
	summarizer := must(t, ctx, "wallet", "init", "--wallet", p("summarizer"))
	must(t, ctx, "wallet", "init", "--wallet", p("verifier-id"))

	must(t, ctx, "issue", "--wallet", p("alice"), "--grants", "../../examples/grants/assistant.yaml", "--to", assistant, "--out", p("a.json"))
	var vc vcResult
	if err := json.Unmarshal([]byte(must(t, ctx, "vc", "verify", p("a.json"), "--json")), &vc); err != nil || !vc.Valid || vc.Issuer != alice {
		t.Fatalf("vc verify: %+v %v", vc, err)
	}
	// Importing into the wrong wallet is refused.
	if _, errs, code := mandate(t, ctx, "wallet", "import", "--wallet", p("summarizer"), p("a.json")); code == 0 || !strings.Contains(errs, "not to this wallet") {
		t.Fatalf("import into the wrong wallet: exit %d, %s", code, errs)
	}
	chainID := must(t, ctx, "wallet", "import", "--wallet", p("assistant"), p("a.json"))

	must(t, ctx, "delegate", "--wallet", p("assistant"), "--parent", chainID, "--grants", "../../examples/grants/summarizer.yaml", "--to", summarizer, "--out", p("s.json"))
	must(t, ctx, "wallet", "import", "--wallet", p("summarizer"), p("s.json"))

	// A wider delegation is refused at issuance.
	wide := p("wide.yaml")
	os.WriteFile(wide, []byte("purpose: all mail\ngrants:\n  - {id: all, action: 'email:*', resource: 'mailbox:alice/*'}\n"), 0o600)
	if _, errs, code := mandate(t, ctx, "delegate", "--wallet", p("assistant"), "--parent", chainID, "--grants", wide, "--to", summarizer); code == 0 || !strings.Contains(errs, "scope escalation") {
		t.Fatalf("wider delegation: exit %d, %s", code, errs)
	}

	// A child whose purpose is outside its parent's is refused at issuance.
	off := p("off.yaml")
	os.WriteFile(off, []byte("purpose: Profile everyone who writes to Alice for a marketing list\ngrants:\n  - {id: email-read, action: 'email:read', resource: 'mailbox:alice/*'}\n"), 0o600)
	if _, errs, code := mandate(t, ctx, "delegate", "--wallet", p("assistant"), "--parent", chainID, "--grants", off, "--to", summarizer); code != 1 || !strings.Contains(errs, "purpose outside the parent's") || !strings.Contains(errs, "(missed: profil, everyon, writ, market, list) (deny)") {
		t.Fatalf("off-purpose delegation: exit %d, %s", code, errs)
	}

	// A subject that is not a usable DID is refused before anything is signed.
	if _, errs, code := mandate(t, ctx, "issue", "--wallet", p("alice"), "--grants", "../../examples/grants/assistant.yaml", "--to", "did:key:zBAD"); code != 1 || !strings.HasPrefix(errs, "mandate: --to: did:") {
		t.Fatalf("bad --to: exit %d, %s", code, errs)
	}

	// One byte changed: vc verify says INVALID and exits non-zero.
	raw, _ := os.ReadFile(p("a.json"))
	os.WriteFile(p("bad.json"), bytes.Replace(raw, []byte("organised"), []byte("organized"), 1), 0o600)
	out, _, code := mandate(t, ctx, "vc", "verify", p("bad.json"), "--json")
	if code != 1 || !strings.Contains(out, `"valid":false`) || !strings.Contains(out, "signature invalid") {
		t.Fatalf("tampered vc verify: exit %d, %s", code, out)
	}

	addr := freeAddr(t)
	go mandate(t, ctx, "serve", "verifier", "--addr", addr, "--data", p("verifier"), "--audience", "https://mail.example.com", "--trust-root", alice, "--wallet", p("verifier-id"),
		"--intent-checker", "lexical", "--intent-checker", `cel={"conditions":["!intent.contains('password')"]}`)
	waitHealthy(t, addr)

	// Inside the grant, outside the purpose: the intent checkers deny.
	out, _, code = mandate(t, ctx, "present", "--wallet", p("assistant"), "--verifier", addr, "--action", "slack:read", "--resource", "slack:acme/general", "--intent", "dig up who criticised her so I can rebut them publicly")
	if code != 3 || !strings.HasPrefix(out, "DENY INTENT_MISMATCH") {
		t.Fatalf("off-purpose read: exit %d, %s", code, out)
	}
	out, _, code = mandate(t, ctx, "present", "--wallet", p("assistant"), "--verifier", addr, "--action", "email:read", "--resource", "mailbox:alice/inbox", "--intent", "summarise the mail, then the password reset ones")
	if code != 3 || !strings.HasPrefix(out, "DENY INTENT_MISMATCH") {
		t.Fatalf("cel policy: exit %d, %s", code, out)
	}

	out = must(t, ctx, "present", "--wallet", p("summarizer"), "--verifier", addr, "--action", "email:read", "--resource", "mailbox:alice/inbox", "--intent", "summarise", "--json")
	if !strings.Contains(out, `"decision":"ALLOW"`) || !strings.Contains(out, `"reasons":[]`) ||
		!strings.Contains(out, `"checkers":[{"checker":"lexical","verdict":"allow"`) {
		t.Fatalf("summarizer read: %s", out)
	}
	draft := []string{"present", "--wallet", p("assistant"), "--verifier", addr, "--action", "email:draft", "--resource", "mailbox:alice/drafts", "--intent", "reply to Bob",
		"--context", "to=bob@example.com", "--context", "subject=Re: \"lunch\""}
	out, _, code = mandate(t, ctx, draft...)
	if code != 3 || !strings.HasPrefix(out, "NEEDS_APPROVAL APPROVAL_REQUIRED") {
		t.Fatalf("assistant draft: exit %d, %s", code, out)
	}
	_, rest, _ := strings.Cut(out, "  approval  ")
	id, _, _ := strings.Cut(rest, " ")
	// The approver reads what the call states besides the intent: its context, sorted and quoted.
	if out := must(t, ctx, "approvals", "list", "--verifier", addr); !strings.HasPrefix(out, id+"  email:draft mailbox:alice/drafts  by "+assistant) ||
		!strings.HasSuffix(out, `  subject="Re: \"lunch\""  to="bob@example.com"`) {
		t.Fatalf("approvals list: %s", out)
	}
	// The assistant cannot approve for Alice.
	if _, errs, code := mandate(t, ctx, "approve", id, "--wallet", p("assistant"), "--verifier", addr); code != 1 || !strings.Contains(errs, "not an approver") {
		t.Fatalf("approve by the agent: exit %d, %s", code, errs)
	}
	if out := must(t, ctx, "approve", id, "--wallet", p("alice"), "--verifier", addr); !strings.HasPrefix(out, id+": APPROVED email:draft") {
		t.Fatalf("approve: %s", out)
	}
	if out := must(t, ctx, append(draft, "--approval", id)...); !strings.HasPrefix(out, "ALLOW") {
		t.Fatalf("draft with approval: %s", out)
	}
	if out, _, code := mandate(t, ctx, append(draft, "--approval", id)...); code != 3 || !strings.HasPrefix(out, "DENY REPLAY") {
		t.Fatalf("approval reused: exit %d, %s", code, out)
	}
	log := must(t, ctx, "wallet", "log", "--wallet", p("assistant"), "--json")
	if n := strings.Count(log, `"seq":`); n != 5 || !strings.Contains(log, `"decision":"NEEDS_APPROVAL"`) || !strings.Contains(log, `"approval":"`+id+`"`) {
		t.Fatalf("wallet log (%d lines): %s", n, log)
	}
}

func TestCLIRefusals(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	t.Setenv("MANDATE_PASSPHRASE", "right")
	must(t, ctx, "wallet", "init", "--wallet", filepath.Join(dir, "w"))
	t.Setenv("MANDATE_PASSPHRASE", "wrong")
	if _, errs, code := mandate(t, ctx, "wallet", "list", "--wallet", filepath.Join(dir, "w")); code != 1 || !strings.Contains(errs, "wrong passphrase") {
		t.Fatalf("wrong passphrase: exit %d, %s", code, errs)
	}
	if _, errs, code := mandate(t, ctx, "serve", "verifier", "--addr", "0.0.0.0:0", "--data", dir, "--audience", "a", "--wallet", filepath.Join(dir, "w")); code != 1 || !strings.Contains(errs, "not a loopback address") {
		t.Fatalf("public listen: exit %d, %s", code, errs)
	}
	t.Setenv("MANDATE_PASSPHRASE", "right")
	if _, errs, code := mandate(t, ctx, "serve", "verifier", "--addr", "127.0.0.1:0", "--data", dir, "--audience", "a", "--wallet", filepath.Join(dir, "w")); code != 1 || !strings.Contains(errs, "no trusted roots") {
		t.Fatalf("no trust: exit %d, %s", code, errs)
	}
	for flag, want := range map[string]string{
		"bogus":                    `mandate: --intent-checker: intent: no checker named "bogus" (known: [cel external lexical])`,
		`cel={"conditions":["1"]}`: `mandate: --intent-checker: intent: checker "cel": cel: condition "1" is of type int, not bool`,
		"external":                 "mandate: --intent-checker: intent: checker \"external\": external: exactly one of address and plugin is needed",
	} {
		if _, errs, code := mandate(t, ctx, "serve", "verifier", "--addr", "127.0.0.1:0", "--data", dir, "--audience", "a", "--wallet", filepath.Join(dir, "w"), "--trust-root", "did:key:z6Mkx", "--intent-checker", flag); code != 1 || strings.TrimSpace(errs) != want {
			t.Errorf("--intent-checker %s: exit %d, %q, want %q", flag, code, errs, want)
		}
	}
}

func waitHealthy(t *testing.T, addr string) {
	t.Helper()
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	for range 100 {
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		r, err := healthpb.NewHealthClient(conn).Check(ctx, &healthpb.HealthCheckRequest{})
		cancel()
		if err == nil && r.GetStatus() == healthpb.HealthCheckResponse_SERVING {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatal("verifier did not become healthy")
}

func TestDemoJSON(t *testing.T) {
	out, errs, code := mandate(t, context.Background(), "demo", "--json")
	if code != 0 {
		t.Fatalf("demo exit %d: %s %s", code, out, errs)
	}
	var rep struct {
		OK    bool `json:"ok"`
		Steps []struct {
			Name, Decision, Expected string
			Reasons                  []string
		} `json:"steps"`
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil || !rep.OK || len(rep.Steps) != 39 {
		t.Fatalf("demo json: %v %+v", err, rep)
	}
}
