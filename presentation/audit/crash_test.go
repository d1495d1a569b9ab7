package audit_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/dgraph-io/badger/v4"

	"github.com/mandate-dev/mandate/did"
	"github.com/mandate-dev/mandate/presentation/audit"
)

// crashChildEnv names the store directory when this test binary runs as the crash test's child.
const crashChildEnv = "MANDATE_AUDIT_CRASH_CHILD_DIR"

const (
	crashReports   = 40 // the parent kills the child after this many reported appends
	crashMaxAppend = 100000
	crashEvery     = 7 // checkpoints are written mid-run too
	crashTimeout   = 2 * time.Minute
)

// crashOptions are the verifier's store options (cmd/mandate/serve.go).
func crashOptions(dir string) badger.Options {
	return badger.DefaultOptions(dir).WithLogger(nil).WithSyncWrites(true).
		WithMemTableSize(8 << 20).WithValueLogFileSize(16 << 20).WithBlockCacheSize(8 << 20)
}

// TestCrashChild is the child process of TestCrashDurability; run directly, it does nothing.
func TestCrashChild(t *testing.T) {
	dir := os.Getenv(crashChildEnv)
	if dir == "" {
		return
	}
	fail := func(err error) {
		fmt.Println("error", err)
		os.Exit(2)
	}
	db, err := badger.Open(crashOptions(dir))
	if err != nil {
		fail(err)
	}
	l, err := audit.New(db, audit.Options{Signer: verifier, CheckpointEvery: crashEvery})
	if err != nil {
		fail(err)
	}
	for i := range crashMaxAppend {
		var r audit.Record
		if err := db.Update(func(txn *badger.Txn) error {
			var err error
			r, err = l.Append(txn, sample(i))
			return err
		}); err != nil {
			fail(err)
		}
		// Unbuffered: the line reaches the parent only after the commit returned.
		fmt.Println("appended", r.Seq, i)
	}
	os.Exit(3) // never killed: the parent will report it
}

// TestCrashDurability kills a process that is appending (SIGKILL, no chance
// to close the store) and checks that the log still verifies and holds every
// record the child reported as committed.
func TestCrashDurability(t *testing.T) {
	dir := t.TempDir()
	reported := runAndKill(t, dir)
	if len(reported) < crashReports {
		t.Fatalf("child reported %d appends before it was killed, want %d", len(reported), crashReports)
	}
	db, err := badger.Open(crashOptions(dir))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rep, err := audit.Verify(context.Background(), db, did.KeyResolver{})
	if err != nil {
		t.Fatalf("after kill -9: %v", err)
	}
	l, err := audit.New(db, audit.Options{Signer: verifier})
	if err != nil {
		t.Fatal(err)
	}
	for seq, i := range reported {
		r, err := l.Get(seq)
		if err != nil {
			t.Fatalf("reported record %d lost: %v", seq, err)
		}
		if want := sample(i); r.Intent != want.Intent || r.Decision != want.Decision {
			t.Fatalf("record %d holds %q %s, want %q %s", seq, r.Intent, r.Decision, want.Intent, want.Decision)
		}
	}
	if rep.LastSeq < uint64(len(reported)) || rep.Checkpoints < rep.LastSeq/crashEvery {
		t.Fatalf("report %+v after %d reported appends", rep, len(reported))
	}
	t.Logf("%d appends reported, %d records and %d checkpoints after kill -9", len(reported), rep.Records, rep.Checkpoints)
}

// runAndKill starts the child on dir, reads its reports until crashReports
// have arrived, sends SIGKILL and returns the seqs reported, each with the
// sample it holds.
func runAndKill(t *testing.T, dir string) map[uint64]int {
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
	reported := map[uint64]int{}
	lines := bufio.NewScanner(out)
	for len(reported) < crashReports && lines.Scan() {
		seq, i, err := parseReport(lines.Text())
		if err != nil {
			t.Errorf("child: %s", lines.Text())
			continue
		}
		reported[seq] = i
	}
	if err := cmd.Process.Kill(); err != nil && !errors.Is(err, os.ErrProcessDone) {
		t.Fatal(err)
	}
	_ = cmd.Wait() // "signal: killed" is the expected outcome
	if ctx.Err() != nil {
		t.Fatalf("child did not report %d appends within %s", crashReports, crashTimeout)
	}
	return reported
}

func parseReport(line string) (uint64, int, error) {
	f := strings.Fields(line)
	if len(f) != 3 || f[0] != "appended" {
		return 0, 0, errors.New("not a report")
	}
	seq, err := strconv.ParseUint(f[1], 10, 64)
	if err != nil {
		return 0, 0, err
	}
	i, err := strconv.Atoi(f[2])
	return seq, i, err
}
