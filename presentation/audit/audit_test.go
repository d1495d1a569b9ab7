package audit_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dgraph-io/badger/v4"

	"github.com/mandate-dev/mandate/internal/testkeys"
	"github.com/mandate-dev/mandate/presentation/audit"
)

var (
	t0         = time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	verifier   = testkeys.New("verifier")
	alice      = testkeys.New("alice").DID()
	bob        = testkeys.New("bob").DID()
	assistant  = testkeys.New("assistant").DID()
	summarizer = testkeys.New("summarizer").DID()
)

// openDB opens a real badger store in dir, closed at the end of the test.
func openDB(t testing.TB, dir string) *badger.DB {
	t.Helper()
	db, err := badger.Open(badger.DefaultOptions(dir).WithLogger(nil).WithMemTableSize(8 << 20).
		WithValueLogFileSize(16 << 20).WithBlockCacheSize(8 << 20))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// clock ticks one second per call, from t0.
func clock() func() time.Time {
	var n atomic.Int64
	return func() time.Time { return t0.Add(time.Duration(n.Add(1)) * time.Second) }
}

func newLog(t testing.TB, db *badger.DB, every uint64) *audit.Log {
	t.Helper()
	l, err := audit.New(db, audit.Options{Signer: verifier, CheckpointEvery: every, Now: clock()})
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// sample is the i-th test decision: an ALLOW by alice's assistant, a DENY
// of its summarizer, or a NEEDS_APPROVAL under bob, in turn.
func sample(i int) audit.Record {
	r := audit.Record{
		Kind: audit.KindDecision, VerifierAudience: "https://mail.example.com", Decision: "ALLOW",
		Principal: alice, Actor: assistant, Chain: []string{"urn:uuid:root", "urn:uuid:child"}, Grant: "g-email-read",
		Action: "email:read", Resource: "mailbox:alice/inbox", Intent: fmt.Sprintf("summarise message %d", i),
		Context:  map[string]string{"n": strconv.Itoa(i)},
		Checkers: []audit.CheckerVerdict{{Name: "rules", Verdict: "allow", Reason: "purpose covers reading", Confidence: 1}},
	}
	switch i % 3 {
	case 1:
		r.Decision, r.Reasons, r.Actor, r.Action = "DENY", []string{"FORBIDDEN"}, summarizer, "email:send"
	case 2:
		r.Decision, r.Reasons, r.Principal, r.Action = "NEEDS_APPROVAL", []string{"APPROVAL_REQUIRED"}, bob, "email:draft"
		r.ApprovalID = "ap-" + strconv.Itoa(i)
	}
	return r
}

func appendOne(t testing.TB, db *badger.DB, l *audit.Log, r audit.Record) audit.Record {
	t.Helper()
	var out audit.Record
	err := db.Update(func(txn *badger.Txn) error {
		var err error
		out, err = l.Append(txn, r)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// appendN appends sample(1..n) and returns the records as Append returned them.
func appendN(t testing.TB, db *badger.DB, l *audit.Log, n int) []audit.Record {
	t.Helper()
	var recs []audit.Record
	for i := 1; i <= n; i++ {
		recs = append(recs, appendOne(t, db, l, sample(i)))
	}
	return recs
}

func TestAppendAssigns(t *testing.T) {
	db := openDB(t, t.TempDir())
	l := newLog(t, db, 0)
	first := appendOne(t, db, l, sample(3))
	want := sample(3)
	want.Seq, want.Time, want.Verifier, want.Liable, want.Hash = 1, t0.Add(time.Second), verifier.DID(), alice, first.Hash
	if !reflect.DeepEqual(first, want) {
		t.Fatalf("first record:\n got %+v\nwant %+v", first, want)
	}
	if len(first.Hash) != 64 || strings.ToLower(first.Hash) != first.Hash {
		t.Fatalf("hash %q is not lower-hex SHA-256", first.Hash)
	}

	// The caller's Seq, Prev and Hash are ignored; its Liable and Time are
	// kept, the time in UTC to the microsecond.
	own := sample(1)
	own.Seq, own.Prev, own.Hash = 99, "forged", "forged"
	own.Verifier, own.Liable = verifier.DID(), summarizer
	own.Time = time.Date(2026, 3, 1, 10, 0, 0, 123456789, time.FixedZone("CET", 3600))
	second := appendOne(t, db, l, own)
	if second.Seq != 2 || second.Prev != first.Hash || second.Hash == "forged" || second.Verifier != verifier.DID() ||
		second.Liable != summarizer || !second.Time.Equal(time.Date(2026, 3, 1, 9, 0, 0, 123456000, time.UTC)) || second.Time.Location() != time.UTC {
		t.Fatalf("second record: %+v", second)
	}

	for _, r := range []audit.Record{first, second} {
		got, err := l.Get(r.Seq)
		if err != nil || !reflect.DeepEqual(got, r) {
			t.Fatalf("Get(%d) = %+v, %v; want %+v", r.Seq, got, err, r)
		}
	}
	if _, err := l.Get(3); !errors.Is(err, audit.ErrNotFound) {
		t.Fatalf("Get(3): %v, want ErrNotFound", err)
	}
	if seq, hash, err := l.Head(); seq != 2 || hash != second.Hash || err != nil {
		t.Fatalf("Head() = %d, %s, %v", seq, hash, err)
	}
}

func TestAppendNormalises(t *testing.T) {
	db := openDB(t, t.TempDir())
	l := newLog(t, db, 0)
	r := sample(3)
	r.Reasons, r.Context, r.Intent = []string{}, map[string]string{}, "bad \xff byte"
	got := appendOne(t, db, l, r)
	if got.Reasons != nil || got.Context != nil || got.Intent != "bad \uFFFD byte" {
		t.Fatalf("Append returned %+v, not what a reader gets", got)
	}
	if stored, err := l.Get(1); err != nil || !reflect.DeepEqual(stored, got) {
		t.Fatalf("stored %+v, %v; Append returned %+v", stored, err, got)
	}
}

func TestAppendRefuses(t *testing.T) {
	db := openDB(t, t.TempDir())
	l := newLog(t, db, 0)
	huge := sample(1)
	huge.Intent = strings.Repeat("x", audit.MaxRecordBytes)
	tests := []struct {
		name string
		r    audit.Record
		want string
	}{
		{"no kind", audit.Record{Decision: "ALLOW"}, `audit: record kind "" is not one of "decision", "approval"`},
		{"unknown kind", audit.Record{Kind: "note", Decision: "ALLOW"}, `audit: record kind "note" is not one of "decision", "approval"`},
		{"no decision", audit.Record{Kind: audit.KindApproval}, "audit: a record needs a decision"},
		{"another verifier", audit.Record{Kind: audit.KindApproval, Decision: "APPROVED", Verifier: mallory.DID()},
			fmt.Sprintf("audit: record verifier %q is not the log's signer %q", mallory.DID(), verifier.DID())},
		{"too large", huge, fmt.Sprintf("audit: record 1 is %d bytes, more than %d", audit.MaxRecordBytes+755 /* the rest of sample(1), sealed */, audit.MaxRecordBytes)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := db.Update(func(txn *badger.Txn) error { _, err := l.Append(txn, tt.r); return err })
			if err == nil || err.Error() != tt.want {
				t.Fatalf("got %v, want %s", err, tt.want)
			}
		})
	}
	if _, err := l.Append(nil, sample(1)); err == nil {
		t.Fatal("Append without a transaction succeeded")
	}
}

// otherVM is a signer whose verification method belongs to another DID.
type otherVM struct{ *testkeys.Key }

func (otherVM) VerificationMethod() string { return testkeys.New("mallory").VerificationMethod() }

func TestNewRefuses(t *testing.T) {
	db := openDB(t, t.TempDir())
	tests := []struct {
		name string
		db   *badger.DB
		o    audit.Options
		want string
	}{
		{"no store", nil, audit.Options{Signer: verifier}, "audit: a store is required"},
		{"no signer", db, audit.Options{}, "audit: a signer is required (checkpoints are signed)"},
		{"foreign key", db, audit.Options{Signer: otherVM{verifier}}, fmt.Sprintf("audit: signer's verification method %q is not a key of its DID %q",
			testkeys.New("mallory").VerificationMethod(), verifier.DID())},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := audit.New(tt.db, tt.o); err == nil || err.Error() != tt.want {
				t.Fatalf("got %v, want %s", err, tt.want)
			}
		})
	}
}

func TestList(t *testing.T) {
	db := openDB(t, t.TempDir())
	l := newLog(t, db, 0)
	appendN(t, db, l, 9) // times t0+1s .. t0+9s
	tests := []struct {
		name string
		f    audit.Filter
		want []uint64
	}{
		{"all", audit.Filter{}, []uint64{1, 2, 3, 4, 5, 6, 7, 8, 9}},
		{"principal", audit.Filter{Principal: bob}, []uint64{2, 5, 8}},
		{"actor", audit.Filter{Actor: summarizer}, []uint64{1, 4, 7}},
		{"action", audit.Filter{Action: "email:read"}, []uint64{3, 6, 9}},
		{"decision", audit.Filter{Decision: "NEEDS_APPROVAL"}, []uint64{2, 5, 8}},
		{"since inclusive", audit.Filter{Since: t0.Add(7 * time.Second)}, []uint64{7, 8, 9}},
		{"until exclusive", audit.Filter{Until: t0.Add(3 * time.Second)}, []uint64{1, 2}},
		{"window and principal", audit.Filter{Principal: alice, Since: t0.Add(2 * time.Second), Until: t0.Add(8 * time.Second)}, []uint64{3, 4, 6, 7}},
		{"limit", audit.Filter{Principal: alice, Limit: 3}, []uint64{1, 3, 4}},
		{"nothing", audit.Filter{Actor: "did:key:zNobody"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			recs, err := l.List(tt.f)
			if err != nil {
				t.Fatal(err)
			}
			var got []uint64
			for _, r := range recs {
				got = append(got, r.Seq)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("got %v, want %v", got, tt.want)
			}
		})
	}
	if _, err := l.List(audit.Filter{Limit: -1}); err == nil || err.Error() != "audit: list: negative limit -1" {
		t.Fatalf("negative limit: %v", err)
	}
}

// firstLine is the export of sample(1) appended first: keys in JCS order.
const firstLine = `{"action":"email:send","actor":"` + "%s" + `","chain":["urn:uuid:root","urn:uuid:child"],` +
	`"checkers":[{"confidence":1,"name":"rules","reason":"purpose covers reading","verdict":"allow"}],` +
	`"context":{"n":"1"},"decision":"DENY","grant":"g-email-read","hash":"%s","intent":"summarise message 1",` +
	`"kind":"decision","liable":"%s","prev":"","principal":"%s","reasons":["FORBIDDEN"],"resource":"mailbox:alice/inbox",` +
	`"seq":1,"time":"2026-03-01T09:00:01Z","verifier":"%s","verifierAudience":"https://mail.example.com"}`

func TestExport(t *testing.T) {
	db := openDB(t, t.TempDir())
	l := newLog(t, db, 0)
	recs := appendN(t, db, l, 3)
	var buf bytes.Buffer
	if err := l.Export(&buf); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(buf.String(), "\n")
	if len(lines) != 4 || lines[3] != "" {
		t.Fatalf("export is not 3 lines and a final newline: %q", buf.String())
	}
	const wantHash = "9b59213522cfb6c4a0ff64dd2f1d285a0381c6f5d85fde08d4a563e126268d5d"
	want := fmt.Sprintf(firstLine, summarizer, wantHash, alice, alice, verifier.DID())
	if lines[0] != want {
		t.Fatalf("first line:\n got %s\nwant %s", lines[0], want)
	}
	// The hash is the SHA-256 of the line with the hash emptied.
	for i, line := range lines[:3] {
		h := recs[i].Hash
		sum := sha256.Sum256([]byte(strings.Replace(line, `"hash":"`+h+`"`, `"hash":""`, 1)))
		if hex.EncodeToString(sum[:]) != h {
			t.Fatalf("line %d: hash %s is not the SHA-256 of its JCS with the hash emptied", i+1, h)
		}
		if i > 0 && !strings.Contains(line, `"prev":"`+recs[i-1].Hash+`"`) {
			t.Fatalf("line %d does not link to line %d", i+1, i)
		}
	}
}

func TestAppendInDiscardedTxnLeavesNoTrace(t *testing.T) {
	db := openDB(t, t.TempDir())
	l := newLog(t, db, 2)
	appendN(t, db, l, 1)
	txn := db.NewTransaction(true)
	r, err := l.Append(txn, sample(2))
	if err != nil || r.Seq != 2 {
		t.Fatalf("Append: %+v, %v", r, err)
	}
	txn.Discard() // the verifier's transaction failed: no record, no head, no checkpoint
	if _, err := l.Get(2); !errors.Is(err, audit.ErrNotFound) {
		t.Fatalf("discarded record is visible: %v", err)
	}
	var cps bytes.Buffer
	if err := l.ExportCheckpoints(&cps); err != nil || cps.Len() != 0 {
		t.Fatalf("discarded checkpoint is visible: %q, %v", cps.String(), err)
	}
	again := appendOne(t, db, l, sample(5))
	if again.Seq != 2 || again.Intent != "summarise message 5" {
		t.Fatalf("next Append: %+v, want seq 2 reused", again)
	}
	rep := mustVerify(t, db)
	if rep.Records != 2 || rep.Checkpoints != 1 {
		t.Fatalf("report %+v", rep)
	}
}

func TestConcurrentAppends(t *testing.T) {
	db := openDB(t, t.TempDir())
	l := newLog(t, db, 10)
	var mu sync.Mutex // the verifier's commit mutex
	var wg sync.WaitGroup
	const workers, each = 8, 25
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				mu.Lock()
				err := db.Update(func(txn *badger.Txn) error {
					_, err := l.Append(txn, sample(w*each+i))
					return err
				})
				mu.Unlock()
				if err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	rep := mustVerify(t, db)
	if rep.Records != workers*each || rep.LastSeq != workers*each || rep.Checkpoints != workers*each/10 {
		t.Fatalf("report %+v", rep)
	}
}

// TestAppendRefusesDamagedLog checks that Append never writes over a record
// when the head was lost or damaged: the log must be verified first.
func TestAppendRefusesDamagedLog(t *testing.T) {
	tests := []struct {
		name   string
		damage func(t *testing.T, db *badger.DB, recs []audit.Record)
		want   string
	}{
		{"head removed", func(t *testing.T, db *badger.DB, _ []audit.Record) {
			del(t, db, "audit/head")
		}, "audit: log tampered: record 1 already exists beyond the head (head 0)"},
		{"head moved back", func(t *testing.T, db *badger.DB, recs []audit.Record) {
			set(t, db, "audit/head", headJSON(1, recs[0].Hash))
		}, "audit: log tampered: record 2 already exists beyond the head (head 1)"},
		{"head malformed", func(t *testing.T, db *badger.DB, _ []audit.Record) {
			set(t, db, "audit/head", []byte("{"))
		}, "audit: log tampered: the log head is malformed (unexpected EOF)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db := openDB(t, t.TempDir())
			l := newLog(t, db, 0)
			recs := appendN(t, db, l, 3)
			tt.damage(t, db, recs)
			err := db.Update(func(txn *badger.Txn) error { _, err := l.Append(txn, sample(4)); return err })
			if !errors.Is(err, audit.ErrTampered) || err.Error() != tt.want {
				t.Fatalf("got %v, want %s", err, tt.want)
			}
			if r, err := l.Get(1); err != nil || r.Hash != recs[0].Hash {
				t.Fatalf("record 1 was overwritten: %+v, %v", r, err)
			}
		})
	}
}

func TestReader(t *testing.T) {
	if _, err := audit.NewReader(nil); err == nil || err.Error() != "audit: a store is required" {
		t.Fatalf("NewReader(nil): %v", err)
	}
	db := openDB(t, t.TempDir())
	recs := appendN(t, db, newLog(t, db, 0), 2)
	rd, err := audit.NewReader(db)
	if err != nil {
		t.Fatal(err)
	}
	got, err := rd.List(audit.Filter{})
	if err != nil || !reflect.DeepEqual(got, recs) {
		t.Fatalf("List: %+v, %v", got, err)
	}
	if seq, hash, err := rd.Head(); seq != 2 || hash != recs[1].Hash || err != nil {
		t.Fatalf("Head: %d %s %v", seq, hash, err)
	}
}
