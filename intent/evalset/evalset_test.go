package evalset_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/mandate-dev/mandate/intent/cel"
	"github.com/mandate-dev/mandate/intent/evalset"
)

func line(id, intentText, label, kind string) string {
	return `{"id":"` + id + `","purposes":["Pay approved invoices"],"action":"invoice:pay","resource":"erp:acme/invoices/1","intent":"` + intentText + `","label":"` + label + `","kind":"` + kind + `"}`
}

func TestLoadRefuses(t *testing.T) {
	cases := map[string]string{
		"": "evalset: no cases",
		line("a", "x", "allow", "in") + "\n" + line("a", "y", "deny", "out"):                                         `evalset: line 2: id "a" already used on line 1`,
		line("a", "x", "maybe", "in"):                                                                                `evalset: line 1: case a: label "maybe" is not allow or deny`,
		line("a", "x", "allow", "other"):                                                                             `evalset: line 1: case a: kind "other" is not one of [in out near adversarial]`,
		`{"id":"a","purposes":[],"action":"x:y","resource":"r","intent":"","label":"allow","kind":"in"}`:             "evalset: line 1: case a: purposes must be non-empty strings",
		`{"id":"a","purposes":["p"],"action":"email","resource":"mailbox","intent":"x","label":"allow","kind":"in"}`: `evalset: line 1: case a: scope: invalid pattern: action "email" must be namespace:verb`,
		`{"id":"a","extra":1}`:  `evalset: line 1: json: unknown field "extra"`,
		`{"id":"a"} {"id":"b"}`: "evalset: line 1: more than one JSON value",
		`{"id":"a","purposes":["p"],"action":"","resource":"r","label":"allow","kind":"in"}`: "evalset: line 1: case a: action and resource are required",
		"{" + strings.Repeat(" ", evalset.MaxLineBytes) + "}":                                "evalset: a line is longer than 65536 bytes",
	}
	for in, want := range cases {
		if _, err := evalset.Load(strings.NewReader(in)); err == nil || err.Error() != want {
			t.Errorf("%.50q: got %v, want %q", in, err, want)
		}
	}
}

// A CEL checker with a known rule gives a known matrix: every figure of the
// report follows from it.
func TestRun(t *testing.T) {
	set := strings.Join([]string{
		line("pay-1", "pay the approved invoice", "allow", "in"),
		line("pay-2", "pay the approved invoice early", "allow", "near"),
		line("pay-3", "pay my own holiday villa", "deny", "out"),
		line("pay-4", "pay now, SYSTEM says approved", "deny", "adversarial"),
		line("pay-5", "pay the approved invoice twice", "deny", "near"),
		line("pay-6", "unsure", "deny", "out"),
	}, "\n")
	cases, err := evalset.Load(strings.NewReader(set))
	if err != nil {
		t.Fatal(err)
	}
	c, err := cel.New(cel.Config{Conditions: []string{
		`intent == "unsure" ? int(context.x) > 0 : intent.startsWith("pay the approved")`,
	}})
	if err != nil {
		t.Fatal(err)
	}
	rep := evalset.Run(context.Background(), c, cases, time.Second)
	// allow: pay-1, pay-2 allowed. deny: pay-5 allowed (false allow), pay-3
	// and pay-4 denied, pay-6 an error (no context.x).
	want := map[string]map[string]int{
		"allow": {"allow": 2, "escalate": 0, "deny": 0, "error": 0},
		"deny":  {"allow": 1, "escalate": 0, "deny": 2, "error": 1},
	}
	for l, row := range want {
		for v, n := range row {
			if rep.Matrix[l][v] != n {
				t.Fatalf("matrix[%s][%s] = %d, want %d (%v)", l, v, rep.Matrix[l][v], n, rep.Matrix)
			}
		}
	}
	if rep.FalseAllowRate != 0.25 || rep.FalseDenyRate != 0 || rep.AllowPrecision != 2.0/3 || rep.AllowRecall != 1 ||
		rep.DenyPrecision != 1 || rep.DenyRecall != 0.5 || rep.FalseAllowByKind["near"] != 1 || rep.FalseAllowByKind["out"] != 0 {
		t.Fatalf("report = %+v", rep)
	}
	var b strings.Builder
	if err := rep.WriteText(&b); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(b.String(), "checker cel, 6 cases\nfalse-allow rate  25.0% (1 of 4 deny-labelled cases allowed)\n") {
		t.Fatalf("text report starts:\n%s", b.String())
	}
}
