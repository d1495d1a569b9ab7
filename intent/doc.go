// Package intent compares what an agent asks to do with why it was given
// the power: the declared purposes of its credential chain.
//
// A Checker answers allow, deny or escalate with a reason and a confidence.
// Run asks several checkers and combines their answers by one explicit
// policy: no checker is a deny; any deny wins; an error or a time-out is a
// deny; otherwise any escalate is an escalate; only unanimous allows allow.
// The built-in checkers (rules, CEL, external over gRPC) and the verifier
// stage that calls Run arrive with the intent issue; this package holds the
// contract they share.
package intent
