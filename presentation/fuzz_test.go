package presentation_test

import (
	"context"
	"errors"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/dgraph-io/badger/v4"

	"github.com/mandate-dev/mandate/credentials"
	"github.com/mandate-dev/mandate/did"
	"github.com/mandate-dev/mandate/presentation"
)

// fuzzWorld is a verifier on disk (every decision appends an audit record)
// with a root and a child credential. Its randomness is fixed, so every
// fuzz worker process issues the same nonces and signs the same bytes as
// the process that made the seeds.
type fuzzWorld struct {
	v           *presentation.Verifier
	now         time.Time
	root, child *credentials.Credential
}

func newFuzzWorld(tb testing.TB) *fuzzWorld {
	tb.Helper()
	db, err := badger.Open(badger.DefaultOptions(tb.TempDir()).WithLogger(nil))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	w := &fuzzWorld{now: t0.Add(time.Hour)}
	v, err := presentation.New(presentation.Config{
		Audience: "https://mail.example", Resolver: did.KeyResolver{}, TrustedRoots: []string{alice.DID()},
		Store: db, Now: func() time.Time { return w.now }, Signer: verifierKey,
		Rand: rand.NewChaCha8([32]byte{'n', 'o', 'n', 'c', 'e'}),
	})
	if err != nil {
		tb.Fatal(err)
	}
	w.v = v
	issued := credentials.IssueOptions{Now: func() time.Time { return t0 }, Rand: rand.NewChaCha8([32]byte{'i', 'd'})}
	w.root, err = credentials.Issue(alice, credentials.Template{
		Subject: assistant.DID(), Purpose: "Keep Alice's inbox organised",
		Grants: []credentials.Grant{
			{ID: "urn:mandate:grant:email-read", Action: "email:read", Resource: "mailbox:alice/*"},
			{ID: "urn:mandate:grant:email-draft", Action: "email:draft", Resource: "mailbox:alice/*",
				Constraints: credentials.Constraints{Approval: credentials.ApprovalRequired}},
		},
		Forbidden:  []credentials.Forbidden{{Action: "email:send"}},
		Delegation: credentials.Delegation{Allowed: true, MaxDepth: 1},
	}, issued)
	if err != nil {
		tb.Fatal(err)
	}
	w.child, err = credentials.Delegate(assistant, []*credentials.Credential{w.root}, credentials.Template{
		Subject: summarizer.DID(), Purpose: "Summarise Alice's inbox",
		Grants: []credentials.Grant{{ID: "urn:mandate:grant:email-read", Action: "email:read", Resource: "mailbox:alice/*"}},
	}, issued)
	if err != nil {
		tb.Fatal(err)
	}
	return w
}

// spent presents chain for req and lets the verifier decide it once, so
// that the presentation's nonce is used: any later decision on it, or on
// anything made from it, must be a DENY.
func (w *fuzzWorld) spent(tb testing.TB, holder credentials.Signer, chain []*credentials.Credential, req presentation.Request) []byte {
	tb.Helper()
	ch, err := w.v.Challenge(context.Background())
	if err != nil {
		tb.Fatal(err)
	}
	vp, err := presentation.Present(holder, chain, ch, req, w.now)
	if err != nil {
		tb.Fatal(err)
	}
	w.v.Authorize(context.Background(), vp, req)
	return vp
}

// FuzzAuthorize runs the verifier's whole pipeline on arbitrary bytes and
// an arbitrary request. The seeds are real presentations whose nonces are
// spent, so nothing can be allowed: every answer must be a DENY with one
// reason code, never INTERNAL_ERROR (a panic or an unclassified error),
// and recorded in the audit log.
func FuzzAuthorize(f *testing.F) {
	w := newFuzzWorld(f)
	read, draft := readMail(), draftMail()
	seeds := [][]byte{
		w.spent(f, summarizer, []*credentials.Credential{w.root, w.child}, read),
		w.spent(f, assistant, []*credentials.Credential{w.root}, read),
		w.spent(f, assistant, []*credentials.Credential{w.root}, draft),
		w.spent(f, summarizer, []*credentials.Credential{w.child}, read),
		[]byte(`{}`), []byte(`[]`), []byte(`null`),
	}
	for _, s := range seeds {
		f.Add(s, read.Action, read.Resource, read.Intent)
		f.Add(s, draft.Action, draft.Resource, draft.Intent)
	}
	f.Fuzz(func(t *testing.T, vp []byte, action, resource, intent string) {
		req := presentation.Request{Action: action, Resource: resource, Intent: intent}
		d := w.v.Authorize(context.Background(), vp, req)
		if d.Outcome != presentation.Deny || len(d.Reasons) != 1 || d.Reasons[0] == presentation.ReasonInternalError ||
			d.AuditID == "" {
			t.Fatalf("decision %s %v (%s), audit %q; want one DENY reason, recorded", d.Outcome, d.Reasons, d.Message, d.AuditID)
		}
	})
}

// FuzzAnswer hands arbitrary approval answers (compact JWS) to a pending
// request. The seeds are well-formed answers that must each fail one
// check (signed for another request, by someone who is not an approver,
// expired, alg none, a JWS of another type), so nothing can be accepted:
// every answer fails with ErrAnswerInvalid and the request stays pending.
func FuzzAnswer(f *testing.F) {
	w := newFuzzWorld(f)
	draft := draftMail()
	ask := func(req presentation.Request) presentation.ApprovalRequest {
		ch, err := w.v.Challenge(context.Background())
		if err != nil {
			f.Fatal(err)
		}
		vp, err := presentation.Present(assistant, []*credentials.Credential{w.root}, ch, req, w.now)
		if err != nil {
			f.Fatal(err)
		}
		d := w.v.Authorize(context.Background(), vp, req)
		r, err := w.v.Approval(d.ApprovalID)
		if d.Outcome != presentation.NeedsApproval || err != nil {
			f.Fatalf("ask: %s %v %v", d.Outcome, d.Reasons, err)
		}
		return r
	}
	pending := ask(draft)
	other := draft
	other.Intent = "draft a reply to Carol"
	elsewhere := ask(other)
	sign := func(s credentials.Signer, r presentation.ApprovalRequest, approve bool, at time.Time) string {
		tok, err := presentation.SignAnswer(s, r, approve, 5*time.Minute, at)
		if err != nil {
			f.Fatal(err)
		}
		return tok
	}
	seeds := []string{
		sign(alice, elsewhere, true, w.now),
		sign(mallory, pending, true, w.now),
		sign(assistant, pending, true, w.now),
		sign(alice, pending, true, w.now.Add(-time.Hour)),
		sign(alice, pending, false, w.now.Add(-time.Hour)),
		"eyJhbGciOiJub25lIiwidHlwIjoibWFuZGF0ZS1hcHByb3ZhbCtqd3QifQ.e30.", "..", "",
	}
	parts := strings.Split(seeds[0], ".")
	seeds = append(seeds, parts[0]+"."+parts[1]+".AAAA", parts[0]+"..", "x."+parts[1]+"."+parts[2])
	for _, s := range seeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, token string) {
		r, err := w.v.Answer(context.Background(), pending.ID, token)
		if !errors.Is(err, presentation.ErrAnswerInvalid) {
			t.Fatalf("Answer = %s, %v; want ErrAnswerInvalid", r.State, err)
		}
		if now, err := w.v.Approval(pending.ID); err != nil || now.State != presentation.ApprovalPending {
			t.Fatalf("request is %s (%v) after a refused answer", now.State, err)
		}
	})
}
