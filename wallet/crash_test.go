package wallet_test

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/mandate-dev/mandate/wallet"
)

// crashChildEnv names the wallet directory when this test binary runs as the crash test's child.
const crashChildEnv = "MANDATE_WALLET_CRASH_CHILD_DIR"

const (
	crashReports  = 25 // the parent kills the child after this many reported writes (at least 20)
	crashMaxWrite = 10000
	crashTimeout  = 2 * time.Minute
)

// crashChain is the chain the child stores as number i; every fifth is large enough to go to
// badger's value log rather than the LSM tree, so both paths are crash-tested.
func crashChain(i int) (string, []byte) {
	id := fmt.Sprintf("urn:uuid:crash-%05d", i)
	size := 2 << 10
	if i%5 == 4 {
		size = 100 << 10
	}
	pad := strings.Repeat(string(rune('a'+i%26)), size)
	return id, []byte(fmt.Sprintf(`[{"id":%q,"pad":%q}]`, id, pad))
}

// TestCrashChild is the child process of TestCrashDurability; run directly, it does nothing.
func TestCrashChild(t *testing.T) {
	dir := os.Getenv(crashChildEnv)
	if dir == "" {
		return
	}
	w, err := wallet.Open(dir, passphrase)
	if err != nil {
		fmt.Println("error", err)
		os.Exit(2)
	}
	for i := range crashMaxWrite {
		id, chain := crashChain(i)
		if err := w.PutChain(id, chain); err != nil {
			fmt.Println("error", err)
			os.Exit(2)
		}
		// Unbuffered: the line reaches the parent only after PutChain has returned.
		fmt.Println("stored", id)
	}
	os.Exit(3) // never killed: the parent will report it
}

// TestCrashDurability kills a process that is storing chains (SIGKILL, no chance to close the
// DB) and checks that every chain it reported as stored survives, byte for byte.
func TestCrashDurability(t *testing.T) {
	dir := t.TempDir()
	w, err := wallet.Create(dir, passphrase, fastKDF)
	if err != nil {
		t.Fatal(err)
	}
	mustClose(t, w)

	reported := runAndKill(t, dir)
	if len(reported) < crashReports {
		t.Fatalf("child reported %d writes before it was killed, want %d", len(reported), crashReports)
	}

	w = open(t, dir)
	for _, id := range reported {
		got, err := w.Chain(id)
		if err != nil {
			t.Errorf("reported chain %s lost: %v", id, err)
			continue
		}
		if _, want := crashChain(chainNumber(t, id)); !bytes.Equal(got, want) {
			t.Errorf("chain %s is damaged: %d bytes, want %d", id, len(got), len(want))
		}
	}
	// Whatever else is there (a write in flight when killed) must be whole too.
	chains, err := w.Chains()
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range chains {
		if _, want := crashChain(chainNumber(t, c.ID)); !bytes.Equal(c.Chain, want) {
			t.Errorf("unreported chain %s is damaged", c.ID)
		}
	}
	t.Logf("%d writes reported, %d chains after kill -9", len(reported), len(chains))
}

// runAndKill starts the child on dir, reads its reports until crashReports have arrived, sends
// SIGKILL and returns the ids reported.
func runAndKill(t *testing.T, dir string) []string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), crashTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestCrashChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), crashChildEnv+"="+dir)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var reported []string
	lines := bufio.NewScanner(out)
	for len(reported) < crashReports && lines.Scan() {
		line := lines.Text()
		id, ok := strings.CutPrefix(line, "stored ")
		if !ok {
			t.Errorf("child: %s", line)
			continue
		}
		reported = append(reported, id)
	}
	if err := cmd.Process.Kill(); err != nil && !errors.Is(err, os.ErrProcessDone) {
		t.Fatal(err)
	}
	_ = cmd.Wait() // "signal: killed" is the expected outcome
	if ctx.Err() != nil {
		t.Fatalf("child did not report %d writes within %s", crashReports, crashTimeout)
	}
	return reported
}

func chainNumber(t *testing.T, id string) int {
	t.Helper()
	var n int
	if _, err := fmt.Sscanf(id, "urn:uuid:crash-%05d", &n); err != nil {
		t.Fatalf("unexpected chain id %q: %v", id, err)
	}
	return n
}
