package intent

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Verdict is a checker's answer. The zero value is Deny.
type Verdict int

// Verdicts.
const (
	Deny Verdict = iota
	Allow
	Escalate
)

func (v Verdict) String() string {
	switch v {
	case Allow:
		return "allow"
	case Escalate:
		return "escalate"
	default:
		return "deny"
	}
}

// Request is what a checker sees: the concrete request, the agent's stated
// reason, and what the chain says the power is for.
type Request struct {
	Action    string
	Resource  string
	Intent    string            // the agent's stated reason (free text, untrusted)
	Context   map[string]string // structured request context
	Purposes  []string          // declared purpose of every link, root first
	Grant     Grant             // the leaf grant that covers the request
	Principal string            // the root principal's DID
	Actor     string            // the presenting agent's DID
	Chain     []string          // credential ids, root first
	Time      time.Time         // when the verifier decides (its clock)
}

// Grant is the part of a PoA grant a checker may look at.
type Grant struct {
	ID         string
	Action     string
	Resource   string
	Conditions []string // CEL conditions of the grant (kept by every child)
}

// Answer is one checker's verdict.
type Answer struct {
	Verdict    Verdict
	Reason     string
	Confidence float64 // 0..1
}

// Checker judges a request against the declared purposes.
type Checker interface {
	Name() string
	Check(ctx context.Context, r Request) (Answer, error)
}

// Named is one checker's answer, kept for the decision record.
type Named struct {
	Checker string
	Answer  Answer
	Err     error
}

// Result is the combined verdict and every checker's part in it.
type Result struct {
	Verdict Verdict
	Reason  string
	Answers []Named
}

// ErrNoCheckers is the reason when nothing was asked: that is a deny.
var ErrNoCheckers = errors.New("intent: no checkers configured")

// Run asks every checker (each within timeout) and combines the answers.
func Run(ctx context.Context, checkers []Checker, r Request, timeout time.Duration) Result {
	if len(checkers) == 0 {
		return Result{Verdict: Deny, Reason: ErrNoCheckers.Error()}
	}
	res := Result{Verdict: Allow}
	for _, c := range checkers {
		a, err := ask(ctx, c, r, timeout)
		res.Answers = append(res.Answers, Named{Checker: c.Name(), Answer: a, Err: err})
		switch {
		case err != nil:
			return deny(res, fmt.Sprintf("%s failed: %v", c.Name(), err))
		case a.Verdict == Deny:
			return deny(res, fmt.Sprintf("%s: %s", c.Name(), a.Reason))
		case a.Verdict == Escalate && res.Verdict == Allow:
			res.Verdict, res.Reason = Escalate, fmt.Sprintf("%s: %s", c.Name(), a.Reason)
		case a.Verdict != Allow && a.Verdict != Escalate:
			return deny(res, fmt.Sprintf("%s: unknown verdict %d", c.Name(), a.Verdict))
		}
	}
	return res
}

func deny(res Result, reason string) Result {
	res.Verdict, res.Reason = Deny, reason
	return res
}

// ask runs one checker with a deadline; a panic or a late answer is an error.
func ask(ctx context.Context, c Checker, r Request, timeout time.Duration) (Answer, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	type reply struct {
		a   Answer
		err error
	}
	ch := make(chan reply, 1)
	go func() {
		defer func() {
			if p := recover(); p != nil {
				ch <- reply{err: fmt.Errorf("intent: checker panicked: %v", p)}
			}
		}()
		a, err := c.Check(ctx, r)
		ch <- reply{a, err}
	}()
	select {
	case rep := <-ch:
		return rep.a, rep.err
	case <-ctx.Done():
		return Answer{}, fmt.Errorf("intent: no answer within %s: %w", timeout, ctx.Err())
	}
}
