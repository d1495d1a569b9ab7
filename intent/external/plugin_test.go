//go:build linux

package external_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mandate-dev/mandate/intent"
	"github.com/mandate-dev/mandate/intent/external"
)

func plugin(t *testing.T, mode string, opts ...external.Option) *external.Checker {
	t.Helper()
	c, err := external.Plugin(pluginPath, pluginSum, append(opts, external.WithArgs(pluginArg, mode))...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func TestPluginRoundTrip(t *testing.T) {
	c := plugin(t, "allow")
	res := intent.Run(context.Background(), []intent.Checker{c}, request(), 2*time.Second)
	if res.Verdict != intent.Allow || res.Reason != "" || res.Answers[0].Answer != (intent.Answer{Verdict: intent.Allow, Reason: "within purpose", Confidence: 0.9}) {
		t.Fatalf("got %s %q %+v", res.Verdict, res.Reason, res.Answers)
	}
}

// A plugin sees its socket and the variables it was given, nothing else.
func TestPluginEnvironment(t *testing.T) {
	t.Setenv("EXTERNAL_TEST_GIVEN", "yes")
	t.Setenv("EXTERNAL_TEST_SECRET", "no")
	a, err := plugin(t, "env", external.WithEnv("EXTERNAL_TEST_GIVEN", "EXTERNAL_TEST_UNSET")).Check(context.Background(), request())
	if err != nil || a.Reason != "EXTERNAL_TEST_GIVEN,"+external.SocketEnv {
		t.Fatalf("got %q %v", a.Reason, err)
	}
}

func TestPluginSocketIsPrivateAndRemovedOnClose(t *testing.T) {
	c := plugin(t, "socket")
	a, err := c.Check(context.Background(), request())
	if err != nil {
		t.Fatal(err)
	}
	sock, dir := a.Reason, filepath.Dir(a.Reason)
	for path, want := range map[string]os.FileMode{dir: os.ModeDir | 0o700, sock: os.ModeSocket | 0o600} {
		if fi, err := os.Stat(path); err != nil || fi.Mode() != want {
			t.Fatalf("%s: %v %v, want %v", path, fi.Mode(), err, want)
		}
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Fatalf("%s still there: %v", dir, err)
	}
	_, err = c.Check(context.Background(), request())
	if want := "external: plugin " + pluginPath + " exited: signal: killed"; err == nil || err.Error() != want {
		t.Fatalf("after close: %v, want %q", err, want)
	}
}

// A plugin that dies in the middle of a call is a deny that says so, and
// so is every later call.
func TestPluginCrashIsADeny(t *testing.T) {
	c := plugin(t, "crash")
	start := time.Now()
	res := intent.Run(context.Background(), []intent.Checker{c}, request(), 2*time.Second)
	within(t, start, time.Second)
	if want := "external failed: external: plugin " + pluginPath + " exited: exit status 3 (rpc error: code = Unavailable"; res.Verdict != intent.Deny || !strings.HasPrefix(res.Reason, want) {
		t.Fatalf("got %s %q, want deny %q...", res.Verdict, res.Reason, want)
	}
	res = intent.Run(context.Background(), []intent.Checker{c}, request(), 2*time.Second)
	if want := "external failed: external: plugin " + pluginPath + " exited: exit status 3"; res.Verdict != intent.Deny || res.Reason != want {
		t.Fatalf("later: got %s %q, want deny %q", res.Verdict, res.Reason, want)
	}
}

func TestPluginStart(t *testing.T) {
	start := time.Now()
	_, err := external.Plugin(pluginPath, pluginSum, external.WithArgs(pluginArg, "silent"), external.WithStartTimeout(300*time.Millisecond))
	within(t, start, 2*time.Second)
	if want := "external: plugin " + pluginPath + " did not listen within 300ms"; err == nil || err.Error() != want {
		t.Fatalf("silent: %v, want %q", err, want)
	}
	_, err = external.Plugin(pluginPath, pluginSum, external.WithArgs(pluginArg, "exit"))
	if want := "external: plugin " + pluginPath + " exited before listening: exit status 2"; err == nil || err.Error() != want {
		t.Fatalf("exit: %v, want %q", err, want)
	}
}

func TestPluginRefused(t *testing.T) {
	dir := t.TempDir()
	writable := filepath.Join(dir, "writable")
	if err := os.WriteFile(writable, []byte("#!/bin/sh\n"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(writable, 0o770); err != nil { // whatever the umask
		t.Fatal(err)
	}
	zeros := strings.Repeat("0", 64)
	cases := []struct{ name, path, sum, want string }{
		{"wrong checksum", pluginPath, zeros, "external: plugin " + pluginPath + ": sha256 is " + pluginSum + ", configured " + zeros},
		{"relative path", "plugin", pluginSum, `external: plugin path "plugin" is not absolute`},
		{"group writable", writable, zeros, "external: plugin " + writable + " is writable by group or others (mode -rwxrwx---)"},
		{"directory", dir, zeros, "external: plugin " + dir + " is not a regular file"},
		{"missing", filepath.Join(dir, "none"), zeros, "external: plugin: open " + filepath.Join(dir, "none") + ": no such file or directory"},
		{"short checksum", pluginPath, "abcd", `external: sha256 "abcd" is not 64 hex digits`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := external.Plugin(tc.path, tc.sum); err == nil || err.Error() != tc.want {
				t.Fatalf("got %v, want %q", err, tc.want)
			}
		})
	}
}

func TestFactoryPlugin(t *testing.T) {
	c, err := external.Factory([]byte(`{"plugin":"` + pluginPath + `","sha256":"` + strings.ToUpper(pluginSum) + `","args":["` + pluginArg + `","allow"],"timeoutMillis":5000}`))
	if err != nil {
		t.Fatal(err)
	}
	defer c.(*external.Checker).Close()
	if a, err := c.Check(context.Background(), request()); err != nil || a.Reason != "within purpose" {
		t.Fatalf("got %+v %v", a, err)
	}
}
