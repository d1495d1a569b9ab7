package wallet

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	badger "github.com/dgraph-io/badger/v4"
)

// The wallet's own record of what it presented: to whom, when, why, and
// what the verifier answered. It is the agent's side of the verifier's
// audit log, kept in the same encrypted store.
const (
	logPrefix = "wallet/log/"
	logHead   = "wallet/loghead"
	// MaxLogEntryBytes bounds one entry.
	MaxLogEntryBytes = 16 << 10
)

// LogEntry is one presentation the wallet made.
type LogEntry struct {
	Seq       uint64    `json:"seq"`
	Time      time.Time `json:"time"`
	Verifier  string    `json:"verifier"` // address the presentation was sent to
	Audience  string    `json:"audience,omitempty"`
	Chain     string    `json:"chain"` // id of the chain presented (its leaf credential id)
	Action    string    `json:"action"`
	Resource  string    `json:"resource"`
	Intent    string    `json:"intent,omitempty"`
	Decision  string    `json:"decision"`
	Reasons   []string  `json:"reasons,omitempty"`
	AuditID   string    `json:"auditId,omitempty"`
	Approval  string    `json:"approval,omitempty"` // approval request id, when one was asked for or used
	Principal string    `json:"principal,omitempty"`
}

// Log appends e (its Seq is assigned) and returns it once it is on disk.
// Appends are serialised, so callers may log from many goroutines.
func (w *Wallet) Log(e LogEntry) (LogEntry, error) {
	w.logMu.Lock()
	defer w.logMu.Unlock()
	err := w.db.Update(func(txn *badger.Txn) error {
		var head uint64
		item, err := txn.Get([]byte(logHead))
		switch {
		case err == nil:
			if err := item.Value(func(b []byte) error {
				if len(b) != 8 {
					return errors.New("corrupt log head")
				}
				head = binary.BigEndian.Uint64(b)
				return nil
			}); err != nil {
				return err
			}
		case !errors.Is(err, badger.ErrKeyNotFound):
			return err
		}
		e.Seq = head + 1
		if e.Time.IsZero() {
			e.Time = time.Now()
		}
		e.Time = e.Time.UTC()
		b, err := json.Marshal(e)
		if err != nil {
			return err
		}
		if len(b) > MaxLogEntryBytes {
			return fmt.Errorf("entry is %d bytes, limit %d", len(b), MaxLogEntryBytes)
		}
		if err := txn.Set(logKey(e.Seq), b); err != nil {
			return err
		}
		return txn.Set([]byte(logHead), binary.BigEndian.AppendUint64(nil, e.Seq))
	})
	if err != nil {
		return e, fmt.Errorf("wallet: log: %w", err)
	}
	return e, nil
}

// Entries returns the log, oldest first.
func (w *Wallet) Entries() ([]LogEntry, error) {
	var out []LogEntry
	err := w.db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte(logPrefix), PrefetchValues: true})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			var e LogEntry
			if err := it.Item().Value(func(b []byte) error { return json.Unmarshal(b, &e) }); err != nil {
				return err
			}
			out = append(out, e)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("wallet: log: %w", err)
	}
	return out, nil
}

func logKey(seq uint64) []byte { return binary.BigEndian.AppendUint64([]byte(logPrefix), seq) }
