package main

import (
	"context"
	"encoding/json"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

// runAsCLI makes this test binary stand in for the mandate binary when
// `bench` re-executes itself (os.Executable) to start its verifier.
const runAsCLI = "MANDATE_TEST_RUN_AS_CLI"

func TestMain(m *testing.M) {
	if os.Getenv(runAsCLI) == "1" {
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
		stop()
		os.Exit(code)
	}
	os.Exit(m.Run())
}

// benchReport is the part of `bench --json` the tests read.
type benchReport struct {
	Requests, Allow, Deny, NeedsApproval, Failed, Errors int
	Outcomes                                             map[string]int
	RoundTrip, Authorize                                 struct {
		N                          int
		P50Ms, P90Ms, P99Ms, MaxMs float64
	}
	Server *struct {
		PID                                   int
		PeakBytes, StartRSSBytes, EndRSSBytes int64
		CPUMs, CPUPerRequestMs                float64
		Samples                               []struct{ RSSBytes, HWMBytes int64 }
	}
}

func TestBenchOwnVerifier(t *testing.T) {
	t.Setenv(runAsCLI, "1")
	out := must(t, context.Background(), "bench", "--agents", "2", "--requests", "20", "--chain-depth", "2", "--sample-every", "100ms", "--json")
	var rep benchReport
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if rep.Requests != 20 || rep.Allow != 20 || rep.Deny != 0 || rep.NeedsApproval != 0 || rep.Failed != 0 || rep.Errors != 0 || len(rep.Outcomes) != 0 {
		t.Fatalf("report = %+v, want 20 requests, 20 ALLOW, 0 errors", rep)
	}
	for _, p := range []struct {
		N                          int
		P50Ms, P90Ms, P99Ms, MaxMs float64
	}{rep.RoundTrip, rep.Authorize} {
		if p.N != 20 || p.P50Ms <= 0 || p.P50Ms > p.P90Ms || p.P90Ms > p.P99Ms || p.P99Ms > p.MaxMs {
			t.Errorf("percentiles = %+v", p)
		}
	}
	// The verifier was a process of its own, and its memory was read.
	m := rep.Server
	if m == nil || m.PID == 0 || m.PID == os.Getpid() || len(m.Samples) < 2 || m.StartRSSBytes <= 0 || m.PeakBytes < m.EndRSSBytes ||
		m.CPUMs <= 0 || m.CPUPerRequestMs <= 0 {
		t.Fatalf("server = %+v", m)
	}
	if _, err := os.Stat("/proc/" + strconv.Itoa(m.PID)); !os.IsNotExist(err) {
		t.Errorf("verifier pid %d still runs after bench: %v", m.PID, err)
	}
}

func TestBenchTextAndRunningVerifier(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	dir := t.TempDir()
	t.Setenv("MANDATE_PASSPHRASE", "correct horse battery staple")
	alice := must(t, ctx, "wallet", "init", "--wallet", filepath.Join(dir, "alice"))
	must(t, ctx, "wallet", "init", "--wallet", filepath.Join(dir, "verifier-id"))
	addr := freeAddr(t)
	go mandate(t, ctx, "serve", "verifier", "--addr", addr, "--data", filepath.Join(dir, "data"), "--audience", "https://mail.example.com",
		"--trust-root", alice, "--wallet", filepath.Join(dir, "verifier-id"))
	waitHealthy(t, addr)
	out := must(t, ctx, "bench", "--addr", addr, "--principal-wallet", filepath.Join(dir, "alice"), "--agents", "1", "--requests", "3", "--server-pid", strconv.Itoa(os.Getpid()))
	lines := strings.Split(out, "\n")
	if len(lines) < 6 || lines[0] != "verifier   "+addr+", 1 agents, chain depth 1, bound 3 requests or 10s" ||
		!strings.HasPrefix(lines[1], "requests   3 in ") || lines[2] != "decisions  ALLOW 3, DENY 0, NEEDS_APPROVAL 0, failed 0: 0 errors" ||
		!strings.HasPrefix(lines[3], "round trip p50 ") || !strings.HasPrefix(lines[4], "authorize  p50 ") ||
		!strings.HasPrefix(lines[5], "server     pid "+strconv.Itoa(os.Getpid())+": RSS start ") {
		t.Fatalf("bench output:\n%s", out)
	}
	// A fresh principal is not trusted by that verifier: every request is an error, exit 3.
	out, _, code := mandate(t, ctx, "bench", "--addr", addr, "--requests", "2", "--json")
	var rep benchReport
	if err := json.Unmarshal([]byte(out), &rep); err != nil || code != 3 || rep.Errors != 2 || rep.Outcomes["DENY UNTRUSTED_ROOT"] != 2 {
		t.Fatalf("untrusted principal: exit %d, %+v, %v", code, rep, err)
	}
}

func TestBenchRefusals(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--addr", "10.1.2.3:7443"}, "load: address 10.1.2.3:7443 is not a loopback IP address (127.0.0.1 or ::1)"},
		{[]string{"--addr", "localhost:7443"}, "load: address localhost:7443 is not a loopback IP address (127.0.0.1 or ::1)"},
		{[]string{"--duration", "31m"}, "load: duration must be at most 30m0s, got 31m0s"},
		{[]string{"--requests", "2000000"}, "load: requests must be at most 1000000, got 2000000"},
		{[]string{"--duration", "0"}, "load: no bound: give a duration, a number of requests, or both"},
		{[]string{"--agents", "1000"}, "load: agents must be 1..256, got 1000"},
		{[]string{"--chain-depth", "4"}, "load: chain depth must be 1..3, got 4"},
		{[]string{"--server-pid", "1"}, "--server-pid needs --addr: bench knows the pid of the verifier it starts"},
	} {
		out, errs, code := mandate(t, context.Background(), append([]string{"bench"}, tc.args...)...)
		if code != 1 || out != "" || errs != "mandate: "+tc.want+"\n" {
			t.Errorf("bench %v: exit %d, stdout %q, stderr %q; want exit 1, stderr %q", tc.args, code, out, errs, tc.want)
		}
	}
}
