package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dgraph-io/badger/v4"

	"github.com/mandate-dev/mandate/credentials"
	"github.com/mandate-dev/mandate/did"
	"github.com/mandate-dev/mandate/intent"
	"github.com/mandate-dev/mandate/intent/external"
	"github.com/mandate-dev/mandate/internal/testkeys"
	"github.com/mandate-dev/mandate/presentation"
)

func fakeEndpoint(t *testing.T, verdict string) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/v1/chat/completions" {
			http.NotFound(w, r)
			return
		}
		fmt.Fprintf(w, `{"choices":[{"index":0,"message":{"role":"assistant","content":"{\"verdict\":\"%s\",\"reason\":\"fake %s\",\"confidence\":0.9}"},"finish_reason":"stop"}]}`, verdict, verdict)
	}))
	t.Cleanup(srv.Close)
	return srv.URL + "/v1"
}

func request() intent.Request {
	return intent.Request{Action: "slack:read", Resource: "slack:acme/general", Intent: "summarise the day", Purposes: []string{"Keep Alice informed"}}
}

func TestListen(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "llm.sock")
	ctx, cancel := context.WithCancel(context.Background())
	var logs bytes.Buffer
	done := make(chan error, 1)
	t.Setenv("TEST_LLM_KEY", "sk-never-logged")
	go func() {
		done <- run(ctx, []string{"--endpoint", fakeEndpoint(t, "allow"), "--model", "m", "--api-key-env", "TEST_LLM_KEY", "--listen", "unix://" + sock}, &logs)
	}()
	c, err := external.Dial("unix://"+sock, external.WithName("llm"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var a intent.Answer
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if a, err = c.Check(context.Background(), request()); err == nil || time.Now().After(deadline) {
			break
		}
	}
	if err != nil || a != (intent.Answer{Verdict: intent.Allow, Reason: "fake allow", Confidence: 0.9}) {
		t.Fatalf("got %+v %v", a, err)
	}
	if fi, err := os.Stat(sock); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("socket: %v %v", fi.Mode(), err)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if strings.Contains(logs.String(), "sk-never-logged") {
		t.Fatalf("key in logs: %s", logs.String())
	}
}

func TestRunRefuses(t *testing.T) {
	t.Setenv(external.SocketEnv, "")
	cases := map[string][]string{
		"--api-key-env: $TEST_LLM_UNSET is empty or unset":                                       {"--endpoint", "http://127.0.0.1:1/v1", "--model", "m", "--api-key-env", "TEST_LLM_UNSET"},
		`llm: endpoint "http://10.1.2.3/v1": plain http only to a loopback host`:                 {"--endpoint", "http://10.1.2.3/v1", "--model", "m"},
		"--listen: want unix:///absolute/path":                                                   {"--endpoint", "http://127.0.0.1:1/v1", "--model", "m", "--listen", "127.0.0.1:9"},
		"external: " + external.SocketEnv + " is not set (is this program running as a plugin?)": {"--endpoint", "http://127.0.0.1:1/v1", "--model", "m"},
		"llm: timeout 5m0s is not in (0, 1m0s]":                                                  {"--endpoint", "http://127.0.0.1:1/v1", "--model", "m", "--timeout", "5m"},
	}
	for want, args := range cases {
		if err := run(context.Background(), args, &bytes.Buffer{}); err == nil || err.Error() != want {
			t.Errorf("%q: got %v, want %q", args, err, want)
		}
	}
}

// The command built with go build and started by the verifier's side as a
// plugin, pinned by its checksum.
func TestAsPlugin(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the command")
	}
	bin := filepath.Join(t.TempDir(), "intent-llm")
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	if out, err := exec.CommandContext(ctx, "go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	if err := os.Chmod(bin, 0o755); err != nil { // whatever the umask: a plugin is not group-writable
		t.Fatal(err)
	}
	b, err := os.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(b)
	c, err := external.Plugin(bin, hex.EncodeToString(sum[:]), external.WithName("llm"),
		external.WithArgs("--endpoint", fakeEndpoint(t, "deny"), "--model", "m", "--timeout", "2s"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	start := time.Now()
	res := intent.Run(context.Background(), []intent.Checker{c}, request(), 3*time.Second)
	if res.Verdict != intent.Deny || res.Reason != "llm: fake deny" || time.Since(start) > 3*time.Second {
		t.Fatalf("got %s %q", res.Verdict, res.Reason)
	}
}

// judgingEndpoint answers as a model would that read the request: deny when
// the intent is to rebut someone, allow otherwise.
func judgingEndpoint(t *testing.T) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		verdict, reason := "allow", "keeping Alice informed"
		if bytes.Contains(body, []byte("rebut")) {
			verdict, reason = "deny", "rebutting critics is not keeping Alice informed"
		}
		fmt.Fprintf(w, `{"choices":[{"index":0,"message":{"role":"assistant","content":"{\"verdict\":\"%s\",\"reason\":\"%s\",\"confidence\":0.8}"},"finish_reason":"stop"}]}`, verdict, reason)
	}))
	t.Cleanup(srv.Close)
	return srv.URL + "/v1"
}

// The plugin as a verifier's intent checker: a real verifier, a real
// presentation, the plugin process and a local endpoint.
func TestPluginThroughVerifier(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the command")
	}
	bin := filepath.Join(t.TempDir(), "intent-llm")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	if err := os.Chmod(bin, 0o755); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(b)
	c, err := external.Plugin(bin, hex.EncodeToString(sum[:]), external.WithName("llm"),
		external.WithArgs("--endpoint", judgingEndpoint(t), "--model", "m", "--timeout", "2s"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()

	alice, assistant := testkeys.New("alice"), testkeys.New("assistant")
	db, err := badger.Open(badger.DefaultOptions("").WithInMemory(true).WithLogger(nil))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	v, err := presentation.New(presentation.Config{
		Audience: "https://slack.example", Resolver: did.KeyResolver{}, TrustedRoots: []string{alice.DID()},
		Store: db, Signer: testkeys.New("verifier"),
		Intent: presentation.IntentPolicy{Checkers: []intent.Checker{c}, Timeout: 5 * time.Second},
	})
	if err != nil {
		t.Fatal(err)
	}
	root, err := credentials.Issue(alice, credentials.Template{
		Subject: assistant.DID(), Purpose: "Keep Alice informed about the team's Slack channel",
		Grants: []credentials.Grant{{ID: "urn:mandate:grant:slack-read", Action: "slack:read", Resource: "slack:acme/*"}},
	}, credentials.IssueOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		intent, want, reason string
	}{
		{"summarise #general for Alice", "ALLOW", ""},
		{"find who criticised Alice so I can rebut them", "DENY INTENT_MISMATCH", "llm: rebutting critics is not keeping Alice informed"},
	} {
		req := presentation.Request{Action: "slack:read", Resource: "slack:acme/general", Intent: tc.intent}
		ch, err := v.Challenge(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		vp, err := presentation.Present(assistant, []*credentials.Credential{root}, ch, req, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		d := v.Authorize(context.Background(), vp, req)
		got := strings.TrimSpace(d.Outcome.String() + " " + reasons(d))
		if got != tc.want || (tc.reason != "" && d.Message != tc.reason) || len(d.Checks) != 1 || d.Checks[0].Checker != "llm" {
			t.Fatalf("%q: got %s %q %+v, want %s %q", tc.intent, got, d.Message, d.Checks, tc.want, tc.reason)
		}
	}
}

func reasons(d presentation.Decision) string {
	var s []string
	for _, r := range d.Reasons {
		s = append(s, string(r))
	}
	return strings.Join(s, " ")
}
