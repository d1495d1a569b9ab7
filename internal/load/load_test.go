package load_test

import (
	"context"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/dgraph-io/badger/v4"

	"github.com/mandate-dev/mandate/did"
	"github.com/mandate-dev/mandate/internal/load"
	"github.com/mandate-dev/mandate/presentation"
	"github.com/mandate-dev/mandate/presentation/gatekeeper"
)

// startVerifier runs a real verifier over gRPC on 127.0.0.1 in this
// process, trusting the one root given, and returns its address.
func startVerifier(t *testing.T, trustRoot string) string {
	t.Helper()
	db, err := badger.Open(badger.DefaultOptions("").WithInMemory(true).WithLogger(nil))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	id := newKey(t)
	v, err := presentation.New(presentation.Config{
		Audience: load.Audience, Resolver: did.KeyResolver{}, TrustedRoots: []string{trustRoot}, Store: db, Signer: id,
	})
	if err != nil {
		t.Fatal(err)
	}
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := gatekeeper.NewGRPCServer(v)
	go srv.Serve(lis)
	t.Cleanup(srv.Stop)
	return lis.Addr().String()
}

func newKey(t *testing.T) *load.Key {
	t.Helper()
	k, err := load.NewKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func checkOrdered(t *testing.T, name string, p load.Percentiles, n int) {
	t.Helper()
	if p.N != n || p.P50 <= 0 || p.P50 > p.P90 || p.P90 > p.P99 || p.P99 > p.Max {
		t.Errorf("%s percentiles = %+v, want %d samples, 0 < p50 <= p90 <= p99 <= max", name, p, n)
	}
}

func TestRunCountBound(t *testing.T) {
	for _, depth := range []int{1, 3} {
		principal := newKey(t)
		addr := startVerifier(t, principal.DID())
		rep, err := load.Run(context.Background(), load.Config{
			Addr: addr, Principal: principal, Agents: 2, Requests: 20, ChainDepth: depth,
			PID: os.Getpid(), SampleEvery: 100 * time.Millisecond,
		})
		if err != nil {
			t.Fatal(err)
		}
		if rep.Requests != 20 || rep.Allow != 20 || rep.Deny != 0 || rep.NeedsApproval != 0 || rep.Failed != 0 || rep.Errors != 0 || len(rep.Outcomes) != 0 {
			t.Fatalf("depth %d: report = %+v, want 20 requests, 20 ALLOW, 0 errors", depth, rep)
		}
		checkOrdered(t, "round trip", rep.RoundTrip, 20)
		checkOrdered(t, "authorize", rep.Authorize, 20)
		// Authorize is part of each round trip, so every order statistic is too.
		if a, r := rep.Authorize, rep.RoundTrip; a.P50 > r.P50 || a.P90 > r.P90 || a.P99 > r.P99 || a.Max > r.Max {
			t.Errorf("authorize %+v exceeds round trip %+v", a, r)
		}
		// The verifier runs in this process here, so its CPU includes the agents'.
		m := rep.Server
		if m == nil || m.PID != os.Getpid() || len(m.Samples) < 2 || m.Start <= 0 || m.End <= 0 || m.Peak < m.End || m.Peak < m.Start ||
			m.CPU <= 0 || m.CPUPerRequest != m.CPU/20 {
			t.Errorf("server = %+v", m)
		}
		if rep.Throughput <= 0 || rep.Principal != principal.DID() || rep.Interrupted {
			t.Errorf("report = %+v", rep)
		}
	}
}

func TestRunTimeBound(t *testing.T) {
	principal := newKey(t)
	addr := startVerifier(t, principal.DID())
	rep, err := load.Run(context.Background(), load.Config{Addr: addr, Principal: principal, Agents: 2, Duration: 300 * time.Millisecond, ChainDepth: 1})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Requests == 0 || rep.Allow != rep.Requests || rep.Errors != 0 || rep.Server != nil {
		t.Fatalf("report = %+v, want only ALLOWs and no memory readings", rep)
	}
	// In-flight requests finish after the bound; one is well under a second here.
	if rep.Elapsed < 300*time.Millisecond || rep.Elapsed > 3*time.Second {
		t.Errorf("elapsed %s for a 300ms bound", rep.Elapsed)
	}
}

// A verifier that trusts another principal denies every request: each one
// is an error, with its reason.
func TestRunWrongDecisionIsAnError(t *testing.T) {
	addr := startVerifier(t, newKey(t).DID())
	rep, err := load.Run(context.Background(), load.Config{Addr: addr, Principal: newKey(t), Agents: 3, Requests: 6, ChainDepth: 2})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Requests != 6 || rep.Allow != 0 || rep.Deny != 6 || rep.Errors != 6 || len(rep.Outcomes) != 1 || rep.Outcomes["DENY UNTRUSTED_ROOT"] != 6 {
		t.Fatalf("report = %+v, want 6 DENY UNTRUSTED_ROOT", rep)
	}
}

// A verifier that is not there: every request fails, none hangs.
func TestRunNoVerifier(t *testing.T) {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := lis.Addr().String()
	lis.Close()
	rep, err := load.Run(context.Background(), load.Config{Addr: addr, Principal: newKey(t), Agents: 1, Requests: 2, ChainDepth: 1, RequestTimeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Requests != 2 || rep.Failed != 2 || rep.Errors != 2 || rep.RoundTrip.N != 0 {
		t.Fatalf("report = %+v, want 2 failed", rep)
	}
	for o := range rep.Outcomes {
		if !strings.HasPrefix(o, "FAILED challenge: ") {
			t.Errorf("outcome %q", o)
		}
	}
}

func TestConfigRefusals(t *testing.T) {
	ok := load.Config{Addr: "127.0.0.1:7443", Principal: newKey(t), Agents: 1, Requests: 1, ChainDepth: 1}
	for _, tc := range []struct {
		name string
		edit func(*load.Config)
		want string
	}{
		{"valid", func(*load.Config) {}, ""},
		{"ipv6 loopback", func(c *load.Config) { c.Addr = "[::1]:7443" }, ""},
		{"public address", func(c *load.Config) { c.Addr = "10.1.2.3:7443" }, "load: address 10.1.2.3:7443 is not a loopback IP address (127.0.0.1 or ::1)"},
		{"host name", func(c *load.Config) { c.Addr = "localhost:7443" }, "load: address localhost:7443 is not a loopback IP address (127.0.0.1 or ::1)"},
		{"no port", func(c *load.Config) { c.Addr = "127.0.0.1" }, `load: address "127.0.0.1": address 127.0.0.1: missing port in address`},
		{"no agents", func(c *load.Config) { c.Agents = 0 }, "load: agents must be 1..256, got 0"},
		{"too many agents", func(c *load.Config) { c.Agents = 100000 }, "load: agents must be 1..256, got 100000"},
		{"depth 0", func(c *load.Config) { c.ChainDepth = 0 }, "load: chain depth must be 1..3, got 0"},
		{"depth 4", func(c *load.Config) { c.ChainDepth = 4 }, "load: chain depth must be 1..3, got 4"},
		{"too long", func(c *load.Config) { c.Duration = 31 * time.Minute }, "load: duration must be at most 30m0s, got 31m0s"},
		{"too many requests", func(c *load.Config) { c.Requests = 1_000_001 }, "load: requests must be at most 1000000, got 1000001"},
		{"unbounded", func(c *load.Config) { c.Requests = 0 }, "load: no bound: give a duration, a number of requests, or both"},
		{"sampling too often", func(c *load.Config) { c.SampleEvery = time.Millisecond }, "load: memory sample interval must be at least 100ms, got 1ms"},
		{"no principal", func(c *load.Config) { c.Principal = nil }, "load: no principal to issue the agents' credentials"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := ok
			tc.edit(&c)
			err := c.Validate()
			if got := errString(err); got != tc.want {
				t.Fatalf("Validate() = %q, want %q", got, tc.want)
			}
			if tc.want == "" {
				return
			}
			// Run refuses before it dials anything.
			if _, err := load.Run(context.Background(), c); errString(err) != tc.want {
				t.Fatalf("Run() = %q, want %q", errString(err), tc.want)
			}
		})
	}
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

func TestReadSample(t *testing.T) {
	busy := time.Now()
	for time.Since(busy) < 50*time.Millisecond { // use some CPU, so that there is some to see
	}
	m, err := load.ReadSample(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if m.RSS <= 0 || m.HWM < m.RSS || m.Anon <= 0 || m.Anon+m.File > m.RSS || m.CPU < 10*time.Millisecond {
		t.Fatalf("sample = %+v, want 0 < RSS <= HWM, 0 < anon + files <= RSS and CPU >= 10ms", m)
	}
	if _, err := load.ReadSample(-1); errString(err) != "load: memory of pid -1: open /proc/-1/status: no such file or directory" {
		t.Fatalf("ReadSample(-1) = %v", err)
	}
}

func TestParseStat(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want time.Duration
		err  string
	}{
		// A command name may hold spaces and parentheses: fields count from the last ')'.
		{"1234 (a (b) c) S 1 1234 1234 0 -1 4194560 100 0 0 0 250 40 0 0 20 0 9 0 100 2000000 500\n", 2900 * time.Millisecond, ""},
		{"1234 (x) S 1 2", 0, "load: /proc stat: too few fields"},
		{"no name", 0, "load: /proc stat: no command name"},
	} {
		got, err := load.ParseStat([]byte(tc.in))
		if got != tc.want || errString(err) != tc.err {
			t.Errorf("ParseStat(%q) = %s, %q; want %s, %q", tc.in, got, errString(err), tc.want, tc.err)
		}
	}
}
