// Package policy is a verifier's trust policy, read from one YAML file: which root principals (DIDs, or
// did:web domains) are trusted for which resource patterns, which actions need a root witnessed by whom,
// the accepted presentation formats, proof algorithms and DID methods, the status lists' maximum age, and
// the intent checkers to run. docs/POLICY.md describes the format.
//
// Parse is strict: one document, at most MaxBytes, no unknown key, no duplicate, no contradiction; every
// error names the line. Nothing has a default that trusts: lists that decide what is accepted must be
// written out. The verifier (presentation.Config.Policy) enforces a Policy; this package only reads and
// checks it.
package policy
