package lexical

import (
	"slices"
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"
)

// normalise folds compatibility forms (full-width letters, ligatures) and
// case, and collapses runs of space.
func normalise(s string) string {
	return strings.Join(strings.Fields(strings.ToLower(norm.NFKC.String(s))), " ")
}

// hidden names a way the text hides what it says, or "".
func hidden(s string) string {
	for _, r := range s {
		if unicode.Is(unicode.Cf, r) {
			return "invisible format characters"
		}
	}
	for _, w := range strings.FieldsFunc(s, func(r rune) bool { return !unicode.IsLetter(r) }) {
		if mixedScript(w) {
			return "a word mixing scripts (look-alike letters): " + w
		}
	}
	return ""
}

func mixedScript(w string) bool {
	var latin, other bool
	for _, r := range w {
		switch {
		case unicode.Is(unicode.Latin, r):
			latin = true
		case unicode.Is(unicode.Cyrillic, r), unicode.Is(unicode.Greek, r):
			other = true
		}
	}
	return latin && other
}

// words splits normalised text into lower-case words of letters and digits.
func words(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) && r != '\'' })
}

// content is the stemmed content words of s: no stop words, no numbers,
// no single letters, synonyms folded.
func content(s string) []string {
	var out []string
	for _, w := range words(s) {
		w = strings.TrimSuffix(strings.Trim(w, "'"), "'s")
		if len(w) < 2 || stop[w] || negations[w] || isNumber(w) {
			continue
		}
		st := stem(w)
		if syn, ok := synonyms[st]; ok {
			st = syn
		}
		out = append(out, st)
	}
	return out
}

func isNumber(w string) bool {
	for _, r := range w {
		if !unicode.IsDigit(r) {
			return false
		}
	}
	return true
}

// stem is a light English suffix stripper: enough to match "summarising"
// with "summarise" and "invoices" with "invoice", and no more.
func stem(w string) string {
	w = strings.ReplaceAll(w, "iz", "is") // organize → organise
	for _, s := range []struct{ suffix, repl string }{
		{"isation", "is"}, {"ations", "ate"}, {"ation", "ate"}, {"ments", ""}, {"ment", ""}, {"ness", ""},
		{"ingly", ""}, {"edly", ""}, {"ies", "y"}, {"ied", "y"}, {"ing", ""}, {"ers", ""}, {"er", ""},
		{"ed", ""}, {"ly", ""}, {"es", ""}, {"s", ""},
	} {
		min := 3
		switch s.suffix {
		case "ly", "er", "ers", "ment", "ments":
			min = 4 // reply, early, user, order, comment stay whole
		}
		if strings.HasSuffix(w, s.suffix) && len(w)-len(s.suffix) >= min && !strings.HasSuffix(w, "ss") {
			w = w[:len(w)-len(s.suffix)] + s.repl
			break
		}
	}
	w = strings.TrimSuffix(w, "e")
	if n := len(w); n > 3 && w[n-1] == w[n-2] && !strings.ContainsRune("aeiouls", rune(w[n-1])) {
		w = w[:n-1] // planning → plann → plan
	}
	return w
}

// negations mark the next words as ruled out (in a purpose) or as not done
// (in an intent).
var negations = map[string]bool{"never": true, "not": true, "no": true, "don't": true, "dont": true, "without": true, "nor": true, "mustn't": true, "won't": true, "cannot": true, "can't": true}

// ruledOut is the stems a purpose forbids: every content word after a
// negation, to the end of its clause ("never send", "do not pay supplier
// invoices"). Broad on purpose: mentioning what a purpose rules out sends
// the request to a human rather than through.
func ruledOut(purpose string) []string {
	var out []string
	for _, clause := range strings.FieldsFunc(normalise(purpose), func(r rune) bool { return strings.ContainsRune(".;:!?()", r) }) {
		ws := words(clause)
		for i, w := range ws {
			if !negations[w] {
				continue
			}
			for _, rest := range ws[i+1:] {
				out = append(out, content(rest)...)
			}
			break
		}
	}
	return out
}

// usesRuledOut returns a ruled-out stem the intent uses outside a negation
// (within three words after "not", "never", ...), or "".
func usesRuledOut(intent string, banned []string) string {
	if len(banned) == 0 {
		return ""
	}
	ws := words(intent)
	for i, w := range ws {
		c := content(w)
		if len(c) == 0 || !slices.Contains(banned, c[0]) {
			continue
		}
		negated := false
		for j := max(0, i-3); j < i; j++ {
			negated = negated || negations[ws[j]]
		}
		if !negated {
			return w
		}
	}
	return ""
}
