package audit_test

import (
	"context"
	"errors"
	"testing"

	"github.com/dgraph-io/badger/v4"

	"github.com/mandate-dev/mandate/did"
	"github.com/mandate-dev/mandate/presentation/audit"
)

// FuzzVerify stores arbitrary bytes as record 2 and as a checkpoint of a
// sound log: Verify must call it tampering (or, for the original bytes,
// accept it), never panic or fail otherwise.
func FuzzVerify(f *testing.F) {
	db, err := badger.Open(badger.DefaultOptions("").WithInMemory(true).WithLogger(nil))
	if err != nil {
		f.Fatal(err)
	}
	defer db.Close()
	recs := appendN(f, db, newLog(f, db, 3), 3)
	rec2, cp3 := getF(f, db, recKey(2)), getF(f, db, cpKey(3))
	f.Add(rec2, cp3)
	f.Add([]byte(`{"seq":2}`), []byte("eyJhbGciOiJub25lIn0.e30."))
	f.Add([]byte(`{"seq":2,"hash":"`+recs[1].Hash+`"}`), []byte("..."))
	f.Fuzz(func(t *testing.T, rec, cp []byte) {
		setF(t, db, recKey(2), rec)
		setF(t, db, cpKey(3), cp)
		_, err := audit.Verify(context.Background(), db, did.KeyResolver{})
		if err != nil && !errors.Is(err, audit.ErrTampered) {
			t.Fatalf("not a tampering error: %v", err)
		}
	})
}

func getF(tb testing.TB, db *badger.DB, key string) []byte {
	var v []byte
	err := db.View(func(txn *badger.Txn) error {
		item, err := txn.Get([]byte(key))
		if err != nil {
			return err
		}
		v, err = item.ValueCopy(nil)
		return err
	})
	if err != nil {
		tb.Fatal(err)
	}
	return v
}

func setF(tb testing.TB, db *badger.DB, key string, v []byte) {
	if err := db.Update(func(txn *badger.Txn) error { return txn.Set([]byte(key), v) }); err != nil {
		tb.Fatal(err)
	}
}
