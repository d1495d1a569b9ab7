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
		!strings.Contains(errb.String(), bad+`: policy: line 6: unknown key "bogus"`) {
		t.Fatalf("bad policy: exit %d, stderr %q", code, errb.String())
	}
	out.Reset()
	good := filepath.Join("..", "..", "presentation", "policy", "testdata", "example.yaml")
	if code := run(context.Background(), []string{"policy", "check", good}, &out, &errb); code != 0 ||
		!strings.Contains(out.String(), "ok: 2 roots, 1 witness rules") {
		t.Fatalf("example policy: exit %d, out %q", code, out.String())
	}
}

// TestPolicyCheckRefusals: each refused file exits 1, prints nothing on stdout and names its line on stderr.
func TestPolicyCheckRefusals(t *testing.T) {
	dir := t.TempDir()
	head := "version: 1\nroots:\n  - principal: did:web:acme.example\n    resources: [\"erp:invoices/*\"]\n"
	tail := "formats: [ldp]\nalgorithms: [Ed25519Signature2020]\ndidMethods: [key, web]\n"
	for _, tc := range []struct {
		name, body, err string
	}{
		{"a witness that is a trusted root", head + "witness:\n  - actions: [\"invoice:*\"]\n    by: [did:web:acme.example]\n" + tail,
			"policy: line 6: witness: by: \"did:web:acme.example\" is a trusted root: a principal cannot witness its own instrument"},
		{"a DID method outside didMethods", head + "formats: [ldp]\nalgorithms: [Ed25519Signature2020]\ndidMethods: [key]\n",
			"policy: line 3: principal \"did:web:acme.example\": DID method \"web\" is not in didMethods"},
		{"a key written twice", head + tail + "formats: [ldp]\n", "policy: line 8: key \"formats\" appears twice"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := filepath.Join(dir, strings.ReplaceAll(tc.name, " ", "-")+".yaml")
			if err := os.WriteFile(f, []byte(tc.body), 0o600); err != nil {
				t.Fatal(err)
			}
			var out, errb bytes.Buffer
			code := run(context.Background(), []string{"policy", "check", f}, &out, &errb)
			if code != 1 || out.Len() != 0 || errb.String() != "mandate: "+f+": "+tc.err+"\n" {
				t.Fatalf("exit %d, stdout %q, stderr %q; want %q", code, out.String(), errb.String(), "mandate: "+f+": "+tc.err)
			}
		})
	}
}
