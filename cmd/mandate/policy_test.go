package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestPolicyCheck(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yaml")
	_ = os.WriteFile(bad, []byte("version: 1\nroots: []\nformats: [ldp]\nalgorithms: [Ed25519Signature2020]\ndidMethods: [key]\nbogus: 1\n"), 0o600)
	var out, errb bytes.Buffer
	if code := run(context.Background(), []string{"policy", "check", bad}, &out, &errb); code == 0 ||
		!strings.Contains(errb.String(), bad+": policy: line 6: field bogus not found in type policy.wire") {
		t.Fatalf("bad policy: exit %d, stderr %q", code, errb.String())
	}
	out.Reset()
	good := filepath.Join("..", "..", "presentation", "policy", "testdata", "example.yaml")
	if code := run(context.Background(), []string{"policy", "check", good}, &out, &errb); code != 0 ||
		!strings.Contains(out.String(), "ok: 2 roots, 1 witness rules") {
		t.Fatalf("example policy: exit %d, out %q", code, out.String())
	}
}
