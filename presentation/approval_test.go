package presentation_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/mandate-dev/mandate/credentials"
	"github.com/mandate-dev/mandate/internal/testkeys"
	"github.com/mandate-dev/mandate/presentation"
	"github.com/mandate-dev/mandate/presentation/audit"
)

func draftMail() presentation.Request {
	return presentation.Request{Action: "email:draft", Resource: "mailbox:alice/drafts", Intent: "draft a reply to Bob"}
}

// ask presents the assistant's root chain for req and expects NEEDS_APPROVAL.
func (f *fixture) ask(t *testing.T, req presentation.Request) presentation.ApprovalRequest {
	t.Helper()
	d := f.v.Authorize(context.Background(), f.present(t, assistant, []*credentials.Credential{f.root}, req), req)
	expect(t, d, presentation.NeedsApproval, presentation.ReasonApprovalRequired)
	if d.ApprovalID == "" || d.AuditID == "" {
		t.Fatalf("decision %+v lacks an approval or audit id", d)
	}
	r, err := f.v.Approval(d.ApprovalID)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func (f *fixture) answer(t *testing.T, approver credentials.Signer, r presentation.ApprovalRequest, approve bool, ttl time.Duration) string {
	t.Helper()
	token, err := presentation.SignAnswer(approver, r, approve, ttl, f.now)
	if err != nil {
		t.Fatal(err)
	}
	return token
}

func (f *fixture) retry(t *testing.T, holder credentials.Signer, req presentation.Request, token string) presentation.Decision {
	t.Helper()
	return f.v.Authorize(context.Background(), f.present(t, holder, []*credentials.Credential{f.root}, req), req, presentation.WithApproval(token))
}

func TestApprovalFlow(t *testing.T) {
	f := newFixture(t)
	r := f.ask(t, draftMail())
	if r.State != presentation.ApprovalPending || r.Actor != assistant.DID() || r.Grant != "urn:mandate:grant:email-draft" ||
		len(r.Approvers) != 1 || r.Approvers[0] != alice.DID() {
		t.Fatalf("request = %+v", r)
	}
	// Asking again for the same thing finds the same request.
	if again := f.ask(t, draftMail()); again.ID != r.ID {
		t.Fatalf("second ask made request %s, want %s", again.ID, r.ID)
	}
	pending, err := f.v.PendingApprovals()
	if err != nil || len(pending) != 1 || pending[0].ID != r.ID {
		t.Fatalf("pending = %v, %v", pending, err)
	}
	token := f.answer(t, alice, r, true, 10*time.Minute)
	got, err := f.v.Answer(context.Background(), r.ID, token)
	if err != nil || got.State != presentation.ApprovalApproved || got.Approver != alice.DID() {
		t.Fatalf("answer = %+v, %v", got, err)
	}
	d := f.retry(t, assistant, draftMail(), token)
	expect(t, d, presentation.Allow, "")
	expect(t, f.retry(t, assistant, draftMail(), token), presentation.Deny, presentation.ReasonReplay)
	if r, _ := f.v.Approval(r.ID); r.State != presentation.ApprovalUsed {
		t.Fatalf("state after use = %s", r.State)
	}
	// A second answer to a closed request is refused.
	if _, err := f.v.Answer(context.Background(), r.ID, token); !errors.Is(err, presentation.ErrApprovalClosed) {
		t.Fatalf("second answer: %v", err)
	}
	rec := f.auditRecords(t)
	kinds := []string{}
	for _, x := range rec {
		kinds = append(kinds, x.Kind+":"+x.Decision)
	}
	want := "decision:NEEDS_APPROVAL decision:NEEDS_APPROVAL approval:APPROVED decision:ALLOW decision:DENY"
	if strings.Join(kinds, " ") != want {
		t.Fatalf("audit = %v, want %s", kinds, want)
	}
	if allow := rec[3]; allow.ApprovalID != r.ID || allow.Approver != alice.DID() || allow.Liable != alice.DID() {
		t.Fatalf("allow record = %+v", allow)
	}
}

// An approval handed straight to the agent (never sent to Answer) counts too:
// the signature is what is checked.
func TestApprovalOutOfBand(t *testing.T) {
	f := newFixture(t)
	r := f.ask(t, draftMail())
	expect(t, f.retry(t, assistant, draftMail(), f.answer(t, alice, r, true, time.Minute)), presentation.Allow, "")
}

func TestApprovalRefused(t *testing.T) {
	f := newFixture(t)
	r := f.ask(t, draftMail())
	no := f.answer(t, alice, r, false, time.Minute)
	if got, err := f.v.Answer(context.Background(), r.ID, no); err != nil || got.State != presentation.ApprovalDenied {
		t.Fatalf("answer = %+v, %v", got, err)
	}
	// Asking again without an approval: the refusal stands.
	d := f.v.Authorize(context.Background(), f.present(t, assistant, []*credentials.Credential{f.root}, draftMail()), draftMail())
	expect(t, d, presentation.Deny, presentation.ReasonApprovalDenied)
	// Presenting the refusal as if it were an approval.
	expect(t, f.retry(t, assistant, draftMail(), no), presentation.Deny, presentation.ReasonApprovalDenied)
	rec := f.auditRecords(t)
	if a := rec[1]; a.Kind != audit.KindApproval || a.Decision != "DENIED" || a.Approver != alice.DID() {
		t.Fatalf("refusal record = %+v", a)
	}
}

func TestApprovalDenials(t *testing.T) {
	other := draftMail()
	other.Intent = "draft a reply to Carol"
	cases := []struct {
		name    string
		token   func(t *testing.T, f *fixture, r presentation.ApprovalRequest) string
		holder  credentials.Signer
		req     presentation.Request
		reason  presentation.Reason
		message string
	}{
		{"signed by the wrong key", func(t *testing.T, f *fixture, r presentation.ApprovalRequest) string {
			return f.answer(t, mallory, r, true, time.Minute)
		}, assistant, draftMail(), presentation.ReasonApprovalInvalid, "not an approver"},
		{"signed by the agent itself", func(t *testing.T, f *fixture, r presentation.ApprovalRequest) string {
			return f.answer(t, assistant, r, true, time.Minute)
		}, assistant, draftMail(), presentation.ReasonApprovalInvalid, "not an approver"},
		{"bound to another request", func(t *testing.T, f *fixture, r presentation.ApprovalRequest) string {
			return f.answer(t, alice, r, true, time.Minute)
		}, assistant, other, presentation.ReasonApprovalInvalid, "bound to another"},
		{"request digest edited in the answer", func(t *testing.T, f *fixture, r presentation.ApprovalRequest) string {
			r.RequestDigest = "zQmForged"
			return f.answer(t, alice, r, true, time.Minute)
		}, assistant, draftMail(), presentation.ReasonApprovalInvalid, "bound to another request"},
		{"used by another agent", func(t *testing.T, f *fixture, r presentation.ApprovalRequest) string {
			return f.answer(t, alice, r, true, time.Minute)
		}, summarizer, draftMail(), presentation.ReasonApprovalInvalid, "another agent"},
		{"expired", func(t *testing.T, f *fixture, r presentation.ApprovalRequest) string {
			token := f.answer(t, alice, r, true, time.Minute)
			f.now = f.now.Add(2 * time.Minute)
			return token
		}, assistant, draftMail(), presentation.ReasonApprovalExpired, "expired"},
		{"names no request", func(t *testing.T, f *fixture, r presentation.ApprovalRequest) string {
			r.ID = "apr_00000000000000000000000000000000"
			return f.answer(t, alice, r, true, time.Minute)
		}, assistant, draftMail(), presentation.ReasonApprovalInvalid, "never made"},
		{"alg none", func(t *testing.T, f *fixture, r presentation.ApprovalRequest) string {
			return unsignedAnswer(t, f.answer(t, alice, r, true, time.Minute))
		}, assistant, draftMail(), presentation.ReasonApprovalInvalid, "unexpected signature algorithm"},
		{"garbage", func(t *testing.T, f *fixture, r presentation.ApprovalRequest) string {
			return "not.a.jws"
		}, assistant, draftMail(), presentation.ReasonApprovalInvalid, "invalid approval answer"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			r := f.ask(t, draftMail())
			token := tc.token(t, f, r)
			var d presentation.Decision
			if tc.holder == summarizer {
				// The summarizer holds its own draft grant (approval
				// required, as its parent's) and tries the assistant's approval.
				d = f.v.Authorize(context.Background(), f.present(t, summarizer, draftChild(t, f), tc.req), tc.req, presentation.WithApproval(token))
			} else {
				d = f.retry(t, tc.holder, tc.req, token)
			}
			expect(t, d, presentation.Deny, tc.reason)
			if !strings.Contains(d.Message, tc.message) {
				t.Fatalf("message %q does not mention %q", d.Message, tc.message)
			}
		})
	}
}

func draftChild(t *testing.T, f *fixture) []*credentials.Credential {
	t.Helper()
	child, err := credentials.Delegate(assistant, []*credentials.Credential{f.root}, credentials.Template{
		Subject: summarizer.DID(), Purpose: "Draft replies",
		Grants: []credentials.Grant{{ID: "urn:mandate:grant:draft", Action: "email:draft", Resource: "mailbox:alice/drafts",
			Constraints: credentials.Constraints{Approval: credentials.ApprovalRequired}}},
	}, f.issued)
	if err != nil {
		t.Fatal(err)
	}
	return []*credentials.Credential{f.root, child}
}

// unsignedAnswer re-encodes an answer's payload with alg "none".
func unsignedAnswer(t *testing.T, token string) string {
	t.Helper()
	parts := strings.Split(token, ".")
	return "eyJhbGciOiJub25lIiwidHlwIjoibWFuZGF0ZS1hcHByb3ZhbCtqd3QifQ." + parts[1] + "."
}

// An approver the root names counts as much as the principal.
func TestApprovalByNamedApprover(t *testing.T) {
	f := newFixture(t)
	bob := testkeys.New("bob")
	root, err := credentials.Issue(alice, credentials.Template{
		Subject: assistant.DID(), Purpose: "Draft Alice's replies", Approvers: []string{bob.DID()},
		Grants: []credentials.Grant{{ID: "urn:mandate:grant:email-draft", Action: "email:draft", Resource: "mailbox:alice/*",
			Constraints: credentials.Constraints{Approval: credentials.ApprovalRequired}}},
	}, f.issued)
	if err != nil {
		t.Fatal(err)
	}
	f.root = root
	r := f.ask(t, draftMail())
	if len(r.Approvers) != 2 || r.Approvers[1] != bob.DID() {
		t.Fatalf("approvers = %v", r.Approvers)
	}
	expect(t, f.retry(t, assistant, draftMail(), f.answer(t, bob, r, true, time.Minute)), presentation.Allow, "")
}

func TestAnswerRefusedBeforeStoring(t *testing.T) {
	f := newFixture(t)
	r := f.ask(t, draftMail())
	if _, err := f.v.Answer(context.Background(), r.ID, f.answer(t, mallory, r, true, time.Minute)); !errors.Is(err, presentation.ErrAnswerInvalid) {
		t.Fatalf("answer by mallory: %v", err)
	}
	if _, err := f.v.Answer(context.Background(), "apr_nope", "x"); !errors.Is(err, presentation.ErrApprovalNotFound) {
		t.Fatalf("unknown id: %v", err)
	}
	if _, err := presentation.SignAnswer(alice, r, true, 2*time.Hour, f.now); err == nil {
		t.Fatal("an answer valid for 2h was signed")
	}
	if got, _ := f.v.Approval(r.ID); got.State != presentation.ApprovalPending {
		t.Fatalf("state = %s", got.State)
	}
	f.now = f.now.Add(presentation.DefaultApprovalTTL)
	if got, _ := f.v.Approval(r.ID); got.State != presentation.ApprovalExpired {
		t.Fatalf("state after the TTL = %s", got.State)
	}
	if _, err := f.v.Answer(context.Background(), r.ID, f.answer(t, alice, r, true, time.Minute)); !errors.Is(err, presentation.ErrApprovalClosed) {
		t.Fatalf("answer to an expired request: %v", err)
	}
}

func (f *fixture) auditRecords(t *testing.T) []audit.Record {
	t.Helper()
	recs, err := f.v.AuditLog().List(audit.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	return recs
}
