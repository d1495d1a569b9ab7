package attack_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	grpcstatus "google.golang.org/grpc/status"

	"github.com/mandate-dev/mandate/credentials"
	"github.com/mandate-dev/mandate/credentials/status"
	"github.com/mandate-dev/mandate/did"
	"github.com/mandate-dev/mandate/internal/testkeys"
	"github.com/mandate-dev/mandate/presentation"
	"github.com/mandate-dev/mandate/presentation/gatekeeper"
)

// attack is one crafted input and the exact denial it must get.
type attack struct {
	name string
	// cfg changes the verifier's configuration for this case only.
	cfg   func(*presentation.Config)
	craft func(t *testing.T, w *world) (vp []byte, req presentation.Request)
	// reason is the exact DENY reason; code, when set, is instead the gRPC
	// error the call must fail with (the input never reached the verifier).
	reason presentation.Reason
	code   codes.Code
	// format is the presentation's format ("": FormatLDP).
	format string
	// within, when set, bounds how long the decision may take.
	within time.Duration
	// msg is a substring of the decision's message or of the gRPC error;
	// {root} and {child} stand for the ids of the world's control chain,
	// {sdroot} and {sdchild} for those of its SD-JWT control chain.
	msg string
}

// signed presents raw credentials as holder, honestly signed over a fresh
// challenge from the verifier: the holder's own signature over whatever it
// chose to send.
func (w *world) signed(t testing.TB, holder *testkeys.Key, creds []map[string]any, req presentation.Request) []byte {
	t.Helper()
	return signVP(t, holder.DID(), creds, req, holderProof{key: holder, ch: w.challenge(t)}, nil)
}

// mustAllow sends a legitimate presentation as a case's setup step.
func (w *world) mustAllow(t testing.TB, vp []byte, req presentation.Request) {
	t.Helper()
	d, err := w.send(vp, req)
	if err != nil || d.Outcome != presentation.Allow {
		t.Fatalf("setup: legitimate presentation got %s %v (%s), %v", d.Outcome, d.Reasons, d.Message, err)
	}
}

// presentElsewhere presents the control chain honestly to another verifier,
// of audience aud, over a challenge of its own.
func (w *world) presentElsewhere(t testing.TB, aud string) []byte {
	t.Helper()
	other, err := presentation.New(presentation.Config{Audience: aud, Resolver: did.KeyResolver{},
		TrustedRoots: []string{alice.DID()}, Store: memDB(t), Signer: verifierID, Now: w.now})
	if err != nil {
		t.Fatal(err)
	}
	ch, err := other.Challenge(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	vp, err := presentation.Present(summarizer, w.chain(), ch, readMail(), w.now())
	if err != nil {
		t.Fatal(err)
	}
	return vp
}

func corpus() []attack {
	var all []attack
	for _, part := range [][]attack{scopeAttacks(), chainAttacks(), bindingAttacks(), statusAttacks(), proofAttacks(), jsonAttacks(),
		sdjwtAttacks(), conditionAttacks(), intentAttacks(), trustAttacks()} {
		all = append(all, part...)
	}
	return all
}

func TestCorpus(t *testing.T) {
	t.Run("control: the legitimate presentation is allowed", func(t *testing.T) {
		w := newWorld(t, nil)
		d, err := w.client.Authorize(context.Background(), summarizer, [][]*credentials.Credential{w.chain()}, readMail())
		if err != nil || d.Outcome != presentation.Allow || len(d.Reasons) != 0 {
			t.Fatalf("control: %s %v (%s), %v: the harness does not work", d.Outcome, d.Reasons, d.Message, err)
		}
		if d.Principal != alice.DID() || d.Actor != summarizer.DID() || d.Grant != grantRead || !slices.Equal(d.Chain, []string{w.root.ID, w.child.ID}) {
			t.Fatalf("control decision = %+v", d)
		}
	})
	t.Run("control: the legitimate SD-JWT presentation is allowed", func(t *testing.T) {
		w := newWorld(t, nil)
		sd := w.sdChain(t)
		d, err := w.sendFormat(presentation.FormatSDJWT, w.presentSD(t, sd, readMail()), readMail())
		if err != nil || d.Outcome != presentation.Allow || d.Grant != grantRead || !slices.Equal(d.Chain, []string{sd.rootID, sd.childID}) {
			t.Fatalf("control: %s %v (%s) %+v, %v: the harness does not work", d.Outcome, d.Reasons, d.Message, d, err)
		}
	})
	t.Run("control: the lexical checker allows an on-purpose intent", func(t *testing.T) {
		w := newWorld(t, withLexical)
		d, err := w.send(w.present(t, summarizer, w.chain(), readMail()), readMail())
		if err != nil || d.Outcome != presentation.Allow || verdicts(d.Checks) != "lexical:allow" {
			t.Fatalf("control: %s %v (%s) checks %v, %v", d.Outcome, d.Reasons, d.Message, d.Checks, err)
		}
	})
	t.Run("control: the trust policy allows a witnessed root", func(t *testing.T) {
		w := newWorld(t, withPolicy)
		root := w.witnessed(t, notary)
		req := legalRead()
		d, err := w.send(w.present(t, assistant, []*credentials.Credential{root}, req), req)
		if err != nil || d.Outcome != presentation.Allow {
			t.Fatalf("control: %s %v (%s), %v", d.Outcome, d.Reasons, d.Message, err)
		}
	})
	run(t, corpus())
}

// run sends every attack to its own world and fails on any ALLOW.
func run(t *testing.T, attacks []attack) {
	t.Helper()
	var allowed []string
	seen := map[string]bool{}
	for _, a := range attacks {
		if seen[a.name] {
			t.Fatalf("two attacks are named %q", a.name)
		}
		seen[a.name] = true
		t.Run(a.name, func(t *testing.T) {
			w := newWorld(t, a.cfg)
			vp, req := a.craft(t, w)
			start := time.Now()
			d, err := w.sendFormat(a.format, vp, req)
			if took := time.Since(start); a.within > 0 && took > a.within {
				t.Errorf("decision took %s, bound %s", took, a.within)
			}
			if d.Outcome == presentation.Allow {
				allowed = append(allowed, a.name)
				t.Fatalf("FALSE ALLOW: %+v", d)
			}
			t.Logf("%s %v: %s (err %v)", d.Outcome, d.Reasons, d.Message, err)
			ids := []string{"{root}", w.root.ID, "{child}", w.child.ID}
			if w.sd != nil {
				ids = append(ids, "{sdroot}", w.sd.rootID, "{sdchild}", w.sd.childID)
			}
			a.msg = strings.NewReplacer(ids...).Replace(a.msg)
			check(t, a, d, err)
		})
	}
	if len(allowed) > 0 {
		t.Errorf("%d attacks were ALLOWED: %q", len(allowed), allowed)
	}
}

func check(t *testing.T, a attack, d presentation.Decision, err error) {
	t.Helper()
	if a.code != codes.OK {
		if got := grpcstatus.Code(err); got != a.code || !strings.Contains(err.Error(), a.msg) {
			t.Fatalf("gRPC error = %v (%v), want %v mentioning %q", got, err, a.code, a.msg)
		}
		return
	}
	if err != nil {
		t.Fatalf("gRPC error %v, want a DENY %s", err, a.reason)
	}
	if d.Outcome != presentation.Deny || !slices.Equal(d.Reasons, []presentation.Reason{a.reason}) {
		t.Fatalf("decision = %s %v (%s), want DENY %s", d.Outcome, d.Reasons, d.Message, a.reason)
	}
	if !strings.Contains(d.Message, a.msg) {
		t.Fatalf("message %q does not mention %q", d.Message, a.msg)
	}
}

func scopeAttacks() []attack {
	return []attack{
		{name: "scope escalation by one child", craft: func(t *testing.T, w *world) ([]byte, presentation.Request) {
			wide := w.forge(t, assistant, w.root, credentials.Subject{ID: summarizer.DID(), Forbidden: w.root.Subject.Forbidden,
				Grants: []credentials.Grant{grant("email-all", "email:*", "mailbox:alice/*")}}, credentials.Template{})
			req := presentation.Request{Action: "email:delete", Resource: "mailbox:alice/inbox"}
			return w.present(t, summarizer, []*credentials.Credential{w.root, wide}, req), req
		}, reason: presentation.ReasonScopeEscalation, msg: "grant urn:mandate:grant:email-all: no parent grant covers email:* on mailbox:alice/*"},

		// Salami: each link is narrower than the root, and the last one is
		// still inside the root, but it regains what its own parent gave
		// up. Every link is checked against its own parent, not the root.
		{name: "scope escalation by a chain of small steps", craft: func(t *testing.T, w *world) ([]byte, presentation.Request) {
			root := w.issue(t, alice, rootTemplate(grant("s0", "email:read", "mailbox:alice/*"), 3))
			c1 := w.delegate(t, assistant, []*credentials.Credential{root}, credentials.Template{Subject: summarizer.DID(), Purpose: "step 1",
				Grants: []credentials.Grant{grant("s1", "email:read", "mailbox:alice/inbox/*")}, Delegation: credentials.Delegation{Allowed: true, MaxDepth: 2}})
			c2 := w.delegate(t, summarizer, []*credentials.Credential{root, c1}, credentials.Template{Subject: intern.DID(), Purpose: "step 2",
				Grants: []credentials.Grant{grant("s2", "email:read", "mailbox:alice/inbox/2026/*")}, Delegation: credentials.Delegation{Allowed: true, MaxDepth: 1}})
			c3 := w.forge(t, intern, c2, credentials.Subject{ID: mallory.DID(), Grants: []credentials.Grant{grant("s3", "email:read", "mailbox:alice/inbox/*")}}, credentials.Template{})
			req := presentation.Request{Action: "email:read", Resource: "mailbox:alice/inbox/2025/x"}
			return w.present(t, mallory, []*credentials.Credential{root, c1, c2, c3}, req), req
		}, reason: presentation.ReasonScopeEscalation, msg: "grant urn:mandate:grant:s3: no parent grant covers email:read on mailbox:alice/inbox/*"},

		// A trade: narrower resource for a later end. Each constraint is
		// checked on its own; nothing is traded against anything.
		{name: "scope escalation: narrower resource, later notAfter", craft: func(t *testing.T, w *world) ([]byte, presentation.Request) {
			g := grant("ends", "email:read", "mailbox:alice/*")
			g.Constraints.NotAfter = until(48 * time.Hour)
			root := w.issue(t, alice, rootTemplate(g, 1))
			c := grant("ends-later", "email:read", "mailbox:alice/inbox")
			c.Constraints.NotAfter = until(49 * time.Hour)
			child := w.forge(t, assistant, root, credentials.Subject{ID: summarizer.DID(), Grants: []credentials.Grant{c}}, credentials.Template{})
			return w.present(t, summarizer, []*credentials.Credential{root, child}, readMail()), readMail()
		}, reason: presentation.ReasonScopeEscalation, msg: "parent grant urn:mandate:grant:ends: notAfter is later than the parent's"},

		// Siblings each get the parent's whole maxUses, legally: together
		// they could spend it twice over. Every use is charged to the grant
		// used at every link, so the root grant's budget is shared.
		{name: "sum of siblings' maxUses", craft: func(t *testing.T, w *world) ([]byte, presentation.Request) {
			g := grant("pay", "invoice:pay", "erp:acme/*")
			g.Constraints.MaxUses = ptr(int64(3))
			root := w.issue(t, alice, rootTemplate(g, 1))
			kids := map[*testkeys.Key][]*credentials.Credential{}
			for _, k := range []*testkeys.Key{summarizer, intern} {
				mine := g
				mine.ID += "-" + prefixes[k.DID()]
				kids[k] = []*credentials.Credential{root, w.delegate(t, assistant, []*credentials.Credential{root}, credentials.Template{
					Subject: k.DID(), Purpose: "pay invoices", Grants: []credentials.Grant{mine}})}
			}
			w.publish(t)
			req := presentation.Request{Action: "invoice:pay", Resource: "erp:acme/inv-1"}
			for _, k := range []*testkeys.Key{summarizer, summarizer, intern} {
				w.mustAllow(t, w.present(t, k, kids[k], req), req)
			}
			return w.present(t, summarizer, kids[summarizer], req), req
		}, reason: presentation.ReasonUsesExhausted, msg: "grant urn:mandate:grant:pay of credential " + alice.DID() + "/"},
	}
}

func chainAttacks() []attack {
	return []attack{
		{name: "chain splicing: a valid child under a foreign parent", craft: func(t *testing.T, w *world) ([]byte, presentation.Request) {
			foreign := w.issue(t, alice, rootTemplate(grant("email-read", "email:read", "mailbox:alice/*"), 2))
			return w.present(t, summarizer, []*credentials.Credential{foreign, w.child}, readMail()), readMail()
		}, reason: presentation.ReasonChainBroken, msg: "{child} names parent {root}, not "},

		// The same parent id with other signed bytes: alice re-issued the
		// root (an issuer whose random source repeats), and the holder
		// presents the child under the version it was not derived from.
		{name: "parent digest mismatch: another version of the parent", craft: func(t *testing.T, w *world) ([]byte, presentation.Request) {
			o := credentials.IssueOptions{Now: w.issued.Now, Rand: fixedRand(7)}
			v1, err := credentials.Issue(alice, rootTemplate(grant("r", "email:read", "mailbox:alice/inbox"), 1), o)
			if err != nil {
				t.Fatal(err)
			}
			child, err := credentials.Delegate(assistant, []*credentials.Credential{v1}, credentials.Template{Subject: summarizer.DID(), Purpose: "p",
				Grants: []credentials.Grant{grant("r", "email:read", "mailbox:alice/inbox")}}, w.issued)
			if err != nil {
				t.Fatal(err)
			}
			o.Now = func() time.Time { return t0.Add(time.Minute) }
			v2, err := credentials.Issue(alice, rootTemplate(grant("r", "email:read", "mailbox:alice/*"), 1), o)
			if err != nil || v2.ID != v1.ID {
				t.Fatalf("re-issue: %v, ids %s %s", err, v1.ID, v2.ID)
			}
			return w.present(t, summarizer, []*credentials.Credential{v2, child}, readMail()), readMail()
		}, reason: presentation.ReasonParentDigestMismatch, msg: "names digest"},

		{name: "a child presented without its root", craft: func(t *testing.T, w *world) ([]byte, presentation.Request) {
			return w.present(t, summarizer, []*credentials.Credential{w.child}, readMail()), readMail()
		}, reason: presentation.ReasonChainBroken, msg: "first link {child} names a parent"},

		{name: "links in reverse order", craft: func(t *testing.T, w *world) ([]byte, presentation.Request) {
			return w.present(t, assistant, []*credentials.Credential{w.child, w.root}, readMail()), readMail()
		}, reason: presentation.ReasonChainBroken, msg: "first link {child} names a parent"},

		{name: "a forged root naming alice as principal", craft: func(t *testing.T, w *world) ([]byte, presentation.Request) {
			forged, err := credentials.SignUnchecked(assistant, credentials.Subject{ID: assistant.DID(), Principal: alice.DID(), Purpose: "p",
				Grants: []credentials.Grant{grant("all", "email:*", "mailbox:alice/*")}}, credentials.Template{}, w.opts(t, assistant))
			if err != nil {
				t.Fatal(err)
			}
			return w.present(t, assistant, []*credentials.Credential{forged}, readMail()), readMail()
		}, reason: presentation.ReasonChainBroken, msg: "is issued by " + assistant.DID() + ", not by its principal " + alice.DID()},

		{name: "depth beyond maxDepth: maxDepth not decreasing", craft: func(t *testing.T, w *world) ([]byte, presentation.Request) {
			c := w.forge(t, assistant, w.root, credentials.Subject{ID: summarizer.DID(), Forbidden: w.root.Subject.Forbidden,
				Grants: []credentials.Grant{grant("email-read", "email:read", "mailbox:alice/*")}, Delegation: credentials.Delegation{Allowed: true, MaxDepth: 2}}, credentials.Template{})
			return w.present(t, summarizer, []*credentials.Credential{w.root, c}, readMail()), readMail()
		}, reason: presentation.ReasonDepthExceeded, msg: "child maxDepth 2 must be below parent's 2"},

		{name: "depth beyond maxDepth: one link past the last", craft: func(t *testing.T, w *world) ([]byte, presentation.Request) {
			last := w.delegate(t, summarizer, w.chain(), credentials.Template{Subject: intern.DID(), Purpose: "read the inbox",
				Grants: []credentials.Grant{grant("inbox", "email:read", "mailbox:alice/inbox")}})
			past := w.forge(t, intern, last, credentials.Subject{ID: mallory.DID(), Forbidden: last.Subject.Forbidden,
				Grants: []credentials.Grant{grant("inbox", "email:read", "mailbox:alice/inbox")}}, credentials.Template{})
			return w.present(t, mallory, []*credentials.Credential{w.root, w.child, last, past}, readMail()), readMail()
		}, reason: presentation.ReasonDelegationNotAllowed, msg: "delegation not allowed"},

		{name: "delegation where it is not allowed", craft: func(t *testing.T, w *world) ([]byte, presentation.Request) {
			root := w.issue(t, alice, rootTemplate(grant("r", "email:read", "mailbox:alice/*"), 0))
			c := w.forge(t, assistant, root, credentials.Subject{ID: summarizer.DID(), Grants: []credentials.Grant{grant("r", "email:read", "mailbox:alice/inbox")}}, credentials.Template{})
			return w.present(t, summarizer, []*credentials.Credential{root, c}, readMail()), readMail()
		}, reason: presentation.ReasonDelegationNotAllowed, msg: "delegation not allowed"},

		{name: "a forbidden action re-granted lower in the chain", craft: func(t *testing.T, w *world) ([]byte, presentation.Request) {
			root := w.issue(t, alice, rootTemplate(grant("all", "email:*", "mailbox:alice/*"), 1, credentials.Forbidden{Action: "email:send"}))
			c := w.forge(t, assistant, root, credentials.Subject{ID: summarizer.DID(), Forbidden: root.Subject.Forbidden,
				Grants: []credentials.Grant{grant("send", "email:send", "mailbox:alice/outbox")}}, credentials.Template{})
			req := presentation.Request{Action: "email:send", Resource: "mailbox:alice/outbox"}
			return w.present(t, summarizer, []*credentials.Credential{root, c}, req), req
		}, reason: presentation.ReasonScopeEscalation, msg: "re-grants forbidden action email:send"},

		{name: "a forbidden action dropped by a child", craft: func(t *testing.T, w *world) ([]byte, presentation.Request) {
			root := w.issue(t, alice, rootTemplate(grant("all", "email:*", "mailbox:alice/*"), 1, credentials.Forbidden{Action: "email:send"}))
			c := w.forge(t, assistant, root, credentials.Subject{ID: summarizer.DID(), Grants: []credentials.Grant{grant("all", "email:*", "mailbox:alice/*")}}, credentials.Template{})
			req := presentation.Request{Action: "email:send", Resource: "mailbox:alice/outbox"}
			return w.present(t, summarizer, []*credentials.Credential{root, c}, req), req
		}, reason: presentation.ReasonScopeEscalation, msg: "child drops forbidden action email:send"},

		{name: "a forbidden action requested under a wider grant", craft: func(t *testing.T, w *world) ([]byte, presentation.Request) {
			root := w.issue(t, alice, rootTemplate(grant("all", "email:*", "mailbox:alice/*"), 1, credentials.Forbidden{Action: "email:send"}))
			c := w.delegate(t, assistant, []*credentials.Credential{root}, credentials.Template{Subject: summarizer.DID(), Purpose: "p",
				Grants: []credentials.Grant{grant("all", "email:*", "mailbox:alice/*")}})
			req := presentation.Request{Action: "email:send", Resource: "mailbox:alice/outbox"}
			return w.present(t, summarizer, []*credentials.Credential{root, c}, req), req
		}, reason: presentation.ReasonForbidden, msg: "forbids email:send"},

		{name: "a root from an untrusted principal", craft: func(t *testing.T, w *world) ([]byte, presentation.Request) {
			root := w.issue(t, mallory, rootTemplate(grant("r", "email:read", "mailbox:alice/*"), 0))
			return w.present(t, assistant, []*credentials.Credential{root}, readMail()), readMail()
		}, reason: presentation.ReasonUntrustedRoot, msg: "principal " + mallory.DID() + " is not a trusted root"},
	}
}

func bindingAttacks() []attack {
	return []attack{
		{name: "replay", craft: func(t *testing.T, w *world) ([]byte, presentation.Request) {
			vp := w.present(t, summarizer, w.chain(), readMail())
			w.mustAllow(t, vp, readMail())
			return vp, readMail()
		}, reason: presentation.ReasonReplay, msg: "presentation: challenge already used"},

		// Another service's verifier hands out a challenge; the agent
		// presents to it, and that service relays the presentation here.
		{name: "audience swap: relayed from another service", craft: func(t *testing.T, w *world) ([]byte, presentation.Request) {
			return w.presentElsewhere(t, "https://calendar.example"), readMail()
		}, reason: presentation.ReasonAudienceMismatch, msg: `presentation is for "https://calendar.example", this verifier is "https://mail.example"`},

		// A second verifier with the same audience and its own store: its
		// nonces mean nothing here.
		{name: "a nonce from another verifier, domain set to this one", craft: func(t *testing.T, w *world) ([]byte, presentation.Request) {
			return w.presentElsewhere(t, audience), readMail()
		}, reason: presentation.ReasonChallengeUnknown, msg: "presentation: challenge unknown"},

		{name: "an expired challenge", craft: func(t *testing.T, w *world) ([]byte, presentation.Request) {
			vp := w.present(t, summarizer, w.chain(), readMail())
			w.advance(presentation.DefaultChallengeTTL + time.Second)
			return vp, readMail()
		}, reason: presentation.ReasonChallengeExpired, msg: "presentation: challenge expired"},

		{name: "request digest for another action", craft: func(t *testing.T, w *world) ([]byte, presentation.Request) {
			req := readMail()
			req.Action = "email:delete"
			return w.present(t, summarizer, w.chain(), readMail()), req
		}, reason: presentation.ReasonRequestMismatch, msg: "bound to another request"},

		{name: "intent changed in transit", craft: func(t *testing.T, w *world) ([]byte, presentation.Request) {
			req := readMail()
			req.Intent = "forward everything to mallory"
			return w.present(t, summarizer, w.chain(), readMail()), req
		}, reason: presentation.ReasonRequestMismatch, msg: "bound to another request"},

		{name: "context entry added in transit", craft: func(t *testing.T, w *world) ([]byte, presentation.Request) {
			req := readMail()
			req.Context = map[string]string{"cc": "mallory@example.org"}
			return w.present(t, summarizer, w.chain(), readMail()), req
		}, reason: presentation.ReasonRequestMismatch, msg: "bound to another request"},

		{name: "a presentation of a chain the holder does not end", craft: func(t *testing.T, w *world) ([]byte, presentation.Request) {
			return w.present(t, mallory, w.chain(), readMail()), readMail()
		}, reason: presentation.ReasonHolderMismatch, msg: "presented by " + mallory.DID() + ", but the leaf credential was granted to " + summarizer.DID()},

		{name: "a sub-agent presenting its parent's credential", craft: func(t *testing.T, w *world) ([]byte, presentation.Request) {
			return w.present(t, summarizer, []*credentials.Credential{w.root}, readMail()), readMail()
		}, reason: presentation.ReasonHolderMismatch, msg: "granted to " + assistant.DID()},

		{name: "a wildcard request", craft: func(t *testing.T, w *world) ([]byte, presentation.Request) {
			req := presentation.Request{Action: "email:*", Resource: "mailbox:alice/inbox"}
			return w.present(t, summarizer, w.chain(), req), req
		}, reason: presentation.ReasonMalformed, msg: "not a pattern"},
	}
}

func statusAttacks() []attack {
	return []attack{
		{name: "an expired link", craft: func(t *testing.T, w *world) ([]byte, presentation.Request) {
			c := w.delegate(t, assistant, []*credentials.Credential{w.root}, credentials.Template{Subject: summarizer.DID(), Purpose: "p",
				Grants: []credentials.Grant{grant("r", "email:read", "mailbox:alice/*")}, ValidUntil: until(30 * time.Minute)})
			w.publish(t)
			return w.present(t, summarizer, []*credentials.Credential{w.root, c}, readMail()), readMail()
		}, reason: presentation.ReasonExpired, msg: "expired at " + t0.Add(30*time.Minute).Format(time.RFC3339)},

		{name: "a not-yet-valid link", craft: func(t *testing.T, w *world) ([]byte, presentation.Request) {
			c := w.delegate(t, assistant, []*credentials.Credential{w.root}, credentials.Template{Subject: summarizer.DID(), Purpose: "p",
				Grants: []credentials.Grant{grant("r", "email:read", "mailbox:alice/*")}, ValidFrom: t0.Add(2 * time.Hour)})
			w.publish(t)
			return w.present(t, summarizer, []*credentials.Credential{w.root, c}, readMail()), readMail()
		}, reason: presentation.ReasonNotYetValid, msg: "is valid from " + t0.Add(2*time.Hour).Format(time.RFC3339)},

		{name: "a revoked ancestor", craft: func(t *testing.T, w *world) ([]byte, presentation.Request) {
			w.change(t, func() (string, error) { return w.reg(t, alice).Revoke(w.root.ID, "") })
			return w.present(t, summarizer, w.chain(), readMail()), readMail()
		}, reason: presentation.ReasonRevoked, msg: "{root} is revoked"},

		{name: "a suspended ancestor", craft: func(t *testing.T, w *world) ([]byte, presentation.Request) {
			w.change(t, func() (string, error) { return w.reg(t, alice).Suspend(w.root.ID, "") })
			return w.present(t, summarizer, w.chain(), readMail()), readMail()
		}, reason: presentation.ReasonSuspended, msg: "{root} is suspended"},

		{name: "a revoked grant", craft: func(t *testing.T, w *world) ([]byte, presentation.Request) {
			w.change(t, func() (string, error) { return w.reg(t, assistant).Revoke(w.child.ID, grantRead) })
			return w.present(t, summarizer, w.chain(), readMail()), readMail()
		}, reason: presentation.ReasonRevoked, msg: "grant " + grantRead + " of {child} is revoked"},

		{name: "a revoked ancestor grant", craft: func(t *testing.T, w *world) ([]byte, presentation.Request) {
			w.change(t, func() (string, error) { return w.reg(t, alice).Revoke(w.root.ID, grantRead) })
			return w.present(t, summarizer, w.chain(), readMail()), readMail()
		}, reason: presentation.ReasonRevoked, msg: "grant " + grantRead + " of {root} is revoked"},

		{name: "a status list signed by another issuer", craft: func(t *testing.T, w *world) ([]byte, presentation.Request) {
			w.replaceList(t, w.root.Status[0], func(l status.StoredList) []byte { return w.signList(t, mallory, l) })
			return w.present(t, summarizer, w.chain(), readMail()), readMail()
		}, reason: presentation.ReasonStatusInvalid, msg: "issued by " + mallory.DID()},

		{name: "a status list claiming the issuer, signed by another key", craft: func(t *testing.T, w *world) ([]byte, presentation.Request) {
			w.replaceList(t, w.root.Status[0], func(l status.StoredList) []byte {
				return editJSON(t, w.signList(t, mallory, l), func(m map[string]any) { m["issuer"] = alice.DID() })
			})
			return w.present(t, summarizer, w.chain(), readMail()), readMail()
		}, reason: presentation.ReasonStatusInvalid, msg: "does not belong to issuer " + alice.DID()},

		{name: "a status list served under another list's URL", craft: func(t *testing.T, w *world) ([]byte, presentation.Request) {
			suspension := w.listBytes(t, w.root.Status[1])
			w.replaceList(t, w.root.Status[0], func(status.StoredList) []byte { return suspension })
			return w.present(t, summarizer, w.chain(), readMail()), readMail()
		}, reason: presentation.ReasonStatusInvalid, msg: "is not its URL"},

		// The verifier has seen the revocation; the network attacker then
		// serves the list from before it.
		{name: "an older signed status list replayed", craft: func(t *testing.T, w *world) ([]byte, presentation.Request) {
			before := w.listBytes(t, w.root.Status[0])
			w.advance(time.Minute)
			w.change(t, func() (string, error) { return w.reg(t, alice).Revoke(w.root.ID, "") })
			d, err := w.send(w.present(t, summarizer, w.chain(), readMail()), readMail())
			if err != nil || !slices.Equal(d.Reasons, []presentation.Reason{presentation.ReasonRevoked}) {
				t.Fatalf("setup: revoked chain got %v (%s), %v", d.Reasons, d.Message, err)
			}
			w.replaceList(t, w.root.Status[0], func(status.StoredList) []byte { return before })
			w.advance(statusMaxAge + time.Second)
			return w.present(t, summarizer, w.chain(), readMail()), readMail()
		}, reason: presentation.ReasonStatusInvalid, msg: "older"},

		// A delegating agent points its child's status at an internal host:
		// the verifier must not fetch it (SSRF).
		{name: "a status list URL on an internal plain-http host", craft: func(t *testing.T, w *world) ([]byte, presentation.Request) {
			c := w.pointedChild(t, "http://169.254.169.254/latest/meta-data")
			return w.present(t, summarizer, []*credentials.Credential{w.root, c}, readMail()), readMail()
		}, reason: presentation.ReasonStatusUnavailable, msg: "http to a non-loopback host"},

		// The principal revokes, and the attacker blocks the status server
		// so that the verifier never sees it.
		{name: "a stale status list: server down past the maximum age", craft: func(t *testing.T, w *world) ([]byte, presentation.Request) {
			w.mustAllow(t, w.present(t, summarizer, w.chain(), readMail()), readMail())
			if _, err := w.reg(t, alice).Revoke(w.root.ID, ""); err != nil {
				t.Fatal(err)
			}
			w.srv.Close()
			w.advance(statusMaxAge + time.Second)
			return w.present(t, summarizer, w.chain(), readMail()), readMail()
		}, reason: presentation.ReasonStatusUnavailable, msg: "status list unavailable"},
	}
}

func proofAttacks() []attack {
	holderOnlyForAssertion := func(c *presentation.Config) {
		c.Resolver = keyOnlyUnder{did: summarizer.DID(), relationship: "assertionMethod"}
	}
	issuerOnlyForAuthentication := func(c *presentation.Config) {
		c.Resolver = keyOnlyUnder{did: assistant.DID(), relationship: "authentication"}
	}
	// onRoot edits the root credential and has the summarizer present the
	// control chain with it (the holder signs whatever it sends).
	onRoot := func(edit func(t *testing.T, m map[string]any)) func(t *testing.T, w *world) ([]byte, presentation.Request) {
		return func(t *testing.T, w *world) ([]byte, presentation.Request) {
			creds := raws(t, w.root, w.child)
			edit(t, creds[0])
			return w.signed(t, summarizer, creds, readMail()), readMail()
		}
	}
	// onRootAfterSigning edits the root inside a presentation the holder
	// has signed: for proof types that the embedded contexts do not define,
	// which aries will not sign over. Credentials are checked before the
	// holder proof, so the holder proof is never reached.
	onRootAfterSigning := func(edit func(t *testing.T, m map[string]any)) func(t *testing.T, w *world) ([]byte, presentation.Request) {
		return func(t *testing.T, w *world) ([]byte, presentation.Request) {
			vp := w.present(t, summarizer, w.chain(), readMail())
			return editJSON(t, vp, func(m map[string]any) { edit(t, m["verifiableCredential"].([]any)[0].(map[string]any)) }), readMail()
		}
	}
	return []attack{
		{name: "algorithm confusion: a JsonWebSignature2020 ES256 proof", craft: onRootAfterSigning(func(t *testing.T, m map[string]any) {
			m["proof"] = es256Proof(t, m)
		}), reason: presentation.ReasonSignatureInvalid, msg: `proof type "JsonWebSignature2020" is not accepted`},

		{name: "algorithm confusion: the proof relabelled Ed25519Signature2018", craft: onRoot(func(t *testing.T, m map[string]any) {
			proofOf(m)["type"] = "Ed25519Signature2018"
		}), reason: presentation.ReasonSignatureInvalid, msg: `proof type "Ed25519Signature2018" is not accepted`},

		{name: "algorithm confusion: the proof relabelled DataIntegrityProof eddsa-rdfc-2022", craft: onRootAfterSigning(func(t *testing.T, m map[string]any) {
			proofOf(m)["type"] = "DataIntegrityProof"
			proofOf(m)["cryptosuite"] = "eddsa-rdfc-2022"
		}), reason: presentation.ReasonSignatureInvalid, msg: `proof type "DataIntegrityProof" is not accepted`},

		{name: "algorithm confusion: a jws in place of proofValue", craft: onRoot(func(t *testing.T, m map[string]any) {
			p := proofOf(m)
			p["jws"] = es256Proof(t, m)["jws"]
			delete(p, "proofValue")
		}), reason: presentation.ReasonSignatureInvalid, msg: "lacks verificationMethod or proofValue"},

		{name: "algorithm confusion: a credential proof made for authentication", craft: onRoot(func(t *testing.T, m map[string]any) {
			for k, v := range resign(t, m, alice, alice.VerificationMethod(), "authentication") {
				m[k] = v
			}
		}), reason: presentation.ReasonSignatureInvalid, msg: `proofPurpose "authentication", want assertionMethod`},

		{name: "algorithm confusion: a holder proof made for assertionMethod", craft: func(t *testing.T, w *world) ([]byte, presentation.Request) {
			return signVP(t, summarizer.DID(), raws(t, w.chain()...), readMail(), holderProof{key: summarizer, purpose: "assertionMethod", ch: w.challenge(t)}, nil), readMail()
		}, reason: presentation.ReasonSignatureInvalid, msg: `holder proofPurpose "assertionMethod", want authentication`},

		{name: "algorithm confusion: the holder's key listed only under assertionMethod", cfg: holderOnlyForAssertion,
			craft: func(t *testing.T, w *world) ([]byte, presentation.Request) {
				return w.present(t, summarizer, w.chain(), readMail()), readMail()
			}, reason: presentation.ReasonSignatureInvalid, msg: "is not listed under authentication"},

		{name: "algorithm confusion: an issuer's key listed only under authentication", cfg: issuerOnlyForAuthentication,
			craft: func(t *testing.T, w *world) ([]byte, presentation.Request) {
				return w.present(t, summarizer, w.chain(), readMail()), readMail()
			}, reason: presentation.ReasonSignatureInvalid, msg: "is not listed under assertionMethod"},

		{name: "algorithm confusion: an X25519 key-agreement key as the verification method", craft: onRoot(func(t *testing.T, m map[string]any) {
			x := strings.TrimPrefix(didKey(t, 0xec, alice.PublicKey()), "did:key:")
			for k, v := range resign(t, m, alice, alice.DID()+"#"+x, "assertionMethod") {
				m[k] = v
			}
		}), reason: presentation.ReasonSignatureInvalid, msg: "is not in the document"},

		{name: "unsupported DID method: a did:web issuer", craft: onRoot(func(t *testing.T, m map[string]any) {
			for k, v := range resign(t, withIssuerMap(m, "did:web:alice.example"), alice, "did:web:alice.example#key-1", "assertionMethod") {
				m[k] = v
			}
		}), reason: presentation.ReasonUnsupportedDIDMethod, msg: `"web": only did:key`},

		{name: "unsupported DID method: a did:example holder", craft: func(t *testing.T, w *world) ([]byte, presentation.Request) {
			const holder = "did:example:summarizer"
			return signVP(t, holder, raws(t, w.chain()...), readMail(), holderProof{key: summarizer, vm: holder + "#key-1", ch: w.challenge(t)}, nil), readMail()
		}, reason: presentation.ReasonUnsupportedDIDMethod, msg: `holder: aries: verify proof: did: resolve "did:example:summarizer": did: method not supported: "example"`},

		{name: "a did:key issuer with the x25519 multicodec", craft: onRoot(func(t *testing.T, m map[string]any) {
			d := didKey(t, 0xec, alice.PublicKey())
			for k, v := range resign(t, withIssuerMap(m, d), alice, d+"#"+strings.TrimPrefix(d, "did:key:"), "assertionMethod") {
				m[k] = v
			}
		}), reason: presentation.ReasonSignatureInvalid, msg: "unsupported public key type x25519-pub"},

		{name: "a did:key holder with the secp256k1 multicodec", craft: func(t *testing.T, w *world) ([]byte, presentation.Request) {
			d := didKey(t, 0xe7, append([]byte{0x02}, summarizer.PublicKey()...))
			return signVP(t, d, raws(t, w.chain()...), readMail(), holderProof{key: summarizer, vm: d + "#" + strings.TrimPrefix(d, "did:key:"), ch: w.challenge(t)}, nil), readMail()
		}, reason: presentation.ReasonSignatureInvalid, msg: "unsupported public key type secp256k1-pub"},

		{name: "a did:key issuer with a 31-byte key", craft: onRoot(func(t *testing.T, m map[string]any) {
			d := didKey(t, 0xed, alice.PublicKey()[:31])
			for k, v := range resign(t, withIssuerMap(m, d), alice, d+"#"+strings.TrimPrefix(d, "did:key:"), "assertionMethod") {
				m[k] = v
			}
		}), reason: presentation.ReasonSignatureInvalid, msg: "invalid public key length: ed25519-pub key is 31 bytes, want 32"},

		{name: "a did:key holder with a 33-byte key", craft: func(t *testing.T, w *world) ([]byte, presentation.Request) {
			d := didKey(t, 0xed, append(summarizer.PublicKey(), 0))
			return signVP(t, d, raws(t, w.chain()...), readMail(), holderProof{key: summarizer, vm: d + "#" + strings.TrimPrefix(d, "did:key:"), ch: w.challenge(t)}, nil), readMail()
		}, reason: presentation.ReasonSignatureInvalid, msg: "invalid public key length: ed25519-pub key is 33 bytes, want 32"},

		{name: "a presentation with no holder proof", craft: func(t *testing.T, w *world) ([]byte, presentation.Request) {
			return editJSON(t, w.present(t, summarizer, w.chain(), readMail()), func(m map[string]any) { delete(m, "proof") }), readMail()
		}, reason: presentation.ReasonSignatureInvalid, msg: "holder proof: aries: document has no proof"},

		{name: "a holder proof by another key, naming that key", craft: func(t *testing.T, w *world) ([]byte, presentation.Request) {
			return signVP(t, summarizer.DID(), raws(t, w.chain()...), readMail(), holderProof{key: mallory, ch: w.challenge(t)}, nil), readMail()
		}, reason: presentation.ReasonSignatureInvalid, msg: "does not belong to holder " + summarizer.DID()},

		{name: "a holder proof by another key, naming the holder's key", craft: func(t *testing.T, w *world) ([]byte, presentation.Request) {
			return signVP(t, summarizer.DID(), raws(t, w.chain()...), readMail(), holderProof{key: mallory, vm: summarizer.VerificationMethod(), ch: w.challenge(t)}, nil), readMail()
		}, reason: presentation.ReasonSignatureInvalid, msg: "holder proof: aries: verify proof"},

		{name: "a credential with two proofs", craft: onRoot(func(t *testing.T, m map[string]any) {
			second := resign(t, copyJSON(t, m), mallory, mallory.VerificationMethod(), "assertionMethod")["proof"]
			m["proof"] = []any{m["proof"], second}
		}), reason: presentation.ReasonSignatureInvalid, msg: `proof 1: aries: verify proof: credentials: second proof's proofPurpose "assertionMethod", want witness`},
	}
}

func withIssuerMap(m map[string]any, issuer string) map[string]any {
	m["issuer"] = issuer
	return m
}

// es256Proof is a JsonWebSignature2020 proof with a detached ES256 JWS by a
// fresh P-256 key, naming alice's Ed25519 key: a suite the verifier must
// refuse whatever the signature.
func es256Proof(t testing.TB, doc map[string]any) map[string]any {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	hdr := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"ES256","b64":false,"crit":["b64"]}`))
	payload, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(append([]byte(hdr+"."), payload...))
	r, s, err := ecdsa.Sign(rand.Reader, k, sum[:])
	if err != nil {
		t.Fatal(err)
	}
	sig := append(r.FillBytes(make([]byte, 32)), s.FillBytes(make([]byte, 32))...)
	return map[string]any{
		"type": "JsonWebSignature2020", "created": t0.Format(time.RFC3339), "proofPurpose": "assertionMethod",
		"verificationMethod": alice.VerificationMethod(), "jws": hdr + ".." + base64.RawURLEncoding.EncodeToString(sig),
	}
}

func jsonAttacks() []attack {
	return []attack{
		{name: "an undefined JSON-LD term in a credential subject", craft: func(t *testing.T, w *world) ([]byte, presentation.Request) {
			creds := raws(t, w.chain()...)
			subjectOf(creds[1])["note"] = "and also email:send"
			return w.signed(t, summarizer, creds, readMail()), readMail()
		}, reason: presentation.ReasonMalformed, msg: `unknown field "note"`},

		// encoding/json matches member names case-insensitively, with
		// Unicode folding: "reſource" (long s) filled Resource, and sorts
		// after "resource", so the parsed grant said mailbox:* while the
		// signed one said mailbox:alice/*. Strict JSON-LD refused it; found
		// by FuzzParse's round trip, Parse now refuses it first.
		{name: "a member name that matches a field only when case-folded", craft: func(t *testing.T, w *world) ([]byte, presentation.Request) {
			creds := raws(t, w.chain()...)
			grants := subjectOf(creds[1])["grants"].([]any)
			grants[0].(map[string]any)["reſource"] = "mailbox:*"
			return w.signed(t, summarizer, creds, readMail()), readMail()
		}, reason: presentation.ReasonMalformed, msg: `member "reſource" of /grants[0] is not a field name (names are case-sensitive)`},

		// Canonicalisation drops an undefined term, so the signature still
		// verifies; the proof's closed member list refuses it (strict
		// JSON-LD would too).
		{name: "an undefined JSON-LD term in a credential proof", craft: func(t *testing.T, w *world) ([]byte, presentation.Request) {
			creds := raws(t, w.chain()...)
			proofOf(creds[1])["sneaky"] = "email:*"
			return w.signed(t, summarizer, creds, readMail()), readMail()
		}, reason: presentation.ReasonMalformed, msg: `link 1: credentials: malformed credential: {child}: aries: malformed proof: proof member "sneaky" is not covered by the signature`},

		// aries signs only the proof members it knows (type, created,
		// verificationMethod, proofPurpose, challenge, domain), so a term the
		// contexts do define passes strict JSON-LD and the signature both,
		// unsigned. This was a false ALLOW, found by this corpus.
		{name: "a defined but unsigned term in a credential proof", craft: func(t *testing.T, w *world) ([]byte, presentation.Request) {
			creds := raws(t, w.chain()...)
			proofOf(creds[1])["grants"] = []any{map[string]any{"id": "urn:mandate:grant:all", "action": "email:*", "resource": "mailbox:alice/*"}}
			return w.signed(t, summarizer, creds, readMail()), readMail()
		}, reason: presentation.ReasonMalformed, msg: `proof member "grants" is not covered by the signature`},

		{name: "an undefined JSON-LD term in the presentation envelope", craft: func(t *testing.T, w *world) ([]byte, presentation.Request) {
			return signVP(t, summarizer.DID(), raws(t, w.chain()...), readMail(), holderProof{key: summarizer, ch: w.challenge(t)},
				func(m map[string]any) { m["onBehalfOf"] = alice.DID() }), readMail()
		}, reason: presentation.ReasonMalformed, msg: `member "onBehalfOf" is not allowed in a presentation`},

		{name: "an undefined JSON-LD term in the holder proof", craft: func(t *testing.T, w *world) ([]byte, presentation.Request) {
			return editJSON(t, w.present(t, summarizer, w.chain(), readMail()), func(m map[string]any) {
				proofOf(m)["audience"] = "https://any.example"
			}), readMail()
		}, reason: presentation.ReasonMalformed, msg: `holder proof: aries: malformed proof: proof member "audience" is not covered by the signature`},

		// "expires" is defined by the Ed25519Signature2020 context but not
		// signed: anyone on the path could add it. A false ALLOW found by
		// this corpus.
		{name: "a defined but unsigned term in the holder proof", craft: func(t *testing.T, w *world) ([]byte, presentation.Request) {
			return editJSON(t, w.present(t, summarizer, w.chain(), readMail()), func(m map[string]any) {
				proofOf(m)["expires"] = "2099-01-01T00:00:00Z"
			}), readMail()
		}, reason: presentation.ReasonMalformed, msg: `holder proof: aries: malformed proof: proof member "expires" is not covered by the signature`},

		{name: "a huge presentation below the gRPC limit", craft: func(t *testing.T, w *world) ([]byte, presentation.Request) {
			vp := w.present(t, summarizer, w.chain(), readMail())
			// Whitespace after the JSON value is valid JSON: the limit is on
			// bytes, whatever they hold.
			return append(vp, strings.Repeat(" ", presentation.MaxPresentationBytes+1-len(vp))...), readMail()
		}, reason: presentation.ReasonMalformed, msg: "limit 606208"},

		{name: "a huge presentation above the gRPC limit", craft: func(t *testing.T, w *world) ([]byte, presentation.Request) {
			vp := w.present(t, summarizer, w.chain(), readMail())
			return append(vp, strings.Repeat(" ", gatekeeper.MaxMessageBytes)...), readMail()
		}, code: codes.ResourceExhausted, msg: "larger than max"},

		{name: "a deeply nested presentation", craft: func(t *testing.T, w *world) ([]byte, presentation.Request) {
			vp := w.present(t, summarizer, w.chain(), readMail())
			deep := `"x":` + strings.Repeat("[", 40) + strings.Repeat("]", 40) + `,"holder":`
			return []byte(strings.Replace(string(vp), `"holder":`, deep, 1)), readMail()
		}, reason: presentation.ReasonMalformed, msg: "nested deeper than 32"},

		// Go keeps the last of two keys, other parsers the first: a
		// signed document must not mean two things.
		{name: "duplicate JSON keys in the envelope", craft: func(t *testing.T, w *world) ([]byte, presentation.Request) {
			vp := w.present(t, summarizer, w.chain(), readMail())
			return []byte(strings.Replace(string(vp), `"holder":`, `"holder":"`+mallory.DID()+`","holder":`, 1)), readMail()
		}, reason: presentation.ReasonMalformed, msg: `duplicate key "holder"`},

		{name: "duplicate JSON keys in a credential", craft: func(t *testing.T, w *world) ([]byte, presentation.Request) {
			vp := w.present(t, summarizer, w.chain(), readMail())
			return []byte(strings.Replace(string(vp), `"action":"email:read"`, `"action":"email:*","action":"email:read"`, 1)), readMail()
		}, reason: presentation.ReasonMalformed, msg: `duplicate key "action"`},

		{name: "an empty verifiableCredential list", craft: func(t *testing.T, w *world) ([]byte, presentation.Request) {
			return w.signed(t, summarizer, nil, readMail()), readMail()
		}, reason: presentation.ReasonMalformed, msg: "verifiableCredential must hold 1..9 credentials"},

		{name: "not JSON", craft: func(t *testing.T, w *world) ([]byte, presentation.Request) {
			return []byte("{\"holder\": "), readMail()
		}, reason: presentation.ReasonMalformed, msg: "strictjson: unexpected end of input"},
	}
}
