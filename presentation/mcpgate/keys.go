package mcpgate

import (
	"encoding/json"
	"fmt"
	"strings"
	"unicode"
)

// checkKeys refuses arguments whose keys could be read as another argument
// than the one the gateway decided on. Go's encoding/json (and many other
// decoders) match an object's keys to fields without regard to case, with
// Unicode folding ("ſ" is "s", "K" is "k"), and take the last match: sent
// {"channel":"general","Channel":"leadership"}, the gateway would decide on
// #general and such an upstream would read #leadership. So no two keys may
// be equal under case folding, and a key that folds to a name the gateway
// reads (a template argument, the justification) must be that name exactly.
func checkKeys(args map[string]json.RawMessage, names []string) error {
	seen := make(map[string]string, len(args)+len(names))
	for _, n := range names {
		seen[foldKey(n)] = n
	}
	for _, k := range sortedKeys(args) {
		f := foldKey(k)
		if other, ok := seen[f]; ok && other != k {
			return fmt.Errorf("mcpgate: arguments %.64q and %.64q differ only by case", other, k)
		}
		seen[f] = k
	}
	return nil
}

// foldKey maps s to one representative of its case-folding class: two
// strings have the same foldKey exactly when strings.EqualFold holds.
func foldKey(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		least := r
		for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
			least = min(least, f)
		}
		b.WriteRune(least)
	}
	return b.String()
}
