package audit

// RecordKey is the store key of record seq. Tools that inspect a stopped
// verifier's store use it; the demo uses it to show that a record changed
// behind the log's back is found by Verify.
func RecordKey(seq uint64) []byte { return recordKey(seq) }
