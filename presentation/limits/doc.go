// Package limits enforces the usage limits of PoA grants: rate (at most
// count uses per period), maxUses (lifetime) and maxAmount (per rate period,
// else lifetime). Counters live in the verifier's badger store and are
// updated inside the caller's transaction, so that they commit together with
// the decision and its audit record, or not at all.
//
// # What is counted
//
// A Use is one grant of one chain link being used. A decision charges every
// link's grant: the leaf's and each ancestor's. A child's use thus counts
// against every ancestor's budget, and two children of one parent share the
// parent's. Counters are keyed by credential id and grant id, under the key
// prefix "limits/". A Use without rate, maxUses or maxAmount is skipped and
// nothing is stored for it; two Uses with the same credential and grant in
// one call are charged once.
//
// # Semantics
//
//   - rate {count, per}: a strict sliding window. At most Count uses fall in
//     any window of length Per: a use at t counts at now while now-t < Per.
//     The state is the timestamps of the last Count uses, so a window is
//     exact, never a fixed bucket. Exceeding it is RATE_LIMITED, with RetryAt
//     the instant the oldest use in the window leaves it; a use at exactly
//     RetryAt passes.
//   - maxUses: a lifetime count. Exceeding it is USES_EXHAUSTED, with a zero
//     RetryAt: never.
//   - maxAmount: the request's amount (a non-negative integer the caller
//     passes; the verifier reads it from the request context "amount") summed
//     over the rate period when the grant also has a rate, else over the
//     grant's lifetime. A request whose amount would take the sum past
//     MaxAmount is AMOUNT_EXCEEDED, with RetryAt the instant enough of the
//     window has freed, or zero when it never will (lifetime, or an amount
//     above MaxAmount by itself). The amount of each use is stored with its
//     timestamp; the window holds at most Count uses, so it is bounded.
//
// Timestamps are kept at microsecond precision. A clock that goes backwards
// does not let a use through: a now before the last recorded use of a
// counter is taken as that last use.
//
// When several limits are exceeded, Check reports the one that frees last:
// a limit that never frees wins, then the latest RetryAt, then the first in
// the order of the Uses. Its RetryAt is thus the earliest instant at which
// the same request could pass, other uses aside.
//
// # Errors
//
// Check and Charge return an *Exceeded when a limit is reached, and another
// error when the request cannot be judged: an error wrapping
// ErrAmountRequired when some Use limits amounts and no amount is given,
// an error wrapping ErrUnenforceable for a limit this package cannot hold
// (rate count outside 1..MaxRateCount, a period that is not an ISO 8601
// duration of days to seconds or is above 366 days, a negative maxUses or
// maxAmount), and plain errors for malformed Uses or a corrupt counter. The
// verifier denies on every error.
//
// # Transactions
//
// Both functions run inside the caller's badger transaction. Check only
// reads, so the verifier also runs it early, in a read-only transaction, to
// deny before asking a human for approval. Charge checks every Use first and
// writes only when all pass: on an *Exceeded nothing has been written and
// the caller may still commit its own records (a DENY audit entry) in the
// same transaction. On any other error from Charge the caller discards the
// transaction. Concurrent Charges of one counter in separate transactions
// cannot overshoot: the verifier serialises its commits with a mutex, and
// without one badger's conflict detection fails all but one commit with
// badger.ErrConflict, after which the caller retries.
//
// Counters are never expired: they are as durable as the credentials they
// count. Credential ids are chosen by their issuers, so only uses of a
// verified chain must be charged.
package limits
