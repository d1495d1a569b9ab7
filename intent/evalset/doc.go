// Package evalset qualifies an intent checker on a labelled set of cases:
// it runs the checker over each case through intent.Run, as the verifier
// would, and reports a confusion matrix, the false-allow rate first, and
// precision and recall.
//
// A case file is JSON Lines, one case an object with the members id,
// purposes (root first), action, resource, intent, context (optional),
// label ("allow" or "deny": what a careful reviewer decides), kind ("in",
// "out", "near", "adversarial") and note. examples/intent/cases.jsonl is
// the shipped set.
package evalset
