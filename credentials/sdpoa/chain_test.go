package sdpoa_test

import (
	"errors"
	"testing"
	"time"

	"github.com/mandate-dev/mandate/credentials"
	"github.com/mandate-dev/mandate/credentials/sdjwt"
	"github.com/mandate-dev/mandate/credentials/sdpoa"
	"github.com/mandate-dev/mandate/internal/testkeys"
)

var summarizer = testkeys.New("summarizer")

func childTemplate(grants ...credentials.Grant) credentials.Template {
	return credentials.Template{
		Subject: summarizer.DID(), Purpose: "Summarise Alice's inbox each morning",
		Grants: grants, Delegation: credentials.Delegation{Allowed: false}, ValidFrom: now.Add(-time.Hour),
	}
}

var childRead = credentials.Grant{ID: "urn:mandate:grant:email-read", Action: "email:read", Resource: "mailbox:alice/inbox",
	Constraints: credentials.Constraints{Rate: &credentials.Rate{Count: 2, Per: "PT1H"}}}

func delegate(t *testing.T, root *sdjwt.SDJWT) *sdjwt.SDJWT {
	t.Helper()
	child, err := sdpoa.Delegate(assistant, []*sdjwt.SDJWT{root}, childTemplate(childRead), sdpoa.Options{
		IssueOptions: credentials.IssueOptions{Now: func() time.Time { return now.Add(-time.Hour) }, Rand: seeded(2)},
	})
	if err != nil {
		t.Fatal(err)
	}
	return child
}

func TestDelegateChain(t *testing.T) {
	root := issue(t, 2)
	child := delegate(t, root)
	creds, err := sdpoa.VerifyChain([]*sdjwt.SDJWT{root, child})
	if err != nil {
		t.Fatal(err)
	}
	want, _ := sdpoa.ParentDigest(root.IssuerJWT)
	p := creds[1].Subject.Parent
	if p == nil || p.ID != creds[0].ID || p.Digest != want || creds[1].Subject.Principal != alice.DID() {
		t.Fatalf("parent link %+v, want %s %s", p, creds[0].ID, want)
	}
	if len(creds[1].Subject.Forbidden) != 1 || creds[1].Subject.Forbidden[0].Action != "email:send" {
		t.Errorf("forbidden not inherited: %+v", creds[1].Subject.Forbidden)
	}
	// The digest does not depend on the Disclosures shown: the parent with
	// only the covering grant still links.
	shown, err := sdpoa.Select(root, "urn:mandate:grant:email-read")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sdpoa.VerifyChain([]*sdjwt.SDJWT{shown, child}); err != nil {
		t.Errorf("parent with one grant shown: %v", err)
	}
	// Without the covering grant the child is wider than what it shows.
	other, _ := sdpoa.Select(root, "urn:mandate:grant:calendar-read")
	_, err = sdpoa.VerifyChain([]*sdjwt.SDJWT{other, child})
	if !errors.Is(err, credentials.ErrScopeEscalation) {
		t.Errorf("covering grant hidden: %v, want scope escalation", err)
	}
	b, err := sdpoa.EncodeChain([]*sdjwt.SDJWT{root, child})
	if err != nil {
		t.Fatal(err)
	}
	back, err := sdpoa.DecodeChain(b)
	if err != nil || len(back) != 2 || back[1].String() != child.String() {
		t.Fatalf("round trip: %v", err)
	}
}

func TestDelegateRefuses(t *testing.T) {
	root := issue(t, 0)
	opts := sdpoa.Options{IssueOptions: credentials.IssueOptions{Now: func() time.Time { return now }, Rand: seeded(3)}}
	wide := credentials.Grant{ID: "urn:mandate:grant:email-send", Action: "email:*", Resource: "mailbox:alice/*"}
	_, err := sdpoa.Delegate(assistant, []*sdjwt.SDJWT{root}, childTemplate(wide), opts)
	if !errors.Is(err, credentials.ErrScopeEscalation) {
		t.Errorf("wider child: %v", err)
	}
	_, err = sdpoa.Delegate(stranger, []*sdjwt.SDJWT{root}, childTemplate(childRead), opts)
	wantErr(t, err, credentials.ErrChainBroken, "credentials: chain broken: the parent was granted to "+assistant.DID()+", not to the signer "+stranger.DID())
	// A child under a parent whose digest was forged does not link.
	child := delegate(t, root)
	// Same id (same random source), one decoy more: another issuer-signed JWT.
	other2, err := sdpoa.Issue(alice, template(), sdpoa.Options{IssueOptions: credentials.IssueOptions{Now: func() time.Time { return now.Add(-time.Hour) }, Rand: seeded(1)}, Decoys: 1})
	if err != nil {
		t.Fatal(err)
	}
	_, err = sdpoa.VerifyChain([]*sdjwt.SDJWT{other2, child})
	if !errors.Is(err, credentials.ErrParentDigest) {
		t.Errorf("re-issued parent with the same id: %v, want parent digest mismatch", err)
	}
	// A parent carrying a key binding JWT is refused.
	kbRoot, err := sdpoa.Present(holder(t, assistant), root, []string{"urn:mandate:grant:email-read"}, kb(), "")
	if err != nil {
		t.Fatal(err)
	}
	_, err = sdpoa.VerifyLink(kbRoot)
	wantErr(t, err, sdjwt.ErrMalformed, "sdjwt: malformed: a parent link carries a key binding JWT")
}
