package main

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mandate-dev/mandate/wallet/holder"
)

// serve wallet answers Identity on its socket, and removes the socket when
// it stops.
func TestServeWallet(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	t.Setenv("MANDATE_PASSPHRASE", "correct horse battery staple")
	agent := must(t, ctx, "wallet", "init", "--wallet", filepath.Join(dir, "agent"))
	for _, c := range []struct {
		name   string
		xdg    string
		socket []string
		want   string
	}{
		{"--socket", "", []string{"--socket", filepath.Join(dir, "s", "agent.sock")}, filepath.Join(dir, "s", "agent.sock")},
		{"XDG_RUNTIME_DIR", filepath.Join(dir, "run"), nil, filepath.Join(dir, "run", "mandate", "wallet.sock")},
		{"wallet dir", "", nil, filepath.Join(dir, "agent", "wallet.sock")},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Setenv("XDG_RUNTIME_DIR", c.xdg)
			srvCtx, stop := context.WithCancel(ctx)
			defer stop()
			type result struct {
				errs string
				code int
			}
			served := make(chan result, 1)
			go func() {
				_, errs, code := mandate(t, srvCtx, append([]string{"serve", "wallet", "--wallet", filepath.Join(dir, "agent")}, c.socket...)...)
				served <- result{errs, code}
			}()
			waitHealthy(t, "unix://"+c.want)
			fi, err := os.Lstat(c.want)
			if err != nil || fi.Mode() != os.ModeSocket|0o600 {
				t.Fatalf("socket: %v, %v", fi, err)
			}
			client, err := holder.Dial(c.want)
			if err != nil {
				t.Fatal(err)
			}
			defer client.Close()
			did, others, err := client.Identity(ctx)
			if err != nil || did != agent || len(others) != 0 {
				t.Fatalf("identity: %s %v %v, want %s", did, others, err, agent)
			}
			stop()
			r := <-served
			if r.code != 0 || !strings.Contains(r.errs, `msg="wallet service listening" socket=`+c.want+" did="+agent) {
				t.Fatalf("serve wallet: exit %d\n%s", r.code, r.errs)
			}
			if _, err := os.Lstat(c.want); !errors.Is(err, os.ErrNotExist) {
				t.Fatalf("socket after stop: %v", err)
			}
		})
	}
}

func TestServeWalletRefuses(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	t.Setenv("MANDATE_PASSPHRASE", "correct horse battery staple")
	must(t, ctx, "wallet", "init", "--wallet", filepath.Join(dir, "agent"))
	file := filepath.Join(dir, "file")
	if err := os.WriteFile(file, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("XDG_RUNTIME_DIR", "")
	_, errs, code := mandate(t, ctx, "serve", "wallet", "--wallet", filepath.Join(dir, "agent"), "--socket", file)
	if want := "mandate: holder: " + file + " exists and is not a socket (-rw-------); not replacing it"; code != 1 || strings.TrimSpace(errs) != want {
		t.Fatalf("not a socket: exit %d %q, want %q", code, errs, want)
	}
	t.Setenv("XDG_RUNTIME_DIR", dir)
	if err := os.Mkdir(filepath.Join(dir, "mandate"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(filepath.Join(dir, "mandate"), 0o755); err != nil {
		t.Fatal(err)
	}
	_, errs, code = mandate(t, ctx, "serve", "wallet", "--wallet", filepath.Join(dir, "agent"))
	if want := "mandate: socket directory " + filepath.Join(dir, "mandate") + " has mode -rwxr-xr-x: it must be closed to group and others (chmod 700, or give --socket)"; code != 1 || strings.TrimSpace(errs) != want {
		t.Fatalf("open socket dir: exit %d %q, want %q", code, errs, want)
	}
}
