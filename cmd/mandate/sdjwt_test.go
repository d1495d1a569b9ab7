package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/go-jose/go-jose/v4"

	"github.com/mandate-dev/mandate/did"
)

func TestCLISDJWT(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	dir := t.TempDir()
	t.Setenv("MANDATE_PASSPHRASE", "correct horse battery staple")
	p := func(name string) string { return filepath.Join(dir, name) }
	alice := must(t, ctx, "wallet", "init", "--wallet", p("alice"))
	assistant := must(t, ctx, "wallet", "init", "--wallet", p("assistant"))
	summarizer := must(t, ctx, "wallet", "init", "--wallet", p("summarizer"))
	must(t, ctx, "wallet", "init", "--wallet", p("verifier-id"))

	// bbs needs a BLS12-381 G2 did:key (TestCLIBBS); an unknown format is refused.
	if _, errs, code := mandate(t, ctx, "issue", "--wallet", p("alice"), "--grants", "../../examples/grants/assistant.yaml", "--to", assistant, "--format", "jwt"); code != 1 ||
		errs != "mandate: --format \"jwt\": want ldp, sd-jwt or bbs\n" {
		t.Fatalf("--format jwt: exit %d, %q", code, errs)
	}
	must(t, ctx, "issue", "--wallet", p("alice"), "--grants", "../../examples/grants/assistant.yaml", "--to", assistant, "--format", "sd-jwt", "--out", p("a.json"))
	chainID := must(t, ctx, "wallet", "import", "--wallet", p("assistant"), p("a.json"))
	// An sd-jwt child needs an sd-jwt parent, and the other way round.
	if _, errs, code := mandate(t, ctx, "delegate", "--wallet", p("assistant"), "--parent", chainID, "--grants", "../../examples/grants/summarizer.yaml", "--to", summarizer, "--format", "ldp"); code != 1 ||
		!strings.Contains(errs, "is sd-jwt; a child is secured as its parent") {
		t.Fatalf("ldp child of an sd-jwt parent: exit %d, %s", code, errs)
	}
	// Without --format the child takes its parent's.
	must(t, ctx, "delegate", "--wallet", p("assistant"), "--parent", chainID, "--grants", "../../examples/grants/summarizer.yaml", "--to", summarizer, "--out", p("s.json"))
	must(t, ctx, "wallet", "import", "--wallet", p("summarizer"), p("s.json"))
	if out := must(t, ctx, "wallet", "list", "--wallet", p("summarizer")); !strings.Contains(out, "2 link(s)  sd-jwt") {
		t.Fatalf("wallet list: %s", out)
	}

	addr := freeAddr(t)
	go mandate(t, ctx, "serve", "verifier", "--addr", addr, "--data", p("verifier"), "--audience", "https://mail.example.com", "--trust-root", alice, "--wallet", p("verifier-id"), "--format", "sd-jwt")
	waitHealthy(t, addr)
	read := []string{"present", "--wallet", p("summarizer"), "--verifier", addr, "--action", "email:read", "--resource", "mailbox:alice/inbox", "--intent", "summarise"}
	if out := must(t, ctx, append(read, "--format", "sd-jwt")...); !strings.HasPrefix(out, "ALLOW") {
		t.Fatalf("sd-jwt read: %s", out)
	}
	if out := must(t, ctx, read...); !strings.HasPrefix(out, "ALLOW") {
		t.Fatalf("negotiated read: %s", out)
	}
	if _, errs, code := mandate(t, ctx, append(read, "--format", "ldp")...); code != 1 || !strings.Contains(errs, "no common format: the verifier accepts [sd-jwt], the wallet holds []") {
		t.Fatalf("ldp to an sd-jwt verifier: exit %d, %s", code, errs)
	}
	if _, errs, code := mandate(t, ctx, append(read, "--format", "bbs")...); code != 1 || errs != "mandate: presentation: no common format: the verifier accepts [sd-jwt], the wallet holds []\n" {
		t.Fatalf("present --format bbs: exit %d, %q", code, errs)
	}

	// Offline: a presentation for a known challenge, then each link checked by sd-jwt verify.
	must(t, ctx, "present", "--wallet", p("summarizer"), "--nonce", "n-1", "--audience", "https://mail.example.com", "--action", "email:read", "--resource", "mailbox:alice/inbox", "--out", p("vp.json"))
	raw, _ := os.ReadFile(p("vp.json"))
	var links []string
	if err := json.Unmarshal(raw, &links); err != nil || len(links) != 2 {
		t.Fatalf("presentation: %v %s", err, raw)
	}
	os.WriteFile(p("root.sdjwt"), []byte(links[0]), 0o600)
	os.WriteFile(p("leaf.sdjwt"), []byte(links[1]), 0o600)
	pub, _ := did.ParseKey(alice)
	jwk, _ := jose.JSONWebKey{Key: pub}.MarshalJSON()
	var root map[string]any
	if err := json.Unmarshal([]byte(must(t, ctx, "sd-jwt", "verify", p("root.sdjwt"), "--issuer-key", string(jwk))), &root); err != nil {
		t.Fatal(err)
	}
	grants := root["credentialSubject"].(map[string]any)["grants"].([]any)
	if len(grants) != 1 || grants[0].(map[string]any)["action"] != "email:read" {
		t.Fatalf("root disclosed %v, want email:read only", grants)
	}
	must(t, ctx, "sd-jwt", "verify", p("leaf.sdjwt"), "--issuer-key", assistant, "--nonce", "n-1", "--aud", "https://mail.example.com")
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{p("leaf.sdjwt"), "--issuer-key", assistant, "--nonce", "n-1", "--aud", "https://other.example"}, `mandate: AUDIENCE_MISMATCH: sdjwt: audience mismatch: key binding JWT is for "https://mail.example.com"`},
		{[]string{p("leaf.sdjwt"), "--issuer-key", assistant}, "mandate: HOLDER_MISMATCH: sdjwt: key binding invalid: a key binding JWT is present: give --nonce and --aud to check it"},
		{[]string{p("root.sdjwt"), "--issuer-key", assistant}, "mandate: SIGNATURE_INVALID: sdjwt: signature invalid"},
		{[]string{p("root.sdjwt"), "--issuer-key", `{"kty":"oct","k":"c2VjcmV0"}`}, "mandate: --issuer-key: give the issuer's public key"},
		{[]string{p("a.json"), "--issuer-key", assistant}, "mandate: " + p("a.json") + " is a chain file (a JSON array of SD-JWTs, root first); sd-jwt verify takes one compact SD-JWT"},
	} {
		if _, errs, code := mandate(t, ctx, append([]string{"sd-jwt", "verify"}, tc.args...)...); code != 1 || !strings.HasPrefix(errs, tc.want) {
			t.Errorf("sd-jwt verify %v: exit %d, %s\n want %s", tc.args[1:], code, errs, tc.want)
		}
	}
}
