package gatekeeper_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"testing"
	"time"

	"github.com/mandate-dev/mandate/credentials"
	"github.com/mandate-dev/mandate/internal/testkeys"
	"github.com/mandate-dev/mandate/presentation"
	"github.com/mandate-dev/mandate/presentation/gatekeeper"
	mandatev1 "github.com/mandate-dev/mandate/protos/mandate/v1"
)

var (
	blsAlice = testkeys.NewBLS("alice")
	blsAgent = testkeys.NewBLS("agent")
)

// bbsChain is Alice's BLS key → the agent's BLS did:key (three grants) →
// the summarizer (email:read), as BBS+.
func bbsChain(t *testing.T) []*credentials.Credential {
	t.Helper()
	root, err := credentials.IssueBBS(blsAlice, credentials.Template{
		Subject: blsAgent.DID(), Purpose: "read and sort mail",
		Grants: []credentials.Grant{
			{ID: "urn:mandate:grant:read", Action: "email:read", Resource: "mailbox:alice/*"},
			{ID: "urn:mandate:grant:draft", Action: "email:draft", Resource: "mailbox:alice/*"},
			{ID: "urn:mandate:grant:cal", Action: "calendar:read", Resource: "calendar:alice/*"},
		},
		Delegation: credentials.Delegation{Allowed: true, MaxDepth: 1},
	}, credentials.IssueOptions{})
	if err != nil {
		t.Fatal(err)
	}
	child, err := credentials.DelegateBBS(blsAgent, []*credentials.Credential{root}, credentials.Template{
		Subject: sub.DID(), Purpose: "read mail",
		Grants: []credentials.Grant{{ID: "urn:mandate:grant:read", Action: "email:read", Resource: "mailbox:alice/inbox"}},
	}, credentials.IssueOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return []*credentials.Credential{root, child}
}

func TestBBSOverGRPC(t *testing.T) {
	ctx := context.Background()
	client := gatekeeper.NewClient(mandatev1.NewVerifierServiceClient(dial(t, func(c *presentation.Config) {
		c.Formats = []string{presentation.FormatBBS}
		c.TrustedRoots = []string{blsAlice.DID()}
	})), nil)
	chain := bbsChain(t)
	read := presentation.Request{Action: "email:read", Resource: "mailbox:alice/inbox"}
	held := presentation.Held{BBS: [][]*credentials.Credential{chain}}
	d, format, err := client.AuthorizeHeld(ctx, sub, held, read)
	if err != nil || !d.Allowed() || format != presentation.FormatBBS || d.Actor != sub.DID() || len(d.Chain) != 2 {
		t.Fatalf("read: %+v %s %v", d, format, err)
	}
	present := func(req presentation.Request) []byte {
		t.Helper()
		ch, err := client.Challenge(ctx)
		if err != nil {
			t.Fatal(err)
		}
		sel, err := presentation.SelectBBS([][]*credentials.Credential{chain}, sub.DID(), req.Action, req.Resource, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		vp, err := presentation.PresentBBS(sub, sel, ch, req)
		if err != nil {
			t.Fatal(err)
		}
		return vp
	}
	deny := func(name string, vp []byte, req presentation.Request, want presentation.Reason) {
		t.Helper()
		d, err := client.SendFormat(ctx, presentation.FormatBBS, vp, req)
		if err != nil || d.Outcome != presentation.Deny || len(d.Reasons) != 1 || d.Reasons[0] != want {
			t.Errorf("%s: %+v, %v; want DENY %s", name, d, err, want)
		}
	}
	vp := present(read)
	if d, _ := client.SendFormat(ctx, presentation.FormatBBS, vp, read); !d.Allowed() {
		t.Fatalf("first use: %+v", d)
	}
	deny("replayed nonce", vp, read, presentation.ReasonReplay)
	deny("request digest for another action", present(read), presentation.Request{Action: "email:read", Resource: "mailbox:alice/archive"}, presentation.ReasonRequestMismatch)
	// The agent's root revealing only email:read, bound to a request for email:draft (a hidden grant).
	draft := presentation.Request{Action: "email:draft", Resource: "mailbox:alice/inbox"}
	ch, err := client.Challenge(ctx)
	if err != nil {
		t.Fatal(err)
	}
	hidden, err := presentation.PresentBBS(presentation.BBSHolder(blsAgent), &presentation.BBSSelection{
		Chain: chain[:1], Grants: [][]string{{"urn:mandate:grant:read"}}}, ch, draft)
	if err != nil {
		t.Fatal(err)
	}
	deny("hidden grant claimed", hidden, draft, presentation.ReasonNotGranted)
	// One byte of the leaf's derived proof changed.
	var p map[string]any
	if err := json.Unmarshal(present(read), &p); err != nil {
		t.Fatal(err)
	}
	proof := p["links"].([]any)[1].(map[string]any)["proof"].([]any)[0].(map[string]any)
	v, _ := base64.StdEncoding.DecodeString(proof["proofValue"].(string))
	v[len(v)-7] ^= 0x01
	proof["proofValue"] = base64.StdEncoding.EncodeToString(v)
	tampered, _ := json.Marshal(p)
	deny("proof tampered by one byte", tampered, read, presentation.ReasonSignatureInvalid)
}
