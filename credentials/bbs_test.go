package credentials_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/mandate-dev/mandate/credentials"
	"github.com/mandate-dev/mandate/did"
	"github.com/mandate-dev/mandate/internal/testkeys"
)

var (
	bbsAlice = testkeys.NewBLS("alice")
	bbsNonce = []byte("challenge-0001-for-shop.example")
)

const grantRead = "urn:mandate:grant:email-read"

func bbsTemplate() credentials.Template {
	notAfter := time.Date(2027, 6, 1, 0, 0, 0, 0, time.UTC)
	maxUses := int64(5)
	return credentials.Template{
		Subject: assistant.DID(),
		Purpose: "Keep Alice's inbox organised: read, summarise, draft; never send",
		Grants: []credentials.Grant{
			{ID: grantRead, Action: "email:read", Resource: "mailbox:alice/*",
				Constraints: credentials.Constraints{NotAfter: &notAfter, MaxUses: &maxUses,
					Rate: &credentials.Rate{Count: 10, Per: "PT1H"}}},
			{ID: "urn:mandate:grant:email-draft", Action: "email:draft", Resource: "mailbox:alice/*",
				Constraints: credentials.Constraints{Approval: credentials.ApprovalRequired}},
			{ID: "urn:mandate:grant:calendar-read", Action: "calendar:read", Resource: "calendar:alice/*"},
		},
		Forbidden:  []credentials.Forbidden{{Action: "email:send"}, {Action: "slack:post"}},
		Delegation: credentials.Delegation{Allowed: true, MaxDepth: 1},
	}
}

func issueBBS(t testing.TB) *credentials.Credential {
	t.Helper()
	c, err := credentials.IssueBBS(bbsAlice, bbsTemplate(), opts)
	if err != nil {
		t.Fatalf("IssueBBS: %v", err)
	}
	return c
}

func deriveBBS(t testing.TB, c *credentials.Credential, nonce []byte) []byte {
	t.Helper()
	d, err := credentials.DeriveBBS(c, []string{grantRead}, nonce)
	if err != nil {
		t.Fatalf("DeriveBBS: %v", err)
	}
	return d
}

func bbsVerifier(t testing.TB) *credentials.BBSVerifier {
	t.Helper()
	v, err := credentials.NewBBSVerifier()
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestBBSDeriveVerify(t *testing.T) {
	c := issueBBS(t)
	got, err := bbsVerifier(t).Verify(context.Background(), deriveBBS(t, c, bbsNonce), bbsNonce)
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	if len(got.Subject.Grants) != 1 || got.Subject.Grants[0].ID != grantRead {
		t.Fatalf("verified grants = %+v, want only %s", got.Subject.Grants, grantRead)
	}
	g := got.Subject.Grants[0]
	if g.Constraints.Rate == nil || g.Constraints.Rate.Count != 10 || *g.Constraints.MaxUses != 5 {
		t.Fatalf("disclosed grant lost constraints: %+v", g.Constraints)
	}
	if got.Subject.Principal != bbsAlice.DID() || len(got.Subject.Forbidden) != 2 || !got.Subject.Delegation.Allowed {
		t.Fatalf("always-visible fields differ: %+v", got.Subject)
	}
	if _, ok := got.Grant("urn:mandate:grant:email-draft"); ok {
		t.Fatal("a hidden grant is in the verified credential")
	}
}

func decodeMap(t *testing.T, b []byte) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func encode(t *testing.T, m map[string]any) []byte {
	t.Helper()
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestBBSVerifyRejects(t *testing.T) {
	c := issueBBS(t)
	good := deriveBBS(t, c, bbsNonce)
	withFrame := func(sub map[string]any) []byte {
		frame := map[string]any{
			"@context":          []any{credentials.ContextCredentialsV1, credentials.ContextBBSV1, credentials.ContextStatusV1, credentials.ContextPoAV1},
			"type":              []any{"VerifiableCredential", credentials.Type},
			"@omitDefault":      true,
			"credentialSubject": sub,
		}
		d, err := credentials.DeriveBBSWithFrame(c, frame, bbsNonce)
		if err != nil {
			t.Fatalf("derive: %v", err)
		}
		return encode(t, d)
	}
	cases := []struct {
		name  string
		doc   func() []byte
		nonce []byte
		want  error
	}{
		{"proof tampered by one byte", func() []byte {
			m := decodeMap(t, good)
			p := m["proof"].([]any)[0].(map[string]any)
			v, _ := base64.StdEncoding.DecodeString(p["proofValue"].(string))
			v[len(v)-7] ^= 0x01
			p["proofValue"] = base64.StdEncoding.EncodeToString(v)
			return encode(t, m)
		}, bbsNonce, credentials.ErrSignature},
		{"forbidden withheld", func() []byte {
			return withFrame(map[string]any{"@explicit": true, "@omitDefault": true, "principal": map[string]any{},
				"purpose": map[string]any{}, "delegation": map[string]any{}, "digest": map[string]any{},
				"grants": map[string]any{"@id": []any{grantRead}}})
		}, bbsNonce, credentials.ErrMalformed},
		{"subject digest withheld", func() []byte {
			return withFrame(map[string]any{"@explicit": true, "@omitDefault": true, "principal": map[string]any{},
				"purpose": map[string]any{}, "delegation": map[string]any{}, "forbidden": map[string]any{},
				"grants": map[string]any{"@id": []any{grantRead}}})
		}, bbsNonce, credentials.ErrMalformed},
		{"grant constraints withheld", func() []byte {
			return withFrame(map[string]any{"@omitDefault": true, "grants": map[string]any{"@id": []any{grantRead},
				"@explicit": true, "action": map[string]any{}, "resource": map[string]any{}, "digest": map[string]any{}}})
		}, bbsNonce, credentials.ErrMalformed},
		{"hidden grant claimed", func() []byte {
			m := decodeMap(t, good)
			sub := m["credentialSubject"].(map[string]any)
			sub["grants"] = append(sub["grants"].([]any), map[string]any{"id": "urn:mandate:grant:email-draft",
				"action": "email:draft", "resource": "mailbox:alice/*"})
			return encode(t, m)
		}, bbsNonce, credentials.ErrSignature},
		{"derived for another nonce", func() []byte { return deriveBBS(t, c, []byte("another-challenge")) },
			bbsNonce, credentials.ErrNonce},
		{"nonce member rewritten", func() []byte {
			m := decodeMap(t, deriveBBS(t, c, []byte("another-challenge")))
			m["proof"].([]any)[0].(map[string]any)["nonce"] = base64.StdEncoding.EncodeToString(bbsNonce)
			return encode(t, m)
		}, bbsNonce, credentials.ErrSignature},
		{"undefined term injected", func() []byte {
			m := decodeMap(t, good)
			m["credentialSubject"].(map[string]any)["extra"] = "x"
			return encode(t, m)
		}, bbsNonce, credentials.ErrMalformed}, // drops out of the RDF, so the proof holds; Strict refuses it
		{"unsigned proof member", func() []byte {
			m := decodeMap(t, good)
			m["proof"].([]any)[0].(map[string]any)["domain"] = "x"
			return encode(t, m)
		}, bbsNonce, credentials.ErrMalformed},
	}
	v := bbsVerifier(t)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := v.Verify(context.Background(), tc.doc(), tc.nonce)
			if !errors.Is(err, tc.want) {
				t.Fatalf("Verify = %v, want %v", err, tc.want)
			}
		})
	}
}

func TestBLSDIDKey(t *testing.T) {
	pub := bbsAlice.PublicKey()
	d, err := did.FromBLS12381G2(pub)
	if err != nil || d != bbsAlice.DID() {
		t.Fatalf("FromBLS12381G2 = %q, %v", d, err)
	}
	got, err := did.ParseBLS12381G2Key(bbsAlice.VerificationMethod())
	if err != nil || string(got) != string(pub) {
		t.Fatalf("ParseBLS12381G2Key = %x, %v", got, err)
	}
	bad := append([]byte{}, pub...)
	bad[40] ^= 0xff // almost surely not on the curve
	identity := make([]byte, 96)
	identity[0] = 0xc0
	for name, key := range map[string][]byte{"off curve": bad, "identity": identity, "short": pub[:95]} {
		if _, err := did.FromBLS12381G2(key); err == nil {
			t.Errorf("%s: FromBLS12381G2 accepted an invalid G2 key", name)
		}
	}
	if _, err := did.ParseBLS12381G2Key(alice.DID()); !errors.Is(err, did.ErrUnsupportedPublicKeyType) {
		t.Errorf("ParseBLS12381G2Key(ed25519 did) = %v, want ErrUnsupportedPublicKeyType", err)
	}
	if _, err := did.ParseKey(bbsAlice.DID()); !errors.Is(err, did.ErrUnsupportedPublicKeyType) {
		t.Errorf("ParseKey(bls did) = %v, want ErrUnsupportedPublicKeyType", err)
	}
}
