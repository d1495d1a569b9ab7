package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mandate-dev/mandate/did"
)

// TestCLIBBS runs the mail story as BBS+: Alice's BLS12-381 G2 did:key
// issues to the assistant's, the assistant delegates email:read to the
// summarizer's Ed25519 did:key, and the summarizer presents through
// `serve verifier --format bbs`.
func TestCLIBBS(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	dir := t.TempDir()
	t.Setenv("MANDATE_PASSPHRASE", "correct horse battery staple")
	p := func(name string) string { return filepath.Join(dir, name) }
	must(t, ctx, "wallet", "init", "--wallet", p("alice"))
	must(t, ctx, "wallet", "init", "--wallet", p("assistant"))
	summarizer := must(t, ctx, "wallet", "init", "--wallet", p("summarizer"))
	must(t, ctx, "wallet", "init", "--wallet", p("verifier-id"))
	issue := []string{"issue", "--wallet", p("alice"), "--grants", "../../examples/grants/assistant.yaml", "--format", "bbs", "--out", p("a.json")}

	if _, errs, code := mandate(t, ctx, append(issue, "--to", summarizer)...); code != 1 ||
		errs != "mandate: --format bbs: the wallet has no BLS12-381 G2 did:key; create one with `mandate did create --key bls12381g2`\n" {
		t.Fatalf("bbs issue without a BLS key: exit %d, %q", code, errs)
	}
	for _, tc := range []struct{ args, want string }{
		{"--key rsa", `mandate: --key "rsa": want ed25519 or bls12381g2` + "\n"},
		{"--key bls12381g2 --method web --domain example.com", "mandate: --key bls12381g2 makes a did:key; it takes no --method web\n"},
	} {
		if _, errs, code := mandate(t, ctx, append([]string{"did", "create", "--wallet", p("alice")}, strings.Fields(tc.args)...)...); code != 1 || errs != tc.want {
			t.Errorf("did create %s: exit %d, %q, want %q", tc.args, code, errs, tc.want)
		}
	}
	aliceBLS := must(t, ctx, "did", "create", "--wallet", p("alice"), "--key", "bls12381g2")
	assistantBLS := must(t, ctx, "did", "create", "--wallet", p("assistant"), "--key", "bls12381g2")
	// Most G2 did:keys start zUC7, some zUC6: the base58 text's fourth
	// character depends on the key's first bytes (TestCLIBBS failed on
	// zUC6 about once in 125 runs). The multicodec is what names the type.
	for _, d := range []string{aliceBLS, assistantBLS} {
		if _, err := did.ParseBLS12381G2Key(d); err != nil || !strings.HasPrefix(d, "did:key:zUC") {
			t.Fatalf("BLS12-381 G2 did:key %s: %v", d, err)
		}
	}
	if _, errs, code := mandate(t, ctx, "issue", "--wallet", p("alice"), "--grants", "../../examples/grants/assistant.yaml", "--to", assistantBLS, "--issuer", aliceBLS); code != 1 ||
		errs != "mandate: --issuer names a BLS12-381 G2 did:key: give it with --format bbs\n" {
		t.Fatalf("--issuer without --format bbs: exit %d, %q", code, errs)
	}
	must(t, ctx, append(issue, "--to", assistantBLS)...)
	chainID := must(t, ctx, "wallet", "import", "--wallet", p("assistant"), p("a.json"))
	if out := must(t, ctx, "wallet", "list", "--wallet", p("assistant")); !strings.Contains(out, "\nBLS12-381 G2 DID "+assistantBLS+"\n"+chainID+"  1 link(s)  bbs  principal "+aliceBLS+"\n") {
		t.Fatalf("wallet list: %s", out)
	}
	if _, errs, code := mandate(t, ctx, "wallet", "import", "--wallet", p("summarizer"), p("a.json")); code != 1 ||
		!strings.HasPrefix(errs, "mandate: the chain is granted to "+assistantBLS+", not to this wallet") {
		t.Fatalf("import of another's chain: exit %d, %s", code, errs)
	}
	// One byte of the root's proof changed: the import refuses it.
	raw, _ := os.ReadFile(p("a.json"))
	i := strings.Index(string(raw), `"proofValue": "`) + len(`"proofValue": "`) + 10
	bad := []byte(string(raw))
	bad[i] ^= 'A' ^ 'B'
	if bad[i] == raw[i] {
		t.Fatal("tamper did nothing")
	}
	os.WriteFile(p("bad.json"), bad, 0o600)
	if _, errs, code := mandate(t, ctx, "wallet", "import", "--wallet", p("assistant"), p("bad.json")); code != 1 || !strings.HasPrefix(errs, "mandate: link 0: credentials: ") {
		t.Fatalf("import of a tampered chain: exit %d, %s", code, errs)
	}

	delegate := []string{"delegate", "--wallet", p("assistant"), "--parent", chainID, "--grants", "../../examples/grants/summarizer.yaml", "--to", summarizer}
	if _, errs, code := mandate(t, ctx, append(delegate, "--format", "ldp")...); code != 1 ||
		errs != "mandate: --format ldp: the parent chain "+chainID+" is bbs; a child is secured as its parent\n" {
		t.Fatalf("ldp child of a bbs parent: exit %d, %q", code, errs)
	}
	must(t, ctx, append(delegate, "--out", p("s.json"))...) // no --format: the parent's, bbs
	leafID := must(t, ctx, "wallet", "import", "--wallet", p("summarizer"), p("s.json"))
	if out := must(t, ctx, "wallet", "list", "--wallet", p("summarizer")); out != "DID "+summarizer+"\n"+leafID+"  2 link(s)  bbs  principal "+aliceBLS+
		"\n  purpose: Summarise Alice's unread mail each morning\n  grant: email:read mailbox:alice/*" {
		t.Fatalf("wallet list: %s", out)
	}

	addr := freeAddr(t)
	go mandate(t, ctx, "serve", "verifier", "--addr", addr, "--data", p("verifier"), "--audience", "https://mail.example.com", "--trust-root", aliceBLS, "--wallet", p("verifier-id"), "--format", "bbs")
	waitHealthy(t, addr)
	read := []string{"present", "--wallet", p("summarizer"), "--verifier", addr, "--action", "email:read", "--resource", "mailbox:alice/inbox", "--intent", "summarise"}
	allow := "ALLOW\n  principal " + aliceBLS + "\n  actor     " + summarizer + "\n  grant     "
	for _, args := range [][]string{append(read, "--format", "bbs"), read} {
		if out := must(t, ctx, args...); !strings.HasPrefix(out, allow+"urn:mandate:grant:email-read\n  audit     ") {
			t.Fatalf("%v: %s\nwant %s", args[len(args)-1], out, allow)
		}
	}
	if _, errs, code := mandate(t, ctx, append(read, "--format", "sd-jwt")...); code != 1 || errs != "mandate: presentation: no common format: the verifier accepts [bbs], the wallet holds []\n" {
		t.Fatalf("sd-jwt to a bbs verifier: exit %d, %q", code, errs)
	}
	if _, errs, code := mandate(t, ctx, "present", "--wallet", p("summarizer"), "--verifier", addr, "--action", "email:draft", "--resource", "mailbox:alice/inbox"); code != 1 ||
		errs != "mandate: presentation: no credential chain covers the request: email:draft on mailbox:alice/inbox\n" {
		t.Fatalf("email:draft, which the summarizer does not hold: exit %d, %q", code, errs)
	}
	// Offline: the presentation for a known challenge is a BBS+ one, two derived links.
	must(t, ctx, "present", "--wallet", p("summarizer"), "--nonce", "n-1", "--audience", "https://mail.example.com", "--action", "email:read", "--resource", "mailbox:alice/inbox", "--out", p("vp.json"))
	var vp struct {
		Links   []map[string]any `json:"links"`
		Binding map[string]any   `json:"binding"`
	}
	if b, _ := os.ReadFile(p("vp.json")); json.Unmarshal(b, &vp) != nil || len(vp.Links) != 2 || vp.Binding["nonce"] != "n-1" || vp.Binding["holder"] != summarizer {
		t.Fatalf("offline presentation: %+v", vp)
	}
	for i, l := range vp.Links {
		if g := l["credentialSubject"].(map[string]any)["grants"]; len(asSlice(g)) != 1 {
			t.Errorf("link %d reveals grants %v, want one", i, g)
		}
	}
}

// asSlice is a JSON-LD value as a list: one node may be compacted to an object.
func asSlice(v any) []any {
	if a, ok := v.([]any); ok {
		return a
	}
	if v == nil {
		return nil
	}
	return []any{v}
}
