package presentation_test

import (
	"slices"
	"testing"

	"github.com/mandate-dev/mandate/presentation"
	"github.com/mandate-dev/mandate/presentation/policy"
)

// TestBBSByPolicy: a verifier configured by a trust policy that lists bbs
// (with BbsBlsSignature2020) offers it in its challenges and decides BBS+
// presentations under the policy's roots.
func TestBBSByPolicy(t *testing.T) {
	p, err := policy.Parse([]byte("version: 1\nroots:\n  - principal: " + bbsAlice.DID() +
		"\n    resources: [\"mailbox:alice/*\"]\nformats: [bbs]\nalgorithms: [BbsBlsSignature2020]\ndidMethods: [key]\n"))
	if err != nil {
		t.Fatal(err)
	}
	f := newBBSFixture(t, func(c *presentation.Config) { c.Formats, c.TrustedRoots, c.Policy = nil, nil, p })
	ch := f.challenge(t)
	if !slices.Equal(ch.Formats, []string{presentation.FormatBBS}) {
		t.Fatalf("challenge formats %v, want [bbs]", ch.Formats)
	}
	expect(t, f.authorize(f.presentBBS(t, ch, readMail()), readMail()), presentation.Allow, "")
	// The root is trusted for mailbox:alice/* only: calendar:read is outside it.
	cal := presentation.Request{Action: "calendar:read", Resource: "calendar:alice/work", Intent: "find a free slot"}
	expect(t, f.authorize(f.presentBBS(t, f.challenge(t), cal), cal), presentation.Deny, presentation.ReasonUntrustedRoot)
}
