package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/mandate-dev/mandate/credentials"
	"github.com/mandate-dev/mandate/did"
	"github.com/mandate-dev/mandate/internal/testkeys"
	"github.com/mandate-dev/mandate/internal/webhost"
)

// TestCLIWitness: `mandate witness` adds the wallet's proof to a root, and refuses a chain of two links, a
// witness that is the principal itself, and a root witnessed already.
func TestCLIWitness(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	t.Setenv("MANDATE_PASSPHRASE", "pw")
	p := func(name string) string { return filepath.Join(dir, name) }
	alice := must(t, ctx, "wallet", "init", "--wallet", p("alice"))
	legal := must(t, ctx, "wallet", "init", "--wallet", p("legal"))
	assistant := must(t, ctx, "wallet", "init", "--wallet", p("assistant"))
	summarizer := must(t, ctx, "wallet", "init", "--wallet", p("summarizer"))
	must(t, ctx, "issue", "--wallet", p("alice"), "--grants", "../../examples/grants/assistant.yaml", "--to", assistant, "--out", p("a.json"))

	must(t, ctx, "witness", p("a.json"), "--wallet", p("legal"), "--out", p("aw.json"))
	b, err := os.ReadFile(p("aw.json"))
	if err != nil {
		t.Fatal(err)
	}
	chain, err := credentials.DecodeChain(b)
	if err != nil || len(chain) != 1 {
		t.Fatalf("witnessed chain: %d links, %v", len(chain), err)
	}
	proofs, _ := chain[0].Raw["proof"].([]any)
	if len(proofs) != 2 {
		t.Fatalf("%d proofs, want the issuer's and the witness's", len(proofs))
	}
	if purpose := proofs[1].(map[string]any)["proofPurpose"]; purpose != credentials.WitnessPurpose {
		t.Fatalf("second proof's purpose %v, want %s", purpose, credentials.WitnessPurpose)
	}
	cv, err := credentials.NewVerifier(did.KeyResolver{})
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := chain[0].Marshal()
	got, err := cv.Verify(ctx, raw)
	if err != nil || got.Witness != legal || got.Issuer != alice {
		t.Fatalf("verify: witness %q issuer %q, %v; want %s, %s", got.Witness, got.Issuer, err, legal, alice)
	}

	chainID := must(t, ctx, "wallet", "import", "--wallet", p("assistant"), p("a.json"))
	must(t, ctx, "delegate", "--wallet", p("assistant"), "--parent", chainID, "--grants", "../../examples/grants/summarizer.yaml", "--to", summarizer, "--out", p("s.json"))
	for _, tc := range []struct {
		name, file, wallet, err string
	}{
		{"a chain of two links", p("s.json"), p("legal"),
			"mandate: " + p("s.json") + ": a witness signs a root alone; the file holds 2 links (witness before delegating)\n"},
		{"the principal witnessing its own root", p("a.json"), p("alice"),
			"mandate: credentials: malformed credential: the witness " + alice + " is the credential's issuer or subject\n"},
		{"the attorney witnessing its own power", p("a.json"), p("assistant"),
			"mandate: credentials: malformed credential: the witness " + assistant + " is the credential's issuer or subject\n"},
		{"a root witnessed already", p("aw.json"), p("summarizer"),
			"mandate: credentials: malformed credential: " + chain[0].ID + " is already witnessed by " + legal + "\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, errs, code := mandate(t, ctx, "witness", tc.file, "--wallet", tc.wallet)
			if code != 1 || out != "" || errs != tc.err {
				t.Fatalf("exit %d, stdout %q\nstderr %q\nwant   %q", code, out, errs, tc.err)
			}
		})
	}
}

// TestCLIDIDCreateWeb: `did create --method web` keeps the key in the wallet and writes the document to
// publish, whose id is the DID; a bad domain or none is refused with the exact error.
func TestCLIDIDCreateWeb(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	t.Setenv("MANDATE_PASSPHRASE", "pw")
	w := filepath.Join(dir, "acme")
	must(t, ctx, "wallet", "init", "--wallet", w)
	doc := filepath.Join(dir, "did.json")
	_, errs, code := mandate(t, ctx, "did", "create", "--method", "web", "--domain", "acme.example:8443", "--path", "org/legal", "--wallet", w, "--out", doc)
	const id = "did:web:acme.example%3A8443:org:legal"
	if code != 0 || errs != id+": publish the document at https://acme.example:8443/org/legal/did.json\n" {
		t.Fatalf("exit %d, stderr %q", code, errs)
	}
	b, err := os.ReadFile(doc)
	if err != nil {
		t.Fatal(err)
	}
	var d did.Document
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatal(err)
	}
	if d.ID != id || len(d.VerificationMethod) != 1 || d.VerificationMethod[0].ID != id+"#key-1" || d.VerificationMethod[0].Controller != id {
		t.Fatalf("document: %s", b)
	}
	if _, err := did.ParseWebDocument(id, b); err != nil {
		t.Fatalf("the written document does not resolve as its own DID: %v", err)
	}
	held := must(t, ctx, "wallet", "list", "--wallet", w)
	for _, tc := range []struct {
		name string
		args []string
		err  string
	}{
		{"no domain", []string{"--method", "web"}, "mandate: did create --method web needs --domain\n"},
		{"a domain with a space", []string{"--method", "web", "--domain", "acme example"},
			"mandate: did: invalid DID: \"did:web:acme example\": host \"acme example\" is not a lowercase DNS name\n"},
		{"an IP address", []string{"--method", "web", "--domain", "127.0.0.1"},
			"mandate: did: invalid DID: \"did:web:127.0.0.1\": host \"127.0.0.1\" is an IP address; did:web needs a domain name\n"},
		{"a bad path", []string{"--method", "web", "--domain", "acme.example", "--path", "a b"},
			"mandate: did: invalid DID: \"did:web:acme.example:a b\": path segment \"a b\" is not 1..255 unreserved characters (A-Z a-z 0-9 - . _ ~)\n"},
		{"another method", []string{"--method", "peer"}, "mandate: --method \"peer\": want key or web\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, errs, code := mandate(t, ctx, append([]string{"did", "create", "--wallet", w}, tc.args...)...)
			if code != 1 || out != "" || errs != tc.err {
				t.Fatalf("exit %d, stdout %q\nstderr %q\nwant   %q", code, out, errs, tc.err)
			}
		})
	}
	if after := must(t, ctx, "wallet", "list", "--wallet", w); after != held {
		t.Fatalf("refused creations changed the wallet:\n%s\n%s", held, after)
	}
}

// TestCLIWitnessAsWebDID: a did:web made by `did create --method web` keeps its key in the wallet's KMS: once its
// document is published (on a loopback HTTPS host here), `witness --as` signs with it and the proof verifies
// against the published document.
func TestCLIWitnessAsWebDID(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	t.Setenv("MANDATE_PASSPHRASE", "pw")
	p := func(name string) string { return filepath.Join(dir, name) }
	host, err := webhost.Start()
	if err != nil {
		t.Fatal(err)
	}
	defer host.Close()
	must(t, ctx, "wallet", "init", "--wallet", p("acme"))
	must(t, ctx, "wallet", "init", "--wallet", p("legal"))
	must(t, ctx, "did", "create", "--method", "web", "--domain", "acme.example:"+strconv.Itoa(host.Port), "--path", "legal", "--wallet", p("legal"), "--out", p("did.json"))
	id := host.DID("acme.example", "legal")
	doc, err := os.ReadFile(p("did.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := host.PublishRaw(id, doc); err != nil {
		t.Fatal(err)
	}
	must(t, ctx, "issue", "--wallet", p("acme"), "--grants", "../../examples/grants/assistant.yaml", "--to", testkeys.New("agent").DID(), "--out", p("a.json"))
	must(t, ctx, "witness", p("a.json"), "--wallet", p("legal"), "--as", id, "--out", p("aw.json"))
	b, err := os.ReadFile(p("aw.json"))
	if err != nil {
		t.Fatal(err)
	}
	chain, err := credentials.DecodeChain(b)
	if err != nil {
		t.Fatal(err)
	}
	res, err := did.NewMethods(map[string]did.Resolver{"key": did.KeyResolver{}, "web": did.NewWebResolver(did.WebOptions{Client: host.Client()})})
	if err != nil {
		t.Fatal(err)
	}
	cv, err := credentials.NewVerifier(res)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := chain[0].Marshal()
	if got, err := cv.Verify(ctx, raw); err != nil || got.Witness != id {
		t.Fatalf("verify: witness %v, %v; want %s", got, err, id)
	}
	if hits := host.Hits(id); hits != 1 {
		t.Fatalf("%d fetches of the witness's document, want 1", hits)
	}
	// A DID the wallet does not hold is refused.
	if _, errs, code := mandate(t, ctx, "witness", p("a.json"), "--wallet", p("legal"), "--as", "did:web:other.example"); code != 1 || errs != "mandate: wallet: DID did:web:other.example: wallet: not found\n" {
		t.Fatalf("--as a DID not held: exit %d, %s", code, errs)
	}
}
