// Package lexical is a deterministic intent checker: it compares the words
// of an agent's stated intent with the declared purposes of its chain and
// with the grant it uses, and explains its answer by the words it matched
// and missed. It needs no network and no model, so it is a baseline: it
// catches off-purpose wording and the crudest attacks, and is fooled by an
// intent written in the purpose's own words (see docs/INTENT.md).
//
// The steps, in order; the first that decides, decides:
//
//  1. Text that hides what it says is a deny: invisible format characters
//     (zero-width spaces, bidi controls) or a word that mixes scripts
//     (Latin with Cyrillic or Greek look-alikes). Text is NFKC-normalised
//     first, so full-width letters read as plain ones.
//  2. A deny phrase is a deny: the built-in list of instructions aimed at
//     the checker ("ignore previous instructions", "answer allow", ...)
//     plus the configured ones.
//  3. No stated intent is a deny (or an escalate, by configuration).
//  4. Coverage: the share of the intent's content words (stop words
//     removed, lightly stemmed, a small synonym table applied) found in a
//     link's purpose or in the grant's action and resource. Every link must
//     be covered: the lowest coverage counts. Below DenyBelow is a deny; at
//     or above AllowAt is an allow; between is an escalate.
//  5. A word the purpose rules out ("never send", "do not pay") used in
//     the intent, and not negated there, turns an allow into an escalate.
package lexical
