package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestMCPGatewayRefusesBadSetups(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	const good = "upstream: {command: [true]}\nwallet: {socket: w.sock}\nverifier: {address: %s}\ntools:\n  read: {action: \"a:read\", resource: \"r:{id}\"}\n"
	ok := write("ok.yaml", strings.Replace(good, "%s", "127.0.0.1:7443", 1))
	readable := write("readable", strings.Repeat("t", 43))
	if err := os.Chmod(readable, 0o644); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "link")
	if err := os.Symlink(write("target", strings.Repeat("t", 43)), link); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		args []string
		want string
	}{
		{"no config", []string{"mcp-gateway"}, `mandate: required flag(s) "config" not set`},
		{"missing file", []string{"mcp-gateway", "--config", filepath.Join(dir, "none.yaml")}, "no such file or directory"},
		{"unknown key", []string{"mcp-gateway", "--config", write("bad.yaml", strings.Replace(good, "%s", "127.0.0.1:7443", 1)+"tool: {}\n")},
			`bad.yaml: mcpgate: config: line 6: unknown key "tool"`},
		{"wide verifier", []string{"mcp-gateway", "--config", write("wide.yaml", strings.Replace(good, "%s", "10.0.0.1:7443", 1))},
			"mandate: verifier.address 10.0.0.1:7443 is not a loopback address; without TLS this needs --insecure-plaintext-non-loopback"},
		{"wide listen", []string{"mcp-gateway", "--config", ok, "--listen", "0.0.0.0:8765", "--token-file", filepath.Join(dir, "t")},
			"mandate: --listen 0.0.0.0:8765 is not a loopback address"},
		{"no wallet service", []string{"mcp-gateway", "--config", ok},
			"(is `mandate serve wallet` running?)"},
		{"listen without a token", []string{"mcp-gateway", "--config", ok, "--listen", "127.0.0.1:8765"},
			"mandate: --listen needs --token-file: whoever reaches the address would act with the agent's powers"},
		{"a token without listen", []string{"mcp-gateway", "--config", ok, "--token-file", filepath.Join(dir, "t")},
			"mandate: --token-file is for --listen"},
		{"a token others may read", []string{"mcp-gateway", "--config", ok, "--listen", "127.0.0.1:8765", "--token-file", readable},
			"mandate: --token-file " + readable + " has mode 0644: others may read the token; chmod 600 it"},
		{"a token that is a directory", []string{"mcp-gateway", "--config", ok, "--listen", "127.0.0.1:8765", "--token-file", dir},
			"mandate: --token-file " + dir + " is not a regular file (d"},
		{"a token behind a symbolic link", []string{"mcp-gateway", "--config", ok, "--listen", "127.0.0.1:8765", "--token-file", link},
			"mandate: --token-file " + link + " is a symbolic link; name the file itself"},
		{"a short token", []string{"mcp-gateway", "--config", ok, "--listen", "127.0.0.1:8765", "--token-file", write("short", "abc\n")},
			"short: mcpgate: the bearer token must be 32 to 512 bytes"},
	}
	for _, c := range cases {
		var out, errb bytes.Buffer
		if code := run(context.Background(), c.args, &out, &errb); code != 1 || !strings.Contains(errb.String(), c.want) || out.Len() != 0 {
			t.Errorf("%s: exit %d, stdout %q, stderr %q, want %q", c.name, code, out.String(), errb.String(), c.want)
		}
	}
}
