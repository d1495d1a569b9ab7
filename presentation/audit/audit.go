package audit

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/dgraph-io/badger/v4"

	"github.com/mandate-dev/mandate/credentials"
)

// Record kinds.
const (
	KindDecision = "decision" // the verifier's answer to a request
	KindApproval = "approval" // an approver's signed answer to an approval request
)

// DefaultCheckpointEvery is how many records pass between signed checkpoints
// when Options.CheckpointEvery is 0.
const DefaultCheckpointEvery = 100

// Limits. MaxSeq keeps sequence numbers exact as JSON numbers, which JCS
// reads as IEEE 754 doubles.
const (
	MaxRecordBytes = 256 << 10
	MaxSeq         = 1<<53 - 1
)

// Errors callers branch on.
var (
	ErrNotFound = errors.New("audit: record not found")
	ErrTampered = errors.New("audit: log tampered")
	// ErrEmpty: a checkpoint of a log with no record.
	ErrEmpty = errors.New("audit: checkpoint: the log is empty")
)

// CheckerVerdict is what one intent checker said about the request.
type CheckerVerdict struct {
	Name       string  `json:"name"`
	Verdict    string  `json:"verdict"`
	Reason     string  `json:"reason,omitempty"`
	Confidence float64 `json:"confidence"`
}

// Record is one entry of the log.
type Record struct {
	Seq              uint64            `json:"seq"`
	Time             time.Time         `json:"time"`
	Kind             string            `json:"kind"`
	Verifier         string            `json:"verifier"` // who answered: the verifier's DID, the log's signer
	VerifierAudience string            `json:"verifierAudience,omitempty"`
	Decision         string            `json:"decision"`
	Reasons          []string          `json:"reasons,omitempty"`
	Message          string            `json:"message,omitempty"`
	Principal        string            `json:"principal,omitempty"`
	Actor            string            `json:"actor,omitempty"`
	Chain            []string          `json:"chain,omitempty"`
	Grant            string            `json:"grant,omitempty"`
	Action           string            `json:"action,omitempty"`
	Resource         string            `json:"resource,omitempty"`
	Intent           string            `json:"intent,omitempty"`
	Context          map[string]string `json:"context,omitempty"`
	Checkers         []CheckerVerdict  `json:"checkers,omitempty"`
	ApprovalID       string            `json:"approvalId,omitempty"`
	Approver         string            `json:"approver,omitempty"`
	Liable           string            `json:"liable,omitempty"` // who answers for the act: the principal by default
	Prev             string            `json:"prev"`             // Hash of the previous record ("" for the first)
	Hash             string            `json:"hash"`             // lower-hex SHA-256 of the JCS of the record with Hash ""
}

// Options configure a Log.
type Options struct {
	// Signer is the verifier's DID key; it signs the checkpoints. Required.
	Signer credentials.Signer
	// CheckpointEvery is how many records pass between signed checkpoints
	// (0: DefaultCheckpointEvery).
	CheckpointEvery uint64
	// Now is the clock (nil: time.Now).
	Now func() time.Time
}

// Log appends to the audit log kept in a badger store, and reads it (the
// methods of Reader).
type Log struct {
	Reader
	o     Options
	jose  *checkpointSigner
	every uint64
}

// New returns the log kept in db. Checkpoints must be signed, so a Signer is
// required, and its verification method must belong to its DID.
func New(db *badger.DB, o Options) (*Log, error) {
	if db == nil {
		return nil, errors.New("audit: a store is required")
	}
	if o.Signer == nil {
		return nil, errors.New("audit: a signer is required (checkpoints are signed)")
	}
	if !strings.HasPrefix(o.Signer.VerificationMethod(), o.Signer.DID()+"#") {
		return nil, fmt.Errorf("audit: signer's verification method %q is not a key of its DID %q", o.Signer.VerificationMethod(), o.Signer.DID())
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	every := o.CheckpointEvery
	if every == 0 {
		every = DefaultCheckpointEvery
	}
	s, err := newCheckpointSigner(o.Signer)
	if err != nil {
		return nil, err
	}
	return &Log{Reader: Reader{db: db}, o: o, jose: s, every: every}, nil
}

// Append adds r to the log inside txn, a read-write transaction of the
// caller's. It assigns Seq, Prev and Hash (the caller's values are ignored),
// Verifier (the signer's DID when empty; another DID is refused), Liable
// (the Principal when empty)
// and Time (now when zero; always UTC, to the microsecond), writes the
// record and the new head, and a signed checkpoint every CheckpointEvery
// records. It returns the record as stored. Nothing is written unless the
// caller commits txn.
func (l *Log) Append(txn *badger.Txn, r Record) (Record, error) {
	if txn == nil {
		return Record{}, errors.New("audit: append needs a read-write transaction")
	}
	if err := checkKind(r.Kind); err != nil {
		return Record{}, err
	}
	if r.Decision == "" {
		return Record{}, errors.New("audit: a record needs a decision")
	}
	// One key answers for the whole log: Verify holds every record and
	// checkpoint to the DID of record 1.
	if r.Verifier != "" && r.Verifier != l.o.Signer.DID() {
		return Record{}, fmt.Errorf("audit: record verifier %q is not the log's signer %q", r.Verifier, l.o.Signer.DID())
	}
	h, err := readHead(txn)
	if err != nil {
		return Record{}, err
	}
	if h.Seq >= MaxSeq {
		return Record{}, fmt.Errorf("audit: the log is full (%d records)", h.Seq)
	}
	r = l.fill(r, h)
	if err := checkFree(txn, r.Seq, h.Seq); err != nil {
		return Record{}, err
	}
	stored, err := seal(&r)
	if err != nil {
		return Record{}, err
	}
	if err := txn.Set(recordKey(r.Seq), stored); err != nil {
		return Record{}, fmt.Errorf("audit: write record %d: %w", r.Seq, err)
	}
	if err := writeHead(txn, head{Seq: r.Seq, Hash: r.Hash}); err != nil {
		return Record{}, err
	}
	if r.Seq%l.every == 0 {
		if _, err := l.writeCheckpoint(txn, head{Seq: r.Seq, Hash: r.Hash}, r.Time); err != nil {
			return Record{}, err
		}
	}
	return r, nil
}

// fill sets the fields that Append assigns.
func (l *Log) fill(r Record, h head) Record {
	r.Seq, r.Prev, r.Hash = h.Seq+1, h.Hash, ""
	if r.Verifier == "" {
		r.Verifier = l.o.Signer.DID()
	}
	if r.Liable == "" {
		r.Liable = r.Principal
	}
	if r.Time.IsZero() {
		r.Time = l.o.Now()
	}
	r.Time = r.Time.UTC().Truncate(time.Microsecond)
	return r
}

// checkFree refuses to write over a record: one beyond the head means the
// head was lost or moved back, and the log must be verified, not extended.
func checkFree(txn *badger.Txn, seq, headSeq uint64) error {
	_, err := txn.Get(recordKey(seq))
	switch {
	case err == nil:
		return tampered("record %d already exists beyond the head (head %d)", seq, headSeq)
	case errors.Is(err, badger.ErrKeyNotFound):
		return nil
	default:
		return fmt.Errorf("audit: read record %d: %w", seq, err)
	}
}

func checkKind(k string) error {
	if k != KindDecision && k != KindApproval {
		return fmt.Errorf("audit: record kind %q is not one of %q, %q", k, KindDecision, KindApproval)
	}
	return nil
}

// seal computes r's hash, sets it, and returns the stored encoding. r is
// replaced by its decoded form, so that the caller gets exactly what a later
// reader will (JSON turns invalid UTF-8 into U+FFFD and empty lists into
// absent ones).
func seal(r *Record) ([]byte, error) {
	unsealed, err := canonical(*r)
	if err != nil {
		return nil, err
	}
	// Sealing turns "hash":"" into 64 hex digits.
	if size := len(unsealed) + sha256.Size*2; size > MaxRecordBytes {
		return nil, fmt.Errorf("audit: record %d is %d bytes, more than %d", r.Seq, size, MaxRecordBytes)
	}
	if err := decodeRecord(unsealed, r); err != nil {
		return nil, fmt.Errorf("audit: encode: %w", err)
	}
	r.Hash = hashOf(unsealed)
	return canonical(*r)
}

// recordHash is the hash a record must carry: over its JCS with Hash "".
func recordHash(r Record) (string, error) {
	r.Hash = ""
	c, err := canonical(r)
	if err != nil {
		return "", err
	}
	return hashOf(c), nil
}

func hashOf(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// canonical is the JCS (RFC 8785) of v's JSON.
func canonical(v any) ([]byte, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("audit: encode: %w", err)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var generic any
	if err := dec.Decode(&generic); err != nil {
		return nil, fmt.Errorf("audit: encode: %w", err)
	}
	c, err := credentials.CanonicalJSON(generic)
	if err != nil {
		return nil, fmt.Errorf("audit: encode: %w", err)
	}
	return c, nil
}

// decodeStrict reads exactly one JSON value of b into v, refusing unknown
// fields and trailing data.
func decodeStrict(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return errors.New("trailing data")
	}
	return nil
}

func decodeRecord(b []byte, r *Record) error {
	if len(b) > MaxRecordBytes {
		return fmt.Errorf("%d bytes, more than %d", len(b), MaxRecordBytes)
	}
	*r = Record{}
	return decodeStrict(b, r)
}

// head is the last record's seq and hash, kept so that Append does not scan.
type head struct {
	Seq  uint64 `json:"seq"`
	Hash string `json:"hash"`
}

var headKey = []byte("audit/head")

const (
	recordPrefix     = "audit/rec/"
	checkpointPrefix = "audit/ckpt/"
)

func recordKey(seq uint64) []byte     { return fmt.Appendf(nil, "%s%020d", recordPrefix, seq) }
func checkpointKey(seq uint64) []byte { return fmt.Appendf(nil, "%s%020d", checkpointPrefix, seq) }

// readHead reads the head in txn; an empty log has head {0, ""}.
func readHead(txn *badger.Txn) (head, error) {
	item, err := txn.Get(headKey)
	if errors.Is(err, badger.ErrKeyNotFound) {
		return head{}, nil
	}
	if err != nil {
		return head{}, fmt.Errorf("audit: read head: %w", err)
	}
	var h head
	err = item.Value(func(v []byte) error {
		if len(v) > 256 {
			return errors.New("too long")
		}
		return decodeStrict(v, &h)
	})
	if err != nil {
		return head{}, &TamperError{Problem: fmt.Sprintf("the log head is malformed (%v)", err)}
	}
	return h, nil
}

func writeHead(txn *badger.Txn, h head) error {
	b, err := canonical(h)
	if err != nil {
		return err
	}
	if err := txn.Set(headKey, b); err != nil {
		return fmt.Errorf("audit: write head: %w", err)
	}
	return nil
}
