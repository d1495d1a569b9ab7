package gatekeeper_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/mandate-dev/mandate/credentials"
	"github.com/mandate-dev/mandate/credentials/sdjwt"
	"github.com/mandate-dev/mandate/credentials/sdpoa"
	"github.com/mandate-dev/mandate/internal/testkeys"
	"github.com/mandate-dev/mandate/presentation"
	"github.com/mandate-dev/mandate/presentation/gatekeeper"
	mandatev1 "github.com/mandate-dev/mandate/protos/mandate/v1"
)

var sub = testkeys.New("summarizer")

func acceptSDJWT(c *presentation.Config) { c.Formats = []string{presentation.FormatSDJWT} }

// sdChain is Alice → agent (three grants) → summarizer (email:read), as SD-JWT.
func sdChain(t *testing.T) []*sdjwt.SDJWT {
	t.Helper()
	root, err := sdpoa.Issue(alice, credentials.Template{
		Subject: agent.DID(), Purpose: "read and sort mail",
		Grants: []credentials.Grant{
			{ID: "urn:mandate:grant:read", Action: "email:read", Resource: "mailbox:alice/*"},
			{ID: "urn:mandate:grant:draft", Action: "email:draft", Resource: "mailbox:alice/*"},
			{ID: "urn:mandate:grant:cal", Action: "calendar:read", Resource: "calendar:alice/*"},
		},
		Delegation: credentials.Delegation{Allowed: true, MaxDepth: 1},
	}, sdpoa.Options{})
	if err != nil {
		t.Fatal(err)
	}
	child, err := sdpoa.Delegate(agent, []*sdjwt.SDJWT{root}, credentials.Template{
		Subject: sub.DID(), Purpose: "read mail",
		Grants: []credentials.Grant{{ID: "urn:mandate:grant:read", Action: "email:read", Resource: "mailbox:alice/inbox"}},
	}, sdpoa.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return []*sdjwt.SDJWT{root, child}
}

func TestSDJWTOverGRPC(t *testing.T) {
	ctx := context.Background()
	client := gatekeeper.NewClient(mandatev1.NewVerifierServiceClient(dial(t, acceptSDJWT)), nil)
	chain := sdChain(t)
	read := presentation.Request{Action: "email:read", Resource: "mailbox:alice/inbox"}
	held := presentation.Held{SDJWT: [][]*sdjwt.SDJWT{chain}}
	d, format, err := client.AuthorizeHeld(ctx, sub, held, read)
	if err != nil || !d.Allowed() || format != presentation.FormatSDJWT || d.Actor != sub.DID() || len(d.Chain) != 2 {
		t.Fatalf("read: %+v %s %v", d, format, err)
	}
	// A wallet holding only LDP finds no common format.
	_, _, err = client.AuthorizeHeld(ctx, sub, presentation.Held{LDP: [][]*credentials.Credential{{}}}, read)
	if err == nil || err.Error() != "presentation: no common format: the verifier accepts [sd-jwt], the wallet holds [ldp]" {
		t.Errorf("negotiation: %v", err)
	}

	deny := func(name string, vp []byte, req presentation.Request, want presentation.Reason) {
		t.Helper()
		d, err := client.SendFormat(ctx, presentation.FormatSDJWT, vp, req)
		if err != nil || d.Outcome != presentation.Deny || len(d.Reasons) != 1 || d.Reasons[0] != want {
			t.Errorf("%s: %+v, %v; want DENY %s", name, d, err, want)
		}
	}
	present := func(req presentation.Request) []byte {
		t.Helper()
		ch, err := client.Challenge(ctx)
		if err != nil {
			t.Fatal(err)
		}
		sel, err := presentation.SelectSDJWT([][]*sdjwt.SDJWT{chain}, sub.DID(), req.Action, req.Resource, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		vp, err := presentation.PresentSDJWT(sub, sel, ch, req, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		return vp
	}
	vp := present(read)
	if d, _ := client.SendFormat(ctx, presentation.FormatSDJWT, vp, read); !d.Allowed() {
		t.Fatalf("first use: %+v", d)
	}
	deny("replayed nonce", vp, read, presentation.ReasonReplay)
	deny("request digest for another action", present(read), presentation.Request{Action: "email:read", Resource: "mailbox:alice/archive"}, presentation.ReasonRequestMismatch)
	// The leaf without its key binding JWT.
	var links []string
	if err := json.Unmarshal(present(read), &links); err != nil {
		t.Fatal(err)
	}
	links[1] = links[1][:strings.LastIndex(links[1], "~")+1]
	noKB, _ := json.Marshal(links)
	deny("missing key binding", noKB, read, presentation.ReasonHolderMismatch)
	// A disclosure swapped in from another credential.
	other := sdChain(t)
	if err := json.Unmarshal(present(read), &links); err != nil {
		t.Fatal(err)
	}
	links[0] = strings.Replace(links[0], "~", "~"+other[0].Disclosures[0].Encoded+"~", 1)
	swapped, _ := json.Marshal(links)
	deny("disclosure swapped from another credential", swapped, read, presentation.ReasonSignatureInvalid)
	// The LDP wire format is refused by this verifier's policy.
	_, err = client.Send(ctx, vp, read)
	if status.Code(err) != codes.InvalidArgument || !strings.Contains(err.Error(), `format "ldp" is not accepted by this verifier`) {
		t.Errorf("ldp to an sd-jwt verifier: %v", err)
	}
}

func TestSDJWTRefusedByLDPVerifier(t *testing.T) {
	rpc := mandatev1.NewVerifierServiceClient(dial(t))
	ch, err := rpc.Challenge(context.Background(), &mandatev1.ChallengeRequest{})
	if err != nil || strings.Join(ch.GetFormats(), ",") != "ldp" {
		t.Fatalf("formats %v, %v", ch.GetFormats(), err)
	}
	for _, f := range []string{"sd-jwt", "bbs", "jwt"} {
		_, err := rpc.Authorize(context.Background(), &mandatev1.AuthorizeRequest{Presentation: []byte("[]"), Format: f, Request: &mandatev1.Request{Action: "a:b", Resource: "r"}})
		if status.Code(err) != codes.InvalidArgument {
			t.Errorf("format %s: %v, want InvalidArgument", f, err)
		}
	}
}
