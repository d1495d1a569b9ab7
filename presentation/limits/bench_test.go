package limits_test

import (
	"testing"
	"time"

	"github.com/dgraph-io/badger/v4"

	"github.com/mandate-dev/mandate/credentials"
	"github.com/mandate-dev/mandate/presentation/limits"
)

// BenchmarkCharge charges a grant of rate 100/PT1H whose window is full:
// uses arrive exactly as fast as the oldest leave, so every Charge reads,
// checks and rewrites a ring of 100 entries.
func BenchmarkCharge(b *testing.B) {
	const count = 100
	step := time.Hour / count
	uses := []limits.Use{use("a", "g", credentials.Constraints{Rate: &credentials.Rate{Count: count, Per: "PT1H"}, MaxAmount: i64(1 << 40)})}
	amount := i64(1000)
	run := func(b *testing.B, commit bool) {
		db := memDB(b)
		now := t0
		for range count {
			if err := db.Update(func(txn *badger.Txn) error { return limits.Charge(txn, uses, amount, now) }); err != nil {
				b.Fatal(err)
			}
			now = now.Add(step)
		}
		b.ReportAllocs()
		for b.Loop() {
			txn := db.NewTransaction(true)
			if err := limits.Charge(txn, uses, amount, now); err != nil {
				b.Fatal(err)
			}
			if commit {
				if err := txn.Commit(); err != nil {
					b.Fatal(err)
				}
				now = now.Add(step)
			} else {
				txn.Discard()
			}
		}
	}
	b.Run("charge", func(b *testing.B) { run(b, false) })
	b.Run("charge+commit", func(b *testing.B) { run(b, true) })
}
