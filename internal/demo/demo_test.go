package demo_test

import (
	"context"
	"testing"

	"github.com/mandate-dev/mandate/internal/demo"
	"github.com/mandate-dev/mandate/wallet"
)

func TestDemoStory(t *testing.T) {
	rep, err := demo.Run(context.Background(), demo.Options{
		Dir: t.TempDir(),
		KDF: func() []wallet.Option { return []wallet.Option{wallet.WithKDFParams(1, 64, 1)} },
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"ALLOW", "DENY NOT_GRANTED", "NEEDS_APPROVAL APPROVAL_REQUIRED", "ALLOW", "DENY REPLAY",
		"DENY FORBIDDEN", "REFUSED SCOPE_ESCALATION",
		"DENY SCOPE_ESCALATION", "DENY REPLAY", "DENY AUDIENCE_MISMATCH", "DENY SIGNATURE_INVALID",
		"ALLOW", "DENY SIGNATURE_INVALID",
		"ALLOW", "DENY SIGNATURE_INVALID", // bbs
		"DENY INTENT_MISMATCH", "ALLOW", "REFUSED INTENT_MISMATCH", "DENY EXPIRED",
		"ALLOW", "ALLOW", "ALLOW", "DENY RATE_LIMITED",
		"DENY REVOKED", "ALLOW", "DENY SUSPENDED", "ALLOW", "DENY STATUS_UNAVAILABLE",
		"ALLOW", "DENY UNTRUSTED_ROOT", "DENY WITNESS_REQUIRED", "DENY REVOKED", // cross-org
		"LISTED list_channels,read_channel", "ALLOW", "DENY NOT_GRANTED", "DENY FORBIDDEN", "NOT RECEIVED", // mcp gateway
		"VERIFIED", "DETECTED record 7 was altered (hash mismatch)",
	}
	if len(rep.Steps) != len(want) {
		t.Fatalf("%d steps, want %d", len(rep.Steps), len(want))
	}
	for i, s := range rep.Steps {
		if s.Outcome() != want[i] || s.Expected != want[i] {
			t.Errorf("step %d %q: got %s (%s), expected %s, want %s", i, s.Name, s.Outcome(), s.Detail, s.Expected, want[i])
		}
	}
	if !rep.OK {
		t.Error("report not ok")
	}
	// The SD-JWT run: of the chain's 6 grants (5 + 1), the verifier saw the
	// two email:read grants, one per link.
	if got := rep.Steps[11].Disclosure(); got != "sd-jwt: grants seen 2 of 6 held" {
		t.Errorf("sd-jwt step: %q", got)
	}
	// The BBS+ run, the same chain as derived proofs: one grant per link.
	if got := rep.Steps[13].Disclosure(); got != "bbs: grants seen 2 of 6 held" {
		t.Errorf("bbs step: %q", got)
	}
	if d := rep.Steps[14].Detail; d != "link 1: credentials: signature invalid: aries: bbs verify: proof: bad signature" {
		t.Errorf("bbs tampered step: %q", d)
	}
}
