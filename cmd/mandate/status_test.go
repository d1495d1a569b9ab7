package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/mandate-dev/mandate/credentials"
	"github.com/mandate-dev/mandate/internal/testkeys"
)

// bsl03 is the spec's example list credential: 131072 zero bits, no proof.
const bsl03 = "../../../shared/vectors/status-list/bitstring-status-list-spec-examples/bsl-03-Example-BitstringStatusListCredential.json"

// inspectJSON runs `status inspect FILE --json`.
func inspectJSON(t *testing.T, ctx context.Context, file string) inspection {
	t.Helper()
	var in inspection
	if err := json.Unmarshal([]byte(must(t, ctx, "status", "inspect", file, "--json")), &in); err != nil {
		t.Fatalf("status inspect %s --json: %v", file, err)
	}
	return in
}

// grantIndex returns the index of the entry of purpose p of grant name
// (the credential's own entry for name "").
func grantIndex(t *testing.T, c *credentials.Credential, name, p string) int {
	t.Helper()
	entries := c.Status
	if name != "" {
		i := slices.IndexFunc(c.Subject.Grants, func(g credentials.Grant) bool { return g.ID == credentials.GrantIDPrefix+name })
		if i < 0 {
			t.Fatalf("no grant %s", name)
		}
		entries = c.Subject.Grants[i].Status
	}
	for _, e := range entries {
		if e.Purpose == p {
			n, err := strconv.Atoi(e.Index)
			if err != nil {
				t.Fatal(err)
			}
			return n
		}
	}
	t.Fatalf("grant %q has no %s entry", name, p)
	return 0
}

func TestCLIStatus(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	t.Setenv("MANDATE_PASSPHRASE", "correct horse battery staple")
	p := func(name string) string { return filepath.Join(dir, name) }
	lists := p("lists")

	alice := must(t, ctx, "wallet", "init", "--wallet", p("alice"))
	prefix := defaultPrefix(alice)
	out := must(t, ctx, "status", "init", "--wallet", p("alice"), "--base-url", "http://127.0.0.1:1/x", "--dir", lists)
	if want := fmt.Sprintf("status lists of %s: published at http://127.0.0.1:1/x/%s-*, written to %s", alice, prefix, lists); out != want {
		t.Fatalf("status init: %q, want %q", out, want)
	}
	if _, errs, code := mandate(t, ctx, "status", "init", "--wallet", p("alice"), "--base-url", "http://127.0.0.1:1/y", "--dir", lists); code != 1 || !strings.Contains(errs, "already configured") {
		t.Fatalf("second status init: exit %d, %s", code, errs)
	}

	must(t, ctx, "issue", "--wallet", p("alice"), "--grants", "../../examples/grants/assistant.yaml", "--to", testkeys.New("assistant").DID(), "--out", p("a.json"))
	raw, err := os.ReadFile(p("a.json"))
	if err != nil {
		t.Fatal(err)
	}
	chain, err := credentials.DecodeChain(raw)
	if err != nil {
		t.Fatal(err)
	}
	root := chain[0]
	if len(root.Status) != 2 || len(root.Subject.Grants) != 5 {
		t.Fatalf("root: credentialStatus %+v, %d grants", root.Status, len(root.Subject.Grants))
	}
	for _, g := range root.Subject.Grants {
		if len(g.Status) != 2 {
			t.Fatalf("grant %s: status %+v, want a revocation and a suspension entry", g.ID, g.Status)
		}
	}
	revFile := filepath.Join(lists, prefix+"-revocation-1.json")
	susFile := filepath.Join(lists, prefix+"-suspension-1.json")
	files, _ := filepath.Glob(filepath.Join(lists, "*.json"))
	if !slices.Equal(files, []string{revFile, susFile}) {
		t.Fatalf("published %v, want %s and %s", files, revFile, susFile)
	}
	in := inspectJSON(t, ctx, revFile)
	want := inspection{
		ID: "http://127.0.0.1:1/x/" + prefix + "-revocation-1", Type: "BitstringStatusListCredential", Issuer: alice,
		Purposes: in.Purposes, Size: 131072, Set: []int{}, TTL: "5m0s", Valid: in.Valid, Proof: "verified",
	}
	if fmt.Sprint(in) != fmt.Sprint(want) || fmt.Sprint(in.Purposes) != "[revocation]" {
		t.Fatalf("inspect after issue: %+v\nwant %+v", in, want)
	}

	// Revoke one grant: only its bit is set, in a list signed again.
	slackRev := grantIndex(t, root, "slack-read", "revocation")
	out = must(t, ctx, "revoke", "--wallet", p("alice"), root.ID, "--grant", "slack-read")
	if want := fmt.Sprintf("revoke: %s grant urn:mandate:grant:slack-read (list %s-revocation-1 published)", root.ID, prefix); out != want {
		t.Fatalf("revoke: %q, want %q", out, want)
	}
	if in := inspectJSON(t, ctx, revFile); !slices.Equal(in.Set, []int{slackRev}) || in.Proof != "verified" {
		t.Fatalf("after revoking slack-read: set %v, proof %q; want [%d], verified", in.Set, in.Proof, slackRev)
	}
	out = must(t, ctx, "revoke", "--wallet", p("alice"), root.ID, "--grant", credentials.GrantIDPrefix+"slack-read")
	if want := fmt.Sprintf("revoke: %s grant urn:mandate:grant:slack-read already in that state", root.ID); out != want {
		t.Fatalf("second revoke: %q, want %q", out, want)
	}

	// Suspend and resume the credential.
	credSus := grantIndex(t, root, "", "suspension")
	out = must(t, ctx, "suspend", "--wallet", p("alice"), root.ID)
	if want := fmt.Sprintf("suspend: %s (list %s-suspension-1 published)", root.ID, prefix); out != want {
		t.Fatalf("suspend: %q, want %q", out, want)
	}
	if in := inspectJSON(t, ctx, susFile); !slices.Equal(in.Set, []int{credSus}) || in.Proof != "verified" || fmt.Sprint(in.Purposes) != "[suspension]" {
		t.Fatalf("after suspending: %+v, want set [%d]", in, credSus)
	}
	must(t, ctx, "resume", "--wallet", p("alice"), root.ID)
	if in := inspectJSON(t, ctx, susFile); len(in.Set) != 0 || in.Proof != "verified" {
		t.Fatalf("after resuming: %+v, want nothing set", in)
	}
	if in := inspectJSON(t, ctx, revFile); !slices.Equal(in.Set, []int{slackRev}) {
		t.Fatalf("revocation list after suspend and resume: set %v, want [%d]", in.Set, slackRev)
	}

	// Refusals: exit 1, a clear message on stderr, nothing on stdout.
	for _, tt := range []struct {
		args []string
		msg  string
	}{
		{[]string{"revoke", "--wallet", p("alice"), "urn:uuid:00000000-0000-4000-8000-000000000000"}, "no status entries recorded"},
		{[]string{"suspend", "--wallet", p("alice"), root.ID, "--grant", "slack-post"}, "grant urn:mandate:grant:slack-post"},
		{[]string{"status", "inspect", p("a.json")}, p("a.json") + " is not a status list credential: "}, // a chain (JSON array)
		{[]string{"status", "inspect", writeRoot(t, root, p("root.json"))}, p("root.json") + " is not a status list credential: status: malformed: type"},
		{[]string{"status", "inspect", p("missing.json")}, "no such file"},
	} {
		out, errs, code := mandate(t, ctx, tt.args...)
		if code != 1 || out != "" || !strings.HasPrefix(errs, "mandate: ") || !strings.Contains(errs, tt.msg) {
			t.Errorf("mandate %s: exit %d, stdout %q, stderr %q; want exit 1 and an error mentioning %q", strings.Join(tt.args, " "), code, out, errs, tt.msg)
		}
	}

	// A list from elsewhere, without a proof, is shown and said to be unverified.
	in = inspectJSON(t, ctx, bsl03)
	if in.ID != "https://example.com/credentials/status/3" || in.Size != 131072 || len(in.Set) != 0 || !strings.HasPrefix(in.Proof, "NOT verified: ") {
		t.Fatalf("inspect bsl-03: %+v", in)
	}
}

// writeRoot writes one credential, not a list, to path.
func writeRoot(t *testing.T, c *credentials.Credential, path string) string {
	t.Helper()
	b, err := c.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestCLIIssueWithoutStatus: a wallet without a registry issues credentials
// that carry no status entries, and publishes nothing.
func TestCLIIssueWithoutStatus(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	t.Setenv("MANDATE_PASSPHRASE", "pw")
	must(t, ctx, "wallet", "init", "--wallet", filepath.Join(dir, "w"))
	out := must(t, ctx, "issue", "--wallet", filepath.Join(dir, "w"), "--grants", "../../examples/grants/assistant.yaml", "--to", testkeys.New("assistant").DID())
	chain, err := credentials.DecodeChain([]byte(out))
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := chain[0].Raw["credentialStatus"]; ok {
		t.Fatalf("credentialStatus without a registry: %v", chain[0].Raw["credentialStatus"])
	}
	if _, errs, code := mandate(t, ctx, "status", "publish", "--wallet", filepath.Join(dir, "w")); code != 1 || !strings.Contains(errs, "not configured") {
		t.Fatalf("status publish without a registry: exit %d, %s", code, errs)
	}
}
