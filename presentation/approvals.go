package presentation

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"sync"

	"github.com/dgraph-io/badger/v4"
	"github.com/go-jose/go-jose/v4"

	"github.com/mandate-dev/mandate/credentials"
	"github.com/mandate-dev/mandate/internal/strictjson"
	"github.com/mandate-dev/mandate/presentation/audit"
)

// needsApproval is the pipeline's "not yet": the grant needs a human.
type needsApproval struct {
	id      string
	message string
	reasons []Reason // APPROVAL_REQUIRED, INTENT_UNCERTAIN or both
}

func (n *needsApproval) Error() string { return "approval required: " + n.message }

// checkApproval is the last pipeline step for a grant that requires
// approval. Without an attached answer the request waits (NEEDS_APPROVAL),
// reusing the open request for the same agent and request digest; with
// one, the answer must be an approver's signed "approve", bound to this
// agent, verifier, request and grant, unexpired and unused.
func (v *Verifier) checkApproval(ctx context.Context, st *state, g credentials.Grant) error {
	digest, err := st.req.Digest()
	if err != nil {
		return err
	}
	if st.answer == "" {
		return v.awaitApproval(st, g, digest)
	}
	id, err := answerID(st.answer)
	if err != nil {
		return deny(ReasonApprovalInvalid, "%w", err)
	}
	r, err := v.Approval(id)
	if errors.Is(err, ErrApprovalNotFound) {
		return deny(ReasonApprovalInvalid, "the approval names request %q, which this verifier never made", id)
	} else if err != nil {
		return err
	}
	if r.Actor != st.holder || r.RequestDigest != digest || r.Grant != g.ID {
		return deny(ReasonApprovalInvalid, "approval %s is bound to another agent, request or grant", id)
	}
	c, err := verifyAnswer(ctx, v.cfg.Resolver, st.answer, r, st.now)
	switch {
	case errors.Is(err, errAnswerExpired):
		return deny(ReasonApprovalExpired, "approval %s: %w", id, err)
	case err != nil:
		return deny(ReasonApprovalInvalid, "approval %s: %w", id, err)
	case c.Decision == "deny":
		return deny(ReasonApprovalDenied, "%s refused request %s", c.Issuer, id)
	}
	switch r.State {
	case ApprovalUsed:
		return deny(ReasonReplay, "approval %s was already used", id)
	case ApprovalDenied:
		return deny(ReasonApprovalDenied, "%s refused request %s", r.Approver, id)
	}
	st.useApproval, st.approver = &r, c.Issuer
	return nil
}

// awaitApproval answers NEEDS_APPROVAL, or DENY when an approver refused.
func (v *Verifier) awaitApproval(st *state, g credentials.Grant, digest string) error {
	existing, err := v.approvalFor(st.holder, digest)
	if err != nil && !errors.Is(err, ErrApprovalNotFound) {
		return err
	}
	if err == nil && existing.Grant == g.ID {
		switch existing.stateAt(st.now) {
		case ApprovalPending:
			return &needsApproval{id: existing.ID, reasons: approvalReasons(st, g), message: "waiting for an approver to answer request " + existing.ID}
		case ApprovalApproved:
			return &needsApproval{id: existing.ID, reasons: approvalReasons(st, g), message: "request " + existing.ID + " is approved: present again with the signed approval attached"}
		case ApprovalDenied:
			return deny(ReasonApprovalDenied, "%s refused request %s", existing.Approver, existing.ID)
		}
	}
	id, err := newApprovalID(v.cfg.Rand)
	if err != nil {
		return err
	}
	root := st.chain[0]
	st.newApproval = &ApprovalRequest{
		ID: id, State: ApprovalPending, Actor: st.holder, Principal: root.Subject.Principal,
		Approvers: append([]string{root.Subject.Principal}, root.Subject.Approvers...), Chain: st.ids(),
		Grant: g.ID, Request: st.req, RequestDigest: digest, Audience: v.cfg.Audience,
		Created: st.now.UTC(), Expires: st.now.Add(v.cfg.ApprovalTTL).UTC(),
	}
	why := fmt.Sprintf("grant %s requires approval", g.ID)
	if !g.ApprovalRequired() {
		why = "intent uncertain (" + st.escalated + ")"
	}
	return &needsApproval{id: id, reasons: approvalReasons(st, g), message: fmt.Sprintf("%s: request %s waits for %v", why, id, st.newApproval.Approvers)}
}

// approvalReasons says why a human is asked: the grant, the intent
// checkers, or both.
func approvalReasons(st *state, g credentials.Grant) []Reason {
	var rs []Reason
	if g.ApprovalRequired() {
		rs = append(rs, ReasonApprovalRequired)
	}
	if st.escalated != "" {
		rs = append(rs, ReasonIntentUncertain)
	}
	return rs
}

// answerID reads the request id an answer names, before anything about the
// answer is trusted: it only selects the request to check the answer against.
func answerID(token string) (string, error) {
	if len(token) > MaxAnswerBytes {
		return "", fmt.Errorf("%w: %d bytes, limit %d", ErrAnswerInvalid, len(token), MaxAnswerBytes)
	}
	jws, err := jose.ParseSigned(token, []jose.SignatureAlgorithm{jose.EdDSA})
	if err != nil {
		return "", fmt.Errorf("%w: %w", ErrAnswerInvalid, err)
	}
	var c answerClaims
	if err := strictjson.Decode(jws.UnsafePayloadWithoutVerification(), MaxAnswerBytes, &c); err != nil || c.ID == "" {
		return "", fmt.Errorf("%w: no request id", ErrAnswerInvalid)
	}
	return c.ID, nil
}

// Answer records an approver's signed answer to a pending request, after
// checking it as Authorize will. The answer is audited.
func (v *Verifier) Answer(ctx context.Context, id, token string) (ApprovalRequest, error) {
	now := v.cfg.Now()
	r, err := v.Approval(id)
	if err != nil {
		return r, err
	}
	if r.stateAt(now) != ApprovalPending {
		return r, fmt.Errorf("%w: %s is %s", ErrApprovalClosed, id, r.stateAt(now))
	}
	c, err := verifyAnswer(ctx, v.cfg.Resolver, token, r, now)
	if err != nil {
		return r, err
	}
	v.commitMu.Lock()
	defer v.commitMu.Unlock()
	err = v.cfg.Store.Update(func(txn *badger.Txn) error {
		cur, err := getApproval(txn, id)
		if err != nil {
			return err
		}
		if cur.stateAt(now) != ApprovalPending {
			return fmt.Errorf("%w: %s is %s", ErrApprovalClosed, id, cur.stateAt(now))
		}
		cur.State, cur.Answer, cur.Approver = ApprovalApproved, token, c.Issuer
		if c.Decision == "deny" {
			cur.State = ApprovalDenied
		}
		if err := putApproval(txn, &cur); err != nil {
			return err
		}
		r = cur
		_, err = v.audit.Append(txn, audit.Record{
			Kind: audit.KindApproval, VerifierAudience: v.cfg.Audience, Decision: string(cur.State), Time: now,
			Principal: cur.Principal, Actor: cur.Actor, Chain: cur.Chain, Grant: cur.Grant,
			Action: cur.Request.Action, Resource: cur.Request.Resource, Intent: cur.Request.Intent, Context: cur.Request.Context,
			ApprovalID: cur.ID, Approver: c.Issuer,
		})
		return err
	})
	if err != nil {
		return r, err
	}
	v.watchers.notify(r)
	return r, nil
}

// Approval returns one approval request, its state as of now.
func (v *Verifier) Approval(id string) (ApprovalRequest, error) {
	var r ApprovalRequest
	err := v.cfg.Store.View(func(txn *badger.Txn) error {
		var err error
		r, err = getApproval(txn, id)
		return err
	})
	r.State = r.stateAt(v.cfg.Now())
	return r, err
}

// PendingApprovals lists the requests waiting for an answer, oldest first.
func (v *Verifier) PendingApprovals() ([]ApprovalRequest, error) {
	now := v.cfg.Now()
	var out []ApprovalRequest
	err := v.cfg.Store.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: approvalKey(""), PrefetchValues: true})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			var r ApprovalRequest
			if err := it.Item().Value(func(b []byte) error { return json.Unmarshal(b, &r) }); err != nil {
				return err
			}
			if r.stateAt(now) == ApprovalPending {
				out = append(out, r)
			}
		}
		return nil
	})
	sort.SliceStable(out, func(i, j int) bool { return out[i].Created.Before(out[j].Created) })
	return out, err
}

// WatchApprovals returns a channel of requests as they are created or
// answered, until ctx ends. A watcher that falls behind misses events (it
// can always ListPending); it never slows a decision.
func (v *Verifier) WatchApprovals(ctx context.Context) <-chan ApprovalRequest {
	return v.watchers.add(ctx)
}

func (v *Verifier) approvalFor(actor, digest string) (ApprovalRequest, error) {
	var r ApprovalRequest
	err := v.cfg.Store.View(func(txn *badger.Txn) error {
		item, err := txn.Get(approvalIndexKey(actor, digest))
		if errors.Is(err, badger.ErrKeyNotFound) {
			return ErrApprovalNotFound
		} else if err != nil {
			return err
		}
		id, err := item.ValueCopy(nil)
		if err != nil {
			return err
		}
		r, err = getApproval(txn, string(id))
		return err
	})
	return r, err
}

func getApproval(txn *badger.Txn, id string) (ApprovalRequest, error) {
	var r ApprovalRequest
	if id == "" || len(id) > 64 {
		return r, ErrApprovalNotFound
	}
	item, err := txn.Get(approvalKey(id))
	if errors.Is(err, badger.ErrKeyNotFound) {
		return r, ErrApprovalNotFound
	} else if err != nil {
		return r, err
	}
	err = item.Value(func(b []byte) error { return json.Unmarshal(b, &r) })
	return r, err
}

func putApproval(txn *badger.Txn, r *ApprovalRequest) error {
	b, err := json.Marshal(r)
	if err != nil {
		return err
	}
	if err := txn.Set(approvalKey(r.ID), b); err != nil {
		return err
	}
	return txn.Set(approvalIndexKey(r.Actor, r.RequestDigest), []byte(r.ID))
}

func newApprovalID(r io.Reader) (string, error) {
	if r == nil {
		r = rand.Reader
	}
	var b [16]byte
	if _, err := io.ReadFull(r, b[:]); err != nil {
		return "", fmt.Errorf("presentation: approval id: %w", err)
	}
	return "apr_" + hex.EncodeToString(b[:]), nil
}

// watchers fan approval events out to subscribers without ever blocking.
type watchers struct {
	mu   sync.Mutex
	subs map[chan ApprovalRequest]struct{}
}

const watchBuffer = 64

func (w *watchers) add(ctx context.Context) <-chan ApprovalRequest {
	ch := make(chan ApprovalRequest, watchBuffer)
	w.mu.Lock()
	if w.subs == nil {
		w.subs = map[chan ApprovalRequest]struct{}{}
	}
	w.subs[ch] = struct{}{}
	w.mu.Unlock()
	go func() {
		<-ctx.Done()
		w.mu.Lock()
		delete(w.subs, ch)
		close(ch)
		w.mu.Unlock()
	}()
	return ch
}

func (w *watchers) notify(r ApprovalRequest) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for ch := range w.subs {
		select {
		case ch <- r:
		default:
		}
	}
}
