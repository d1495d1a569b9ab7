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
// Besides case folding (Go's EqualFold), keys that the simple case
// mappings join are refused too: "İ" and "ı" fold only to themselves but
// lower to "i" and upper to "I", as Go's strings.ToLower and ToUpper, Java's
// equalsIgnoreCase and JavaScript's toUpperCase read them.
func checkKeys(args map[string]json.RawMessage, names []string) error {
	forms := []func(string) string{foldKey, strings.ToLower, strings.ToUpper}
	seen := make([]map[string]string, len(forms))
	for i := range seen {
		seen[i] = make(map[string]string, len(args)+len(names))
	}
	add := func(k string) error {
		for i, form := range forms {
			f := form(k)
			if other, ok := seen[i][f]; ok && other != k {
				return fmt.Errorf("mcpgate: arguments %.64q and %.64q differ only by case", other, k)
			}
			seen[i][f] = k
		}
		return nil
	}
	for _, n := range names {
		if err := add(n); err != nil {
			return err
		}
	}
	for _, k := range sortedKeys(args) {
		if err := add(k); err != nil {
			return err
		}
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
