package wallet_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mandate-dev/mandate/credentials"
	"github.com/mandate-dev/mandate/credentials/status"
	"github.com/mandate-dev/mandate/did"
	"github.com/mandate-dev/mandate/wallet"
)

// statusCrashEnv names the wallet directory when this test binary runs as
// TestStatusCrash's child.
const statusCrashEnv = "MANDATE_STATUS_CRASH_CHILD_DIR"

const (
	statusCrashCreds   = 40 // credentials allocated before the child starts
	statusCrashReports = 30 // the parent kills the child after this many reported changes
	statusCrashEvery   = 4  // the child publishes its lists after every 4th change
	statusCrashTimeout = 30 * time.Second
)

// statusCrashChange is the child's i-th change, as `mandate revoke` and
// `mandate suspend` make them: the credential's revocation bit, one
// grant's suspension bit, or one grant's revocation bit.
func statusCrashChange(i int) (cred, grant string, p status.Purpose) {
	cred = fmt.Sprintf("urn:uuid:status-crash-%04d", i)
	switch i % 3 {
	case 0:
		return cred, "", status.Revocation
	case 1:
		return cred, "urn:mandate:grant:read", status.Suspension
	}
	return cred, "urn:mandate:grant:read", status.Revocation
}

// TestStatusCrashChild is TestStatusCrash's child; run directly, it does
// nothing. It reports "set i" after each change returned, and "published i"
// after it has signed and written its lists (to the registry's Dir, as
// `mandate revoke` does) with the first i changes in them.
func TestStatusCrashChild(t *testing.T) {
	dir := os.Getenv(statusCrashEnv)
	if dir == "" {
		return
	}
	fail := func(err error) {
		fmt.Println("error", err)
		os.Exit(2)
	}
	w, err := wallet.Open(dir, passphrase)
	if err != nil {
		fail(err)
	}
	reg := w.StatusRegistry()
	cfg, err := reg.Config()
	if err != nil {
		fail(err)
	}
	for i := range statusCrashCreds {
		cred, grant, p := statusCrashChange(i)
		change := reg.Revoke
		if p == status.Suspension {
			change = reg.Suspend
		}
		if _, err := change(cred, grant); err != nil {
			fail(err)
		}
		fmt.Println("set", i) // unbuffered: sent only after the change returned
		if (i+1)%statusCrashEvery == 0 {
			if _, err := w.PublishStatus(cfg.Dir, credentials.IssueOptions{}); err != nil {
				fail(err)
			}
			fmt.Println("published", i+1)
		}
	}
	os.Exit(3) // never killed: the parent reports it
}

// TestStatusCrash kills (SIGKILL) an issuer's wallet that is revoking and
// suspending entries and publishing its lists, then checks that the wallet
// opens cleanly, that every change reported is still set in the registry
// and in a list signed from it afterwards, and that every list file the
// child wrote is whole (it verifies) and has at least the changes reported
// before its last publication: a kill never leaves a torn list.
func TestStatusCrash(t *testing.T) {
	dir, pub := t.TempDir(), t.TempDir()
	w, err := wallet.Create(dir, passphrase, fastKDF)
	if err != nil {
		t.Fatal(err)
	}
	reg := w.StatusRegistry()
	if err := reg.Configure(status.RegistryConfig{BaseURL: "https://status.example/lists", Prefix: "crash", Dir: pub}); err != nil {
		t.Fatal(err)
	}
	for i := range statusCrashCreds {
		cred, _, _ := statusCrashChange(i)
		if _, err := reg.Allocate(cred, []string{"urn:mandate:grant:read"}); err != nil {
			t.Fatal(err)
		}
	}
	mustClose(t, w)

	set, published := killStatusChild(t, dir)
	if set < statusCrashReports {
		t.Fatalf("child reported %d changes before it was killed, want %d", set, statusCrashReports)
	}
	w = open(t, dir)
	defer mustClose(t, w)
	lists, err := w.StatusRegistry().Lists()
	if err != nil {
		t.Fatal(err)
	}
	stored := map[string]*status.Bitstring{}
	for _, l := range lists {
		stored[l.URL] = l.Bits
	}
	checkStatusBits(t, w, "registry", set, stored)

	// Lists signed from the reopened registry carry every reported change.
	fresh := t.TempDir()
	if _, err := w.PublishStatus(fresh, credentials.IssueOptions{}); err != nil {
		t.Fatal(err)
	}
	checkStatusBits(t, w, "list signed after the crash", set, readSignedLists(t, fresh))

	// The child's own files: whole, and at least as new as its last report.
	// A kill mid-write may leave a temporary file, which is never served:
	// its name starts with a dot.
	checkStatusBits(t, w, "list the child published", published, readSignedLists(t, pub))
	names, err := os.ReadDir(pub)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range names {
		if !strings.HasSuffix(n.Name(), ".json") && !strings.HasPrefix(n.Name(), ".") {
			t.Errorf("publish directory holds %s", n.Name())
		}
	}
	t.Logf("%d changes and %d published reported before kill -9", set, published)
}

// checkStatusBits checks that the first n changes are set in lists (list
// URL → bits).
func checkStatusBits(t *testing.T, w *wallet.Wallet, what string, n int, lists map[string]*status.Bitstring) {
	t.Helper()
	for i := range n {
		cred, grant, p := statusCrashChange(i)
		a, err := w.StatusRegistry().Record(cred)
		if err != nil {
			t.Fatal(err)
		}
		entries := a.Credential
		if grant != "" {
			entries = a.Grants[grant]
		}
		var e *status.Entry
		for j := range entries {
			if entries[j].Purpose == p {
				e = &entries[j]
			}
		}
		if e == nil {
			t.Fatalf("change %d: no %s entry for %s %s", i, p, cred, grant)
		}
		bits, ok := lists[e.ListURL]
		if !ok {
			t.Errorf("%s: no list %s", what, e.ListURL)
			continue
		}
		if v, err := bits.Get(e.Index, 1); err != nil || v != 1 {
			t.Errorf("%s: change %d (%s of %s %s, %s index %d) lost: bit %d, %v", what, i, p, cred, grant, e.ListURL, e.Index, v, err)
		}
	}
}

// readSignedLists verifies every list file in dir and returns list URL →
// bits. A file that does not verify (torn, half-written) fails the test.
func readSignedLists(t *testing.T, dir string) map[string]*status.Bitstring {
	t.Helper()
	v, err := credentials.NewVerifier(did.KeyResolver{})
	if err != nil {
		t.Fatal(err)
	}
	files, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no list files in %s (%v)", dir, err)
	}
	out := map[string]*status.Bitstring{}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		lc, err := v.VerifyStatusList(context.Background(), data)
		if err != nil {
			t.Fatalf("list file %s is not a whole signed list (%d bytes): %v", filepath.Base(f), len(data), err)
		}
		out[lc.ID] = lc.Bits
	}
	return out
}

// killStatusChild runs the child on dir until it has reported
// statusCrashReports changes, kills it and returns how many changes it
// reported and how many its last published lists hold.
func killStatusChild(t *testing.T, dir string) (set, published int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), statusCrashTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestStatusCrashChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), statusCrashEnv+"="+dir)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := bufio.NewScanner(out)
	for set < statusCrashReports && lines.Scan() {
		kind, num, _ := strings.Cut(lines.Text(), " ")
		n, err := strconv.Atoi(num)
		switch {
		case err == nil && kind == "set" && n == set:
			set++
		case err == nil && kind == "published" && n == set:
			published = n
		default:
			t.Errorf("child: %s", lines.Text())
		}
	}
	if err := cmd.Process.Kill(); err != nil && !errors.Is(err, os.ErrProcessDone) {
		t.Fatal(err)
	}
	_ = cmd.Wait() // "signal: killed" is the expected outcome
	if ctx.Err() != nil {
		t.Fatalf("child did not report %d changes within %s", statusCrashReports, statusCrashTimeout)
	}
	return set, published
}
