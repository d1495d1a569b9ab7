package sdpoa_test

import (
	"crypto/ed25519"
	"errors"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/mandate-dev/mandate/credentials"
	"github.com/mandate-dev/mandate/credentials/sdjwt"
	"github.com/mandate-dev/mandate/credentials/sdpoa"
	"github.com/mandate-dev/mandate/did"
	"github.com/mandate-dev/mandate/internal/testkeys"
)

var (
	alice     = testkeys.New("alice")
	assistant = testkeys.New("assistant")
	stranger  = testkeys.New("stranger")
	now       = time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)
	challenge = sdjwt.Validation{Nonce: "n-1", Audience: "https://mail.example/verifier", MaxAge: 2 * time.Minute}
)

const requestDigest = "zQmPrSM2XCd14Sf3dbGcYpzjuPEabEwheJWiU4Geoo2Cmmq"

func template() credentials.Template {
	hour := int64(3)
	return credentials.Template{
		Subject: assistant.DID(),
		Purpose: "Keep Alice's inbox organised: read, summarise, draft; never send",
		Grants: []credentials.Grant{
			{ID: "urn:mandate:grant:email-read", Action: "email:read", Resource: "mailbox:alice/*",
				Constraints: credentials.Constraints{Rate: &credentials.Rate{Count: hour, Per: "PT1H"}}},
			{ID: "urn:mandate:grant:email-draft", Action: "email:draft", Resource: "mailbox:alice/*",
				Constraints: credentials.Constraints{Approval: credentials.ApprovalRequired}},
			{ID: "urn:mandate:grant:calendar-read", Action: "calendar:read", Resource: "calendar:alice/*"},
		},
		Forbidden:  []credentials.Forbidden{{Action: "email:send"}},
		Delegation: credentials.Delegation{Allowed: true, MaxDepth: 1},
		ValidFrom:  now.Add(-time.Hour),
	}
}

func seeded(b byte) *rand.ChaCha8 {
	var s [32]byte
	s[0] = b
	return rand.NewChaCha8(s)
}

func issue(t *testing.T, decoys int) *sdjwt.SDJWT {
	t.Helper()
	issued, err := sdpoa.Issue(alice, template(), sdpoa.Options{
		IssueOptions: credentials.IssueOptions{Now: func() time.Time { return now.Add(-time.Hour) }, Rand: seeded(1)},
		Decoys:       decoys,
	})
	if err != nil {
		t.Fatal(err)
	}
	return issued
}

func holder(t *testing.T, k *testkeys.Key) *sdjwt.Holder {
	t.Helper()
	s, err := sdpoa.KeySigner(k)
	if err != nil {
		t.Fatal(err)
	}
	h, err := sdjwt.NewHolder(s, jose.EdDSA)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func kb() sdjwt.KeyBindingClaims {
	return sdjwt.KeyBindingClaims{Nonce: challenge.Nonce, Audience: challenge.Audience, IssuedAt: now}
}

func wantErr(t *testing.T, err, sentinel error, msg string) {
	t.Helper()
	if err == nil || !errors.Is(err, sentinel) || err.Error() != msg {
		t.Errorf("error %v\n want %q (wrapping %v)", err, msg, sentinel)
	}
}

func TestPresentOneGrant(t *testing.T) {
	issued := issue(t, 2)
	if len(issued.Disclosures) != 3 {
		t.Fatalf("%d disclosures, want one per grant", len(issued.Disclosures))
	}
	p, err := sdpoa.Present(holder(t, assistant), issued, []string{"urn:mandate:grant:email-read"}, kb(), requestDigest)
	if err != nil {
		t.Fatal(err)
	}
	got, err := sdpoa.Verify(p)
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	if err := got.SD.Validate(now.Add(time.Second), challenge); err != nil {
		t.Fatalf("Validate: %v", err)
	}
	sub, want := got.Credential.Subject, template()
	if len(sub.Grants) != 1 || !reflect.DeepEqual(sub.Grants[0], want.Grants[0]) {
		t.Errorf("grants seen: %+v, want only %+v", sub.Grants, want.Grants[0])
	}
	if _, shown := got.Credential.Grant("urn:mandate:grant:email-draft"); shown {
		t.Error("a hidden grant is visible")
	}
	if sub.Principal != alice.DID() || sub.ID != assistant.DID() || sub.Purpose != want.Purpose ||
		!reflect.DeepEqual(sub.Forbidden, want.Forbidden) || sub.Delegation != want.Delegation {
		t.Errorf("always-visible fields: %+v", sub)
	}
	if got.Credential.Issuer != alice.DID() || !got.Credential.IssuanceDate.Equal(now.Add(-time.Hour)) {
		t.Errorf("envelope: issuer %s, issuance %s", got.Credential.Issuer, got.Credential.IssuanceDate)
	}
	if got.RequestDigest != requestDigest {
		t.Errorf("request digest %q", got.RequestDigest)
	}
	payload, _ := issued.InsecurePayload()
	grants := payload["credentialSubject"].(map[string]any)["grants"].([]any)
	if len(grants) != 5 {
		t.Errorf("%d grant digests signed, want 3 grants + 2 decoys", len(grants))
	}
}

func TestPresentTwoGrantsInAnyOrder(t *testing.T) {
	issued := issue(t, 0)
	p, err := sdpoa.Present(holder(t, assistant), issued, []string{"urn:mandate:grant:calendar-read", "urn:mandate:grant:email-read"}, kb(), "")
	if err != nil {
		t.Fatal(err)
	}
	got, err := sdpoa.Verify(p)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, g := range got.Credential.Subject.Grants {
		ids = append(ids, g.ID)
	}
	// Grants keep the issuer's order, not the order asked for.
	if strings.Join(ids, " ") != "urn:mandate:grant:email-read urn:mandate:grant:calendar-read" || got.RequestDigest != "" {
		t.Errorf("grants %v, request digest %q", ids, got.RequestDigest)
	}
}

func TestRefuses(t *testing.T) {
	issued := issue(t, 0)
	_, err := sdpoa.Select(issued, "urn:mandate:grant:email-send")
	wantErr(t, err, sdpoa.ErrGrant, `sdpoa: no such grant: "urn:mandate:grant:email-send"`)

	one, err := sdpoa.Select(issued, "urn:mandate:grant:email-read")
	if err != nil {
		t.Fatal(err)
	}
	_, err = sdpoa.Verify(one.String())
	wantErr(t, err, sdjwt.ErrKeyBindingMissing, "sdjwt: key binding missing: no key binding JWT presented")

	// Signed by someone else's key: the issuer's did:key does not verify it.
	p, err := holder(t, stranger).Present(one, kb())
	if err != nil {
		t.Fatal(err)
	}
	_, err = sdpoa.Verify(p)
	wantErr(t, err, sdjwt.ErrSignature, "sdjwt: signature invalid: EdDSA signature does not verify (key binding JWT)")

	// A grant of another credential (same issuer, same agent) swapped in.
	other, err := sdpoa.Issue(alice, template(), sdpoa.Options{IssueOptions: credentials.IssueOptions{Rand: seeded(2), Now: func() time.Time { return now }}})
	if err != nil {
		t.Fatal(err)
	}
	draft, _ := sdpoa.Select(other, "urn:mandate:grant:email-draft")
	swapped := &sdjwt.SDJWT{IssuerJWT: one.IssuerJWT, Disclosures: append(append([]sdjwt.Disclosure{}, one.Disclosures...), draft.Disclosures...)}
	p, err = holder(t, assistant).Present(swapped, kb())
	if err != nil {
		t.Fatal(err)
	}
	_, err = sdpoa.Verify(p)
	wantErr(t, err, sdjwt.ErrDisclosure, "sdjwt: disclosure rejected: disclosure "+draft.Disclosures[0].Digest+" is referenced by no digest")
}

// reissue signs, as Alice, the credential of issue with edit applied to its
// claims: what a careless or hostile issuer might make.
func reissue(t *testing.T, holderKey ed25519.PublicKey, presenter *testkeys.Key, edit func(claims, subject map[string]any)) string {
	t.Helper()
	v, err := sdjwt.NewVerifier(mustKey(t, alice.DID()), sdpoa.Type)
	if err != nil {
		t.Fatal(err)
	}
	full, err := v.VerifyIssued(issue(t, 0).String())
	if err != nil {
		t.Fatal(err)
	}
	claims := full.Claims
	delete(claims, "cnf")
	subject := claims["credentialSubject"].(map[string]any)
	grants := subject["grants"].([]any)
	for i, g := range grants {
		grants[i] = sdjwt.Disclosable{Value: g}
	}
	edit(claims, subject)
	signer, err := sdpoa.KeySigner(alice)
	if err != nil {
		t.Fatal(err)
	}
	iss, err := sdjwt.NewIssuer(signer, jose.EdDSA, sdpoa.Type, seeded(3), 0)
	if err != nil {
		t.Fatal(err)
	}
	issued, err := iss.Issue(claims, holderKey)
	if err != nil {
		t.Fatal(err)
	}
	p, err := holder(t, presenter).Present(issued, kb())
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func mustKey(t *testing.T, d string) ed25519.PublicKey {
	t.Helper()
	k, err := did.ParseKey(d)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestAlwaysVisible(t *testing.T) {
	agentKey := mustKey(t, assistant.DID())
	for _, c := range []struct {
		name string
		key  ed25519.PublicKey
		edit func(claims, subject map[string]any)
		err  error
		msg  string
	}{
		{"purpose hidden", agentKey, func(_, s map[string]any) { s["purpose"] = sdjwt.Disclosable{Value: s["purpose"]} },
			sdpoa.ErrHidden, "sdpoa: always-visible field hidden: members of credentialSubject are selectively disclosable"},
		{"forbidden entry hidden", agentKey, func(_, s map[string]any) {
			s["forbidden"] = []any{sdjwt.Disclosable{Value: s["forbidden"].([]any)[0]}}
		}, sdpoa.ErrHidden, "sdpoa: always-visible field hidden: credentialSubject.forbidden"},
		{"principal hidden", agentKey, func(_, s map[string]any) { s["principal"] = sdjwt.Disclosable{Value: s["principal"]} },
			sdpoa.ErrHidden, "sdpoa: always-visible field hidden: members of credentialSubject are selectively disclosable"},
		{"expiry hidden", agentKey, func(c, _ map[string]any) { c["expirationDate"] = sdjwt.Disclosable{Value: "2027-01-01T00:00:00Z"} },
			sdpoa.ErrHidden, "sdpoa: always-visible field hidden: top-level claims are selectively disclosable"},
		{"a grant's constraints hidden", agentKey, func(_, s map[string]any) {
			g := s["grants"].([]any)[0].(sdjwt.Disclosable).Value.(map[string]any)
			g["constraints"] = sdjwt.Disclosable{Value: g["constraints"]}
		}, sdpoa.ErrHidden, `sdpoa: always-visible field hidden: disclosure of claim "constraints"`},
		{"cnf of another agent, who presents", mustKey(t, stranger.DID()), func(_, _ map[string]any) {},
			sdjwt.ErrKeyBinding, "sdjwt: key binding invalid: cnf is not the key of the subject " + assistant.DID()},
		{"a grant that is not an object", agentKey, func(_, s map[string]any) {
			s["grants"] = append(s["grants"].([]any), sdjwt.Disclosable{Value: "email:send"})
		}, sdpoa.ErrHidden, "sdpoa: always-visible field hidden: a disclosure is not one whole grant"},
		{"unknown member", agentKey, func(c, _ map[string]any) { c["evidence"] = "x" },
			credentials.ErrMalformed, `credentials: malformed credential: member "evidence" is not allowed in a PoA credential`},
		{"iss differs from issuer", agentKey, func(c, _ map[string]any) { c["issuer"] = stranger.DID() },
			credentials.ErrMalformed, "credentials: malformed credential: iss is not the credential's issuer"},
	} {
		t.Run(c.name, func(t *testing.T) {
			presenter := assistant
			if !c.key.Equal(agentKey) {
				presenter = stranger
			}
			_, err := sdpoa.Verify(reissue(t, c.key, presenter, c.edit))
			wantErr(t, err, c.err, c.msg)
		})
	}
}
