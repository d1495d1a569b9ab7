package presentation

import (
	"errors"
	"strconv"

	"github.com/dgraph-io/badger/v4"

	"github.com/mandate-dev/mandate/credentials"
	"github.com/mandate-dev/mandate/presentation/audit"
	"github.com/mandate-dev/mandate/presentation/limits"
)

// MaxAmount bounds the amount a request may state (integers above it do not
// survive JSON numbers).
const MaxAmount = 1 << 53

// checkLimits reads the request's amount when a grant caps amounts, and
// checks, without charging, that no link's budget is spent: a request that
// could never pass is denied before a human is asked to approve it. The
// charge itself happens in commit.
func (v *Verifier) checkLimits(st *state, links []credentials.Grant) error {
	st.uses = st.uses[:0]
	needAmount := false
	for i, g := range links {
		// Counters are keyed by issuer and id: ids are chosen by issuers, so
		// one issuer can never name (and spend) another issuer's credential.
		c := st.chain[i]
		st.uses = append(st.uses, limits.Use{Credential: c.Issuer + "/" + c.ID, Grant: g.ID, Constraints: g.Constraints})
		needAmount = needAmount || g.Constraints.MaxAmount != nil
	}
	if needAmount {
		s, ok := st.req.Context["amount"]
		if !ok {
			return deny(ReasonAmountRequired, "grant %s caps amounts; the request's context states no \"amount\"", st.grant)
		}
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n < 0 || n > MaxAmount || strconv.FormatInt(n, 10) != s {
			return deny(ReasonMalformed, "context amount %q is not a non-negative integer in canonical form", s)
		}
		st.amount = &n
	}
	err := v.cfg.Store.View(func(txn *badger.Txn) error { return limits.Check(txn, st.uses, st.amount, st.now) })
	return limitDenial(err)
}

// limitDenial maps a limits error to its outcome: *limits.Exceeded passes
// through (its reason and RetryAt go into the Decision).
func limitDenial(err error) error {
	var ex *limits.Exceeded
	switch {
	case err == nil, errors.As(err, &ex):
		return err
	case errors.Is(err, limits.ErrUnenforceable):
		return deny(ReasonUnsupportedConstraint, "%w", err)
	case errors.Is(err, limits.ErrAmountRequired):
		return deny(ReasonAmountRequired, "%w", err)
	}
	return err
}

// commit is the last step of every decision, serialised and in one
// transaction: an ALLOW charges every link's budget and consumes its
// approval; a NEEDS_APPROVAL records its request; every decision appends
// its audit record. If that transaction fails, the decision is a DENY.
func (v *Verifier) commit(st *state, d *Decision) {
	v.commitMu.Lock()
	defer v.commitMu.Unlock()
	var rec audit.Record
	orig := *d
	err := v.cfg.Store.Update(func(txn *badger.Txn) error {
		*d = orig // a retried transaction starts again from the pipeline's answer
		if d.Outcome == Allow {
			if err := v.chargeAllow(txn, st); err != nil {
				if d.applyError(limitDenial(err)); d.Reasons[0] == ReasonInternalError {
					return err
				}
			}
		}
		if d.Outcome == NeedsApproval && st.newApproval != nil {
			if err := putApproval(txn, st.newApproval); err != nil {
				return err
			}
		}
		var err error
		rec, err = v.audit.Append(txn, v.record(st, d))
		return err
	})
	if err != nil {
		v.log.Error("decision not recorded", "err", err)
		*d = Decision{Outcome: Deny, Reasons: []Reason{ReasonInternalError}, Message: "the decision could not be recorded",
			Principal: d.Principal, Actor: d.Actor, Chain: d.Chain, Grant: d.Grant}
		return
	}
	d.AuditID = strconv.FormatUint(rec.Seq, 10)
	if d.Outcome == NeedsApproval && st.newApproval != nil {
		v.watchers.notify(*st.newApproval)
	}
}

// chargeAllow charges the budgets and consumes the approval of an ALLOW.
func (v *Verifier) chargeAllow(txn *badger.Txn, st *state) error {
	if err := limits.Charge(txn, st.uses, st.amount, st.now); err != nil {
		return err
	}
	if st.useApproval == nil {
		return nil
	}
	cur, err := getApproval(txn, st.useApproval.ID)
	if err != nil {
		return err
	}
	if cur.State == ApprovalUsed {
		return deny(ReasonReplay, "approval %s was already used", cur.ID)
	}
	cur.State, cur.Answer, cur.Approver = ApprovalUsed, st.answer, st.approver
	return putApproval(txn, &cur)
}

// record is the audit record of a decision.
func (v *Verifier) record(st *state, d *Decision) audit.Record {
	r := audit.Record{
		Kind: audit.KindDecision, VerifierAudience: v.cfg.Audience, Decision: d.Outcome.String(), Message: d.Message,
		Principal: d.Principal, Actor: d.Actor, Chain: d.Chain, Grant: d.Grant,
		Action: st.req.Action, Resource: st.req.Resource, Intent: st.req.Intent, Context: st.req.Context,
		ApprovalID: d.ApprovalID, Time: st.now,
	}
	for _, reason := range d.Reasons {
		r.Reasons = append(r.Reasons, string(reason))
	}
	for _, c := range d.Checks {
		r.Checkers = append(r.Checkers, audit.CheckerVerdict{Name: c.Checker, Verdict: c.Verdict, Reason: c.Reason, Confidence: c.Confidence})
	}
	if st.useApproval != nil && d.Outcome == Allow {
		r.ApprovalID, r.Approver = st.useApproval.ID, st.approver
	}
	return r
}

// AuditLog returns the verifier's audit log.
func (v *Verifier) AuditLog() *audit.Log { return v.audit }
