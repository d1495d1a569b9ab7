package lexical_test

import (
	"strings"
	"testing"

	"github.com/mandate-dev/mandate/intent/lexical"
)

// Each group must reduce to one word: the forms a purpose and an intent
// write for the same thing.
func TestWordForms(t *testing.T) {
	groups := []string{
		"reply replies replied replying",
		"summarise summarising summarised summarize summarizing summary",
		"invoice invoices invoiced",
		"organise organised organising organize",
		"meeting meetings",
		"review reviewing reviewed reviews",
		"draft drafts drafting drafted",
		"book booking booked",
		"schedule scheduling scheduled",
		"channel channels",
		"email emails mail",
		"comment comments commenting commented",
		"payment payments pay paying paid",
		"manage managing managed management",
	}
	for _, g := range groups {
		forms := strings.Fields(g)
		want := lexical.Content(forms[0])
		for _, f := range forms[1:] {
			if got := lexical.Content(f); strings.Join(got, " ") != strings.Join(want, " ") {
				t.Errorf("%s -> %v, but %s -> %v", f, got, forms[0], want)
			}
		}
	}
	if got := lexical.Content("The agent will NOT send it to them, today"); strings.Join(got, " ") != "agent send" {
		t.Errorf("stop words and negations: %v", got)
	}
}
