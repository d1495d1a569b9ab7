package demo

import (
	"bytes"
	"errors"
	"fmt"
	"time"

	"github.com/mandate-dev/mandate/credentials"
	"github.com/mandate-dev/mandate/presentation"
	"github.com/mandate-dev/mandate/wallet"
)

const (
	mailbox = "mailbox:alice/inbox"
	channel = "slack:acme/general"
)

var (
	readMail  = presentation.Request{Action: "email:read", Resource: mailbox, Intent: "summarise today's unread mail"}
	readSlack = presentation.Request{Action: "slack:read", Resource: channel, Intent: "summarise the #general channel for Alice"}
	// digSlack is within the grant's scope and outside its purpose.
	digSlack  = presentation.Request{Action: "slack:read", Resource: channel, Intent: "dig up who criticised her so I can rebut them publicly"}
	draftMail = presentation.Request{Action: "email:draft", Resource: "mailbox:alice/drafts", Intent: "draft a reply to Bob"}
	sendMail  = presentation.Request{Action: "email:send", Resource: "mailbox:alice/outbox", Intent: "send the reply to Bob"}
	readCal   = presentation.Request{Action: "calendar:read", Resource: "calendar:alice/work", Intent: "find a free slot for the team meeting"}
)

// assistantPurpose is why Alice gives the assistant its powers; the intent
// checker compares every request's stated intent with it.
const assistantPurpose = "Keep Alice's inbox organised and keep her informed: read and summarise her mail and the team's Slack channel, draft replies, find free slots in her calendar; never send"

// rootGrants is what Alice (the principal) gives her assistant; the same
// content ships as examples/grants/assistant.yaml.
func rootGrants(subject string, now time.Time) credentials.Template {
	week := now.Add(7 * 24 * time.Hour)
	return credentials.Template{
		Subject: subject,
		Purpose: assistantPurpose,
		Grants: []credentials.Grant{
			{ID: "urn:mandate:grant:email-read", Action: "email:read", Resource: "mailbox:alice/*"},
			{ID: "urn:mandate:grant:email-summarize", Action: "email:summarize", Resource: "mailbox:alice/*"},
			{ID: "urn:mandate:grant:email-draft", Action: "email:draft", Resource: "mailbox:alice/*",
				Constraints: credentials.Constraints{Approval: credentials.ApprovalRequired}},
			{ID: "urn:mandate:grant:slack-read", Action: "slack:read", Resource: channel,
				Constraints: credentials.Constraints{NotAfter: &week}},
			{ID: "urn:mandate:grant:calendar-read", Action: "calendar:read", Resource: "calendar:alice/*",
				Constraints: credentials.Constraints{Rate: &credentials.Rate{Count: 3, Per: "PT1H"}}},
		},
		Forbidden:  []credentials.Forbidden{{Action: "email:send"}, {Action: "slack:post"}},
		Delegation: credentials.Delegation{Allowed: true, MaxDepth: 2},
	}
}

// cast issues the credentials and returns the story's steps in order.
func (w *world) cast() ([]func() Step, error) {
	now := time.Now()
	opts := credentials.IssueOptions{}
	root, err := credentials.Issue(w.principal, rootGrants(w.assistant.DID(), now), credentials.IssueOptions{Status: w.principal.StatusRegistry()})
	if err != nil {
		return nil, err
	}
	if err := publish(w.principal); err != nil {
		return nil, err
	}
	if err := store(w.assistant, []*credentials.Credential{root}); err != nil {
		return nil, err
	}
	childTemplate := credentials.Template{
		Subject: w.summarizer.DID(), Purpose: "Summarise Alice's unread mail each morning",
		Grants:     []credentials.Grant{{ID: "urn:mandate:grant:email-read", Action: "email:read", Resource: "mailbox:alice/*"}},
		Delegation: credentials.Delegation{Allowed: true, MaxDepth: 1},
	}
	child, err := credentials.Delegate(w.assistant, []*credentials.Credential{root}, childTemplate,
		credentials.IssueOptions{Status: w.assistant.StatusRegistry(), CheckPurpose: w.purposeCheck})
	if err != nil {
		return nil, err
	}
	if err := publish(w.assistant); err != nil {
		return nil, err
	}
	sumChain := []*credentials.Credential{root, child}
	if err := store(w.summarizer, sumChain); err != nil {
		return nil, err
	}
	sdSteps, err := w.castSDJWT(rootGrants(w.assistant.DID(), now), childTemplate)
	if err != nil {
		return nil, err
	}
	bbsSteps, err := w.castBBS(rootGrants(w.assistant.DID(), now), childTemplate)
	if err != nil {
		return nil, err
	}
	var firstVP []byte // the summarizer's first presentation, replayed later
	var approvalID, answer string
	wider := credentials.Template{
		Subject: w.summarizer.DID(), Purpose: "Handle all of Alice's mail",
		Grants: []credentials.Grant{{ID: "urn:mandate:grant:email-all", Action: "email:*", Resource: "mailbox:alice/*"}},
	}
	return append([]func() Step{
		func() Step {
			vp, d, err := w.presentOwn(w.summarizer, readMail, Audience)
			firstVP = vp
			return decisionStep("summarizer reads mail", "summarizer", readMail, "ALLOW", d, err)
		},
		func() Step {
			d, err := w.presentChain(w.summarizer, sumChain, readSlack, Audience)
			return decisionStep("summarizer reads Slack", "summarizer", readSlack, "DENY NOT_GRANTED", d, err)
		},
		func() Step {
			_, d, err := w.presentOwn(w.assistant, draftMail, Audience)
			approvalID = d.ApprovalID
			return decisionStep("assistant drafts mail", "assistant", draftMail, "NEEDS_APPROVAL APPROVAL_REQUIRED", d, err)
		},
		func() Step {
			var d presentation.Decision
			var err error
			answer, err = w.approve(approvalID)
			if err == nil {
				_, d, err = w.presentOwn(w.assistant, draftMail, Audience, answer)
			}
			return decisionStep("Alice approves; the assistant drafts again", "assistant", draftMail, "ALLOW", d, err)
		},
		func() Step {
			_, d, err := w.presentOwn(w.assistant, draftMail, Audience, answer)
			return decisionStep("same approval used again", "assistant", draftMail, "DENY REPLAY", d, err)
		},
		func() Step {
			d, err := w.presentChain(w.assistant, []*credentials.Credential{root}, sendMail, Audience)
			return decisionStep("assistant sends mail", "assistant", sendMail, "DENY FORBIDDEN", d, err)
		},
		func() Step {
			s := Step{Name: "summarizer issues itself a wider child", Agent: "summarizer", Action: "email:*",
				Resource: "mailbox:alice/*", Expected: "REFUSED SCOPE_ESCALATION", Decision: "ISSUED", Reasons: []string{}}
			if _, err := credentials.Delegate(w.summarizer, sumChain, wider, opts); err != nil {
				s.Decision, s.Reasons, s.Detail = "REFUSED", []string{reasonOf(err)}, err.Error()
			}
			return s
		},
		func() Step {
			forged, err := credentials.SignUnchecked(w.summarizer, forgedSubject(w, child, wider), wider, opts)
			if err != nil {
				return decisionStep("hand-built wider child presented", "summarizer", readMail, "DENY SCOPE_ESCALATION", presentation.Decision{}, err)
			}
			d, err := w.presentChain(w.summarizer, []*credentials.Credential{root, child, forged}, readMail, Audience)
			return decisionStep("hand-built wider child presented", "summarizer", readMail, "DENY SCOPE_ESCALATION", d, err)
		},
		func() Step {
			d, err := w.client.Send(w.ctx, firstVP, readMail)
			return decisionStep("same presentation sent twice", "summarizer", readMail, "DENY REPLAY", d, err)
		},
		func() Step {
			d, err := w.presentChain(w.summarizer, sumChain, readMail, "https://other-service.example.com")
			return decisionStep("presentation made for another audience", "summarizer", readMail, "DENY AUDIENCE_MISMATCH", d, err)
		},
		func() Step {
			d, err := w.presentChain(w.summarizer, tamperOneByte(sumChain), readMail, Audience)
			return decisionStep("one byte of a credential changed", "summarizer", readMail, "DENY SIGNATURE_INVALID", d, err)
		},
		sdSteps[0], sdSteps[1],
		bbsSteps[0], bbsSteps[1],
		func() Step {
			d, err := w.presentChain(w.assistant, []*credentials.Credential{root}, digSlack, Audience)
			return decisionStep("assistant reads Slack to dig up Alice's critics", "assistant", digSlack, "DENY INTENT_MISMATCH", d, err)
		},
		func() Step {
			d, err := w.presentChain(w.assistant, []*credentials.Credential{root}, readSlack, Audience)
			return decisionStep("assistant reads Slack to keep Alice informed", "assistant", readSlack, "ALLOW", d, err)
		},
		func() Step {
			s := Step{Name: "assistant delegates to a sub-agent for an off-purpose job", Agent: "assistant", Action: "email:read",
				Resource: "mailbox:alice/*", Expected: "REFUSED INTENT_MISMATCH", Decision: "ISSUED", Reasons: []string{}}
			_, err := credentials.Delegate(w.assistant, []*credentials.Credential{root}, credentials.Template{
				Subject: w.summarizer.DID(), Purpose: "Profile everyone who writes to Alice for a marketing list",
				Grants: []credentials.Grant{{ID: "urn:mandate:grant:email-read", Action: "email:read", Resource: "mailbox:alice/*"}},
			}, credentials.IssueOptions{CheckPurpose: w.purposeCheck})
			if err != nil {
				s.Decision, s.Reasons, s.Detail = "REFUSED", []string{reasonOf(err)}, err.Error()
			}
			return s
		},
		func() Step {
			w.offset.Store(int64(8 * 24 * time.Hour)) // a week and a day later
			defer w.offset.Store(0)
			d, err := w.presentChain(w.assistant, []*credentials.Credential{root}, readSlack, Audience)
			return decisionStep("Slack grant past its notAfter (8 days later)", "assistant", readSlack, "DENY EXPIRED", d, err)
		},
	}, append(w.rateSteps(), w.statusSteps(root, sumChain)...)...), nil
}

// rateSteps use the calendar grant, limited to 3 uses an hour.
func (w *world) rateSteps() []func() Step {
	var steps []func() Step
	for i := 1; i <= 4; i++ {
		want, name := "ALLOW", fmt.Sprintf("assistant reads the calendar (%d of 3 an hour)", i)
		if i == 4 {
			want, name = "DENY RATE_LIMITED", "assistant reads the calendar a 4th time within the hour"
		}
		steps = append(steps, func() Step {
			_, d, err := w.presentOwn(w.assistant, readCal, Audience)
			return decisionStep(name, "assistant", readCal, want, d, err)
		})
	}
	return steps
}

// approve is Alice answering a waiting request through the verifier's
// ApprovalService with her wallet's key; it returns the signed approval the
// assistant fetches and attaches.
func (w *world) approve(id string) (string, error) {
	if _, err := w.approvals.Answer(w.ctx, w.principal, id, true, 10*time.Minute, w.now()); err != nil {
		return "", err
	}
	r, err := w.approvals.Get(w.ctx, id)
	return r.Answer, err
}

// statusSteps take powers back through the real status server. After each
// change the verifier's clock moves past its cache's maximum age, the bound
// within which every verifier honours a change.
func (w *world) statusSteps(root *credentials.Credential, sumChain []*credentials.Credential) []func() Step {
	rootChain := []*credentials.Credential{root}
	later := func() { w.offset.Add(int64(statusMaxAge + time.Second)) }
	change := func(f func() (string, error)) error {
		if _, err := f(); err != nil {
			return err
		}
		later()
		return publish(w.principal)
	}
	reg := w.principal.StatusRegistry()
	return []func() Step{
		func() Step {
			err := change(func() (string, error) { return reg.Revoke(root.ID, "urn:mandate:grant:slack-read") })
			d, perr := w.presentChain(w.assistant, rootChain, readSlack, Audience)
			return decisionStep("Alice revokes the Slack grant; assistant reads Slack", "assistant", readSlack, "DENY REVOKED", d, errors.Join(err, perr))
		},
		func() Step {
			d, err := w.presentChain(w.assistant, rootChain, readMail, Audience)
			return decisionStep("assistant still reads mail", "assistant", readMail, "ALLOW", d, err)
		},
		func() Step {
			err := change(func() (string, error) { return reg.Suspend(root.ID, "") })
			d, perr := w.presentChain(w.summarizer, sumChain, readMail, Audience)
			return decisionStep("Alice suspends the assistant; its summarizer reads mail", "summarizer", readMail, "DENY SUSPENDED", d, errors.Join(err, perr))
		},
		func() Step {
			err := change(func() (string, error) { return reg.Resume(root.ID, "") })
			d, perr := w.presentChain(w.summarizer, sumChain, readMail, Audience)
			return decisionStep("Alice resumes the assistant; summarizer reads mail", "summarizer", readMail, "ALLOW", d, errors.Join(err, perr))
		},
		func() Step {
			err := w.statusServer.Close()
			later()
			d, perr := w.presentChain(w.summarizer, sumChain, readMail, Audience)
			return decisionStep("status server down, cached list too old", "summarizer", readMail, "DENY STATUS_UNAVAILABLE", d, errors.Join(err, perr))
		},
	}
}

// forgedSubject is the wider child an agent would sign by hand, skipping
// the issuance check.
func forgedSubject(w *world, parent *credentials.Credential, t credentials.Template) credentials.Subject {
	digest, _ := credentials.Digest(parent.Raw)
	return credentials.Subject{
		ID: t.Subject, Principal: parent.Subject.Principal, Purpose: t.Purpose, Grants: t.Grants,
		Forbidden: parent.Subject.Forbidden, Parent: &credentials.Parent{ID: parent.ID, Digest: digest},
	}
}

// presentOwn lets the agent's wallet choose its chain, as an agent would.
func (w *world) presentOwn(agent *wallet.Wallet, req presentation.Request, aud string, approval ...string) ([]byte, presentation.Decision, error) {
	held, err := chains(agent)
	if err != nil {
		return nil, presentation.Decision{}, err
	}
	chain, err := presentation.Select(held, agent.DID(), req.Action, req.Resource, w.now())
	if err != nil {
		return nil, presentation.Decision{}, err
	}
	vp, err := w.presentBytes(agent, chain, req, aud)
	if err != nil {
		return nil, presentation.Decision{}, err
	}
	d, err := w.client.Send(w.ctx, vp, req, approval...)
	return vp, d, err
}

// presentChain presents a given chain, even one the wallet would not pick:
// the verifier, not the agent, is the one who decides.
func (w *world) presentChain(agent *wallet.Wallet, chain []*credentials.Credential, req presentation.Request, aud string) (presentation.Decision, error) {
	vp, err := w.presentBytes(agent, chain, req, aud)
	if err != nil {
		return presentation.Decision{}, err
	}
	return w.client.Send(w.ctx, vp, req)
}

func (w *world) presentBytes(agent *wallet.Wallet, chain []*credentials.Credential, req presentation.Request, aud string) ([]byte, error) {
	ch, err := w.client.Challenge(w.ctx)
	if err != nil {
		return nil, err
	}
	ch.Audience = aud
	return presentation.Present(agent, chain, ch, req, w.now())
}

// tamperOneByte changes one byte of the leaf credential's purpose.
func tamperOneByte(chain []*credentials.Credential) []*credentials.Credential {
	b, _ := chain[len(chain)-1].Marshal()
	b = bytes.Replace(b, []byte("Summarise"), []byte("Summarize"), 1)
	m, err := credentials.Decode(b)
	if err != nil {
		return chain
	}
	c, err := credentials.Parse(m)
	if err != nil {
		return chain
	}
	return append(append([]*credentials.Credential{}, chain[:len(chain)-1]...), c)
}
