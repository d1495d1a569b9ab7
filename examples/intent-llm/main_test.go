package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mandate-dev/mandate/intent"
	"github.com/mandate-dev/mandate/intent/external"
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
