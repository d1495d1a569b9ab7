package presentation_test

import (
	"bufio"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/dgraph-io/badger/v4"

	"github.com/mandate-dev/mandate/credentials"
	"github.com/mandate-dev/mandate/did"
	"github.com/mandate-dev/mandate/presentation"
)

// nonceCrashEnv names the store directory when this test binary runs as
// TestNonceCrash's child.
const nonceCrashEnv = "MANDATE_NONCE_CRASH_CHILD_DIR"

const (
	nonceCrashReports = 20 // the parent kills the child after this many consumed nonces
	nonceCrashMax     = 100000
	nonceCrashTimeout = time.Minute // a hard bound; about 1 s normally, 15 s under -race on a busy machine
)

// nonceCrashStore opens the verifier's store as `mandate serve verifier`
// does (cmd/mandate/serve.go).
func nonceCrashStore(dir string) (*badger.DB, error) {
	return badger.Open(badger.DefaultOptions(dir).WithLogger(nil).
		WithSyncWrites(true).WithMemTableSize(8 << 20).WithValueLogFileSize(16 << 20).WithBlockCacheSize(8 << 20))
}

// nonceCrashVerifier is the verifier both processes run, on a fixed clock
// so that no challenge expires between the child's run and the parent's.
func nonceCrashVerifier(db *badger.DB) (*presentation.Verifier, error) {
	now := t0.Add(time.Hour)
	return presentation.New(presentation.Config{
		Audience: "https://mail.example", Resolver: did.KeyResolver{}, TrustedRoots: []string{alice.DID()},
		Store: db, Now: func() time.Time { return now }, Signer: verifierKey,
	})
}

// TestNonceCrashChild is TestNonceCrash's child; run directly, it does
// nothing. It asks for a challenge, presents the assistant's root for it
// and has it decided, again and again, and reports each nonce (with the
// presentation) after Authorize returned ALLOW, which consumed it.
func TestNonceCrashChild(t *testing.T) {
	dir := os.Getenv(nonceCrashEnv)
	if dir == "" {
		return
	}
	fail := func(err error) {
		fmt.Println("error", err)
		os.Exit(2)
	}
	db, err := nonceCrashStore(dir)
	if err != nil {
		fail(err)
	}
	v, err := nonceCrashVerifier(db)
	if err != nil {
		fail(err)
	}
	root, err := credentials.Issue(alice, credentials.Template{
		Subject: assistant.DID(), Purpose: "Keep Alice's inbox organised",
		Grants: []credentials.Grant{{ID: "urn:mandate:grant:email-read", Action: "email:read", Resource: "mailbox:alice/*"}},
	}, credentials.IssueOptions{Now: func() time.Time { return t0 }})
	if err != nil {
		fail(err)
	}
	ctx := context.Background()
	for range nonceCrashMax {
		ch, err := v.Challenge(ctx)
		if err != nil {
			fail(err)
		}
		vp, err := presentation.Present(assistant, []*credentials.Credential{root}, ch, readMail(), t0.Add(time.Hour))
		if err != nil {
			fail(err)
		}
		if d := v.Authorize(ctx, vp, readMail()); d.Outcome != presentation.Allow {
			fail(fmt.Errorf("decision %s %v: %s", d.Outcome, d.Reasons, d.Message))
		}
		// Unbuffered: the line leaves only after Authorize has returned.
		fmt.Println("consumed", ch.Nonce, base64.StdEncoding.EncodeToString(vp))
	}
	os.Exit(3) // never killed: the parent reports it
}

// TestNonceCrash kills (SIGKILL) a verifier that is consuming challenges
// and checks that the store opens cleanly afterwards and that every nonce
// reported consumed is still spent: presenting it again is REPLAY, and the
// nonce store refuses it. Single use survives a crash.
func TestNonceCrash(t *testing.T) {
	dir := t.TempDir()
	reported := killNonceChild(t, dir)
	if len(reported) < nonceCrashReports {
		t.Fatalf("child reported %d nonces before it was killed, want %d", len(reported), nonceCrashReports)
	}
	db, err := nonceCrashStore(dir)
	if err != nil {
		t.Fatalf("store does not open after kill -9: %v", err)
	}
	defer db.Close()
	v, err := nonceCrashVerifier(db)
	if err != nil {
		t.Fatal(err)
	}
	nonces := presentation.NewNonceStore(db, nil)
	for nonce, vp := range reported {
		d := v.Authorize(context.Background(), vp, readMail())
		if d.Outcome != presentation.Deny || len(d.Reasons) != 1 || d.Reasons[0] != presentation.ReasonReplay {
			t.Errorf("nonce %s presented again after the crash: %s %v (%s), want DENY REPLAY", nonce, d.Outcome, d.Reasons, d.Message)
		}
		if _, err := nonces.Consume(nonce, t0.Add(time.Hour)); !errors.Is(err, presentation.ErrReplay) {
			t.Errorf("nonce %s: Consume after the crash = %v, want ErrReplay", nonce, err)
		}
	}
	t.Logf("%d nonces reported consumed before kill -9; all refused after", len(reported))
}

// killNonceChild runs the child on dir until it has reported
// nonceCrashReports nonces, kills it and returns nonce → presentation.
func killNonceChild(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), nonceCrashTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestNonceCrashChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), nonceCrashEnv+"="+dir)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	reported := map[string][]byte{}
	lines := bufio.NewScanner(out)
	lines.Buffer(nil, 1<<20)
	for len(reported) < nonceCrashReports && lines.Scan() {
		f := strings.Fields(lines.Text())
		if len(f) != 3 || f[0] != "consumed" {
			t.Errorf("child: %s", lines.Text())
			continue
		}
		vp, err := base64.StdEncoding.DecodeString(f[2])
		if err != nil {
			t.Fatal(err)
		}
		reported[f[1]] = vp
	}
	if err := cmd.Process.Kill(); err != nil && !errors.Is(err, os.ErrProcessDone) {
		t.Fatal(err)
	}
	_ = cmd.Wait() // "signal: killed" is the expected outcome
	if ctx.Err() != nil {
		t.Fatalf("child did not report %d nonces within %s", nonceCrashReports, nonceCrashTimeout)
	}
	return reported
}
