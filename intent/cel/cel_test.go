package cel_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/mandate-dev/mandate/intent"
	"github.com/mandate-dev/mandate/intent/cel"
)

func request() intent.Request {
	return intent.Request{
		Action: "invoice:pay", Resource: "erp:acme/invoices/INV-7", Intent: "pay the approved invoice",
		Context:   map[string]string{"amount": "1200", "supplier": "globex"},
		Purposes:  []string{"Pay approved supplier invoices"},
		Grant:     intent.Grant{ID: "urn:mandate:grant:pay", Action: "invoice:pay", Resource: "erp:acme/invoices/*"},
		Principal: "did:key:zAcme", Actor: "did:key:zAgent", Chain: []string{"urn:uuid:1"},
		Time: time.Date(2026, 12, 3, 14, 0, 0, 0, time.UTC),
	}
}

func engine(t *testing.T, o cel.EngineOptions) *cel.Engine {
	t.Helper()
	e, err := cel.NewEngine(o)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func TestEval(t *testing.T) {
	e := engine(t, cel.EngineOptions{})
	cases := []struct {
		expr string
		want string // "" true; otherwise the error text
	}{
		{`int(context.amount) <= 5000`, ""},
		{`context.supplier in ["globex", "initech"] && action == grant.action`, ""},
		{`now.getHours() >= 9 && now.getHours() < 18`, ""},
		{`purposes[0].lowerAscii().contains("invoice")`, ""},
		{`int(context.amount) <= 1000`, `cel: condition is false: int(context.amount) <= 1000`},
		// A fact the condition needs and the request lacks is an error, not a default.
		{`context.currency == "EUR"`, `cel: condition "context.currency == \"EUR\"" cannot be evaluated: no such key: currency`},
		{`int(context.supplier) > 0`, `cel: condition "int(context.supplier) > 0" cannot be evaluated: type conversion error from 'string' to 'int'`},
		{`context.amount`, `cel: condition "context.amount" is of type string, not bool`},
		{`amount < 10`, "undeclared reference to 'amount'"},
		{`1 +`, "does not compile"},
	}
	for _, c := range cases {
		t.Run(c.expr, func(t *testing.T) {
			err := e.Eval(context.Background(), c.expr, request())
			switch {
			case c.want == "" && err != nil:
				t.Fatalf("got %v, want true", err)
			case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
				t.Fatalf("got %v, want an error containing %q", err, c.want)
			}
		})
	}
	if err := e.Eval(context.Background(), `int(context.amount) <= 1000`, request()); !errors.Is(err, cel.ErrFalse) {
		t.Fatalf("false condition: %v is not ErrFalse", err)
	}
}

// A pathological condition stops at the cost limit: an error, so a deny.
func TestCostLimitStopsPathologicalCondition(t *testing.T) {
	expr := `[1,2,3,4,5,6,7,8,9,10].all(a, [1,2,3,4,5,6,7,8,9,10].all(b, [1,2,3,4,5,6,7,8,9,10].all(c, [1,2,3,4,5,6,7,8,9,10].all(d, a+b+c+d > 0))))`
	// A generous deadline, so that the cost limit is what stops it even
	// under the race detector.
	e := engine(t, cel.EngineOptions{CostLimit: 10_000, Timeout: 10 * time.Second})
	err := e.Eval(context.Background(), expr, request())
	if err == nil || !strings.HasSuffix(err.Error(), "cannot be evaluated: operation cancelled: actual cost limit exceeded") {
		t.Fatalf("got %v, want the cost limit", err)
	}
	// The same through the checker: an error, which intent.Run makes a deny.
	c, err := cel.Factory(json.RawMessage(`{"conditions":[` + strconvQuote(expr) + `],"costLimit":10000,"timeoutMillis":10000}`))
	if err != nil {
		t.Fatal(err)
	}
	res := intent.Run(context.Background(), []intent.Checker{c}, request(), time.Second)
	if res.Verdict != intent.Deny || !strings.Contains(res.Reason, "cel failed: cel: condition") || !strings.Contains(res.Reason, "cost limit exceeded") {
		t.Fatalf("got %s %q", res.Verdict, res.Reason)
	}
}

func strconvQuote(s string) string { b, _ := json.Marshal(s); return string(b) }

func TestLimitsAtCompile(t *testing.T) {
	e := engine(t, cel.EngineOptions{})
	long := `action == "` + strings.Repeat("a", cel.MaxConditionBytes) + `"`
	if err := e.Compile(long); err == nil || err.Error() != "cel: condition is 1036 bytes, limit 1024" {
		t.Fatalf("long: %v", err)
	}
	deep := strings.Repeat("(", 40) + "true" + strings.Repeat(")", 40)
	if err := e.Compile(deep); err == nil || !strings.Contains(err.Error(), "recursion") {
		t.Fatalf("deep: %v", err)
	}
}

func TestChecker(t *testing.T) {
	cases := []struct {
		name, config string
		grantConds   []string
		verdict      intent.Verdict
		reason, err  string
	}{
		{"no conditions allow", `{}`, nil, intent.Allow, "0 conditions hold", ""},
		{"policy and grant hold", `{"conditions":["context.supplier != \"\""]}`, []string{`int(context.amount) < 2000`}, intent.Allow, "2 conditions hold", ""},
		{"grant condition false", `{}`, []string{`int(context.amount) < 1000`}, intent.Deny, "condition is false: int(context.amount) < 1000", ""},
		{"policy false escalates", `{"conditions":["context.supplier == \"initech\""],"onFalse":"escalate"}`, nil, intent.Escalate, `condition is false: context.supplier == "initech"`, ""},
		{"grant error is an error even with escalate", `{"onFalse":"escalate"}`, []string{`context.missing == "x"`}, intent.Deny, "", "no such key: missing"},
		{"grant condition that does not compile", `{}`, []string{`action ==`}, intent.Deny, "", "does not compile"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ch, err := cel.Factory(json.RawMessage(c.config))
			if err != nil {
				t.Fatal(err)
			}
			r := request()
			r.Grant.Conditions = c.grantConds
			a, err := ch.Check(context.Background(), r)
			if c.err != "" {
				if err == nil || !strings.Contains(err.Error(), c.err) {
					t.Fatalf("got %v, want error %q", err, c.err)
				}
				return
			}
			if err != nil || a.Verdict != c.verdict || a.Reason != c.reason {
				t.Fatalf("got %s %q %v, want %s %q", a.Verdict, a.Reason, err, c.verdict, c.reason)
			}
		})
	}
}

func TestFactoryRefuses(t *testing.T) {
	cases := map[string]string{
		`{"conditions":["action =="]}`: "does not compile",
		`{"onFalse":"allow"}`:          `cel: onFalse "allow" is not deny or escalate`,
		`{"condition":["true"]}`:       `configuration: json: unknown field "condition"`,
		`{"timeoutMillis":20000}`:      "cel: timeoutMillis must be 0..10000",
		`{} {}`:                        "configuration: trailing data",
	}
	for config, want := range cases {
		_, err := cel.Factory(json.RawMessage(config))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: got %v, want %q", config, err, want)
		}
	}
}
