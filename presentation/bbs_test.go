package presentation_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"os"
	"testing"

	"github.com/mandate-dev/mandate/credentials"
	"github.com/mandate-dev/mandate/did"
	"github.com/mandate-dev/mandate/internal/aries"
	"github.com/mandate-dev/mandate/internal/testkeys"
	"github.com/mandate-dev/mandate/presentation"
)

var (
	bbsAlice     = testkeys.NewBLS("alice")
	bbsAssistant = testkeys.NewBLS("assistant")
)

const (
	bbsRead  = "urn:mandate:grant:email-read"
	bbsDraft = "urn:mandate:grant:email-draft"
)

// bbsFixture is newFixture's verifier accepting bbs, with the story issued
// as BBS+: Alice's BLS key → the assistant's BLS did:key (four grants) →
// the summarizer's Ed25519 did:key (email:read, calendar:read).
type bbsFixture struct {
	*fixture
	root, child *credentials.Credential
}

func newBBSFixture(t *testing.T, with ...func(*presentation.Config)) *bbsFixture {
	t.Helper()
	f := newFixture(t, append([]func(*presentation.Config){func(c *presentation.Config) {
		c.Formats = []string{presentation.FormatBBS, presentation.FormatLDP}
		c.TrustedRoots = []string{bbsAlice.DID()}
	}}, with...)...)
	root, err := credentials.IssueBBS(bbsAlice, credentials.Template{
		Subject: bbsAssistant.DID(), Purpose: "Keep Alice's inbox organised",
		Grants: []credentials.Grant{
			{ID: bbsRead, Action: "email:read", Resource: "mailbox:alice/*"},
			{ID: bbsDraft, Action: "email:draft", Resource: "mailbox:alice/*"},
			{ID: "urn:mandate:grant:calendar-read", Action: "calendar:read", Resource: "calendar:alice/*"},
			{ID: "urn:mandate:grant:slack-read", Action: "slack:read", Resource: "slack:acme/general"},
		},
		Forbidden:  []credentials.Forbidden{{Action: "email:send"}},
		Delegation: credentials.Delegation{Allowed: true, MaxDepth: 1},
	}, f.issued)
	if err != nil {
		t.Fatal(err)
	}
	child, err := credentials.DelegateBBS(bbsAssistant, []*credentials.Credential{root}, credentials.Template{
		Subject: summarizer.DID(), Purpose: "Summarise Alice's inbox",
		Grants: []credentials.Grant{
			{ID: bbsRead, Action: "email:read", Resource: "mailbox:alice/*"},
			{ID: "urn:mandate:grant:calendar-read", Action: "calendar:read", Resource: "calendar:alice/*"},
		},
	}, f.issued)
	if err != nil {
		t.Fatal(err)
	}
	return &bbsFixture{fixture: f, root: root, child: child}
}

func (f *bbsFixture) challenge(t testing.TB) presentation.Challenge {
	t.Helper()
	ch, err := f.v.Challenge(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return ch
}

// presentBBS selects and presents the summarizer's chain for req.
func (f *bbsFixture) presentBBS(t testing.TB, ch presentation.Challenge, req presentation.Request) []byte {
	t.Helper()
	sel, err := presentation.SelectBBS([][]*credentials.Credential{{f.root, f.child}}, summarizer.DID(), req.Action, req.Resource, f.now)
	if err != nil {
		t.Fatal(err)
	}
	vp, err := presentation.PresentBBS(summarizer, sel, ch, req)
	if err != nil {
		t.Fatal(err)
	}
	return vp
}

func (f *bbsFixture) authorize(vp []byte, req presentation.Request) presentation.Decision {
	return f.v.Authorize(context.Background(), vp, req, presentation.WithFormat(presentation.FormatBBS))
}

func TestBBSAllowTwoLinkChain(t *testing.T) {
	f := newBBSFixture(t)
	sel, err := presentation.SelectBBS([][]*credentials.Credential{{f.root, f.child}}, summarizer.DID(), "email:read", "mailbox:alice/inbox", f.now)
	if err != nil {
		t.Fatal(err)
	}
	if len(sel.Grants[0]) != 1 || sel.Grants[0][0] != bbsRead || sel.Held[0] != 4 || sel.Held[1] != 2 {
		t.Fatalf("selection = %v held %v, want [%s] at the root of 4", sel.Grants, sel.Held, bbsRead)
	}
	d := f.authorize(f.presentBBS(t, f.challenge(t), readMail()), readMail())
	expect(t, d, presentation.Allow, "")
	if d.Actor != summarizer.DID() || d.Principal != bbsAlice.DID() || d.Grant != bbsRead || len(d.Chain) != 2 {
		t.Fatalf("decision = %+v", d)
	}
}

func TestBBSAllowRootWithBLSHolder(t *testing.T) {
	f := newBBSFixture(t)
	holder := presentation.BBSHolder(bbsAssistant)
	sel, err := presentation.SelectBBS([][]*credentials.Credential{{f.root}}, holder.DID(), "email:read", "mailbox:alice/inbox", f.now)
	if err != nil {
		t.Fatal(err)
	}
	vp, err := presentation.PresentBBS(holder, sel, f.challenge(t), readMail())
	if err != nil {
		t.Fatal(err)
	}
	expect(t, f.authorize(vp, readMail()), presentation.Allow, "")
}

func TestBBSNegotiation(t *testing.T) {
	f := newBBSFixture(t)
	held := presentation.Held{LDP: [][]*credentials.Credential{{f.fixture.root, f.fixture.child}},
		BBS: [][]*credentials.Credential{{f.root, f.child}}}
	format, vp, err := held.Present(summarizer, f.challenge(t), readMail(), f.now)
	if err != nil || format != presentation.FormatBBS {
		t.Fatalf("Present = %q, %v; want bbs", format, err)
	}
	expect(t, f.authorize(vp, readMail()), presentation.Allow, "")
}

// editVP decodes a BBS+ presentation, lets edit change it, and encodes it.
func editVP(t *testing.T, vp []byte, edit func(links []map[string]any, binding map[string]any)) []byte {
	t.Helper()
	var p struct {
		Links   []map[string]any `json:"links"`
		Binding map[string]any   `json:"binding"`
	}
	if err := json.Unmarshal(vp, &p); err != nil {
		t.Fatal(err)
	}
	edit(p.Links, p.Binding)
	out, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// withheldDerive derives the child with a frame that leaves out its
// forbidden list: what a dishonest holder could do by hand.
func withheldDerive(t *testing.T, c *credentials.Credential, nonce string) map[string]any {
	t.Helper()
	ctx := credentials.Contexts()
	for url, file := range map[string]string{credentials.ContextBBSV1: "bbs-v1.jsonld",
		"https://w3id.org/security/v1": "security-v1.jsonld", "https://w3id.org/security/v2": "security-v2.jsonld"} {
		b, err := os.ReadFile("../credentials/contexts/bbs/" + file)
		if err != nil {
			t.Fatal(err)
		}
		ctx[url] = b
	}
	eng, err := aries.NewBBS(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	pub, err := did.ParseBLS12381G2Key(c.Issuer)
	if err != nil {
		t.Fatal(err)
	}
	frame := map[string]any{
		"@context":     []any{credentials.ContextCredentialsV1, credentials.ContextBBSV1, credentials.ContextStatusV1, credentials.ContextPoAV1},
		"type":         []any{"VerifiableCredential", credentials.Type},
		"@omitDefault": true,
		"credentialSubject": map[string]any{"@explicit": true, "@omitDefault": true, "principal": map[string]any{},
			"purpose": map[string]any{}, "delegation": map[string]any{}, "digest": map[string]any{}, "parent": map[string]any{},
			"grants": map[string]any{"@id": []any{bbsRead}}},
	}
	d, err := eng.Derive(c.Raw, frame, []byte(nonce), pub)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// rebind re-signs a presentation's binding as the summarizer, over the
// links as they now are (so that only the change under test is wrong).
func rebind(t *testing.T, vp []byte) []byte {
	t.Helper()
	return editVP(t, vp, func(links []map[string]any, b map[string]any) {
		msg := presentation.BBSSigningInputForTest(b, links)
		sig, err := summarizer.Sign(msg)
		if err != nil {
			t.Fatal(err)
		}
		b["proofValue"] = base64.RawURLEncoding.EncodeToString(sig)
	})
}

func TestBBSDenials(t *testing.T) {
	f := newBBSFixture(t)
	draft := presentation.Request{Action: "email:draft", Resource: "mailbox:alice/inbox", Intent: "draft a reply"}
	cases := []struct {
		name string
		vp   func(t *testing.T) []byte
		req  presentation.Request
		want presentation.Reason
	}{
		{"hidden grant claimed", func(t *testing.T) []byte {
			// The leaf reveals email:read only; the request (bound correctly)
			// is for email:draft, which no revealed grant covers.
			sel := &presentation.BBSSelection{Chain: []*credentials.Credential{f.root, f.child},
				Grants: [][]string{{bbsRead}, {bbsRead}}}
			vp, err := presentation.PresentBBS(summarizer, sel, f.challenge(t), draft)
			if err != nil {
				t.Fatal(err)
			}
			return vp
		}, draft, presentation.ReasonNotGranted},
		{"hidden grant added to a derived link", func(t *testing.T) []byte {
			return rebind(t, editVP(t, f.presentBBS(t, f.challenge(t), readMail()), func(links []map[string]any, _ map[string]any) {
				sub := links[1]["credentialSubject"].(map[string]any)
				g := sub["grants"]
				if m, ok := g.(map[string]any); ok {
					g = []any{m}
				}
				sub["grants"] = append(g.([]any), map[string]any{"id": bbsDraft, "action": "email:draft", "resource": "mailbox:alice/*"})
			}))
		}, draft, presentation.ReasonSignatureInvalid},
		{"proof tampered by one byte", func(t *testing.T) []byte {
			return editVP(t, f.presentBBS(t, f.challenge(t), readMail()), func(links []map[string]any, _ map[string]any) {
				p := links[1]["proof"].([]any)[0].(map[string]any)
				v, _ := base64.StdEncoding.DecodeString(p["proofValue"].(string))
				v[len(v)-7] ^= 0x01
				p["proofValue"] = base64.StdEncoding.EncodeToString(v)
			})
		}, readMail(), presentation.ReasonSignatureInvalid},
		{"binding tampered by one byte", func(t *testing.T) []byte {
			return editVP(t, f.presentBBS(t, f.challenge(t), readMail()), func(_ []map[string]any, b map[string]any) {
				v, _ := base64.RawURLEncoding.DecodeString(b["proofValue"].(string))
				v[3] ^= 0x01
				b["proofValue"] = base64.RawURLEncoding.EncodeToString(v)
			})
		}, readMail(), presentation.ReasonSignatureInvalid},
		{"wrong nonce: derived for another challenge", func(t *testing.T) []byte {
			other := f.challenge(t)
			vp := f.presentBBS(t, f.challenge(t), readMail())
			return rebind(t, editVP(t, vp, func(_ []map[string]any, b map[string]any) { b["nonce"] = other.Nonce }))
		}, readMail(), presentation.ReasonReplay},
		{"wrong nonce: never issued", func(t *testing.T) []byte {
			ch := f.challenge(t)
			ch.Nonce = "a-nonce-this-verifier-never-issued"
			return f.presentBBS(t, ch, readMail())
		}, readMail(), presentation.ReasonChallengeUnknown},
		{"wrong audience", func(t *testing.T) []byte {
			ch := f.challenge(t)
			ch.Audience = "https://other.example"
			return f.presentBBS(t, ch, readMail())
		}, readMail(), presentation.ReasonAudienceMismatch},
		{"request digest for another action", func(t *testing.T) []byte {
			return f.presentBBS(t, f.challenge(t), readMail())
		}, presentation.Request{Action: "calendar:read", Resource: "calendar:alice/work", Intent: "summarise today's mail"},
			presentation.ReasonRequestMismatch},
		{"always-visible field withheld", func(t *testing.T) []byte {
			ch := f.challenge(t)
			return rebind(t, editVP(t, f.presentBBS(t, ch, readMail()), func(links []map[string]any, _ map[string]any) {
				links[1] = withheldDerive(t, f.child, ch.Nonce)
			}))
		}, readMail(), presentation.ReasonMalformed},
		{"presented by another holder", func(t *testing.T) []byte {
			sel, err := presentation.SelectBBS([][]*credentials.Credential{{f.root, f.child}}, summarizer.DID(), "email:read", "mailbox:alice/inbox", f.now)
			if err != nil {
				t.Fatal(err)
			}
			vp, err := presentation.PresentBBS(mallory, sel, f.challenge(t), readMail())
			if err != nil {
				t.Fatal(err)
			}
			return vp
		}, readMail(), presentation.ReasonHolderMismatch},
		{"not JSON", func(*testing.T) []byte { return []byte("[]") }, readMail(), presentation.ReasonMalformed},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			expect(t, f.authorize(tc.vp(t), tc.req), presentation.Deny, tc.want)
		})
	}
}

func TestBBSReplay(t *testing.T) {
	f := newBBSFixture(t)
	vp := f.presentBBS(t, f.challenge(t), readMail())
	expect(t, f.authorize(vp, readMail()), presentation.Allow, "")
	expect(t, f.authorize(vp, readMail()), presentation.Deny, presentation.ReasonReplay)
}

func TestBBSRefusedWhenNotAccepted(t *testing.T) {
	f := newBBSFixture(t)
	g := newFixture(t)
	vp := f.presentBBS(t, f.challenge(t), readMail())
	expect(t, g.v.Authorize(context.Background(), vp, readMail(), presentation.WithFormat(presentation.FormatBBS)),
		presentation.Deny, presentation.ReasonMalformed)
}
