package presentation

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/mandate-dev/mandate/credentials"
	"github.com/mandate-dev/mandate/intent"
)

// Intent stage bounds.
const (
	DefaultIntentTimeout = 2 * time.Second
	MaxIntentTimeout     = 30 * time.Second
	MaxIntentCheckers    = 8
	maxVerdictReason     = 1024
)

// IntentPolicy is the verifier's intent stage: the checkers asked, in
// order, whether a request is within the chain's declared purposes, and how
// their answers become a decision. Any deny wins (INTENT_MISMATCH); an
// escalate asks a human (NEEDS_APPROVAL INTENT_UNCERTAIN); a checker that
// fails or does not answer within Timeout is a DENY INTENT_CHECK_FAILED,
// unless OnError says Escalate.
type IntentPolicy struct {
	Checkers []intent.Checker
	// Timeout bounds each checker (0: DefaultIntentTimeout).
	Timeout time.Duration
	// OnError is what a failed checker means: intent.Deny (the zero value)
	// or intent.Escalate. Allow is refused: a checker that cannot answer
	// never lets a request through.
	OnError intent.Verdict
}

func (p IntentPolicy) validate() error {
	switch {
	case len(p.Checkers) > MaxIntentCheckers:
		return fmt.Errorf("presentation: config: at most %d intent checkers", MaxIntentCheckers)
	case p.Timeout < 0 || p.Timeout > MaxIntentTimeout:
		return fmt.Errorf("presentation: config: intent timeout must be 0..%s", MaxIntentTimeout)
	case p.OnError != intent.Deny && p.OnError != intent.Escalate:
		return fmt.Errorf("presentation: config: intent OnError must be deny or escalate, not %s", p.OnError)
	}
	for i, c := range p.Checkers {
		if c == nil {
			return fmt.Errorf("presentation: config: intent checker %d is nil", i)
		}
	}
	return nil
}

// CheckerVerdict is one intent checker's part in a decision.
type CheckerVerdict struct {
	Checker    string  `json:"checker"`
	Verdict    string  `json:"verdict"` // "allow", "deny", "escalate", or "error"
	Reason     string  `json:"reason,omitempty"`
	Confidence float64 `json:"confidence"`
}

// checkConditions enforces the CEL conditions of the grant used at every
// link (a child keeps its parent's, and the parent's are checked again in
// case it did not). Anything but true is a DENY CONDITION_FAILED.
func (v *Verifier) checkConditions(ctx context.Context, st *state, g credentials.Grant, links []credentials.Grant) error {
	var conds []string
	for _, l := range links { // the path, root first; its last grant is g
		for _, c := range l.Constraints.Conditions {
			if !slices.Contains(conds, c) {
				conds = append(conds, c)
			}
		}
	}
	if len(conds) == 0 {
		return nil
	}
	r := v.intentRequest(st, g)
	for _, c := range conds {
		// False and "cannot be evaluated" are one outcome: never a pass.
		if err := v.conds.Eval(ctx, c, r); err != nil {
			return deny(ReasonConditionFailed, "grant %s: %w", g.ID, err)
		}
	}
	return nil
}

// checkIntent asks the configured checkers. An escalation is kept in st and
// answered by the approval step.
func (v *Verifier) checkIntent(ctx context.Context, st *state, g credentials.Grant) error {
	p := v.cfg.Intent
	if len(p.Checkers) == 0 {
		return nil
	}
	res := intent.Run(ctx, p.Checkers, v.intentRequest(st, g), p.Timeout)
	failed := false
	for _, a := range res.Answers {
		cv := CheckerVerdict{Checker: a.Checker, Verdict: a.Answer.Verdict.String(), Reason: a.Answer.Reason, Confidence: a.Answer.Confidence}
		if a.Err != nil {
			cv = CheckerVerdict{Checker: a.Checker, Verdict: "error", Reason: a.Err.Error()}
			failed = true
		}
		cv.Reason = clip(cv.Reason, maxVerdictReason)
		st.checks = append(st.checks, cv)
	}
	switch {
	case res.Verdict == intent.Allow:
		return nil
	case res.Verdict == intent.Escalate, failed && p.OnError == intent.Escalate:
		st.escalated = res.Reason
		return nil
	case failed:
		return deny(ReasonIntentCheckFailed, "%s", res.Reason)
	}
	return deny(ReasonIntentMismatch, "%s", res.Reason)
}

// intentRequest is what conditions and checkers see.
func (v *Verifier) intentRequest(st *state, g credentials.Grant) intent.Request {
	r := intent.Request{
		Action: st.req.Action, Resource: st.req.Resource, Intent: st.req.Intent, Context: st.req.Context,
		Grant:     intent.Grant{ID: g.ID, Action: g.Action, Resource: g.Resource, Conditions: g.Constraints.Conditions},
		Principal: st.principal(), Actor: st.holder, Chain: st.ids(), Time: st.now,
	}
	for _, c := range st.chain {
		r.Purposes = append(r.Purposes, c.Subject.Purpose)
	}
	return r
}

// MaxDelegationChecks bounds the checker calls one delegation makes.
const MaxDelegationChecks = 16

// PurposeCheck is credentials.IssueOptions.CheckPurpose for the policy's
// checkers: at delegation, each grant of the child is checked with the
// child's purpose as the stated intent and the purposes above it as the
// declared ones. Only an allow from every checker passes: at issuance no
// human is in the loop, so an escalate refuses too.
// now is the clock the checkers see (nil: time.Now).
func PurposeCheck(p IntentPolicy, now func() time.Time) func([]*credentials.Credential, credentials.Subject) error {
	if now == nil {
		now = time.Now
	}
	return func(parents []*credentials.Credential, child credentials.Subject) error {
		if err := p.validate(); err != nil {
			return err
		}
		if len(p.Checkers) == 0 {
			return nil
		}
		if len(child.Grants) > MaxDelegationChecks {
			return fmt.Errorf("%w: %d grants, the purpose check takes at most %d", credentials.ErrPurposeOutside, len(child.Grants), MaxDelegationChecks)
		}
		timeout := p.Timeout
		if timeout == 0 {
			timeout = DefaultIntentTimeout
		}
		r := intent.Request{Intent: child.Purpose, Principal: child.Principal, Actor: parents[len(parents)-1].Subject.ID,
			Context: map[string]string{"mandate.phase": "delegation"}, Time: now()}
		for _, c := range parents {
			r.Purposes = append(r.Purposes, c.Subject.Purpose)
			r.Chain = append(r.Chain, c.ID)
		}
		for _, g := range child.Grants {
			r.Action, r.Resource = g.Action, g.Resource
			r.Grant = intent.Grant{ID: g.ID, Action: g.Action, Resource: g.Resource, Conditions: g.Constraints.Conditions}
			res := intent.Run(context.Background(), p.Checkers, r, timeout)
			if res.Verdict != intent.Allow {
				return fmt.Errorf("%w: %q for grant %s: %s (%s)", credentials.ErrPurposeOutside, child.Purpose, g.ID, res.Reason, res.Verdict)
			}
		}
		return nil
	}
}
