package audit_test

import (
	"context"
	"fmt"
	"time"

	"github.com/dgraph-io/badger/v4"

	"github.com/mandate-dev/mandate/did"
	"github.com/mandate-dev/mandate/internal/testkeys"
	"github.com/mandate-dev/mandate/presentation/audit"
)

// The verifier appends a record inside the transaction that commits the
// decision's other effects; anyone with the store can verify the log.
func Example() {
	db, err := badger.Open(badger.DefaultOptions("").WithInMemory(true).WithLogger(nil))
	if err != nil {
		panic(err)
	}
	defer db.Close()
	l, err := audit.New(db, audit.Options{Signer: testkeys.New("verifier"), CheckpointEvery: 2,
		Now: func() time.Time { return time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC) }})
	if err != nil {
		panic(err)
	}
	for _, decision := range []string{"ALLOW", "DENY"} {
		err := db.Update(func(txn *badger.Txn) error {
			// ... charge counters, consume an approval ...
			r, err := l.Append(txn, audit.Record{Kind: audit.KindDecision, Decision: decision,
				Principal: testkeys.New("alice").DID(), Action: "email:read", Resource: "mailbox:alice/inbox"})
			fmt.Println("record", r.Seq, r.Decision, "liable:", r.Liable == testkeys.New("alice").DID())
			return err
		})
		if err != nil {
			panic(err)
		}
	}
	rep, err := audit.Verify(context.Background(), db, did.KeyResolver{})
	fmt.Println(rep.Records, "records,", rep.Checkpoints, "checkpoint, error:", err)
	// Output:
	// record 1 ALLOW liable: true
	// record 2 DENY liable: true
	// 2 records, 1 checkpoint, error: <nil>
}
