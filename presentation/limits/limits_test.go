package limits_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/dgraph-io/badger/v4"

	"github.com/mandate-dev/mandate/credentials"
	"github.com/mandate-dev/mandate/presentation/limits"
)

var t0 = time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)

const (
	never = time.Duration(-1) // a step's retry: RetryAt is zero
	pass  = ""                // a step's want: the use passes
)

// store opens a fresh badger store of one kind.
type store struct {
	name string
	open func(t testing.TB) *badger.DB
}

var stores = []store{
	{"memory", memDB},
	{"disk", func(t testing.TB) *badger.DB { return diskDB(t, t.TempDir()) }},
}

func memDB(t testing.TB) *badger.DB {
	t.Helper()
	db, err := badger.Open(badger.DefaultOptions("").WithInMemory(true).WithLogger(nil))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func diskDB(t testing.TB, dir string) *badger.DB {
	t.Helper()
	db, err := badger.Open(badger.DefaultOptions(dir).WithLogger(nil))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func i64(v int64) *int64 { return &v }

func rate(count int64, per string) *credentials.Rate {
	return &credentials.Rate{Count: count, Per: per}
}

func use(cred, grant string, c credentials.Constraints) limits.Use {
	return limits.Use{Credential: "urn:uuid:" + cred, Grant: credentials.GrantIDPrefix + grant, Constraints: c}
}

// charge runs Charge in its own transaction, committed even when a limit is
// exceeded, as the verifier commits its DENY audit record.
func charge(t testing.TB, db *badger.DB, uses []limits.Use, amount *int64, now time.Time) error {
	t.Helper()
	var got error
	err := db.Update(func(txn *badger.Txn) error {
		got = limits.Charge(txn, uses, amount, now)
		var ex *limits.Exceeded
		if got != nil && !errors.As(got, &ex) {
			return got
		}
		return nil
	})
	if err != nil && got == nil {
		t.Fatalf("commit: %v", err)
	}
	return got
}

func usage(t testing.TB, db *badger.DB, u limits.Use, now time.Time) limits.Status {
	t.Helper()
	var st limits.Status
	err := db.View(func(txn *badger.Txn) (err error) {
		st, err = limits.Usage(txn, u, now)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// step is one request: at t0+at, with amount; want is the reason or pass.
type step struct {
	at     time.Duration
	amount *int64
	want   string
	cred   string        // the credential the Exceeded names; "" means "a"
	retry  time.Duration // RetryAt - t0, or never
}

// expect checks err against a step's outcome.
func expect(t *testing.T, i int, err error, s step) {
	t.Helper()
	if s.want == pass {
		if err != nil {
			t.Fatalf("step %d (t0+%v): %v, want pass", i, s.at, err)
		}
		return
	}
	var ex *limits.Exceeded
	if !errors.As(err, &ex) {
		t.Fatalf("step %d (t0+%v): %v, want %s", i, s.at, err, s.want)
	}
	wantRetry := time.Time{}
	if s.retry != never {
		wantRetry = t0.Add(s.retry)
	}
	cred := s.cred
	if cred == "" {
		cred = "a"
	}
	if ex.Reason != s.want || ex.Credential != "urn:uuid:"+cred || !ex.RetryAt.Equal(wantRetry) {
		t.Fatalf("step %d (t0+%v): %s %s retry %v, want %s %s retry %v", i, s.at, ex.Reason, ex.Credential, ex.RetryAt, s.want, cred, wantRetry)
	}
}

func TestChargeOneGrant(t *testing.T) {
	const h, m = time.Hour, time.Minute
	tests := []struct {
		name  string
		c     credentials.Constraints
		steps []step
	}{{
		name: "rate 3/PT1H frees at the first use plus an hour",
		c:    credentials.Constraints{Rate: rate(3, "PT1H")},
		steps: []step{
			{at: 0}, {at: 1 * m}, {at: 2 * m},
			{at: 3 * m, want: limits.ReasonRateLimited, retry: h},
			{at: h - time.Microsecond, want: limits.ReasonRateLimited, retry: h},
			{at: h},
			{at: h, want: limits.ReasonRateLimited, retry: h + m},
			{at: h + m},
		},
	}, {
		name: "rate is a sliding window, not an hourly bucket",
		c:    credentials.Constraints{Rate: rate(3, "PT1H")},
		steps: []step{
			{at: 58 * m}, {at: 59 * m}, {at: 59*m + 30*time.Second},
			{at: h + m, want: limits.ReasonRateLimited, retry: h + 58*m},
			{at: h + 58*m},
			{at: h + 58*m + 10*time.Second, want: limits.ReasonRateLimited, retry: h + 59*m},
			{at: 3 * h}, {at: 3 * h}, {at: 3 * h},
		},
	}, {
		name: "timestamps are kept to the microsecond",
		c:    credentials.Constraints{Rate: rate(1, "PT1S")},
		steps: []step{
			{at: 1999 * time.Nanosecond},
			{at: time.Second, want: limits.ReasonRateLimited, retry: time.Second + time.Microsecond},
			{at: time.Second + time.Microsecond},
		},
	}, {
		name: "a clock going back counts as the last use's time",
		c:    credentials.Constraints{Rate: rate(2, "PT1H")},
		steps: []step{
			{at: 2 * h},
			{at: 0},
			{at: 0, want: limits.ReasonRateLimited, retry: 3 * h},
			{at: 3 * h},
		},
	}, {
		name: "maxUses 3 never frees",
		c:    credentials.Constraints{MaxUses: i64(3)},
		steps: []step{
			{at: 0}, {at: 0}, {at: h},
			{at: h, want: limits.ReasonUsesExhausted, retry: never},
			{at: 1000 * h, want: limits.ReasonUsesExhausted, retry: never},
		},
	}, {
		name:  "maxUses 0 allows nothing",
		c:     credentials.Constraints{MaxUses: i64(0)},
		steps: []step{{at: 0, want: limits.ReasonUsesExhausted, retry: never}},
	}, {
		name: "maxAmount over the grant's lifetime",
		c:    credentials.Constraints{MaxAmount: i64(100)},
		steps: []step{
			{at: 0, amount: i64(60)},
			{at: h, amount: i64(50), want: limits.ReasonAmountExceeded, retry: never},
			{at: h, amount: i64(40)},
			{at: 1000 * h, amount: i64(0)},
			{at: 1000 * h, amount: i64(1), want: limits.ReasonAmountExceeded, retry: never},
		},
	}, {
		name: "maxAmount over the rate period",
		c:    credentials.Constraints{Rate: rate(10, "PT1H"), MaxAmount: i64(100)},
		steps: []step{
			{at: 0, amount: i64(60)},
			{at: 10 * m, amount: i64(30)},
			{at: 20 * m, amount: i64(20), want: limits.ReasonAmountExceeded, retry: h},
			{at: 20 * m, amount: i64(10)},
			{at: 30 * m, amount: i64(71), want: limits.ReasonAmountExceeded, retry: h + 10*m},
			{at: 30 * m, amount: i64(101), want: limits.ReasonAmountExceeded, retry: never},
			{at: h, amount: i64(60)},
			{at: h, amount: i64(1), want: limits.ReasonAmountExceeded, retry: h + 10*m},
		},
	}, {
		name: "the limit that frees last is reported",
		c:    credentials.Constraints{Rate: rate(1, "PT1H"), MaxUses: i64(1), MaxAmount: i64(5)},
		steps: []step{
			{at: 0, amount: i64(5)},
			{at: m, amount: i64(5), want: limits.ReasonUsesExhausted, retry: never},
		},
	}, {
		name: "rate and amount: the later RetryAt wins",
		c:    credentials.Constraints{Rate: rate(2, "PT1H"), MaxAmount: i64(10)},
		steps: []step{
			{at: 0, amount: i64(1)},
			{at: m, amount: i64(9)},
			{at: 2 * m, amount: i64(9), want: limits.ReasonAmountExceeded, retry: h + m},
			{at: 2 * m, amount: i64(0), want: limits.ReasonRateLimited, retry: h},
		},
	}}
	for _, st := range stores {
		for _, tt := range tests {
			t.Run(st.name+"/"+tt.name, func(t *testing.T) {
				db := st.open(t)
				u := []limits.Use{use("a", "g", tt.c)}
				for i, s := range tt.steps {
					expect(t, i, charge(t, db, u, s.amount, t0.Add(s.at)), s)
				}
			})
		}
	}
}

func TestExceededError(t *testing.T) {
	db := memDB(t)
	u := []limits.Use{use("a", "g", credentials.Constraints{Rate: rate(1, "PT1H")})}
	if err := charge(t, db, u, nil, t0); err != nil {
		t.Fatal(err)
	}
	err := charge(t, db, u, nil, t0)
	want := "limits: RATE_LIMITED: grant urn:mandate:grant:g of credential urn:uuid:a reached rate 1/PT1H; frees at 2026-12-03T13:00:00Z"
	var ex *limits.Exceeded
	if !errors.As(err, &ex) || err.Error() != want || ex.Limit != "rate 1/PT1H" {
		t.Fatalf("got %v, want %s", err, want)
	}
	ex = &limits.Exceeded{Reason: limits.ReasonUsesExhausted, Credential: "c", Grant: "g", Limit: "maxUses 2"}
	if got := ex.Error(); got != "limits: USES_EXHAUSTED: grant g of credential c reached maxUses 2; never frees" {
		t.Fatal(got)
	}
}

func TestRequestErrors(t *testing.T) {
	amounted := use("a", "g", credentials.Constraints{MaxAmount: i64(10)})
	counted := use("a", "g", credentials.Constraints{MaxUses: i64(10)})
	tests := []struct {
		name    string
		uses    []limits.Use
		amount  *int64
		wantIs  error  // a sentinel the error wraps, or nil
		wantMsg string // the exact message
	}{
		{"amount missing", []limits.Use{counted, use("b", "g", credentials.Constraints{MaxAmount: i64(10)})}, nil,
			limits.ErrAmountRequired, "limits: amount required: grant urn:mandate:grant:g of credential urn:uuid:b has maxAmount 10"},
		{"negative amount", []limits.Use{amounted}, i64(-1), nil, "limits: amount -1 is negative"},
		{"rate count above the cap", []limits.Use{use("a", "g", credentials.Constraints{Rate: rate(10_001, "PT1H")})}, nil,
			limits.ErrUnenforceable, "limits: limit cannot be enforced: grant urn:mandate:grant:g of credential urn:uuid:a: rate count 10001 is outside 1..10000"},
		{"rate count zero", []limits.Use{use("a", "g", credentials.Constraints{Rate: rate(0, "PT1H")})}, nil,
			limits.ErrUnenforceable, "limits: limit cannot be enforced: grant urn:mandate:grant:g of credential urn:uuid:a: rate count 0 is outside 1..10000"},
		{"rate period above 366 days", []limits.Use{use("a", "g", credentials.Constraints{Rate: rate(1, "P367D")})}, nil,
			limits.ErrUnenforceable, `limits: limit cannot be enforced: grant urn:mandate:grant:g of credential urn:uuid:a: rate period "P367D" is not a duration of at most 366 days`},
		{"rate period in months", []limits.Use{use("a", "g", credentials.Constraints{Rate: rate(1, "P1M")})}, nil,
			limits.ErrUnenforceable, `limits: limit cannot be enforced: grant urn:mandate:grant:g of credential urn:uuid:a: rate period "P1M" is not a duration of at most 366 days`},
		{"negative maxUses", []limits.Use{use("a", "g", credentials.Constraints{MaxUses: i64(-1)})}, nil,
			limits.ErrUnenforceable, "limits: limit cannot be enforced: grant urn:mandate:grant:g of credential urn:uuid:a: maxUses -1 is negative"},
		{"negative maxAmount", []limits.Use{use("a", "g", credentials.Constraints{MaxAmount: i64(-1)})}, i64(0),
			limits.ErrUnenforceable, "limits: limit cannot be enforced: grant urn:mandate:grant:g of credential urn:uuid:a: maxAmount -1 is negative"},
		{"empty credential id", []limits.Use{{Grant: "g"}}, nil, nil, "limits: empty credential id"},
		{"NUL in grant id", []limits.Use{{Credential: "c", Grant: "g\x00h"}}, nil, nil, `limits: grant id "g\x00h" holds a NUL byte`},
		{"long credential id", []limits.Use{{Credential: strings.Repeat("c", 1025), Grant: "g"}}, nil, nil, "limits: credential id of 1025 bytes, at most 1024"},
		{"too many uses", make([]limits.Use, 65), nil, nil, "limits: 65 uses, at most 64"},
		{"one grant, two sets of limits", []limits.Use{counted, use("a", "g", credentials.Constraints{MaxUses: i64(9)})}, nil,
			nil, "limits: grant urn:mandate:grant:g of credential urn:uuid:a appears twice with different limits"},
	}
	db := memDB(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for name, f := range map[string]func(*badger.Txn, []limits.Use, *int64, time.Time) error{"Check": limits.Check, "Charge": limits.Charge} {
				err := db.Update(func(txn *badger.Txn) error { return f(txn, tt.uses, tt.amount, t0) })
				if err == nil || err.Error() != tt.wantMsg || (tt.wantIs != nil && !errors.Is(err, tt.wantIs)) {
					t.Fatalf("%s: got %v, want %v", name, err, tt.wantMsg)
				}
			}
		})
	}
}

func TestRequestsThatNeedNoCounter(t *testing.T) {
	db := memDB(t)
	unlimited := use("a", "g", credentials.Constraints{Approval: credentials.ApprovalRequired})
	counted := use("b", "g", credentials.Constraints{MaxUses: i64(1)})
	tests := []struct {
		name   string
		uses   []limits.Use
		amount *int64
	}{
		{"no uses", nil, nil},
		{"no limits", []limits.Use{unlimited, unlimited}, nil},
		{"an amount nobody limits", []limits.Use{unlimited}, i64(5)},
		{"no amount where none is limited", []limits.Use{counted}, nil},
	}
	for _, tt := range tests {
		if err := charge(t, db, tt.uses, tt.amount, t0); err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
	}
	if n := countKeys(t, db); n != 1 {
		t.Fatalf("%d counters stored, want only b's", n)
	}
}

// countKeys counts the counters stored under "limits/".
func countKeys(t *testing.T, db *badger.DB) int {
	t.Helper()
	n := 0
	err := db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte("limits/")})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			n++
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestAncestorBudget(t *testing.T) {
	parent := use("p", "pg", credentials.Constraints{MaxUses: i64(3)})
	viaA := []limits.Use{parent, use("a", "ag", credentials.Constraints{MaxUses: i64(3)})}
	viaB := []limits.Use{parent, use("b", "bg", credentials.Constraints{MaxUses: i64(3)})}
	viaTight := []limits.Use{parent, use("a", "ag", credentials.Constraints{MaxUses: i64(2)})}
	exhausted := func(cred string) step { return step{want: limits.ReasonUsesExhausted, cred: cred, retry: never} }
	tests := []struct {
		name  string
		reqs  [][]limits.Use
		steps []step
	}{
		{"the 4th use via A is the parent's", [][]limits.Use{viaA, viaA, viaB, viaA}, []step{{}, {}, {}, exhausted("p")}},
		{"the 4th use via B is the parent's", [][]limits.Use{viaA, viaB, viaA, viaB}, []step{{}, {}, {}, exhausted("p")}},
		{"a tighter child trips first", [][]limits.Use{viaTight, viaTight, viaTight, viaB, viaB}, []step{{}, {}, exhausted("a"), {}, exhausted("p")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db := memDB(t)
			for i, req := range tt.reqs {
				expect(t, i, charge(t, db, req, nil, t0), tt.steps[i])
			}
		})
	}
	t.Run("a tighter child's rate frees later", func(t *testing.T) {
		db := memDB(t)
		req := []limits.Use{
			use("p", "pg", credentials.Constraints{Rate: rate(2, "PT1H")}),
			use("a", "ag", credentials.Constraints{Rate: rate(2, "PT2H")}),
		}
		steps := []step{{}, {at: 10 * time.Minute}, {at: 20 * time.Minute, want: limits.ReasonRateLimited, retry: 2 * time.Hour}}
		for i, s := range steps {
			expect(t, i, charge(t, db, req, nil, t0.Add(s.at)), s)
		}
	})
}

func TestCheckDoesNotWrite(t *testing.T) {
	db := memDB(t)
	u := use("a", "g", credentials.Constraints{Rate: rate(1, "PT1H"), MaxUses: i64(1), MaxAmount: i64(1)})
	for range 3 {
		if err := db.Update(func(txn *badger.Txn) error { return limits.Check(txn, []limits.Use{u}, i64(1), t0) }); err != nil {
			t.Fatal(err)
		}
		if err := db.View(func(txn *badger.Txn) error { return limits.Check(txn, []limits.Use{u}, i64(1), t0) }); err != nil {
			t.Fatal(err)
		}
	}
	if n := countKeys(t, db); n != 0 {
		t.Fatalf("Check stored %d counters", n)
	}
	if err := charge(t, db, []limits.Use{u}, i64(1), t0); err != nil {
		t.Fatal(err)
	}
	err := db.View(func(txn *badger.Txn) error { return limits.Check(txn, []limits.Use{u}, i64(1), t0) })
	var ex *limits.Exceeded
	if !errors.As(err, &ex) || ex.Reason != limits.ReasonUsesExhausted {
		t.Fatalf("Check after the use: %v", err)
	}
}

func TestChargeIsAllOrNothing(t *testing.T) {
	db := memDB(t)
	first := use("a", "g", credentials.Constraints{MaxUses: i64(5)})
	second := use("b", "g", credentials.Constraints{MaxUses: i64(1)})
	if err := charge(t, db, []limits.Use{second}, nil, t0); err != nil {
		t.Fatal(err)
	}
	// the caller commits its audit record in the same transaction
	err := db.Update(func(txn *badger.Txn) error {
		if err := limits.Charge(txn, []limits.Use{first, second}, nil, t0); err == nil {
			return errors.New("second use passed")
		}
		return txn.Set([]byte("audit/1"), []byte("DENY"))
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := usage(t, db, first, t0); got != (limits.Status{}) {
		t.Fatalf("first use charged: %+v", got)
	}
}

func TestRepeatedUseChargedOnce(t *testing.T) {
	db := memDB(t)
	u := use("a", "g", credentials.Constraints{Rate: rate(5, "PT1H"), MaxAmount: i64(100)})
	if err := charge(t, db, []limits.Use{u, u}, i64(7), t0); err != nil {
		t.Fatal(err)
	}
	want := limits.Status{WindowUses: 1, WindowAmount: 7, LifetimeUses: 1, LifetimeAmount: 7}
	if got := usage(t, db, u, t0); got != want {
		t.Fatalf("got %+v, want %+v", got, want)
	}
}

func TestUsage(t *testing.T) {
	db := memDB(t)
	u := use("a", "g", credentials.Constraints{Rate: rate(3, "PT1H"), MaxAmount: i64(100)})
	for i, at := range []time.Duration{0, 30 * time.Minute, 50 * time.Minute} {
		if err := charge(t, db, []limits.Use{u}, i64(int64(10*(i+1))), t0.Add(at)); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		at   time.Duration
		want limits.Status
	}{
		{50 * time.Minute, limits.Status{WindowUses: 3, WindowAmount: 60, LifetimeUses: 3, LifetimeAmount: 60}},
		{time.Hour, limits.Status{WindowUses: 2, WindowAmount: 50, LifetimeUses: 3, LifetimeAmount: 60}},
		{2 * time.Hour, limits.Status{LifetimeUses: 3, LifetimeAmount: 60}},
		{0, limits.Status{WindowUses: 3, WindowAmount: 60, LifetimeUses: 3, LifetimeAmount: 60}}, // clock back
	}
	for _, tt := range tests {
		if got := usage(t, db, u, t0.Add(tt.at)); got != tt.want {
			t.Errorf("at t0+%v: got %+v, want %+v", tt.at, got, tt.want)
		}
	}
	if got := usage(t, db, use("never", "used", credentials.Constraints{MaxUses: i64(1)}), t0); got != (limits.Status{}) {
		t.Errorf("unused counter: %+v", got)
	}
}

func TestPersistsAcrossReopen(t *testing.T) {
	dir := t.TempDir()
	u := []limits.Use{use("a", "g", credentials.Constraints{Rate: rate(2, "PT1H"), MaxUses: i64(3)})}
	db := diskDB(t, dir)
	for i, s := range []step{{}, {at: time.Minute}} {
		expect(t, i, charge(t, db, u, nil, t0.Add(s.at)), s)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db = diskDB(t, dir)
	steps := []step{
		{at: 2 * time.Minute, want: limits.ReasonRateLimited, retry: time.Hour},
		{at: time.Hour},
		{at: 3 * time.Hour, want: limits.ReasonUsesExhausted, retry: never},
	}
	for i, s := range steps {
		expect(t, i, charge(t, db, u, nil, t0.Add(s.at)), s)
	}
}

func TestCorruptCounterFailsClosed(t *testing.T) {
	u := use("a", "g", credentials.Constraints{MaxUses: i64(3)})
	key := []byte("limits/" + u.Credential + "\x00" + u.Grant)
	tests := []struct {
		name  string
		value []byte
		want  string
	}{
		{"empty", nil, "not of version 1"},
		{"other version", []byte{2, 0, 0, 0}, "not of version 1"},
		{"truncated", []byte{1, 0}, "truncated or oversized varint"},
		{"oversized", []byte{1, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01, 0, 0}, "truncated or oversized varint"},
		{"trailing bytes", []byte{1, 0, 0, 0, 9}, "1 trailing bytes"},
		{"too many uses", []byte{1, 0, 0, 0x91, 0x4e}, "10001 uses in its window, at most 10000"},
		{"time overflows", []byte{1, 0, 0, 2, 0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01, 0, 2, 0}, "timestamp overflows"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db := memDB(t)
			if err := db.Update(func(txn *badger.Txn) error { return txn.Set(key, tt.value) }); err != nil {
				t.Fatal(err)
			}
			err := db.View(func(txn *badger.Txn) error { return limits.Check(txn, []limits.Use{u}, nil, t0) })
			want := fmt.Sprintf("limits: corrupt counter of grant %s of credential %s: %s", u.Grant, u.Credential, tt.want)
			if err == nil || err.Error() != want {
				t.Fatalf("got %v, want %s", err, want)
			}
		})
	}
}
