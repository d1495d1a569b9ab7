package limits_test

import (
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dgraph-io/badger/v4"

	"github.com/mandate-dev/mandate/credentials"
	"github.com/mandate-dev/mandate/presentation/limits"
)

// TestConcurrentChargesNeverOvershoot races 64 requests, each in its own
// transaction, against a limit of 10: exactly 10 pass, whether commits are
// serialised by a mutex (as the verifier does) or left to badger's
// conflict detection with a retry.
func TestConcurrentChargesNeverOvershoot(t *testing.T) {
	const requests, limit = 64, 10
	limitsUnder := []struct {
		name   string
		c      credentials.Constraints
		reason string
	}{
		{"maxUses", credentials.Constraints{MaxUses: i64(limit)}, limits.ReasonUsesExhausted},
		{"rate", credentials.Constraints{Rate: &credentials.Rate{Count: limit, Per: "PT1H"}}, limits.ReasonRateLimited},
	}
	for _, st := range stores {
		for _, serialised := range []bool{true, false} {
			for _, lim := range limitsUnder {
				name := st.name + "/" + lim.name + "/conflict-retry"
				if serialised {
					name = st.name + "/" + lim.name + "/mutex"
				}
				t.Run(name, func(t *testing.T) {
					db := st.open(t)
					// the parent's limit is the one raced: every child shares it
					parent := use("p", "pg", lim.c)
					passed, denied := race(t, db, requests, serialised, func(i int) []limits.Use {
						return []limits.Use{parent, use(string(rune('a'+i%4)), "g", credentials.Constraints{})}
					}, lim.reason)
					if passed != limit || denied != requests-limit {
						t.Fatalf("%d passed, %d denied; want %d and %d", passed, denied, limit, requests-limit)
					}
					t.Logf("%d commits retried after a conflict", conflicts.Swap(0))
					if got := usage(t, db, parent, t0); got.LifetimeUses != limit {
						t.Fatalf("counter says %d uses, want %d", got.LifetimeUses, limit)
					}
				})
			}
		}
	}
}

// race runs n Charges at once and counts those that pass and those denied
// with reason; anything else fails the test.
func race(t *testing.T, db *badger.DB, n int, serialised bool, uses func(int) []limits.Use, reason string) (passed, denied int) {
	var (
		commit sync.Mutex // the verifier's commit mutex
		mu     sync.Mutex
		wg     sync.WaitGroup
		start  = make(chan struct{})
	)
	for i := range n {
		wg.Go(func() {
			<-start
			err := chargeRetrying(db, uses(i), serialised, &commit)
			var ex *limits.Exceeded
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				passed++
			case errors.As(err, &ex) && ex.Reason == reason:
				denied++
			default:
				t.Errorf("request %d: %v", i, err)
			}
		})
	}
	close(start)
	wg.Wait()
	return passed, denied
}

// conflicts counts the commits badger refused as conflicting.
var conflicts atomic.Int64

// chargeRetrying charges in its own transaction, under commit when
// serialised, else retrying when badger reports a conflicting commit.
func chargeRetrying(db *badger.DB, uses []limits.Use, serialised bool, commit *sync.Mutex) error {
	now := t0.Add(time.Minute)
	if serialised {
		commit.Lock()
		defer commit.Unlock()
		return db.Update(func(txn *badger.Txn) error { return limits.Charge(txn, uses, nil, now) })
	}
	for range 1000 {
		err := db.Update(func(txn *badger.Txn) error { return limits.Charge(txn, uses, nil, now) })
		if !errors.Is(err, badger.ErrConflict) {
			return err
		}
		conflicts.Add(1)
	}
	return errors.New("still conflicting after 1000 attempts")
}
