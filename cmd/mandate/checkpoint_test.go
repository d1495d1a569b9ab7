package main

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
)

// A verifier that stops signs its audit log's head: records after the last
// count-based checkpoint are not left unsigned (they could be rewritten
// undetected).
func TestServeSignsCheckpointOnStop(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	t.Setenv("MANDATE_PASSPHRASE", "correct horse battery staple")
	p := func(name string) string { return filepath.Join(dir, name) }
	alice := must(t, ctx, "wallet", "init", "--wallet", p("alice"))
	assistant := must(t, ctx, "wallet", "init", "--wallet", p("assistant"))
	must(t, ctx, "wallet", "init", "--wallet", p("verifier-id"))
	must(t, ctx, "issue", "--wallet", p("alice"), "--grants", "../../examples/grants/assistant.yaml", "--to", assistant, "--out", p("a.json"))
	must(t, ctx, "wallet", "import", "--wallet", p("assistant"), p("a.json"))

	srvCtx, stop := context.WithCancel(ctx)
	addr := freeAddr(t)
	served := make(chan int, 1)
	go func() {
		_, _, code := mandate(t, srvCtx, "serve", "verifier", "--addr", addr, "--data", p("verifier"), "--audience", "https://mail.example.com",
			"--trust-root", alice, "--wallet", p("verifier-id"), "--audit-checkpoint-interval", "0")
		served <- code
	}()
	waitHealthy(t, addr)
	for range 2 {
		must(t, ctx, "present", "--wallet", p("assistant"), "--verifier", addr, "--action", "email:read", "--resource", "mailbox:alice/inbox", "--intent", "summarise the inbox")
	}
	stop()
	if code := <-served; code != 0 {
		t.Fatalf("serve verifier exit %d", code)
	}
	out := must(t, ctx, "audit", "verify", "--data", p("verifier"))
	if !strings.HasPrefix(out, "ok: 2 records, 1 checkpoints") {
		t.Fatalf("audit verify: %s", out)
	}
}
