package audit

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/dgraph-io/badger/v4"
	"github.com/go-jose/go-jose/v4"

	"github.com/mandate-dev/mandate/did"
)

// acceptedAlgs is the closed list of checkpoint signature algorithms.
var acceptedAlgs = []jose.SignatureAlgorithm{jose.EdDSA}

// Report is what Verify found in a sound log.
type Report struct {
	Records     uint64   `json:"records"`
	Checkpoints uint64   `json:"checkpoints"`
	LastSeq     uint64   `json:"lastSeq"`
	LastHash    string   `json:"lastHash"`
	Signers     []string `json:"signers,omitempty"` // the DIDs whose checkpoints verified, first seen first
}

// TamperError names the first problem Verify found. It wraps ErrTampered.
type TamperError struct {
	Problem string // e.g. "record 17 was altered (hash mismatch)"
}

func (e *TamperError) Error() string { return "audit: log tampered: " + e.Problem }

// Unwrap makes errors.Is(err, ErrTampered) hold.
func (e *TamperError) Unwrap() error { return ErrTampered }

func tampered(format string, a ...any) error {
	return &TamperError{Problem: fmt.Sprintf(format, a...)}
}

// Verify checks the audit log kept in db: records in key order, key and Seq
// agreeing, Seq contiguous from 1, Prev links, hashes, canonical encoding,
// the head, one verifier throughout (the DID record 1 names), and every
// checkpoint (EdDSA only; key resolved through resolver from the kid, which
// must be a key of that verifier). A checkpoint or head beyond the last record means the log
// was truncated. A problem gives an error wrapping ErrTampered (a
// *TamperError) that names the first bad record.
func Verify(ctx context.Context, db *badger.DB, resolver did.Resolver) (Report, error) {
	if db == nil || resolver == nil {
		return Report{}, errors.New("audit: verify needs a store and a DID resolver")
	}
	var rep Report
	err := db.View(func(txn *badger.Txn) error {
		w := &walker{ctx: ctx, resolver: resolver}
		if err := w.loadCheckpoints(txn); err != nil {
			return err
		}
		if err := eachValue(txn, recordPrefix, MaxRecordBytes, w.record); err != nil {
			return err
		}
		if err := w.finish(txn); err != nil {
			return err
		}
		rep = w.rep
		return nil
	})
	if err != nil {
		return Report{}, err
	}
	return rep, nil
}

// walker carries the state of one Verify pass.
type walker struct {
	ctx      context.Context
	resolver did.Resolver
	rep      Report
	verifier string // the log's verifier: record 1's, which every record and checkpoint must name
	cps      []storedCheckpoint
	next     int    // index into cps of the next checkpoint to check
	lastCP   uint64 // the last checkpoint that verified
}

type storedCheckpoint struct {
	seq uint64
	jws string
}

func (w *walker) loadCheckpoints(txn *badger.Txn) error {
	return eachValue(txn, checkpointPrefix, MaxCheckpointBytes, func(seq uint64, v []byte) error {
		w.cps = append(w.cps, storedCheckpoint{seq: seq, jws: string(v)})
		return nil
	})
}

// record checks the record stored at key seq, then the checkpoints of seq.
func (w *walker) record(seq uint64, v []byte) error {
	if seq%1024 == 0 {
		if err := w.ctx.Err(); err != nil {
			return err
		}
	}
	want := w.rep.LastSeq + 1
	if seq != want {
		return tampered("record %d is missing", want)
	}
	r, err := checkRecord(seq, v)
	if err != nil {
		return err
	}
	if r.Prev != w.rep.LastHash {
		if seq == 1 {
			return tampered("record 1 was altered (the first record links to a predecessor)")
		}
		return tampered("record %d was altered or replaced (record %d does not link to it)", seq-1, seq)
	}
	if seq == 1 {
		w.verifier = r.Verifier
	} else if r.Verifier != w.verifier {
		return tampered("record %d was altered (verifier %s is not the log's verifier %s)", seq, r.Verifier, w.verifier)
	}
	w.rep.Records, w.rep.LastSeq, w.rep.LastHash = w.rep.Records+1, seq, r.Hash
	for ; w.next < len(w.cps) && w.cps[w.next].seq == seq; w.next++ {
		c, err := w.checkpoint(w.cps[w.next], w.verifier)
		if err != nil {
			return err
		}
		if c.Hash != r.Hash && w.lastCP+1 == seq {
			return tampered("record %d was rewritten (checkpoint %d does not match it)", seq, seq)
		}
		if c.Hash != r.Hash {
			return tampered("records %d to %d were rewritten (checkpoint %d does not match record %d)", w.lastCP+1, seq, seq, seq)
		}
		w.lastCP = seq
	}
	return nil
}

// checkRecord decodes the record stored at key seq and checks it alone.
func checkRecord(seq uint64, v []byte) (Record, error) {
	var r Record
	if err := readRecord(seq, v, &r); err != nil {
		return Record{}, err
	}
	h, err := recordHash(r)
	if err != nil {
		return Record{}, tampered("record %d was altered (%v)", seq, err)
	}
	if h != r.Hash {
		return Record{}, tampered("record %d was altered (hash mismatch)", seq)
	}
	if r.Verifier == "" {
		return Record{}, tampered("record %d was altered (it names no verifier)", seq)
	}
	// The hash covers the decoded record; requiring the canonical bytes
	// means no byte of the stored value can change unnoticed either.
	if c, err := canonical(r); err != nil || !bytes.Equal(c, v) {
		return Record{}, tampered("record %d was altered (not in canonical form)", seq)
	}
	return r, nil
}

// finish checks what lies beyond the last record: checkpoints and the head.
func (w *walker) finish(txn *badger.Txn) error {
	last := w.rep.LastSeq
	beyond := uint64(0)
	for ; w.next < len(w.cps); w.next++ {
		cp := w.cps[w.next]
		if _, err := w.checkpoint(cp, w.verifier); err != nil {
			return err
		}
		beyond = cp.seq
	}
	h, err := readHead(txn)
	if err != nil {
		return err
	}
	switch {
	case beyond > last:
		return tampered("log truncated after record %d (checkpoint %d / head %d)", last, beyond, h.Seq)
	case h.Seq > last:
		return tampered("log truncated after record %d (head %d)", last, h.Seq)
	case last > 0 && h.Seq == 0:
		return tampered("the log head is missing (last record %d)", last)
	case h.Seq < last:
		return tampered("record %d was added outside the log (head %d)", h.Seq+1, h.Seq)
	case h.Hash != w.rep.LastHash:
		return tampered("record %d was altered (the head's hash does not match)", last)
	}
	return nil
}

// checkpoint verifies one stored checkpoint. signer is the DID that must
// have signed it ("" when no record names one). The algorithm is checked
// before anything else, and the signer before its key is resolved.
func (w *walker) checkpoint(cp storedCheckpoint, signer string) (Checkpoint, error) {
	if alg := headerAlg(cp.jws); alg != string(jose.EdDSA) {
		return Checkpoint{}, tampered("checkpoint %d signature invalid (algorithm %q refused)", cp.seq, alg)
	}
	obj, err := jose.ParseSignedCompact(cp.jws, acceptedAlgs)
	if err != nil {
		return Checkpoint{}, tampered("checkpoint %d signature invalid (malformed: %v)", cp.seq, err)
	}
	if len(obj.Signatures) != 1 {
		return Checkpoint{}, tampered("checkpoint %d signature invalid (%d signatures)", cp.seq, len(obj.Signatures))
	}
	hdr := obj.Signatures[0].Protected
	if typ, _ := hdr.ExtraHeaders[jose.HeaderType].(string); typ != CheckpointType {
		return Checkpoint{}, tampered("checkpoint %d signature invalid (typ %q, want %q)", cp.seq, typ, CheckpointType)
	}
	kidDID, _, _ := strings.Cut(hdr.KeyID, "#")
	if signer != "" && kidDID != signer {
		return Checkpoint{}, tampered("checkpoint %d signature invalid (signed by %s, not by the log's verifier %s)", cp.seq, kidDID, signer)
	}
	key, err := did.PublicKey(w.ctx, w.resolver, hdr.KeyID, "assertionMethod")
	if err != nil {
		if w.ctx.Err() != nil {
			return Checkpoint{}, w.ctx.Err()
		}
		return Checkpoint{}, tampered("checkpoint %d signature invalid (key %q: %v)", cp.seq, hdr.KeyID, err)
	}
	payload, err := obj.Verify(key)
	if err != nil {
		return Checkpoint{}, tampered("checkpoint %d signature invalid", cp.seq)
	}
	return w.checkpointPayload(cp.seq, kidDID, payload)
}

// checkpointPayload reads a verified checkpoint and checks it against its
// key and signer.
func (w *walker) checkpointPayload(seq uint64, signer string, payload []byte) (Checkpoint, error) {
	var c Checkpoint
	if err := decodeStrict(payload, &c); err != nil {
		return Checkpoint{}, tampered("checkpoint %d is malformed (%v)", seq, err)
	}
	if c.Verifier != signer {
		return Checkpoint{}, tampered("checkpoint %d signature invalid (signed by %s for verifier %s)", seq, signer, c.Verifier)
	}
	if c.Seq != seq {
		return Checkpoint{}, tampered("checkpoint %d is out of order (it holds checkpoint %d)", seq, c.Seq)
	}
	w.rep.Checkpoints++
	if !slices.Contains(w.rep.Signers, signer) {
		w.rep.Signers = append(w.rep.Signers, signer)
	}
	return c, nil
}

// headerAlg reads the "alg" of a compact JWS's protected header without
// trusting anything else in it ("" when unreadable).
func headerAlg(jws string) string {
	enc, _, ok := strings.Cut(jws, ".")
	if !ok {
		return ""
	}
	raw, err := base64.RawURLEncoding.DecodeString(enc)
	if err != nil {
		return ""
	}
	var h struct {
		Alg string `json:"alg"`
	}
	if json.Unmarshal(raw, &h) != nil {
		return ""
	}
	return h.Alg
}
