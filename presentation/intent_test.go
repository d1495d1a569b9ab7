package presentation_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/dgraph-io/badger/v4"

	"github.com/mandate-dev/mandate/credentials"
	"github.com/mandate-dev/mandate/did"
	"github.com/mandate-dev/mandate/intent"
	"github.com/mandate-dev/mandate/intent/cel"
	"github.com/mandate-dev/mandate/intent/lexical"
	"github.com/mandate-dev/mandate/presentation"
)

// answering is a checker with a set behaviour: a real implementation of
// intent.Checker, not a mock of the verifier.
type answering struct {
	name  string
	a     intent.Answer
	hang  bool
	panic bool
	seen  *intent.Request
}

func (c answering) Name() string { return c.name }
func (c answering) Check(ctx context.Context, r intent.Request) (intent.Answer, error) {
	if c.seen != nil {
		*c.seen = r
	}
	if c.panic {
		panic("checker bug")
	}
	if c.hang {
		<-make(chan struct{}) // ignores its context, as a stuck plugin would
	}
	return c.a, nil
}

func withIntent(p presentation.IntentPolicy) func(*presentation.Config) {
	return func(c *presentation.Config) { c.Intent = p }
}

func calendar(hour string) presentation.Request {
	r := presentation.Request{Action: "calendar:write", Resource: "calendar:alice/work", Intent: "book the team sync"}
	if hour != "" {
		r.Context = map[string]string{"hour": hour}
	}
	return r
}

// Grant conditions are enforced with no checker configured: true allows,
// false and "cannot be evaluated" deny with CONDITION_FAILED.
func TestGrantConditions(t *testing.T) {
	cases := []struct {
		hour    string
		outcome presentation.Outcome
		reason  presentation.Reason
		message string
	}{
		{"10", presentation.Allow, "", ""},
		{"20", presentation.Deny, presentation.ReasonConditionFailed, "grant urn:mandate:grant:calendar: cel: condition is false: int(context.hour) < 18"},
		{"", presentation.Deny, presentation.ReasonConditionFailed, `grant urn:mandate:grant:calendar: cel: condition "int(context.hour) < 18" cannot be evaluated: no such key: hour`},
		{"ten", presentation.Deny, presentation.ReasonConditionFailed, `grant urn:mandate:grant:calendar: cel: condition "int(context.hour) < 18" cannot be evaluated: type conversion error from 'string' to 'int'`},
	}
	for _, c := range cases {
		t.Run("hour="+c.hour, func(t *testing.T) {
			f := newFixture(t)
			req := calendar(c.hour)
			d := f.v.Authorize(context.Background(), f.present(t, assistant, []*credentials.Credential{f.root}, req), req)
			expect(t, d, c.outcome, c.reason)
			if d.Message != c.message {
				t.Fatalf("message = %q, want %q", d.Message, c.message)
			}
		})
	}
}

// A pathological condition in a grant stops at the cost limit: a DENY.
func TestGrantConditionCostLimit(t *testing.T) {
	f := newFixture(t)
	expr := `[1,2,3,4,5,6,7,8,9,10].all(a, [1,2,3,4,5,6,7,8,9,10].all(b, [1,2,3,4,5,6,7,8,9,10].all(c, [1,2,3,4,5,6,7,8,9,10].all(d, [1,2,3,4,5,6,7,8,9,10].all(e, a+b+c+d+e > 0)))))`
	root, err := credentials.Issue(alice, credentials.Template{
		Subject: assistant.DID(), Purpose: "Keep Alice's calendar",
		Grants: []credentials.Grant{{ID: "urn:mandate:grant:cal", Action: "calendar:write", Resource: "calendar:alice/*",
			Constraints: credentials.Constraints{Conditions: []string{expr}}}},
	}, f.issued)
	if err != nil {
		t.Fatal(err)
	}
	req := calendar("10")
	d := f.v.Authorize(context.Background(), f.present(t, assistant, []*credentials.Credential{root}, req), req)
	expect(t, d, presentation.Deny, presentation.ReasonConditionFailed)
	// The cost limit stops it; on a slow run (the race detector) the 50 ms
	// deadline may come first. Either bound is a DENY, never a pass.
	if !strings.HasSuffix(d.Message, "cannot be evaluated: operation cancelled: actual cost limit exceeded") &&
		!strings.HasSuffix(d.Message, "cannot be evaluated: operation interrupted: context deadline exceeded") {
		t.Fatalf("message = %q", d.Message)
	}
}

func TestIntentStage(t *testing.T) {
	allow := answering{name: "ok", a: intent.Answer{Verdict: intent.Allow, Reason: "on purpose", Confidence: 0.9}}
	offPurpose := answering{name: "strict", a: intent.Answer{Verdict: intent.Deny, Reason: "reading mail to profile Bob is not inbox organising", Confidence: 0.8}}
	unsure := answering{name: "unsure", a: intent.Answer{Verdict: intent.Escalate, Reason: "cannot tell", Confidence: 0.4}}
	policyCEL, err := cel.New(cel.Config{Conditions: []string{`!intent.lowerAscii().contains("bank")`}})
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name     string
		policy   presentation.IntentPolicy
		intent   string
		outcome  presentation.Outcome
		reasons  []presentation.Reason
		message  string
		verdicts string
	}{
		{"all allow", presentation.IntentPolicy{Checkers: []intent.Checker{allow, policyCEL}}, "summarise today's mail",
			presentation.Allow, nil, "", "ok:allow cel:allow"},
		{"deny wins", presentation.IntentPolicy{Checkers: []intent.Checker{allow, offPurpose, unsure}}, "summarise today's mail",
			presentation.Deny, []presentation.Reason{presentation.ReasonIntentMismatch}, "strict: reading mail to profile Bob is not inbox organising", "ok:allow strict:deny"},
		{"cel policy condition false", presentation.IntentPolicy{Checkers: []intent.Checker{policyCEL}}, "find Alice's bank statements",
			presentation.Deny, []presentation.Reason{presentation.ReasonIntentMismatch}, `cel: condition is false: !intent.lowerAscii().contains("bank")`, "cel:deny"},
		{"escalate asks a human", presentation.IntentPolicy{Checkers: []intent.Checker{allow, unsure}}, "summarise today's mail",
			presentation.NeedsApproval, []presentation.Reason{presentation.ReasonIntentUncertain}, "", "ok:allow unsure:escalate"},
		{"a hung checker is a deny within the timeout", presentation.IntentPolicy{Checkers: []intent.Checker{answering{name: "stuck", hang: true}}, Timeout: 50 * time.Millisecond}, "summarise today's mail",
			presentation.Deny, []presentation.Reason{presentation.ReasonIntentCheckFailed}, "stuck failed: intent: no answer within 50ms: context deadline exceeded", "stuck:error"},
		{"a crashing checker is a deny", presentation.IntentPolicy{Checkers: []intent.Checker{answering{name: "buggy", panic: true}}}, "summarise today's mail",
			presentation.Deny, []presentation.Reason{presentation.ReasonIntentCheckFailed}, "buggy failed: intent: checker panicked: checker bug", "buggy:error"},
		{"a failed checker escalates when the policy says so", presentation.IntentPolicy{Checkers: []intent.Checker{answering{name: "buggy", panic: true}}, OnError: intent.Escalate}, "summarise today's mail",
			presentation.NeedsApproval, []presentation.Reason{presentation.ReasonIntentUncertain}, "", "buggy:error"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := newFixture(t, withIntent(c.policy))
			req := readMail()
			req.Intent = c.intent
			start := time.Now()
			d := f.v.Authorize(context.Background(), f.present(t, assistant, []*credentials.Credential{f.root}, req), req)
			if took := time.Since(start); took > 5*time.Second {
				t.Fatalf("decision took %s", took)
			}
			if d.Outcome != c.outcome || !equalReasons(d.Reasons, c.reasons) {
				t.Fatalf("got %s %v (%s), want %s %v", d.Outcome, d.Reasons, d.Message, c.outcome, c.reasons)
			}
			if c.message != "" && d.Message != c.message {
				t.Fatalf("message = %q, want %q", d.Message, c.message)
			}
			if got := verdicts(d.Checks); got != c.verdicts {
				t.Fatalf("checks = %q, want %q", got, c.verdicts)
			}
			// The audit record carries the same verdicts.
			seq, _ := strconv.ParseUint(d.AuditID, 10, 64)
			rec, err := f.v.AuditLog().Get(seq)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, cv := range rec.Checkers {
				got = append(got, cv.Name+":"+cv.Verdict)
			}
			if strings.Join(got, " ") != c.verdicts {
				t.Fatalf("audit checkers = %v, want %q", got, c.verdicts)
			}
		})
	}
}

// The checkers see the whole chain: purposes root first, the leaf grant,
// principal, actor, chain ids and the verifier's clock.
func TestIntentRequestSeen(t *testing.T) {
	var seen intent.Request
	spy := answering{name: "spy", a: intent.Answer{Verdict: intent.Allow}, seen: &seen}
	f := newFixture(t, withIntent(presentation.IntentPolicy{Checkers: []intent.Checker{spy}}))
	chain := []*credentials.Credential{f.root, f.child}
	d := f.v.Authorize(context.Background(), f.present(t, summarizer, chain, readMail()), readMail())
	expect(t, d, presentation.Allow, "")
	want := intent.Request{
		Action: "email:read", Resource: "mailbox:alice/inbox", Intent: "summarise today's mail",
		Purposes:  []string{"Keep Alice's inbox organised", "Summarise Alice's inbox"},
		Grant:     intent.Grant{ID: "urn:mandate:grant:email-read", Action: "email:read", Resource: "mailbox:alice/*"},
		Principal: alice.DID(), Actor: summarizer.DID(), Chain: []string{f.root.ID, f.child.ID}, Time: f.now,
	}
	g, _ := json.Marshal(seen)
	w, _ := json.Marshal(want)
	if !bytes.Equal(g, w) {
		t.Fatalf("checker saw\n%s\nwant\n%s", g, w)
	}
}

// An escalation is answered by the principal's signed approval, bound to
// the request and single-use, as for a grant that requires approval.
func TestIntentEscalationApproved(t *testing.T) {
	unsure := answering{name: "unsure", a: intent.Answer{Verdict: intent.Escalate, Reason: "cannot tell"}}
	f := newFixture(t, withIntent(presentation.IntentPolicy{Checkers: []intent.Checker{unsure}}))
	ctx := context.Background()
	req := readMail()
	d := f.v.Authorize(ctx, f.present(t, assistant, []*credentials.Credential{f.root}, req), req)
	expect(t, d, presentation.NeedsApproval, presentation.ReasonIntentUncertain)
	if !strings.HasPrefix(d.Message, "intent uncertain (unsure: cannot tell): request "+d.ApprovalID+" waits for") {
		t.Fatalf("message = %q", d.Message)
	}
	r, err := f.v.Approval(d.ApprovalID)
	if err != nil {
		t.Fatal(err)
	}
	answer, err := presentation.SignAnswer(alice, r, true, 10*time.Minute, f.now)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.v.Answer(ctx, d.ApprovalID, answer); err != nil {
		t.Fatal(err)
	}
	d = f.v.Authorize(ctx, f.present(t, assistant, []*credentials.Credential{f.root}, req), req, presentation.WithApproval(answer))
	expect(t, d, presentation.Allow, "")
	d = f.v.Authorize(ctx, f.present(t, assistant, []*credentials.Credential{f.root}, req), req, presentation.WithApproval(answer))
	expect(t, d, presentation.Deny, presentation.ReasonReplay)
}

// A grant that requires approval and an uncertain intent: both reasons.
func TestIntentEscalationOnApprovalGrant(t *testing.T) {
	unsure := answering{name: "unsure", a: intent.Answer{Verdict: intent.Escalate, Reason: "cannot tell"}}
	f := newFixture(t, withIntent(presentation.IntentPolicy{Checkers: []intent.Checker{unsure}}))
	req := presentation.Request{Action: "email:draft", Resource: "mailbox:alice/drafts", Intent: "draft a reply to Bob"}
	d := f.v.Authorize(context.Background(), f.present(t, assistant, []*credentials.Credential{f.root}, req), req)
	want := []presentation.Reason{presentation.ReasonApprovalRequired, presentation.ReasonIntentUncertain}
	if d.Outcome != presentation.NeedsApproval || !equalReasons(d.Reasons, want) {
		t.Fatalf("got %s %v, want NEEDS_APPROVAL %v", d.Outcome, d.Reasons, want)
	}
}

func TestIntentPolicyValidate(t *testing.T) {
	cases := []struct {
		p    presentation.IntentPolicy
		want string
	}{
		{presentation.IntentPolicy{OnError: intent.Allow}, "presentation: config: intent OnError must be deny or escalate, not allow"},
		{presentation.IntentPolicy{Timeout: time.Minute}, "presentation: config: intent timeout must be 0..30s"},
		{presentation.IntentPolicy{Checkers: []intent.Checker{nil}}, "presentation: config: intent checker 0 is nil"},
		{presentation.IntentPolicy{Checkers: make([]intent.Checker, 9)}, "presentation: config: at most 8 intent checkers"},
	}
	for _, c := range cases {
		cfg := presentation.Config{
			Audience: "https://mail.example", Resolver: did.KeyResolver{}, TrustedRoots: []string{alice.DID()},
			Store: &badger.DB{}, Signer: verifierKey, Intent: c.p,
		}
		if err := cfg.Validate(); err == nil || err.Error() != c.want {
			t.Errorf("got %v, want %q", err, c.want)
		}
	}
}

func equalReasons(a, b []presentation.Reason) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func verdicts(cs []presentation.CheckerVerdict) string {
	var out []string
	for _, c := range cs {
		out = append(out, c.Checker+":"+c.Verdict)
	}
	return strings.Join(out, " ")
}

// At delegation the child's purpose is checked against the purposes above
// it: a child outside them is refused before it is signed.
func TestPurposeCheckAtDelegation(t *testing.T) {
	f := newFixture(t)
	lex, err := lexical.New(lexical.Config{})
	if err != nil {
		t.Fatal(err)
	}
	opts := f.issued
	opts.CheckPurpose = presentation.PurposeCheck(presentation.IntentPolicy{Checkers: []intent.Checker{lex}}, func() time.Time { return t0 })
	grants := []credentials.Grant{{ID: "urn:mandate:grant:email-read", Action: "email:read", Resource: "mailbox:alice/*"}}
	if _, err := credentials.Delegate(assistant, []*credentials.Credential{f.root}, credentials.Template{
		Subject: summarizer.DID(), Purpose: "Summarise Alice's inbox", Grants: grants,
	}, opts); err != nil {
		t.Fatalf("on-purpose child refused: %v", err)
	}
	_, err = credentials.Delegate(assistant, []*credentials.Credential{f.root}, credentials.Template{
		Subject: summarizer.DID(), Purpose: "Profile everyone who writes to her for a marketing list", Grants: grants,
	}, opts)
	want := `credentials: refused at issuance: credentials: purpose outside the parent's: "Profile everyone who writes to her for a marketing list" for grant urn:mandate:grant:email-read: lexical: 0% of the intent's words are in purpose 1 or the grant (missed: profil, everyon, writ, market, list) (deny)`
	if !errors.Is(err, credentials.ErrPurposeOutside) || err.Error() != want {
		t.Fatalf("got %v\nwant %s", err, want)
	}
}
