// Package intent compares what an agent asks to do with why it was given
// the power: the declared purposes of its credential chain.
//
// A Checker answers allow, deny or escalate with a reason and a confidence.
// Run asks several checkers and combines their answers by one explicit
// policy: no checker is a deny; any deny wins; an error, a panic or a
// time-out is a deny; otherwise any escalate is an escalate; only unanimous
// allows allow. A Registry builds checkers by name from their JSON
// configuration.
//
// The built-in checkers are in the sub-packages: cel (conditions), lexical
// (a deterministic baseline) and external (any checker over gRPC, at an
// address or as a checksum-pinned plugin). evalset qualifies a checker on
// labelled cases. The verifier's intent stage (presentation.IntentPolicy)
// calls Run after the scope, status and limit checks; docs/INTENT.md says
// how well each checker does and how it fails.
package intent
