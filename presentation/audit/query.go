package audit

import (
	"errors"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/dgraph-io/badger/v4"
)

// Reader reads the audit log kept in a badger store; it needs no key, so
// a stopped verifier's log can be inspected by whoever holds the store.
type Reader struct {
	db *badger.DB
}

// NewReader returns a reader of the log kept in db.
func NewReader(db *badger.DB) (*Reader, error) {
	if db == nil {
		return nil, errors.New("audit: a store is required")
	}
	return &Reader{db: db}, nil
}

// Filter selects records for List. Empty fields match everything; Since is
// inclusive and Until exclusive; Limit 0 means no limit.
type Filter struct {
	Principal, Actor, Action, Decision string
	Since, Until                       time.Time
	Limit                              int
}

func (f Filter) match(r Record) bool {
	return (f.Principal == "" || r.Principal == f.Principal) &&
		(f.Actor == "" || r.Actor == f.Actor) &&
		(f.Action == "" || r.Action == f.Action) &&
		(f.Decision == "" || r.Decision == f.Decision) &&
		(f.Since.IsZero() || !r.Time.Before(f.Since)) &&
		(f.Until.IsZero() || r.Time.Before(f.Until))
}

// Get returns record seq (ErrNotFound when there is none). It does not
// check the chain; Verify does.
func (rd *Reader) Get(seq uint64) (Record, error) {
	var r Record
	err := rd.db.View(func(txn *badger.Txn) error {
		item, err := txn.Get(recordKey(seq))
		if errors.Is(err, badger.ErrKeyNotFound) {
			return fmt.Errorf("%w: %d", ErrNotFound, seq)
		}
		if err != nil {
			return fmt.Errorf("audit: read record %d: %w", seq, err)
		}
		if item.ValueSize() > MaxRecordBytes {
			return tampered("record %d was altered (%d bytes)", seq, item.ValueSize())
		}
		return item.Value(func(v []byte) error { return readRecord(seq, v, &r) })
	})
	return r, err
}

// List returns the records that f selects, in ascending Seq.
func (rd *Reader) List(f Filter) ([]Record, error) {
	if f.Limit < 0 {
		return nil, fmt.Errorf("audit: list: negative limit %d", f.Limit)
	}
	var out []Record
	errFull := errors.New("full")
	err := rd.db.View(func(txn *badger.Txn) error {
		return eachValue(txn, recordPrefix, MaxRecordBytes, func(seq uint64, v []byte) error {
			var r Record
			if err := readRecord(seq, v, &r); err != nil {
				return err
			}
			if f.match(r) {
				out = append(out, r)
			}
			if f.Limit > 0 && len(out) == f.Limit {
				return errFull
			}
			return nil
		})
	})
	if err != nil && !errors.Is(err, errFull) {
		return nil, err
	}
	return out, nil
}

// Export writes every record as stored (its JCS), one a line, in Seq
// order, and nothing else.
func (rd *Reader) Export(w io.Writer) error {
	return rd.db.View(func(txn *badger.Txn) error {
		return eachValue(txn, recordPrefix, MaxRecordBytes, func(_ uint64, v []byte) error {
			return writeLine(w, v)
		})
	})
}

// Head returns the last record's seq and hash (0 and "" for an empty log).
func (rd *Reader) Head() (seq uint64, hash string, err error) {
	var h head
	err = rd.db.View(func(txn *badger.Txn) error {
		h, err = readHead(txn)
		return err
	})
	return h.Seq, h.Hash, err
}

// readRecord decodes the record stored at key seq, refusing one that is
// malformed or holds another seq.
func readRecord(seq uint64, v []byte, r *Record) error {
	if err := decodeRecord(v, r); err != nil {
		return tampered("record %d was altered (malformed: %v)", seq, err)
	}
	if r.Seq != seq {
		return tampered("record %d is out of order (it holds record %d)", seq, r.Seq)
	}
	return nil
}

// eachValue calls fn with the seq and value of every key under prefix, in
// key order (which is Seq order). A key that is not prefix followed by a
// seq, or a value longer than max, is tampering. v is valid only during fn.
func eachValue(txn *badger.Txn, prefix string, max int, fn func(seq uint64, v []byte) error) error {
	it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte(prefix), PrefetchValues: true, PrefetchSize: 64})
	defer it.Close()
	for it.Rewind(); it.Valid(); it.Next() {
		item := it.Item()
		seq, ok := parseSeq(item.Key(), prefix)
		if !ok {
			return tampered("key %q is not an audit key", clip(item.Key()))
		}
		if item.ValueSize() > int64(max) {
			return tampered("%s %d was altered (%d bytes, more than %d)", kindOf(prefix), seq, item.ValueSize(), max)
		}
		if err := item.Value(func(v []byte) error { return fn(seq, v) }); err != nil {
			return err
		}
	}
	return nil
}

// parseSeq reads the seq of key, which must be prefix followed by exactly
// 20 decimal digits naming 1..MaxSeq.
func parseSeq(key []byte, prefix string) (uint64, bool) {
	digits := key[len(prefix):]
	if len(digits) != 20 {
		return 0, false
	}
	for _, c := range digits {
		if c < '0' || c > '9' {
			return 0, false
		}
	}
	seq, err := strconv.ParseUint(string(digits), 10, 64)
	if err != nil || seq == 0 || seq > MaxSeq {
		return 0, false
	}
	return seq, true
}

func kindOf(prefix string) string {
	if prefix == checkpointPrefix {
		return "checkpoint"
	}
	return "record"
}

func clip(b []byte) string {
	if len(b) > 64 {
		return string(b[:64]) + "..."
	}
	return string(b)
}

func writeLine(w io.Writer, v []byte) error {
	if _, err := w.Write(v); err != nil {
		return fmt.Errorf("audit: export: %w", err)
	}
	if _, err := w.Write([]byte{'\n'}); err != nil {
		return fmt.Errorf("audit: export: %w", err)
	}
	return nil
}
