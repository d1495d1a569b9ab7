// Package audit is the verifier's audit log: an append-only, hash-chained
// record of every answer the verifier gave, with checkpoints signed by the
// verifier's DID key, so that anyone holding the store can tell whether a
// record was altered, removed, reordered or cut off.
//
// # Records
//
// A Record says who answered (Verifier), what (Decision, Reasons), to whom
// (Actor), on whose behalf (Principal, Chain, Grant), for what (Action,
// Resource, Intent, Context), after which checks (Checkers), with whose
// consent (ApprovalID, Approver), and who answers for the act (Liable: the
// principal by default, as a power of attorney makes the principal liable).
//
// Log.Append runs inside the caller's badger read-write transaction, so that
// a decision's side effects (counters, an approval's single use) and its
// record are committed together or not at all. It reads the head from that
// transaction, never from a cache, so a discarded transaction leaves no
// trace and the next Append reuses the sequence number. Appends must be
// serialised by the caller (the verifier holds a mutex); two concurrent
// transactions would make badger refuse the second commit with a conflict.
//
// Each record carries Prev, the Hash of the record before it, and Hash, the
// lower-hex SHA-256 of the RFC 8785 (JCS) canonical JSON of the record with
// Hash set to "". The stored value is the JCS of the record itself, so a
// record decoded and marshalled again gives the same bytes and the same hash.
//
// # Checkpoints
//
// Every CheckpointEvery records (and whenever Log.Checkpoint is called) the
// log signs its head, {seq, hash, time, verifier}, as a compact JWS (EdDSA,
// kid = the verifier's verification method, typ = CheckpointType).
//
// One key answers for a log: every record names the signer's DID as its
// Verifier, and Verify holds every record and checkpoint to the DID that
// record 1 names. A rewrite of the records before a checkpoint is detected
// even if every hash was recomputed, because the rewriter cannot sign.
// Records after the last checkpoint are protected by the chain and the head
// only. A rewrite of the whole store under another key is told apart only by
// who signed: Report.Signers, to be compared with the verifier's known DID
// or with checkpoints exported earlier (Reader.ExportCheckpoints).
//
// Reader reads the log without a key (Get, List, Export, Head); a Log is a
// Reader that can also append.
//
// # Verifying
//
// Verify is a free function over the store, so that `mandate audit verify`
// can check a stopped verifier's data without its key. It walks the records
// in key order and returns an error wrapping ErrTampered that names the first
// bad record and the kind of problem: altered, missing, out of order,
// truncated, or a checkpoint whose signature is invalid. Only EdDSA
// checkpoints are accepted; the algorithm is checked before any key is
// resolved.
//
// # Storage layout
//
// All keys live under "audit/" in the verifier's badger store:
//
//	audit/rec/<seq, 20 decimal digits>   the record's JCS
//	audit/ckpt/<seq, 20 decimal digits>  a compact JWS over the checkpoint's JCS
//	audit/head                           {"hash":...,"seq":...} of the last record
package audit
