package external_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/mandate-dev/mandate/intent"
	"github.com/mandate-dev/mandate/intent/external"
)

// The test binary is its own plugin: started with these first arguments
// it serves a checker chosen by the third.
const pluginArg = "external-test-plugin"

// pluginPath is a private copy of the test binary (mode 0700, whatever the
// umask), pluginSum its SHA-256.
var pluginPath, pluginSum string

func TestMain(m *testing.M) {
	if len(os.Args) == 3 && os.Args[1] == pluginArg {
		os.Exit(runPlugin(os.Args[2]))
	}
	dir, err := os.MkdirTemp("", "external-test-")
	if err == nil {
		pluginPath, pluginSum, err = copyExecutable(filepath.Join(dir, "plugin"))
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

func copyExecutable(dst string) (string, string, error) {
	exe, err := os.Executable()
	if err != nil {
		return "", "", err
	}
	src, err := os.Open(exe)
	if err != nil {
		return "", "", err
	}
	defer src.Close()
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o700)
	if err != nil {
		return "", "", err
	}
	h := sha256.New()
	if _, err := io.Copy(io.MultiWriter(out, h), src); err != nil {
		return "", "", err
	}
	return dst, hex.EncodeToString(h.Sum(nil)), out.Close()
}

func runPlugin(mode string) int {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM)
	defer stop()
	var c intent.Checker
	switch mode {
	case "allow":
		c = fixed{intent.Answer{Verdict: intent.Allow, Reason: "within purpose", Confidence: 0.9}}
	case "crash":
		c = checkFunc(func(context.Context, intent.Request) (intent.Answer, error) { os.Exit(3); return intent.Answer{}, nil })
	case "env":
		// The reason lists the names in the plugin's environment.
		c = checkFunc(func(context.Context, intent.Request) (intent.Answer, error) {
			var names []string
			for _, kv := range os.Environ() {
				names = append(names, strings.SplitN(kv, "=", 2)[0])
			}
			slices.Sort(names)
			return intent.Answer{Verdict: intent.Allow, Reason: strings.Join(names, ","), Confidence: 1}, nil
		})
	case "socket":
		c = checkFunc(func(context.Context, intent.Request) (intent.Answer, error) {
			return intent.Answer{Verdict: intent.Allow, Reason: os.Getenv(external.SocketEnv), Confidence: 1}, nil
		})
	case "silent": // never listens
		<-ctx.Done()
		return 0
	case "exit":
		return 2
	default:
		return 9
	}
	if err := external.Serve(ctx, c); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

type fixed struct{ a intent.Answer }

func (fixed) Name() string { return "fixed" }
func (f fixed) Check(context.Context, intent.Request) (intent.Answer, error) {
	return f.a, nil
}

type checkFunc func(context.Context, intent.Request) (intent.Answer, error)

func (checkFunc) Name() string { return "func" }
func (f checkFunc) Check(ctx context.Context, r intent.Request) (intent.Answer, error) {
	return f(ctx, r)
}

// serve runs c behind a real unix socket and returns its address.
func serve(t *testing.T, c intent.Checker) string {
	t.Helper()
	sock := filepath.Join(t.TempDir(), "c.sock")
	lis, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- external.ServeListener(ctx, lis, c) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	})
	return "unix://" + sock
}

func dial(t *testing.T, address string, opts ...external.Option) *external.Checker {
	t.Helper()
	c, err := external.Dial(address, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func request() intent.Request {
	return intent.Request{
		Action: "slack:read", Resource: "slack:acme/general", Intent: "summarise today's thread",
		Context:   map[string]string{"channel": "general"},
		Purposes:  []string{"Keep Alice informed about her team's channels"},
		Grant:     intent.Grant{ID: "urn:mandate:grant:read", Action: "slack:read", Resource: "slack:acme/*", Conditions: []string{`action == "slack:read"`}},
		Principal: "did:key:zAlice", Actor: "did:key:zAgent", Chain: []string{"urn:uuid:1", "urn:uuid:2"},
	}
}

func within(t *testing.T, start time.Time, limit time.Duration) {
	t.Helper()
	if d := time.Since(start); d > limit {
		t.Fatalf("took %s, limit %s", d, limit)
	}
}
