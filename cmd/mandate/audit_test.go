package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/dgraph-io/badger/v4"

	"github.com/mandate-dev/mandate/internal/testkeys"
	"github.com/mandate-dev/mandate/presentation/audit"
)

// auditCLI runs `mandate audit ARGS` in-process, as run() does.
func auditCLI(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	var out, errb bytes.Buffer
	cmd := newAuditCmd(&streams{out: &out, err: &errb})
	cmd.SilenceUsage, cmd.SilenceErrors = true, true
	cmd.SetOut(&out)
	cmd.SetErr(&errb)
	cmd.SetArgs(args)
	if err := cmd.ExecuteContext(context.Background()); err != nil {
		if code, ok := err.(exitCode); ok {
			return out.String(), errb.String(), int(code)
		}
		fmt.Fprintln(&errb, "mandate:", err)
		return out.String(), errb.String(), 1
	}
	return out.String(), errb.String(), 0
}

// auditLog is a verifier data directory holding three records and one
// checkpoint, and what the log said when it was written.
type auditLog struct {
	data        string
	recs        []audit.Record
	export, cps []byte
}

var (
	auditT0       = time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	auditVerifier = testkeys.New("verifier")
	auditAlice    = testkeys.New("alice").DID()
	auditBob      = testkeys.New("bob").DID()
	auditAgent    = testkeys.New("assistant").DID()
)

func newAuditLog(t *testing.T) auditLog {
	t.Helper()
	a := auditLog{data: t.TempDir()}
	db := openAuditStore(t, a.data)
	defer db.Close()
	n := 0
	l, err := audit.New(db, audit.Options{Signer: auditVerifier, CheckpointEvery: 2,
		Now: func() time.Time { n++; return auditT0.Add(time.Duration(n) * time.Minute) }})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range []audit.Record{
		{Kind: audit.KindDecision, Decision: "ALLOW", Principal: auditAlice, Actor: auditAgent, Chain: []string{"urn:uuid:root"},
			Grant: "g-read", Action: "email:read", Resource: "mailbox:alice/inbox", Intent: "summarise"},
		{Kind: audit.KindDecision, Decision: "NEEDS_APPROVAL", Reasons: []string{"APPROVAL_REQUIRED"}, Principal: auditAlice,
			Actor: auditAgent, Action: "email:draft", Resource: "mailbox:alice/drafts", ApprovalID: "ap-1",
			Context:  map[string]string{"to": "bob@example.com"},
			Checkers: []audit.CheckerVerdict{{Name: "rules", Verdict: "allow", Reason: "drafting is in the purpose", Confidence: 0.9}}},
		{Kind: audit.KindDecision, Decision: "DENY", Reasons: []string{"FORBIDDEN"}, Principal: auditBob, Actor: auditAgent,
			Action: "email:send", Resource: "mailbox:bob/outbox"},
	} {
		err := db.Update(func(txn *badger.Txn) error {
			rec, err := l.Append(txn, r)
			a.recs = append(a.recs, rec)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	var exp, cps bytes.Buffer
	if err := l.Export(&exp); err != nil {
		t.Fatal(err)
	}
	if err := l.ExportCheckpoints(&cps); err != nil {
		t.Fatal(err)
	}
	a.export, a.cps = exp.Bytes(), cps.Bytes()
	return a
}

func openAuditStore(t *testing.T, data string) *badger.DB {
	t.Helper()
	db, err := badger.Open(auditStoreOptions(filepath.Join(data, "verifier")))
	if err != nil {
		t.Fatal(err)
	}
	return db
}

func TestAuditList(t *testing.T) {
	a := newAuditLog(t)
	out, errs, code := auditCLI(t, "list", "--data", a.data)
	want := strings.Join([]string{
		"SEQ  TIME                  DECISION        REASONS            ACTION       RESOURCE              AGENT                                                     PRINCIPAL",
		"1    2026-03-01T09:01:00Z  ALLOW           -                  email:read   mailbox:alice/inbox   " + auditAgent + "  " + auditAlice,
		"2    2026-03-01T09:02:00Z  NEEDS_APPROVAL  APPROVAL_REQUIRED  email:draft  mailbox:alice/drafts  " + auditAgent + "  " + auditAlice,
		"3    2026-03-01T09:03:00Z  DENY            FORBIDDEN          email:send   mailbox:bob/outbox    " + auditAgent + "  " + auditBob,
	}, "\n") + "\n"
	if code != 0 || out != want {
		t.Fatalf("exit %d, stderr %s\n got:\n%s\nwant:\n%s", code, errs, out, want)
	}

	tests := []struct {
		name string
		args []string
		want []uint64
	}{
		{"principal", []string{"--principal", auditBob}, []uint64{3}},
		{"agent", []string{"--agent", auditAgent}, []uint64{1, 2, 3}},
		{"action", []string{"--action", "email:draft"}, []uint64{2}},
		{"decision", []string{"--decision", "ALLOW"}, []uint64{1}},
		{"time range", []string{"--since", "2026-03-01T09:02:00Z", "--until", "2026-03-01T10:03:00+01:00"}, []uint64{2}},
		{"limit", []string{"--principal", auditAlice, "--limit", "1"}, []uint64{1}},
		{"none", []string{"--agent", auditBob}, []uint64{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, errs, code := auditCLI(t, append([]string{"list", "--data", a.data, "--json"}, tt.args...)...)
			var recs []audit.Record
			if code != 0 || json.Unmarshal([]byte(out), &recs) != nil {
				t.Fatalf("exit %d: %s %s", code, out, errs)
			}
			got := []uint64{}
			for _, r := range recs {
				got = append(got, r.Seq)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("got %v, want %v", got, tt.want)
			}
		})
	}
}

func TestAuditShow(t *testing.T) {
	a := newAuditLog(t)
	out, errs, code := auditCLI(t, "show", "2", "--data", a.data)
	r := a.recs[1]
	want := strings.Join([]string{
		"seq        2",
		"time       2026-03-01T09:02:00Z",
		"kind       decision",
		"verifier   " + auditVerifier.DID(),
		"decision   NEEDS_APPROVAL",
		"reasons    APPROVAL_REQUIRED",
		"principal  " + auditAlice,
		"agent      " + auditAgent,
		"action     email:draft",
		"resource   mailbox:alice/drafts",
		"context    to=bob@example.com",
		"checker    rules: allow (confidence 0.9) drafting is in the purpose",
		"approval   ap-1",
		"liable     " + auditAlice,
		"prev       " + a.recs[0].Hash,
		"hash       " + r.Hash,
	}, "\n") + "\n"
	if code != 0 || out != want {
		t.Fatalf("exit %d, stderr %s\n got:\n%s\nwant:\n%s", code, errs, out, want)
	}
	out, _, code = auditCLI(t, "show", "2", "--data", a.data, "--json")
	var got audit.Record
	if code != 0 || json.Unmarshal([]byte(out), &got) != nil || !reflect.DeepEqual(got, r) {
		t.Fatalf("show --json: exit %d, %s", code, out)
	}
}

func TestAuditExport(t *testing.T) {
	a := newAuditLog(t)
	if out, errs, code := auditCLI(t, "export", "--jsonl", "--data", a.data); code != 0 || out != string(a.export) {
		t.Fatalf("export: exit %d %s\n got %q\nwant %q", code, errs, out, a.export)
	}
	if strings.Count(string(a.export), "\n") != 3 {
		t.Fatalf("export is not 3 lines: %q", a.export)
	}
	if out, errs, code := auditCLI(t, "export", "--jsonl", "--checkpoints", "--data", a.data); code != 0 || out != string(a.cps) || strings.Count(out, "\n") != 1 {
		t.Fatalf("export --checkpoints: exit %d %s\n got %q\nwant %q", code, errs, out, a.cps)
	}
}

func TestAuditVerify(t *testing.T) {
	a := newAuditLog(t)
	out, errs, code := auditCLI(t, "verify", "--data", a.data)
	want := fmt.Sprintf("ok: 3 records, 1 checkpoints, head 3 %s\ncheckpoints signed by %s\n", a.recs[2].Hash, auditVerifier.DID())
	if code != 0 || out != want {
		t.Fatalf("exit %d, stderr %s\n got %q\nwant %q", code, errs, out, want)
	}

	// One stored record changed behind the log's back.
	db := openAuditStore(t, a.data)
	key := []byte(fmt.Sprintf("audit/rec/%020d", 2))
	err := db.Update(func(txn *badger.Txn) error {
		item, err := txn.Get(key)
		if err != nil {
			return err
		}
		v, err := item.ValueCopy(nil)
		if err != nil {
			return err
		}
		return txn.Set(key, bytes.Replace(v, []byte("bob@example.com"), []byte("eve@example.com"), 1))
	})
	db.Close()
	if err != nil {
		t.Fatal(err)
	}
	out, _, code = auditCLI(t, "verify", "--data", a.data)
	if code != 1 || out != "TAMPERED: record 2 was altered (hash mismatch)\n" {
		t.Fatalf("tampered: exit %d, %q", code, out)
	}
	out, _, code = auditCLI(t, "verify", "--data", a.data, "--json")
	if code != 1 || out != `{"ok":false,"problem":"record 2 was altered (hash mismatch)"}`+"\n" {
		t.Fatalf("tampered --json: exit %d, %q", code, out)
	}
}

func TestAuditRefusals(t *testing.T) {
	a := newAuditLog(t)
	held := openAuditStore(t, a.data) // a running verifier holds the lock
	store := filepath.Join(a.data, "verifier")
	empty := t.TempDir()
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"verifier running", []string{"verify", "--data", a.data},
			"mandate: the verifier's store " + store + " is in use (its lock is held): stop the verifier first\n"},
		{"no store", []string{"list", "--data", empty},
			"mandate: no verifier store at " + filepath.Join(empty, "verifier") + ": --data must name the verifier's data directory\n"},
		{"no data flag", []string{"list"}, "mandate: required flag(s) \"data\" not set\n"},
		{"bad since", []string{"list", "--data", a.data, "--since", "yesterday"},
			"mandate: --since: \"yesterday\" is not an RFC 3339 time, e.g. 2026-03-01T09:00:00Z\n"},
		{"negative limit", []string{"list", "--data", a.data, "--limit", "-1"}, "mandate: --limit must not be negative\n"},
		{"bad id", []string{"show", "two", "--data", a.data}, "mandate: record id \"two\" is not a sequence number\n"},
		{"export without format", []string{"export", "--data", a.data}, "mandate: export needs --jsonl (the one format there is)\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, errs, code := auditCLI(t, tt.args...); code != 1 || errs != tt.want {
				t.Fatalf("exit %d\n got %q\nwant %q", code, errs, tt.want)
			}
		})
	}
	held.Close()
	if _, errs, code := auditCLI(t, "show", "9", "--data", a.data); code != 1 || errs != "mandate: audit: record not found: 9\n" {
		t.Fatalf("unknown record: exit %d, %q", code, errs)
	}
}
