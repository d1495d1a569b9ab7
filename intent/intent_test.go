package intent_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/mandate-dev/mandate/intent"
)

// fixed is a checker with a set answer, a real implementation of the interface.
type fixed struct {
	name  string
	a     intent.Answer
	err   error
	hang  bool
	panic bool
}

func (f fixed) Name() string { return f.name }
func (f fixed) Check(_ context.Context, _ intent.Request) (intent.Answer, error) {
	if f.panic {
		panic("boom")
	}
	if f.hang {
		select {} // a checker that never answers and ignores its context
	}
	return f.a, f.err
}

func TestRunCombines(t *testing.T) {
	allow := fixed{name: "a", a: intent.Answer{Verdict: intent.Allow, Reason: "on purpose"}}
	esc := fixed{name: "e", a: intent.Answer{Verdict: intent.Escalate, Reason: "unsure"}}
	den := fixed{name: "d", a: intent.Answer{Verdict: intent.Deny, Reason: "off purpose"}}
	cases := []struct {
		name     string
		checkers []intent.Checker
		want     intent.Verdict
		reason   string
	}{
		{"none is a deny", nil, intent.Deny, "intent: no checkers configured"},
		{"all allow", []intent.Checker{allow, allow}, intent.Allow, ""},
		{"escalate over allow", []intent.Checker{allow, esc}, intent.Escalate, "e: unsure"},
		{"deny wins over escalate", []intent.Checker{esc, den}, intent.Deny, "d: off purpose"},
		{"error is a deny", []intent.Checker{allow, fixed{name: "x", err: errors.New("down")}}, intent.Deny, "x failed: down"},
		{"panic is a deny", []intent.Checker{fixed{name: "p", panic: true}}, intent.Deny, "p failed: intent: checker panicked: boom"},
		{"unknown verdict is a deny", []intent.Checker{fixed{name: "u", a: intent.Answer{Verdict: 7}}}, intent.Deny, "u: unknown verdict 7"},
		{"hang is a deny", []intent.Checker{fixed{name: "h", hang: true}}, intent.Deny, "h failed: intent: no answer within 20ms: context deadline exceeded"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := intent.Run(context.Background(), c.checkers, intent.Request{Action: "slack:read"}, 20*time.Millisecond)
			if r.Verdict != c.want || r.Reason != c.reason {
				t.Fatalf("got %s %q, want %s %q", r.Verdict, r.Reason, c.want, c.reason)
			}
		})
	}
}
