package presentation_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/dgraph-io/badger/v4"
	"github.com/go-jose/go-jose/v4"

	"github.com/mandate-dev/mandate/credentials"
	"github.com/mandate-dev/mandate/credentials/sdjwt"
	"github.com/mandate-dev/mandate/credentials/sdpoa"
	"github.com/mandate-dev/mandate/did"
	"github.com/mandate-dev/mandate/presentation"
)

// sdFixture is newFixture's verifier accepting sd-jwt, with the same story
// issued as SD-JWT: Alice → assistant (four grants) → summarizer (email:read).
type sdFixture struct {
	*fixture
	root, child *sdjwt.SDJWT
}

func newSDFixture(t *testing.T, with ...func(*presentation.Config)) *sdFixture {
	t.Helper()
	f := newFixture(t, append([]func(*presentation.Config){func(c *presentation.Config) {
		c.Formats = []string{presentation.FormatSDJWT, presentation.FormatLDP}
	}}, with...)...)
	opts := sdpoa.Options{IssueOptions: f.issued, Decoys: 2}
	root, err := sdpoa.Issue(alice, credentials.Template{
		Subject: assistant.DID(), Purpose: "Keep Alice's inbox organised",
		Grants: []credentials.Grant{
			{ID: "urn:mandate:grant:email-read", Action: "email:read", Resource: "mailbox:alice/*"},
			{ID: "urn:mandate:grant:email-draft", Action: "email:draft", Resource: "mailbox:alice/*"},
			{ID: "urn:mandate:grant:calendar-read", Action: "calendar:read", Resource: "calendar:alice/*"},
			{ID: "urn:mandate:grant:slack-read", Action: "slack:read", Resource: "slack:acme/general"},
		},
		Forbidden:  []credentials.Forbidden{{Action: "email:send"}},
		Delegation: credentials.Delegation{Allowed: true, MaxDepth: 1},
	}, opts)
	if err != nil {
		t.Fatal(err)
	}
	child, err := sdpoa.Delegate(assistant, []*sdjwt.SDJWT{root}, credentials.Template{
		Subject: summarizer.DID(), Purpose: "Summarise Alice's inbox",
		Grants: []credentials.Grant{
			{ID: "urn:mandate:grant:email-read", Action: "email:read", Resource: "mailbox:alice/*"},
			{ID: "urn:mandate:grant:calendar-read", Action: "calendar:read", Resource: "calendar:alice/*"},
		},
	}, opts)
	if err != nil {
		t.Fatal(err)
	}
	return &sdFixture{fixture: f, root: root, child: child}
}

func (f *sdFixture) challenge(t testing.TB) presentation.Challenge {
	t.Helper()
	ch, err := f.v.Challenge(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return ch
}

// presentSD selects and presents the summarizer's chain for req.
func (f *sdFixture) presentSD(t testing.TB, req presentation.Request) []byte {
	t.Helper()
	sel, err := presentation.SelectSDJWT([][]*sdjwt.SDJWT{{f.root, f.child}}, summarizer.DID(), req.Action, req.Resource, f.now)
	if err != nil {
		t.Fatal(err)
	}
	vp, err := presentation.PresentSDJWT(summarizer, sel, f.challenge(t), req, f.now)
	if err != nil {
		t.Fatal(err)
	}
	return vp
}

func (f *sdFixture) authorize(vp []byte, req presentation.Request) presentation.Decision {
	return f.v.Authorize(context.Background(), vp, req, presentation.WithFormat(presentation.FormatSDJWT))
}

// kbLeaf builds the leaf link by hand: the selected SD-JWT s signed with
// a key binding JWT by k, for the nonce, audience and request digest given.
func kbLeaf(t *testing.T, k credentials.Signer, s *sdjwt.SDJWT, nonce, aud, digest string, now time.Time) string {
	t.Helper()
	key, err := sdpoa.KeySigner(k)
	if err != nil {
		t.Fatal(err)
	}
	h, err := sdjwt.NewHolder(key, jose.EdDSA)
	if err != nil {
		t.Fatal(err)
	}
	extra := map[string]any{}
	if digest != "" {
		extra[sdpoa.RequestDigestClaim] = digest
	}
	out, err := h.Present(s, sdjwt.KeyBindingClaims{Nonce: nonce, Audience: aud, IssuedAt: now, Extra: extra})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func sel(t *testing.T, s *sdjwt.SDJWT, grants ...string) *sdjwt.SDJWT {
	t.Helper()
	out, err := sdpoa.Select(s, grants...)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func links(t *testing.T, l ...string) []byte {
	t.Helper()
	b, err := json.Marshal(l)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func digestOf(t *testing.T, r presentation.Request) string {
	t.Helper()
	d, err := r.Digest()
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestSDJWTAllowTwoLinkChain(t *testing.T) {
	f := newSDFixture(t)
	vp := f.presentSD(t, readMail())
	var got []string
	if err := json.Unmarshal(vp, &got); err != nil || len(got) != 2 {
		t.Fatalf("presentation: %v %d links", err, len(got))
	}
	// One Disclosure per link: the verifier sees 1 of the root's 4 grants.
	for i, l := range got {
		s, err := sdjwt.Parse(l, sdjwt.DefaultLimits)
		if err != nil || len(s.Disclosures) != 1 || (i == 0) != (s.KeyBinding == "") {
			t.Fatalf("link %d: %v, %d disclosures, kb %q", i, err, len(s.Disclosures), s.KeyBinding)
		}
	}
	d := f.authorize(vp, readMail())
	expect(t, d, presentation.Allow, "")
	if d.Actor != summarizer.DID() || d.Principal != alice.DID() || d.Grant != "urn:mandate:grant:email-read" || len(d.Chain) != 2 {
		t.Errorf("decision %+v", d)
	}
	expect(t, f.authorize(vp, readMail()), presentation.Deny, presentation.ReasonReplay)
}

func TestSDJWTChallengeListsFormats(t *testing.T) {
	f := newSDFixture(t)
	ch := f.challenge(t)
	if strings.Join(ch.Formats, ",") != "sd-jwt,ldp" {
		t.Errorf("formats %v", ch.Formats)
	}
	got, err := presentation.PickFormat(ch.Formats, []string{presentation.FormatSDJWT, presentation.FormatLDP})
	if err != nil || got != presentation.FormatSDJWT {
		t.Errorf("picked %q, %v", got, err)
	}
	if _, err := presentation.PickFormat([]string{"ldp"}, []string{"sd-jwt"}); err == nil ||
		err.Error() != "presentation: no common format: the verifier accepts [ldp], the wallet holds [sd-jwt]" {
		t.Errorf("no common format: %v", err)
	}
	// LDP is still accepted by the same verifier.
	expect(t, f.v.Authorize(context.Background(), f.present(t, summarizer, []*credentials.Credential{f.fixture.root, f.fixture.child}, readMail()), readMail()), presentation.Allow, "")
}

func TestSDJWTConfigFormats(t *testing.T) {
	db, err := badger.Open(badger.DefaultOptions("").WithInMemory(true).WithLogger(nil))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, tc := range []struct {
		formats []string
		want    string
	}{
		{[]string{"jwt"}, `presentation: config: unknown format "jwt" (accepted: ldp, sd-jwt, bbs)`},
		{[]string{"bbs", "sd-jwt", "bbs"}, "presentation: config: format bbs listed twice"},
		{[]string{"ldp", "ldp"}, "presentation: config: format ldp listed twice"},
	} {
		c := presentation.Config{Audience: "a", Resolver: did.KeyResolver{}, InsecureTrustAnyRoot: true, Signer: verifierKey, Store: db, Formats: tc.formats}
		if err := c.Validate(); err == nil || err.Error() != tc.want {
			t.Errorf("formats %v: %v, want %q", tc.formats, err, tc.want)
		}
	}
	c := presentation.Config{Audience: "a", Resolver: did.KeyResolver{}, InsecureTrustAnyRoot: true, Signer: verifierKey, Store: db}
	v, err := presentation.New(c)
	if err != nil {
		t.Fatal(err)
	}
	ch, err := v.Challenge(context.Background())
	if err != nil || strings.Join(ch.Formats, ",") != "ldp" || !v.Accepts("") || v.Accepts("sd-jwt") {
		t.Errorf("default formats %v, %v", ch.Formats, err)
	}
}

func TestSDJWTDeny(t *testing.T) {
	read := readMail()
	other := presentation.Request{Action: "email:draft", Resource: "mailbox:alice/inbox"}
	for _, tc := range []struct {
		name  string
		build func(t *testing.T, f *sdFixture, ch presentation.Challenge) []byte
		req   presentation.Request
		want  presentation.Reason
		msg   string
	}{
		{"hidden grant claimed", func(t *testing.T, f *sdFixture, ch presentation.Challenge) []byte {
			// The assistant shows email:read and asks for email:draft.
			return links(t, kbLeaf(t, assistant, sel(t, f.root, "urn:mandate:grant:email-read"), ch.Nonce, ch.Audience, digestOf(t, other), f.now))
		}, other, presentation.ReasonNotGranted, "no grant covers email:draft on mailbox:alice/inbox"},
		{"hidden parent grant", func(t *testing.T, f *sdFixture, ch presentation.Challenge) []byte {
			return links(t, sel(t, f.root, "urn:mandate:grant:slack-read").String(),
				kbLeaf(t, summarizer, sel(t, f.child, "urn:mandate:grant:email-read"), ch.Nonce, ch.Audience, digestOf(t, read), f.now))
		}, read, presentation.ReasonScopeEscalation, "credentials: scope escalation: grant urn:mandate:grant:email-read: no parent grant covers"},
		{"disclosure swapped from another credential", func(t *testing.T, f *sdFixture, ch presentation.Challenge) []byte {
			leaf := *sel(t, f.child, "urn:mandate:grant:email-read")
			// The root's email-draft grant, a valid Disclosure of another credential.
			leaf.Disclosures = append(leaf.Disclosures, sel(t, f.root, "urn:mandate:grant:email-draft").Disclosures[0])
			return links(t, sel(t, f.root, "urn:mandate:grant:email-read", "urn:mandate:grant:email-draft").String(),
				kbLeaf(t, summarizer, &leaf, ch.Nonce, ch.Audience, digestOf(t, read), f.now))
		}, read, presentation.ReasonSignatureInvalid, "link 1: sdjwt: disclosure rejected: disclosure "},
		{"sd_hash mismatch", func(t *testing.T, f *sdFixture, ch presentation.Challenge) []byte {
			leaf := kbLeaf(t, summarizer, sel(t, f.child, "urn:mandate:grant:email-read"), ch.Nonce, ch.Audience, digestOf(t, read), f.now)
			// A Disclosure of the same credential added after key binding.
			extra := sel(t, f.child, "urn:mandate:grant:calendar-read").Disclosures[0].Encoded
			i := strings.LastIndex(leaf, "~")
			return links(t, sel(t, f.root, "urn:mandate:grant:email-read", "urn:mandate:grant:calendar-read").String(), leaf[:i+1]+extra+"~"+leaf[i+1:])
		}, read, presentation.ReasonHolderMismatch, "link 1: sdjwt: sd_hash mismatch"},
		{"missing key binding", func(t *testing.T, f *sdFixture, ch presentation.Challenge) []byte {
			return links(t, sel(t, f.root, "urn:mandate:grant:email-read").String(), sel(t, f.child, "urn:mandate:grant:email-read").String())
		}, read, presentation.ReasonHolderMismatch, "link 1: sdjwt: key binding missing: no key binding JWT presented"},
		{"key binding by another key", func(t *testing.T, f *sdFixture, ch presentation.Challenge) []byte {
			return links(t, sel(t, f.root, "urn:mandate:grant:email-read").String(),
				kbLeaf(t, mallory, sel(t, f.child, "urn:mandate:grant:email-read"), ch.Nonce, ch.Audience, digestOf(t, read), f.now))
		}, read, presentation.ReasonSignatureInvalid, "link 1: sdjwt: signature invalid"},
		{"wrong audience", func(t *testing.T, f *sdFixture, ch presentation.Challenge) []byte {
			return links(t, sel(t, f.root, "urn:mandate:grant:email-read").String(),
				kbLeaf(t, summarizer, sel(t, f.child, "urn:mandate:grant:email-read"), ch.Nonce, "https://other.example", digestOf(t, read), f.now))
		}, read, presentation.ReasonAudienceMismatch, `leaf: sdjwt: audience mismatch: key binding JWT is for "https://other.example"`},
		{"unknown nonce", func(t *testing.T, f *sdFixture, ch presentation.Challenge) []byte {
			return links(t, sel(t, f.root, "urn:mandate:grant:email-read").String(),
				kbLeaf(t, summarizer, sel(t, f.child, "urn:mandate:grant:email-read"), "made-up", ch.Audience, digestOf(t, read), f.now))
		}, read, presentation.ReasonChallengeUnknown, ""},
		{"request digest for another action", func(t *testing.T, f *sdFixture, ch presentation.Challenge) []byte {
			return links(t, sel(t, f.root, "urn:mandate:grant:email-read").String(),
				kbLeaf(t, summarizer, sel(t, f.child, "urn:mandate:grant:email-read"), ch.Nonce, ch.Audience, digestOf(t, other), f.now))
		}, read, presentation.ReasonRequestMismatch, "presentation is bound to another request"},
		{"no request digest", func(t *testing.T, f *sdFixture, ch presentation.Challenge) []byte {
			return links(t, sel(t, f.root, "urn:mandate:grant:email-read").String(),
				kbLeaf(t, summarizer, sel(t, f.child, "urn:mandate:grant:email-read"), ch.Nonce, ch.Audience, "", f.now))
		}, read, presentation.ReasonMalformed, "the key binding JWT carries no requestDigest"},
		{"stale key binding", func(t *testing.T, f *sdFixture, ch presentation.Challenge) []byte {
			return links(t, sel(t, f.root, "urn:mandate:grant:email-read").String(),
				kbLeaf(t, summarizer, sel(t, f.child, "urn:mandate:grant:email-read"), ch.Nonce, ch.Audience, digestOf(t, read), f.now.Add(-time.Hour)))
		}, read, presentation.ReasonExpired, "leaf: sdjwt: outside validity window: key binding JWT older than 2m0s"},
		{"alg none", func(t *testing.T, f *sdFixture, ch presentation.Challenge) []byte {
			root := *sel(t, f.root, "urn:mandate:grant:email-read")
			root.IssuerJWT = forge(t, root.IssuerJWT, "none", nil)
			return links(t, root.String(), kbLeaf(t, summarizer, sel(t, f.child, "urn:mandate:grant:email-read"), ch.Nonce, ch.Audience, digestOf(t, read), f.now))
		}, read, presentation.ReasonSignatureInvalid, `link 0: sdjwt: algorithm not accepted: "none"`},
		{"HS256 with the issuer's public key", func(t *testing.T, f *sdFixture, ch presentation.Challenge) []byte {
			pub, err := did.ParseKey(alice.DID())
			if err != nil {
				t.Fatal(err)
			}
			root := *sel(t, f.root, "urn:mandate:grant:email-read")
			root.IssuerJWT = forge(t, root.IssuerJWT, "HS256", pub)
			return links(t, root.String(), kbLeaf(t, summarizer, sel(t, f.child, "urn:mandate:grant:email-read"), ch.Nonce, ch.Audience, digestOf(t, read), f.now))
		}, read, presentation.ReasonSignatureInvalid, `link 0: sdjwt: algorithm not accepted: "HS256"`},
		{"parent with key binding", func(t *testing.T, f *sdFixture, ch presentation.Challenge) []byte {
			return links(t, kbLeaf(t, assistant, sel(t, f.root, "urn:mandate:grant:email-read"), ch.Nonce, ch.Audience, digestOf(t, read), f.now),
				kbLeaf(t, summarizer, sel(t, f.child, "urn:mandate:grant:email-read"), ch.Nonce, ch.Audience, digestOf(t, read), f.now))
		}, read, presentation.ReasonMalformed, "link 0: sdjwt: malformed: a parent link carries a key binding JWT"},
		{"not an sd-jwt presentation", func(t *testing.T, f *sdFixture, ch presentation.Challenge) []byte {
			return f.present(t, summarizer, []*credentials.Credential{f.fixture.root, f.fixture.child}, read)
		}, read, presentation.ReasonMalformed, ""},
		{"no links", func(t *testing.T, f *sdFixture, ch presentation.Challenge) []byte { return []byte("[]") },
			read, presentation.ReasonMalformed, "an sd-jwt presentation holds 1..9 links"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newSDFixture(t)
			d := f.authorize(tc.build(t, f, f.challenge(t)), tc.req)
			expect(t, d, presentation.Deny, tc.want)
			if !strings.HasPrefix(d.Message, tc.msg) {
				t.Errorf("message %q\n want %q", d.Message, tc.msg)
			}
		})
	}
}

func TestSDJWTReplayedNonce(t *testing.T) {
	f := newSDFixture(t)
	ch := f.challenge(t)
	read := readMail()
	vp := links(t, sel(t, f.root, "urn:mandate:grant:email-read").String(),
		kbLeaf(t, summarizer, sel(t, f.child, "urn:mandate:grant:email-read"), ch.Nonce, ch.Audience, digestOf(t, read), f.now))
	expect(t, f.authorize(vp, read), presentation.Allow, "")
	// A fresh presentation (another key binding JWT) on the spent nonce.
	again := links(t, sel(t, f.root, "urn:mandate:grant:email-read").String(),
		kbLeaf(t, summarizer, sel(t, f.child, "urn:mandate:grant:email-read"), ch.Nonce, ch.Audience, digestOf(t, read), f.now.Add(time.Second)))
	expect(t, f.authorize(again, read), presentation.Deny, presentation.ReasonReplay)
}

func TestSDJWTFormatNotAccepted(t *testing.T) {
	f := newFixture(t) // accepts ldp only
	d := f.v.Authorize(context.Background(), []byte("[]"), readMail(), presentation.WithFormat(presentation.FormatSDJWT))
	expect(t, d, presentation.Deny, presentation.ReasonMalformed)
	if d.Message != `format "sd-jwt" is not accepted by this verifier` {
		t.Errorf("message %q", d.Message)
	}
}

// forge replaces the issuer-signed JWT's header with alg and signs it with
// HMAC-SHA256 under key (or leaves a dummy signature when key is nil).
func forge(t *testing.T, jwt, alg string, key []byte) string {
	t.Helper()
	parts := strings.Split(jwt, ".")
	head, _ := json.Marshal(map[string]string{"alg": alg, "typ": sdpoa.Type})
	input := base64.RawURLEncoding.EncodeToString(head) + "." + parts[1]
	sig := []byte("x")
	if key != nil {
		m := hmac.New(sha256.New, key)
		m.Write([]byte(input))
		sig = m.Sum(nil)
	}
	return input + "." + base64.RawURLEncoding.EncodeToString(sig)
}
