package presentation_test

import (
	"context"
	"encoding/json"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dgraph-io/badger/v4"

	"github.com/mandate-dev/mandate/credentials"
	"github.com/mandate-dev/mandate/did"
	"github.com/mandate-dev/mandate/internal/testkeys"
	"github.com/mandate-dev/mandate/presentation"
)

var (
	alice       = testkeys.New("alice")
	assistant   = testkeys.New("assistant")
	summarizer  = testkeys.New("summarizer")
	mallory     = testkeys.New("mallory")
	verifierKey = testkeys.New("verifier")
	t0          = time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)
)

type fixture struct {
	v      *presentation.Verifier
	now    time.Time
	root   *credentials.Credential
	child  *credentials.Credential
	issued credentials.IssueOptions
}

// newFixture builds the verifier of most tests; with adds to its Config.
func newFixture(t *testing.T, with ...func(*presentation.Config)) *fixture {
	t.Helper()
	db, err := badger.Open(badger.DefaultOptions("").WithInMemory(true).WithLogger(nil))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	f := &fixture{now: t0.Add(time.Hour)}
	f.issued = credentials.IssueOptions{Now: func() time.Time { return t0 }}
	cfg := presentation.Config{
		Audience: "https://mail.example", Resolver: did.KeyResolver{}, TrustedRoots: []string{alice.DID()},
		Store: db, Now: func() time.Time { return f.now }, Signer: verifierKey,
	}
	for _, w := range with {
		w(&cfg)
	}
	v, err := presentation.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	f.v = v
	end := t0.Add(48 * time.Hour)
	f.root, err = credentials.Issue(alice, credentials.Template{
		Subject: assistant.DID(), Purpose: "Keep Alice's inbox organised",
		Grants: []credentials.Grant{
			{ID: "urn:mandate:grant:email-read", Action: "email:read", Resource: "mailbox:alice/*"},
			{ID: "urn:mandate:grant:email-draft", Action: "email:draft", Resource: "mailbox:alice/*",
				Constraints: credentials.Constraints{Approval: credentials.ApprovalRequired}},
			{ID: "urn:mandate:grant:slack-read", Action: "slack:read", Resource: "slack:acme/general",
				Constraints: credentials.Constraints{NotAfter: &end}},
			{ID: "urn:mandate:grant:email-send", Action: "email:send", Resource: "mailbox:alice/*"},
			{ID: "urn:mandate:grant:pay", Action: "invoice:pay", Resource: "erp:acme/*",
				Constraints: credentials.Constraints{MaxUses: ptr(int64(3))}},
			{ID: "urn:mandate:grant:calendar", Action: "calendar:write", Resource: "calendar:alice/*",
				Constraints: credentials.Constraints{Conditions: []string{"int(context.hour) < 18"}}},
		},
		Forbidden:  []credentials.Forbidden{{Action: "email:send"}, {Action: "slack:post"}},
		Delegation: credentials.Delegation{Allowed: true, MaxDepth: 1},
	}, f.issued)
	if err != nil {
		t.Fatal(err)
	}
	f.child, err = credentials.Delegate(assistant, []*credentials.Credential{f.root}, credentials.Template{
		Subject: summarizer.DID(), Purpose: "Summarise Alice's inbox",
		Grants: []credentials.Grant{{ID: "urn:mandate:grant:email-read", Action: "email:read", Resource: "mailbox:alice/*"}},
	}, f.issued)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func ptr[T any](v T) *T { return &v }

func readMail() presentation.Request {
	return presentation.Request{Action: "email:read", Resource: "mailbox:alice/inbox", Intent: "summarise today's mail"}
}

// present asks for a challenge and presents chain as holder for req.
func (f *fixture) present(t testing.TB, holder credentials.Signer, chain []*credentials.Credential, req presentation.Request) []byte {
	t.Helper()
	ch, err := f.v.Challenge(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	vp, err := presentation.Present(holder, chain, ch, req, f.now)
	if err != nil {
		t.Fatal(err)
	}
	return vp
}

func expect(t *testing.T, d presentation.Decision, want presentation.Outcome, reason presentation.Reason) {
	t.Helper()
	if d.Outcome != want {
		t.Fatalf("outcome = %s %v (%s), want %s %s", d.Outcome, d.Reasons, d.Message, want, reason)
	}
	if reason == "" && len(d.Reasons) != 0 || reason != "" && (len(d.Reasons) != 1 || d.Reasons[0] != reason) {
		t.Fatalf("reasons = %v (%s), want [%s]", d.Reasons, d.Message, reason)
	}
}

func TestAllowTwoLinkChain(t *testing.T) {
	f := newFixture(t)
	chain := []*credentials.Credential{f.root, f.child}
	d := f.v.Authorize(context.Background(), f.present(t, summarizer, chain, readMail()), readMail())
	expect(t, d, presentation.Allow, "")
	if d.Principal != alice.DID() || d.Actor != summarizer.DID() || d.Grant != "urn:mandate:grant:email-read" ||
		len(d.Chain) != 2 || d.Chain[0] != f.root.ID || d.Chain[1] != f.child.ID {
		t.Fatalf("decision parties = %+v", d)
	}
}

func TestDenials(t *testing.T) {
	ctx := context.Background()
	cases := []struct {
		name   string
		run    func(t *testing.T, f *fixture) presentation.Decision
		reason presentation.Reason
	}{
		{"not granted", func(t *testing.T, f *fixture) presentation.Decision {
			req := presentation.Request{Action: "slack:read", Resource: "slack:acme/general"}
			return f.v.Authorize(ctx, f.present(t, summarizer, []*credentials.Credential{f.root, f.child}, req), req)
		}, presentation.ReasonNotGranted},
		{"forbidden beats a grant", func(t *testing.T, f *fixture) presentation.Decision {
			req := presentation.Request{Action: "email:send", Resource: "mailbox:alice/outbox"}
			return f.v.Authorize(ctx, f.present(t, assistant, []*credentials.Credential{f.root}, req), req)
		}, presentation.ReasonForbidden},
		{"dot segments out of the granted resource", func(t *testing.T, f *fixture) presentation.Decision {
			// mailbox:alice/* once matched mailbox:alice/../bob/inbox segment by segment.
			req := presentation.Request{Action: "email:read", Resource: "mailbox:alice/../bob/inbox"}
			return f.v.Authorize(ctx, f.present(t, assistant, []*credentials.Credential{f.root}, req), req)
		}, presentation.ReasonMalformed},
		{"condition without the fact it needs", func(t *testing.T, f *fixture) presentation.Decision {
			req := presentation.Request{Action: "calendar:write", Resource: "calendar:alice/work"}
			return f.v.Authorize(ctx, f.present(t, assistant, []*credentials.Credential{f.root}, req), req)
		}, presentation.ReasonConditionFailed},
		{"grant past notAfter", func(t *testing.T, f *fixture) presentation.Decision {
			f.now = t0.Add(49 * time.Hour)
			req := presentation.Request{Action: "slack:read", Resource: "slack:acme/general"}
			return f.v.Authorize(ctx, f.present(t, assistant, []*credentials.Credential{f.root}, req), req)
		}, presentation.ReasonExpired},
		{"credential not yet valid", func(t *testing.T, f *fixture) presentation.Decision {
			f.now = t0.Add(-time.Minute)
			return f.v.Authorize(ctx, f.present(t, assistant, []*credentials.Credential{f.root}, readMail()), readMail())
		}, presentation.ReasonNotYetValid},
		{"replay", func(t *testing.T, f *fixture) presentation.Decision {
			vp := f.present(t, assistant, []*credentials.Credential{f.root}, readMail())
			expect(t, f.v.Authorize(ctx, vp, readMail()), presentation.Allow, "")
			return f.v.Authorize(ctx, vp, readMail())
		}, presentation.ReasonReplay},
		{"another audience", func(t *testing.T, f *fixture) presentation.Decision {
			ch, _ := f.v.Challenge(ctx)
			ch.Audience = "https://other.example"
			vp, _ := presentation.Present(assistant, []*credentials.Credential{f.root}, ch, readMail(), f.now)
			return f.v.Authorize(ctx, vp, readMail())
		}, presentation.ReasonAudienceMismatch},
		{"unknown nonce", func(t *testing.T, f *fixture) presentation.Decision {
			ch := presentation.Challenge{Nonce: "made-up", Audience: f.v.Audience()}
			vp, _ := presentation.Present(assistant, []*credentials.Credential{f.root}, ch, readMail(), f.now)
			return f.v.Authorize(ctx, vp, readMail())
		}, presentation.ReasonChallengeUnknown},
		{"expired nonce", func(t *testing.T, f *fixture) presentation.Decision {
			vp := f.present(t, assistant, []*credentials.Credential{f.root}, readMail())
			f.now = f.now.Add(presentation.DefaultChallengeTTL + time.Second)
			return f.v.Authorize(ctx, vp, readMail())
		}, presentation.ReasonChallengeExpired},
		{"digest for another action", func(t *testing.T, f *fixture) presentation.Decision {
			vp := f.present(t, assistant, []*credentials.Credential{f.root}, readMail())
			other := readMail()
			other.Action = "email:draft"
			return f.v.Authorize(ctx, vp, other)
		}, presentation.ReasonRequestMismatch},
		{"intent changed in transit", func(t *testing.T, f *fixture) presentation.Decision {
			vp := f.present(t, assistant, []*credentials.Credential{f.root}, readMail())
			other := readMail()
			other.Intent = "something else"
			return f.v.Authorize(ctx, vp, other)
		}, presentation.ReasonRequestMismatch},
		{"holder is not the leaf subject", func(t *testing.T, f *fixture) presentation.Decision {
			return f.v.Authorize(ctx, f.present(t, mallory, []*credentials.Credential{f.root}, readMail()), readMail())
		}, presentation.ReasonHolderMismatch},
		{"one byte of a credential changed", func(t *testing.T, f *fixture) presentation.Decision {
			bad := tamper(t, f.root, func(m map[string]any) {
				m["credentialSubject"].(map[string]any)["purpose"] = "Keep Alice's inbox organisee"
			})
			return f.v.Authorize(ctx, f.present(t, assistant, []*credentials.Credential{bad}, readMail()), readMail())
		}, presentation.ReasonSignatureInvalid},
		{"holder proof altered", func(t *testing.T, f *fixture) presentation.Decision {
			vp := f.present(t, assistant, []*credentials.Credential{f.root}, readMail())
			vp = []byte(strings.Replace(string(vp), `"holder":"`, `"holder":"x`, 1))
			return f.v.Authorize(ctx, vp, readMail())
		}, presentation.ReasonMalformed},
		{"hand-built wider child", func(t *testing.T, f *fixture) presentation.Decision {
			wide := handChild(t, f, summarizer.DID(), credentials.Grant{ID: "urn:mandate:grant:all", Action: "email:*", Resource: "mailbox:alice/*"}, 0)
			return f.v.Authorize(ctx, f.present(t, summarizer, []*credentials.Credential{f.root, wide}, readMail()), readMail())
		}, presentation.ReasonScopeEscalation},
		{"child depth not decreasing", func(t *testing.T, f *fixture) presentation.Decision {
			c := handChild(t, f, summarizer.DID(), credentials.Grant{ID: "urn:mandate:grant:r", Action: "email:read", Resource: "mailbox:alice/*"}, 1)
			return f.v.Authorize(ctx, f.present(t, summarizer, []*credentials.Credential{f.root, c}, readMail()), readMail())
		}, presentation.ReasonDepthExceeded},
		{"chain splice: child under a foreign parent", func(t *testing.T, f *fixture) presentation.Decision {
			other, err := credentials.Issue(alice, credentials.Template{Subject: assistant.DID(), Purpose: "p",
				Grants:     []credentials.Grant{{ID: "urn:mandate:grant:email-read", Action: "email:read", Resource: "mailbox:alice/*"}},
				Delegation: credentials.Delegation{Allowed: true, MaxDepth: 1}}, f.issued)
			if err != nil {
				t.Fatal(err)
			}
			return f.v.Authorize(ctx, f.present(t, summarizer, []*credentials.Credential{other, f.child}, readMail()), readMail())
		}, presentation.ReasonChainBroken},
		{"untrusted root", func(t *testing.T, f *fixture) presentation.Decision {
			root, err := credentials.Issue(mallory, credentials.Template{Subject: assistant.DID(), Purpose: "p",
				Grants: []credentials.Grant{{ID: "urn:mandate:grant:email-read", Action: "email:read", Resource: "mailbox:alice/*"}}}, f.issued)
			if err != nil {
				t.Fatal(err)
			}
			return f.v.Authorize(ctx, f.present(t, assistant, []*credentials.Credential{root}, readMail()), readMail())
		}, presentation.ReasonUntrustedRoot},
		{"garbage", func(t *testing.T, f *fixture) presentation.Decision {
			return f.v.Authorize(ctx, []byte("{not json"), readMail())
		}, presentation.ReasonMalformed},
		{"wildcard request", func(t *testing.T, f *fixture) presentation.Decision {
			req := presentation.Request{Action: "email:*", Resource: "mailbox:alice/inbox"}
			return f.v.Authorize(ctx, f.present(t, assistant, []*credentials.Credential{f.root}, req), req)
		}, presentation.ReasonMalformed},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			expect(t, c.run(t, newFixture(t)), presentation.Deny, c.reason)
		})
	}
}

// tamper changes a signed credential and returns it without re-signing.
func tamper(t *testing.T, c *credentials.Credential, f func(map[string]any)) *credentials.Credential {
	t.Helper()
	raw, _ := c.Marshal()
	var m map[string]any
	json.Unmarshal(raw, &m)
	f(m)
	out, err := credentials.Parse(m)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// handChild signs a child under f.root that skips Delegate's own checks, as
// an attacker with the assistant's key would.
func handChild(t *testing.T, f *fixture, subject string, g credentials.Grant, depth int) *credentials.Credential {
	t.Helper()
	digest, _ := credentials.Digest(f.root.Raw)
	c, err := credentials.SignUnchecked(assistant, credentials.Subject{
		ID: subject, Principal: alice.DID(), Purpose: "p", Grants: []credentials.Grant{g},
		Forbidden:  f.root.Subject.Forbidden,
		Delegation: credentials.Delegation{Allowed: depth > 0, MaxDepth: depth},
		Parent:     &credentials.Parent{ID: f.root.ID, Digest: digest},
	}, credentials.Template{}, f.issued)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestNonceSingleUseUnderRace(t *testing.T) {
	f := newFixture(t)
	vp := f.present(t, assistant, []*credentials.Credential{f.root}, readMail())
	var wg sync.WaitGroup
	allowed := make(chan bool, 8)
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			allowed <- f.v.Authorize(context.Background(), vp, readMail()).Allowed()
		}()
	}
	wg.Wait()
	close(allowed)
	n := 0
	for a := range allowed {
		if a {
			n++
		}
	}
	if n != 1 {
		t.Fatalf("%d of 8 concurrent uses of one presentation were allowed, want exactly 1", n)
	}
}
