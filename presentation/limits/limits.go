package limits

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/dgraph-io/badger/v4"

	"github.com/mandate-dev/mandate/credentials"
)

// Reason codes of an Exceeded; they are the verifier's reason codes.
const (
	ReasonRateLimited    = "RATE_LIMITED"
	ReasonUsesExhausted  = "USES_EXHAUSTED"
	ReasonAmountExceeded = "AMOUNT_EXCEEDED"
)

// Bounds of what this package enforces and accepts.
const (
	// MaxRateCount is the largest rate count enforced: the window keeps one
	// timestamp per use, and this bounds a counter at a few tens of KiB.
	MaxRateCount = 10_000
	// MaxRatePeriod is the longest rate period enforced.
	MaxRatePeriod = 366 * 24 * time.Hour
	// MaxBatch is the most Uses one call accepts (a chain has far fewer links).
	MaxBatch = 64
	// MaxIDBytes bounds a credential id and a grant id.
	MaxIDBytes = 1024
)

// Errors a caller branches on.
var (
	// ErrAmountRequired: some Use limits amounts, and no amount was given.
	ErrAmountRequired = errors.New("limits: amount required")
	// ErrUnenforceable: a limit this package cannot hold; deny the request.
	ErrUnenforceable = errors.New("limits: limit cannot be enforced")
)

// keyPrefix starts every counter key in the verifier's store.
const keyPrefix = "limits/"

// Use is one grant of one chain link being used.
type Use struct {
	Credential  string // the credential id
	Grant       string // the grant id within it
	Constraints credentials.Constraints
}

// Exceeded reports a limit that the request would pass.
type Exceeded struct {
	Reason     string // ReasonRateLimited, ReasonUsesExhausted or ReasonAmountExceeded
	Credential string
	Grant      string
	Limit      string    // the limit reached, e.g. "rate 3/PT1H", "maxUses 5", "maxAmount 100/PT1H"
	RetryAt    time.Time // when the limit frees; zero: never
}

func (e *Exceeded) Error() string {
	when := "never frees"
	if !e.RetryAt.IsZero() {
		when = "frees at " + e.RetryAt.UTC().Format(time.RFC3339Nano)
	}
	return fmt.Sprintf("limits: %s: grant %s of credential %s reached %s; %s", e.Reason, e.Grant, e.Credential, e.Limit, when)
}

// Status is the usage of one counter at an instant.
type Status struct {
	WindowUses     int64 // uses within the rate window ending now (zero without a rate)
	WindowAmount   int64 // their amounts summed
	LifetimeUses   int64
	LifetimeAmount int64 // saturates at math.MaxInt64
}

// Check reports whether the request would pass every limit of uses at now:
// nil, an *Exceeded, or an error (see the package documentation). It only
// reads txn.
func Check(txn *badger.Txn, uses []Use, amount *int64, now time.Time) error {
	_, err := evaluate(txn, uses, amount, now)
	return err
}

// Charge checks the request like Check and, when every limit passes,
// records one use (with its amount) on every counter of uses. It writes
// nothing unless all pass.
func Charge(txn *badger.Txn, uses []Use, amount *int64, now time.Time) error {
	next, err := evaluate(txn, uses, amount, now)
	if err != nil {
		return err
	}
	for _, p := range next {
		if err := txn.Set(p.key, p.rec.encode()); err != nil {
			return fmt.Errorf("limits: record use of grant %s of credential %s: %w", p.use.Grant, p.use.Credential, err)
		}
	}
	return nil
}

// Usage reads the counter of u at now. A Use without limits has no counter
// and reads as zero.
func Usage(txn *badger.Txn, u Use, now time.Time) (Status, error) {
	l, err := parse(u)
	if err != nil {
		return Status{}, err
	}
	rec, err := load(txn, l)
	if err != nil {
		return Status{}, err
	}
	st := Status{LifetimeUses: rec.uses, LifetimeAmount: rec.amount}
	if l.count > 0 {
		win := rec.window(rec.clamp(now.UnixMicro()), l.per)
		st.WindowUses, st.WindowAmount = int64(len(win)), sumAmounts(win)
	}
	return st, nil
}

// limit is one Use with its constraints parsed and checked.
type limit struct {
	use       Use
	key       []byte
	count     int64 // rate count; zero without a rate
	per       int64 // rate period in microseconds
	maxUses   *int64
	maxAmount *int64
}

func (l limit) limited() bool { return l.count > 0 || l.maxUses != nil || l.maxAmount != nil }

func (l limit) same(o limit) bool {
	return l.count == o.count && l.per == o.per && eqPtr(l.maxUses, o.maxUses) && eqPtr(l.maxAmount, o.maxAmount)
}

func eqPtr(a, b *int64) bool { return a == b || (a != nil && b != nil && *a == *b) }

// parse checks u's ids and the limits it carries.
func parse(u Use) (limit, error) {
	if err := checkID("credential", u.Credential); err != nil {
		return limit{}, err
	}
	if err := checkID("grant", u.Grant); err != nil {
		return limit{}, err
	}
	l := limit{use: u, key: counterKey(u), maxUses: u.Constraints.MaxUses, maxAmount: u.Constraints.MaxAmount}
	unenforceable := func(format string, args ...any) error {
		return fmt.Errorf("%w: grant %s of credential %s: %s", ErrUnenforceable, u.Grant, u.Credential, fmt.Sprintf(format, args...))
	}
	if r := u.Constraints.Rate; r != nil {
		if r.Count < 1 || r.Count > MaxRateCount {
			return limit{}, unenforceable("rate count %d is outside 1..%d", r.Count, MaxRateCount)
		}
		per, err := credentials.ParseDuration(r.Per)
		if err != nil || per > MaxRatePeriod {
			return limit{}, unenforceable("rate period %q is not a duration of at most 366 days", r.Per)
		}
		l.count, l.per = r.Count, per.Microseconds()
	}
	if l.maxUses != nil && *l.maxUses < 0 {
		return limit{}, unenforceable("maxUses %d is negative", *l.maxUses)
	}
	if l.maxAmount != nil && *l.maxAmount < 0 {
		return limit{}, unenforceable("maxAmount %d is negative", *l.maxAmount)
	}
	return l, nil
}

func checkID(what, id string) error {
	switch {
	case id == "":
		return fmt.Errorf("limits: empty %s id", what)
	case len(id) > MaxIDBytes:
		return fmt.Errorf("limits: %s id of %d bytes, at most %d", what, len(id), MaxIDBytes)
	case strings.IndexByte(id, 0) >= 0:
		return fmt.Errorf("limits: %s id %q holds a NUL byte", what, id)
	}
	return nil
}

// counterKey is "limits/" + credential + NUL + grant; ids hold no NUL, so
// no two pairs share a key.
func counterKey(u Use) []byte {
	return []byte(keyPrefix + u.Credential + "\x00" + u.Grant)
}

// prepare parses uses, drops those without limits and repeats, and checks
// that an amount is there when one is needed.
func prepare(uses []Use, amount *int64) ([]limit, error) {
	if len(uses) > MaxBatch {
		return nil, fmt.Errorf("limits: %d uses, at most %d", len(uses), MaxBatch)
	}
	if amount != nil && *amount < 0 {
		return nil, fmt.Errorf("limits: amount %d is negative", *amount)
	}
	var out []limit
	seen := make(map[string]int, len(uses))
	for _, u := range uses {
		l, err := parse(u)
		if err != nil {
			return nil, err
		}
		if !l.limited() {
			continue
		}
		if i, dup := seen[string(l.key)]; dup {
			if !out[i].same(l) {
				return nil, fmt.Errorf("limits: grant %s of credential %s appears twice with different limits", u.Grant, u.Credential)
			}
			continue
		}
		if l.maxAmount != nil && amount == nil {
			return nil, fmt.Errorf("%w: grant %s of credential %s has maxAmount %d", ErrAmountRequired, u.Grant, u.Credential, *l.maxAmount)
		}
		seen[string(l.key)] = len(out)
		out = append(out, l)
	}
	return out, nil
}

// pending is a counter as Charge will write it.
type pending struct {
	use Use
	key []byte
	rec record
}

// evaluate checks every limit of uses and returns the counters charged
// with this use, or the Exceeded that frees last.
func evaluate(txn *badger.Txn, uses []Use, amount *int64, now time.Time) ([]pending, error) {
	ls, err := prepare(uses, amount)
	if err != nil {
		return nil, err
	}
	var amt int64
	if amount != nil {
		amt = *amount
	}
	at := now.UnixMicro()
	var worst *Exceeded
	next := make([]pending, 0, len(ls))
	for _, l := range ls {
		rec, err := load(txn, l)
		if err != nil {
			return nil, err
		}
		if e := l.check(rec, amt, at); e != nil {
			worst = later(worst, e)
			continue
		}
		next = append(next, pending{use: l.use, key: l.key, rec: l.charged(rec, amt, at)})
	}
	if worst != nil {
		return nil, worst
	}
	return next, nil
}

// load reads the counter of l; a missing counter is a fresh one.
func load(txn *badger.Txn, l limit) (record, error) {
	item, err := txn.Get(l.key)
	if errors.Is(err, badger.ErrKeyNotFound) {
		return record{}, nil
	}
	if err != nil {
		return record{}, fmt.Errorf("limits: read counter of grant %s of credential %s: %w", l.use.Grant, l.use.Credential, err)
	}
	var rec record
	err = item.Value(func(v []byte) error {
		var derr error
		rec, derr = decode(v)
		return derr
	})
	if err != nil {
		return record{}, fmt.Errorf("limits: corrupt counter of grant %s of credential %s: %w", l.use.Grant, l.use.Credential, err)
	}
	return rec, nil
}

// check returns the limit of l that a use of amt at now (unix µs) would
// pass, the one that frees last, or nil.
func (l limit) check(rec record, amt, now int64) *Exceeded {
	now = rec.clamp(now)
	var worst *Exceeded
	if l.maxUses != nil && rec.uses >= *l.maxUses {
		worst = later(worst, l.exceeded(ReasonUsesExhausted, "maxUses "+strconv.FormatInt(*l.maxUses, 10), never))
	}
	var win []entry
	if l.count > 0 {
		win = rec.window(now, l.per)
		if n := int64(len(win)); n >= l.count {
			// the use that must leave for the window to hold count-1
			frees := win[n-l.count].at + l.per
			worst = later(worst, l.exceeded(ReasonRateLimited, "rate "+l.rateText(), frees))
		}
	}
	if l.maxAmount != nil {
		if e := l.checkAmount(rec, win, amt); e != nil {
			worst = later(worst, e)
		}
	}
	return worst
}

// checkAmount checks maxAmount over the window win when l has a rate, else
// over the counter's lifetime.
func (l limit) checkAmount(rec record, win []entry, amt int64) *Exceeded {
	top := *l.maxAmount
	text := "maxAmount " + strconv.FormatInt(top, 10)
	if l.count == 0 {
		if amt > top-rec.amount {
			return l.exceeded(ReasonAmountExceeded, text, never)
		}
		return nil
	}
	text += "/" + l.use.Constraints.Rate.Per
	sum := sumAmounts(win)
	if amt <= top-sum {
		return nil
	}
	frees := never // amt alone is above top
	if amt <= top {
		for _, e := range win {
			sum -= e.amount
			if amt <= top-sum {
				frees = e.at + l.per
				break
			}
		}
	}
	return l.exceeded(ReasonAmountExceeded, text, frees)
}

func (l limit) rateText() string {
	return strconv.FormatInt(l.count, 10) + "/" + l.use.Constraints.Rate.Per
}

// never is the frees instant of a limit that does not free.
const never int64 = math.MinInt64

// exceeded builds an Exceeded; frees is unix µs, or never.
func (l limit) exceeded(reason, text string, frees int64) *Exceeded {
	e := &Exceeded{Reason: reason, Credential: l.use.Credential, Grant: l.use.Grant, Limit: text}
	if frees != never {
		e.RetryAt = time.UnixMicro(frees).UTC()
	}
	return e
}

// later returns the one of a and b that frees last: never beats any
// instant, and a tie keeps a.
func later(a, b *Exceeded) *Exceeded {
	switch {
	case a == nil:
		return b
	case a.RetryAt.IsZero():
		return a
	case b.RetryAt.IsZero() || b.RetryAt.After(a.RetryAt):
		return b
	}
	return a
}

// charged is rec after one use of amt at now (unix µs).
func (l limit) charged(rec record, amt, now int64) record {
	now = rec.clamp(now)
	out := record{uses: satAdd(rec.uses, 1), amount: satAdd(rec.amount, amt)}
	if l.count > 0 {
		ring := append(rec.ring, entry{at: now, amount: amt})
		if n := int64(len(ring)); n > l.count {
			ring = ring[n-l.count:]
		}
		out.ring = ring
	}
	return out
}

func sumAmounts(es []entry) int64 {
	var s int64
	for _, e := range es {
		s = satAdd(s, e.amount)
	}
	return s
}

// satAdd adds two non-negative numbers, stopping at math.MaxInt64.
func satAdd(a, b int64) int64 {
	if a > math.MaxInt64-b {
		return math.MaxInt64
	}
	return a + b
}
