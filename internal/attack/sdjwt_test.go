package attack_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/mandate-dev/mandate/credentials"
	"github.com/mandate-dev/mandate/credentials/sdjwt"
	"github.com/mandate-dev/mandate/credentials/sdpoa"
	"github.com/mandate-dev/mandate/internal/testkeys"
	"github.com/mandate-dev/mandate/presentation"
)

// sdChain is the control chain issued as SD-JWT: alice → assistant
// (email:read and slack:read, delegable twice) → summarizer (the same two
// grants, delegable once), each link with decoy digests and status entries.
type sdChain struct {
	root, child     *sdjwt.SDJWT
	rootID, childID string
}

func (w *world) sdOpts(t testing.TB, issuer *testkeys.Key) sdpoa.Options {
	return sdpoa.Options{IssueOptions: w.opts(t, issuer), Decoys: 2}
}

// sdChain issues the SD-JWT control chain and publishes its status lists;
// its ids stand for {sdroot} and {sdchild} in a case's message.
func (w *world) sdChain(t testing.TB) *sdChain {
	t.Helper()
	root, err := sdpoa.Issue(alice, credentials.Template{
		Subject: assistant.DID(), Purpose: "Keep Alice's inbox organised",
		Grants: []credentials.Grant{
			{ID: grantRead, Action: "email:read", Resource: "mailbox:alice/*"},
			{ID: grantSlack, Action: "slack:read", Resource: "slack:acme/general"},
		},
		Forbidden:  []credentials.Forbidden{{Action: "email:send"}},
		Delegation: credentials.Delegation{Allowed: true, MaxDepth: 2},
	}, w.sdOpts(t, alice))
	if err != nil {
		t.Fatal(err)
	}
	child := w.sdDelegate(t, assistant, []*sdjwt.SDJWT{root}, credentials.Template{
		Subject: summarizer.DID(), Purpose: "Summarise Alice's inbox",
		Grants: []credentials.Grant{
			{ID: grantRead, Action: "email:read", Resource: "mailbox:alice/*"},
			{ID: grantSlack, Action: "slack:read", Resource: "slack:acme/general"},
		},
		Delegation: credentials.Delegation{Allowed: true, MaxDepth: 1},
	})
	creds, err := sdpoa.VerifyChain([]*sdjwt.SDJWT{root, child})
	if err != nil {
		t.Fatal(err)
	}
	w.sd = &sdChain{root: root, child: child, rootID: creds[0].ID, childID: creds[1].ID}
	w.publish(t)
	return w.sd
}

// sdDelegate signs an SD-JWT child through sdpoa.Delegate, which refuses
// anything the verifier would refuse.
func (w *world) sdDelegate(t testing.TB, issuer *testkeys.Key, chain []*sdjwt.SDJWT, tmpl credentials.Template) *sdjwt.SDJWT {
	t.Helper()
	c, err := sdpoa.Delegate(issuer, chain, tmpl, w.sdOpts(t, issuer))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// shown is s with only the named grants' Disclosures.
func shown(t testing.TB, s *sdjwt.SDJWT, grants ...string) *sdjwt.SDJWT {
	t.Helper()
	out, err := sdpoa.Select(s, grants...)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// kb signs a key binding JWT by holder over s (Disclosures as they are),
// for the nonce, audience and request digest given, at the world's now.
func (w *world) kb(t testing.TB, holder *testkeys.Key, s *sdjwt.SDJWT, nonce, aud, digest string) string {
	t.Helper()
	key, err := sdpoa.KeySigner(holder)
	if err != nil {
		t.Fatal(err)
	}
	h, err := sdjwt.NewHolder(key, jose.EdDSA)
	if err != nil {
		t.Fatal(err)
	}
	out, err := h.Present(s, sdjwt.KeyBindingClaims{Nonce: nonce, Audience: aud, IssuedAt: w.now(),
		Extra: map[string]any{sdpoa.RequestDigestClaim: digest}})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// leaf is the summarizer's honest leaf: s bound to a fresh challenge and req.
func (w *world) leaf(t testing.TB, s *sdjwt.SDJWT, req presentation.Request) string {
	t.Helper()
	ch := w.challenge(t)
	return w.kb(t, summarizer, s, ch.Nonce, ch.Audience, digest(t, req))
}

// presentSD is the honest SD-JWT presentation of sd for req: email:read
// shown at both links.
func (w *world) presentSD(t testing.TB, sd *sdChain, req presentation.Request) []byte {
	t.Helper()
	return linkList(t, shown(t, sd.root, grantRead).String(), w.leaf(t, shown(t, sd.child, grantRead), req))
}

func linkList(t testing.TB, links ...string) []byte {
	t.Helper()
	b, err := json.Marshal(links)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func digest(t testing.TB, req presentation.Request) string {
	t.Helper()
	d, err := req.Digest()
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// realg gives a compact JWT another header (alg, typ) and signs it with
// HMAC-SHA256 under key, or leaves a dummy signature when key is nil: what
// an attacker sends to a verifier that picks its algorithm from the token.
func realg(jwt, alg, typ string, key []byte) string {
	parts := strings.Split(jwt, ".")
	head, _ := json.Marshal(map[string]string{"alg": alg, "typ": typ})
	input := base64.RawURLEncoding.EncodeToString(head) + "." + parts[1]
	sig := []byte("x")
	if key != nil {
		m := hmac.New(sha256.New, key)
		m.Write([]byte(input))
		sig = m.Sum(nil)
	}
	return input + "." + base64.RawURLEncoding.EncodeToString(sig)
}

// onKB rewrites the key binding JWT of a compact SD-JWT+KB.
func onKB(link string, f func(string) string) string {
	i := strings.LastIndex(link, "~")
	return link[:i+1] + f(link[i+1:])
}

// sdCase is an SD-JWT attack: craft gets the world's SD-JWT control chain.
func sdCase(name string, craft func(t *testing.T, w *world, sd *sdChain) ([]byte, presentation.Request), reason presentation.Reason, msg string) attack {
	return attack{name: "sd-jwt: " + name, format: presentation.FormatSDJWT, reason: reason, msg: msg,
		craft: func(t *testing.T, w *world) ([]byte, presentation.Request) { return craft(t, w, w.sdChain(t)) }}
}

func sdjwtAttacks() []attack {
	read := readMail()
	slack := presentation.Request{Action: "slack:read", Resource: "slack:acme/general", Intent: "catch up on the channel"}
	return []attack{
		sdCase("a duplicate disclosure", func(t *testing.T, w *world, sd *sdChain) ([]byte, presentation.Request) {
			s := *shown(t, sd.child, grantRead)
			s.Disclosures = append(s.Disclosures, s.Disclosures[0])
			return linkList(t, shown(t, sd.root, grantRead).String(), w.leaf(t, &s, read)), read
		}, presentation.ReasonSignatureInvalid, "link 1: sdjwt: disclosure rejected: disclosure given twice: "),

		// The leaf was given email:read only; the root's slack:read
		// Disclosure, valid and signed by alice, is added to it.
		sdCase("a disclosure swapped from another credential", func(t *testing.T, w *world, sd *sdChain) ([]byte, presentation.Request) {
			narrow := w.sdDelegate(t, assistant, []*sdjwt.SDJWT{sd.root}, credentials.Template{Subject: summarizer.DID(), Purpose: "Summarise Alice's inbox",
				Grants: []credentials.Grant{{ID: grantRead, Action: "email:read", Resource: "mailbox:alice/*"}}})
			w.publish(t)
			s := *shown(t, narrow, grantRead)
			s.Disclosures = append(s.Disclosures, shown(t, sd.root, grantSlack).Disclosures[0])
			return linkList(t, shown(t, sd.root, grantRead, grantSlack).String(), w.leaf(t, &s, slack)), slack
		}, presentation.ReasonSignatureInvalid, "is referenced by no digest"),

		sdCase("a disclosure whose digest appears nowhere", func(t *testing.T, w *world, sd *sdChain) ([]byte, presentation.Request) {
			raw, _ := json.Marshal([]any{"c2FsdHNhbHRzYWx0", map[string]any{"id": "urn:mandate:grant:all", "action": "email:*", "resource": "mailbox:alice/*"}})
			d, err := sdjwt.DecodeDisclosure(base64.RawURLEncoding.EncodeToString(raw), sdjwt.DefaultLimits)
			if err != nil {
				t.Fatal(err)
			}
			s := *shown(t, sd.child, grantRead)
			s.Disclosures = append(s.Disclosures, d)
			req := presentation.Request{Action: "email:delete", Resource: "mailbox:alice/inbox"}
			return linkList(t, shown(t, sd.root, grantRead).String(), w.leaf(t, &s, req)), req
		}, presentation.ReasonSignatureInvalid, "link 1: sdjwt: disclosure rejected: disclosure "),

		// The holder has slack:read but shows only email:read, and asks for
		// slack:read: what is not disclosed is not granted.
		sdCase("a hidden grant claimed", func(t *testing.T, w *world, sd *sdChain) ([]byte, presentation.Request) {
			return linkList(t, shown(t, sd.root, grantRead).String(), w.leaf(t, shown(t, sd.child, grantRead), slack)), slack
		}, presentation.ReasonNotGranted, "no grant covers slack:read on slack:acme/general"),

		sdCase("a parent grant hidden", func(t *testing.T, w *world, sd *sdChain) ([]byte, presentation.Request) {
			return linkList(t, shown(t, sd.root, grantSlack).String(), w.leaf(t, shown(t, sd.child, grantRead), read)), read
		}, presentation.ReasonScopeEscalation, "grant "+grantRead+": no parent grant covers email:read on mailbox:alice/*"),

		sdCase("a parent link presented with key binding", func(t *testing.T, w *world, sd *sdChain) ([]byte, presentation.Request) {
			ch := w.challenge(t)
			return linkList(t, w.kb(t, assistant, shown(t, sd.root, grantRead), ch.Nonce, ch.Audience, digest(t, read)),
				w.leaf(t, shown(t, sd.child, grantRead), read)), read
		}, presentation.ReasonMalformed, "link 0: sdjwt: malformed: a parent link carries a key binding JWT"),

		sdCase("a leaf without key binding", func(t *testing.T, w *world, sd *sdChain) ([]byte, presentation.Request) {
			return linkList(t, shown(t, sd.root, grantRead).String(), shown(t, sd.child, grantRead).String()), read
		}, presentation.ReasonHolderMismatch, "link 1: sdjwt: key binding missing: no key binding JWT presented"),

		// A Disclosure of the same credential slipped in after the holder
		// signed: the key binding covers the Disclosures it was made over.
		sdCase("sd_hash mismatch: a disclosure added after key binding", func(t *testing.T, w *world, sd *sdChain) ([]byte, presentation.Request) {
			leaf := w.leaf(t, shown(t, sd.child, grantRead), read)
			extra := shown(t, sd.child, grantSlack).Disclosures[0].Encoded
			i := strings.LastIndex(leaf, "~")
			return linkList(t, shown(t, sd.root, grantRead, grantSlack).String(), leaf[:i+1]+extra+"~"+leaf[i+1:]), read
		}, presentation.ReasonHolderMismatch, "link 1: sdjwt: sd_hash mismatch: key binding JWT is bound to another SD-JWT"),

		sdCase("alg none on the issuer JWT", func(t *testing.T, w *world, sd *sdChain) ([]byte, presentation.Request) {
			root := *shown(t, sd.root, grantRead)
			root.IssuerJWT = realg(root.IssuerJWT, "none", sdpoa.Type, nil)
			return linkList(t, root.String(), w.leaf(t, shown(t, sd.child, grantRead), read)), read
		}, presentation.ReasonSignatureInvalid, `link 0: sdjwt: algorithm not accepted: "none"`),

		sdCase("HS256 with the issuer's public key on the issuer JWT", func(t *testing.T, w *world, sd *sdChain) ([]byte, presentation.Request) {
			root := *shown(t, sd.root, grantRead)
			root.IssuerJWT = realg(root.IssuerJWT, "HS256", sdpoa.Type, alice.PublicKey())
			return linkList(t, root.String(), w.leaf(t, shown(t, sd.child, grantRead), read)), read
		}, presentation.ReasonSignatureInvalid, `link 0: sdjwt: algorithm not accepted: "HS256"`),

		sdCase("alg none on the key binding JWT", func(t *testing.T, w *world, sd *sdChain) ([]byte, presentation.Request) {
			leaf := onKB(w.leaf(t, shown(t, sd.child, grantRead), read), func(kb string) string { return realg(kb, "none", sdjwt.TypeKeyBinding, nil) })
			return linkList(t, shown(t, sd.root, grantRead).String(), leaf), read
		}, presentation.ReasonSignatureInvalid, `link 1: sdjwt: algorithm not accepted: "none" (key binding JWT)`),

		sdCase("HS256 with the holder's public key on the key binding JWT", func(t *testing.T, w *world, sd *sdChain) ([]byte, presentation.Request) {
			leaf := onKB(w.leaf(t, shown(t, sd.child, grantRead), read), func(kb string) string {
				return realg(kb, "HS256", sdjwt.TypeKeyBinding, summarizer.PublicKey())
			})
			return linkList(t, shown(t, sd.root, grantRead).String(), leaf), read
		}, presentation.ReasonSignatureInvalid, `link 1: sdjwt: algorithm not accepted: "HS256" (key binding JWT)`),

		// A new key binding JWT (another iat, so other bytes) on a nonce
		// already spent by an allowed presentation.
		sdCase("nonce replay", func(t *testing.T, w *world, sd *sdChain) ([]byte, presentation.Request) {
			ch := w.challenge(t)
			first := linkList(t, shown(t, sd.root, grantRead).String(), w.kb(t, summarizer, shown(t, sd.child, grantRead), ch.Nonce, ch.Audience, digest(t, read)))
			if d, err := w.sendFormat(presentation.FormatSDJWT, first, read); err != nil || d.Outcome != presentation.Allow {
				t.Fatalf("setup: %s %v (%s), %v", d.Outcome, d.Reasons, d.Message, err)
			}
			w.advance(time.Second)
			return linkList(t, shown(t, sd.root, grantRead).String(), w.kb(t, summarizer, shown(t, sd.child, grantRead), ch.Nonce, ch.Audience, digest(t, read))), read
		}, presentation.ReasonReplay, "presentation: challenge already used"),

		sdCase("wrong audience", func(t *testing.T, w *world, sd *sdChain) ([]byte, presentation.Request) {
			ch := w.challenge(t)
			return linkList(t, shown(t, sd.root, grantRead).String(),
				w.kb(t, summarizer, shown(t, sd.child, grantRead), ch.Nonce, "https://other.example", digest(t, read))), read
		}, presentation.ReasonAudienceMismatch, `leaf: sdjwt: audience mismatch: key binding JWT is for "https://other.example"`),

		sdCase("request digest for another action", func(t *testing.T, w *world, sd *sdChain) ([]byte, presentation.Request) {
			other := presentation.Request{Action: "email:delete", Resource: "mailbox:alice/inbox"}
			ch := w.challenge(t)
			return linkList(t, shown(t, sd.root, grantRead).String(),
				w.kb(t, summarizer, shown(t, sd.child, grantRead), ch.Nonce, ch.Audience, digest(t, other))), read
		}, presentation.ReasonRequestMismatch, "presentation is bound to another request"),

		sdCase("chain splicing: a valid child under a foreign parent", func(t *testing.T, w *world, sd *sdChain) ([]byte, presentation.Request) {
			foreign, err := sdpoa.Issue(alice, rootTemplate(grant("email-read", "email:read", "mailbox:alice/*"), 2), w.sdOpts(t, alice))
			if err != nil {
				t.Fatal(err)
			}
			w.publish(t)
			return linkList(t, shown(t, foreign, "urn:mandate:grant:email-read").String(), w.leaf(t, shown(t, sd.child, grantRead), read)), read
		}, presentation.ReasonChainBroken, "{sdchild} names parent {sdroot}, not "),

		// Two roots under one id (an issuer whose random source repeats):
		// the child is presented under the version it was not derived from,
		// so its parent digest is the digest of another credential.
		sdCase("parent digest of another credential", func(t *testing.T, w *world, sd *sdChain) ([]byte, presentation.Request) {
			o := sdpoa.Options{IssueOptions: credentials.IssueOptions{Now: w.issued.Now, Rand: fixedRand(7)}}
			v1, err := sdpoa.Issue(alice, rootTemplate(grant("r", "email:read", "mailbox:alice/inbox"), 1), o)
			if err != nil {
				t.Fatal(err)
			}
			child, err := sdpoa.Delegate(assistant, []*sdjwt.SDJWT{v1}, credentials.Template{Subject: summarizer.DID(), Purpose: "p",
				Grants: []credentials.Grant{grant("r", "email:read", "mailbox:alice/inbox")}}, sdpoa.Options{IssueOptions: w.issued})
			if err != nil {
				t.Fatal(err)
			}
			o.Now = func() time.Time { return t0.Add(time.Minute) }
			v2, err := sdpoa.Issue(alice, rootTemplate(grant("r", "email:read", "mailbox:alice/*"), 1), o)
			if err != nil {
				t.Fatal(err)
			}
			return linkList(t, shown(t, v2, "urn:mandate:grant:r").String(), w.leaf(t, shown(t, child, "urn:mandate:grant:r"), read)), read
		}, presentation.ReasonParentDigestMismatch, "names digest"),

		sdCase("a root from an untrusted principal", func(t *testing.T, w *world, sd *sdChain) ([]byte, presentation.Request) {
			root, err := sdpoa.Issue(mallory, credentials.Template{Subject: summarizer.DID(), Purpose: "Read Alice's mail",
				Grants: []credentials.Grant{grant("r", "email:read", "mailbox:alice/*")}}, w.sdOpts(t, mallory))
			if err != nil {
				t.Fatal(err)
			}
			w.publish(t)
			return linkList(t, w.leaf(t, shown(t, root, "urn:mandate:grant:r"), read)), read
		}, presentation.ReasonUntrustedRoot, "principal "+mallory.DID()+" is not a trusted root"),

		sdCase("a revoked root", func(t *testing.T, w *world, sd *sdChain) ([]byte, presentation.Request) {
			w.change(t, func() (string, error) { return w.reg(t, alice).Revoke(sd.rootID, "") })
			return w.presentSD(t, sd, read), read
		}, presentation.ReasonRevoked, "{sdroot} is revoked"),

		// A grant's status entry travels inside its Disclosure: the shown
		// grant's own entry is checked.
		sdCase("a revoked grant of the root", func(t *testing.T, w *world, sd *sdChain) ([]byte, presentation.Request) {
			w.change(t, func() (string, error) { return w.reg(t, alice).Revoke(sd.rootID, grantRead) })
			return w.presentSD(t, sd, read), read
		}, presentation.ReasonRevoked, "grant "+grantRead+" of {sdroot} is revoked"),

		sdCase("10 links", func(t *testing.T, w *world, sd *sdChain) ([]byte, presentation.Request) {
			links := make([]string, credentials.MaxChainLinks+1)
			for i := range links {
				links[i] = shown(t, sd.root, grantRead).String()
			}
			links[len(links)-1] = w.leaf(t, shown(t, sd.child, grantRead), read)
			return linkList(t, links...), read
		}, presentation.ReasonMalformed, "an sd-jwt presentation holds 1..9 links"),

		sdCase("a link past 128 KiB", func(t *testing.T, w *world, sd *sdChain) ([]byte, presentation.Request) {
			leaf := w.leaf(t, shown(t, sd.child, grantRead), read)
			leaf += strings.Repeat("A", sdpoa.MaxLinkBytes+1-len(leaf))
			return linkList(t, shown(t, sd.root, grantRead).String(), leaf), read
		}, presentation.ReasonMalformed, fmt.Sprintf("link 1 is %d bytes, limit %d", sdpoa.MaxLinkBytes+1, sdpoa.MaxLinkBytes)),
	}
}
