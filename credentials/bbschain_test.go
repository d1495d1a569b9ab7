package credentials_test

import (
	"context"
	"errors"
	"testing"

	"github.com/mandate-dev/mandate/credentials"
	"github.com/mandate-dev/mandate/internal/testkeys"
)

var (
	bbsAssistant  = testkeys.NewBLS("assistant")
	bbsSummarizer = testkeys.NewBLS("summarizer")
)

// bbsChain issues a root to the assistant's BLS did:key and a child to the
// summarizer's, returning both as signed.
func bbsChain(t testing.TB) []*credentials.Credential {
	t.Helper()
	tpl := bbsTemplate()
	tpl.Subject = bbsAssistant.DID()
	root, err := credentials.IssueBBS(bbsAlice, tpl, opts)
	if err != nil {
		t.Fatalf("IssueBBS: %v", err)
	}
	child, err := credentials.DelegateBBS(bbsAssistant, []*credentials.Credential{root}, credentials.Template{
		Subject: bbsSummarizer.DID(), Purpose: "Summarise Alice's unread mail",
		Grants: []credentials.Grant{root.Subject.Grants[0]},
	}, opts)
	if err != nil {
		t.Fatalf("DelegateBBS: %v", err)
	}
	return []*credentials.Credential{root, child}
}

func TestBBSChainDerivedLinksKeepTheParentDigest(t *testing.T) {
	chain := bbsChain(t)
	v := bbsVerifier(t)
	var derived []*credentials.Credential
	for _, c := range chain {
		d, err := credentials.DeriveBBS(c, []string{grantRead}, bbsNonce)
		if err != nil {
			t.Fatalf("DeriveBBS: %v", err)
		}
		got, err := v.Verify(context.Background(), d, bbsNonce)
		if err != nil {
			t.Fatalf("Verify: %v", err)
		}
		derived = append(derived, got)
	}
	if derived[0].SignedDigest != chain[0].SignedDigest || derived[0].SignedDigest == "" {
		t.Fatalf("link digest changed under derivation: %q vs %q", derived[0].SignedDigest, chain[0].SignedDigest)
	}
	if err := credentials.CheckChain(derived); err != nil {
		t.Fatalf("CheckChain(derived): %v", err)
	}
	if len(derived[0].Subject.Grants) != 1 {
		t.Fatalf("root shows %d grants, want 1", len(derived[0].Subject.Grants))
	}
}

func TestDelegateBBSRefusals(t *testing.T) {
	chain := bbsChain(t)
	wide := credentials.Template{Subject: bbsSummarizer.DID(), Purpose: "p",
		Grants: []credentials.Grant{{ID: "urn:mandate:grant:all", Action: "email:*", Resource: "mailbox:alice/*"}}}
	if _, err := credentials.DelegateBBS(bbsAssistant, chain[:1], wide, opts); !errors.Is(err, credentials.ErrScopeEscalation) {
		t.Fatalf("wider child: err = %v, want ErrScopeEscalation", err)
	}
	if _, err := credentials.DelegateBBS(bbsSummarizer, chain[:1], wide, opts); !errors.Is(err, credentials.ErrChainBroken) {
		t.Fatalf("signer not the subject: err = %v, want ErrChainBroken", err)
	}
	// maxDepth 1: the summarizer may not delegate again.
	if _, err := credentials.DelegateBBS(bbsSummarizer, chain, wide, opts); !errors.Is(err, credentials.ErrDelegationNotAllowed) {
		t.Fatalf("past maxDepth: err = %v, want ErrDelegationNotAllowed", err)
	}
}

func TestDecodeBBSChainRoundTrip(t *testing.T) {
	chain := bbsChain(t)
	b, err := credentials.EncodeChain(chain)
	if err != nil {
		t.Fatal(err)
	}
	got, err := credentials.DecodeBBSChain(b)
	if err != nil {
		t.Fatalf("DecodeBBSChain: %v", err)
	}
	if err := credentials.CheckChain(got); err != nil {
		t.Fatalf("CheckChain: %v", err)
	}
	if !credentials.IsBBS(got[1].Raw) {
		t.Fatal("IsBBS(child) = false")
	}
}
