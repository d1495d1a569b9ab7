package llm_test

import (
	"testing"

	"github.com/mandate-dev/mandate/examples/intent-llm/llm"
	"github.com/mandate-dev/mandate/intent"
)

// Whatever the model says, an accepted answer is inside the contract.
func FuzzParseAnswer(f *testing.F) {
	for _, s := range []string{
		`{"verdict":"allow","reason":"ok","confidence":1}`,
		`{"verdict":"deny","reason":"","confidence":0,"verdict":"allow"}`,
		`{"verdict":"escalate","reason":"x","confidence":0.5} `,
		`{"a":{"b":[1,2]}}`, `[]`, `{`, `{1:2}`, `null`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		a, err := llm.ParseAnswer(s)
		if err != nil {
			return
		}
		if (a.Verdict != intent.Allow && a.Verdict != intent.Deny && a.Verdict != intent.Escalate) ||
			a.Confidence < 0 || a.Confidence > 1 || len(a.Reason) > llm.MaxReasonBytes {
			t.Fatalf("%q gave %+v", s, a)
		}
	})
}
