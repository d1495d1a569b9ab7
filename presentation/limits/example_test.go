package limits_test

import (
	"errors"
	"fmt"
	"time"

	"github.com/dgraph-io/badger/v4"

	"github.com/mandate-dev/mandate/credentials"
	"github.com/mandate-dev/mandate/presentation/limits"
)

// A grant limited to 3 uses per hour: three requests pass, the fourth is
// RATE_LIMITED until the first use is an hour old.
func Example() {
	db, err := badger.Open(badger.DefaultOptions("").WithInMemory(true).WithLogger(nil))
	if err != nil {
		panic(err)
	}
	defer db.Close()
	uses := []limits.Use{{
		Credential:  "urn:uuid:0b8f4e1c-1d2a-4c0e-9a53-3f1f3c9c2d11",
		Grant:       "urn:mandate:grant:email-draft",
		Constraints: credentials.Constraints{Rate: &credentials.Rate{Count: 3, Per: "PT1H"}},
	}}
	start := time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)
	for i := range 4 {
		now := start.Add(time.Duration(i) * time.Minute)
		err := db.Update(func(txn *badger.Txn) error {
			err := limits.Charge(txn, uses, nil, now)
			var ex *limits.Exceeded
			if errors.As(err, &ex) {
				fmt.Println(ex.Reason, ex.Limit, "retry at", ex.RetryAt.Format(time.TimeOnly))
				return nil // the verifier commits its DENY audit record here
			}
			if err == nil {
				fmt.Println("ALLOW")
			}
			return err
		})
		if err != nil {
			panic(err)
		}
	}
	// Output:
	// ALLOW
	// ALLOW
	// ALLOW
	// RATE_LIMITED rate 3/PT1H retry at 13:00:00
}
