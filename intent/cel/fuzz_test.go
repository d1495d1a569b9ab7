package cel_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/mandate-dev/mandate/intent/cel"
)

// FuzzCondition: any expression and any context value either compiles to a
// bool condition or is refused; evaluation ends (cost and time bounded)
// with true, ErrFalse or an error, and never panics.
func outcome(err error) string {
	switch {
	case err == nil:
		return "true"
	case errors.Is(err, cel.ErrFalse):
		return "false"
	case strings.Contains(err.Error(), "cannot be evaluated"):
		return "error" // cost and time limits may differ between runs
	}
	return "refused"
}

func FuzzCondition(f *testing.F) {
	for _, s := range []string{
		`int(context.amount) <= 5000`, `now.getHours() < 18`, `purposes[0].lowerAscii().contains("invoice")`,
		`[1,2,3].all(a, [1,2,3].all(b, a+b > 0))`, `"a".repeat(100000) == ""`, `context.x.matches("^(a+)+$")`,
		`size(chain) > 0 && grant.id.startsWith("urn:")`, `1 +`, `(((((true)))))`, `action`,
	} {
		f.Add(s, "12")
	}
	e, err := cel.NewEngine(cel.EngineOptions{CostLimit: 10_000})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, expr, value string) {
		r := request()
		r.Context = map[string]string{"amount": value, "x": value}
		first := outcome(e.Eval(context.Background(), expr, r))
		// A refused expression is refused at compile time too, and the
		// cached program answers as the first did.
		if first == "refused" && e.Compile(expr) == nil {
			if again := outcome(e.Eval(context.Background(), expr, r)); again != "refused" && again != "error" {
				t.Fatalf("%q: refused, then %s", expr, again)
			}
		}
		if first != "refused" {
			if again := outcome(e.Eval(context.Background(), expr, r)); again != first && !(first == "error" || again == "error") {
				t.Fatalf("%q: %s, then %s", expr, first, again)
			}
		}
	})
}
