package presentation_test

import (
	"context"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/mandate-dev/mandate/credentials"
	"github.com/mandate-dev/mandate/credentials/scope"
	"github.com/mandate-dev/mandate/presentation"
)

// FuzzSignedChild plays an attacker who holds the assistant's key: it signs
// a child credential with any grant, depth and forbidden list it likes
// (credentials.SignUnchecked, skipping Delegate's checks), presents it for
// any request, and asks the verifier. A signature cannot be fuzzed past, so
// this is where attenuation is fuzzed. An ALLOW must be one the root
// allows: the request inside the root's email:read grant on
// mailbox:alice/*, not email:send (forbidden), inside the child's grant too,
// and decided by the child's grant.
func FuzzSignedChild(f *testing.F) {
	w := newFuzzWorld(f)
	digest, err := credentials.Digest(w.root.Raw)
	if err != nil {
		f.Fatal(err)
	}
	for _, s := range []struct {
		action, resource, reqAction, reqResource string
		depth                                    uint8
		keepForbidden                            bool
		notAfterHours                            int16
	}{
		{"email:read", "mailbox:alice/*", "email:read", "mailbox:alice/inbox", 0, true, 0},
		{"email:read", "mailbox:alice/inbox", "email:read", "mailbox:alice/inbox", 0, false, 24},
		{"email:*", "mailbox:*", "email:send", "mailbox:bob/inbox", 0, false, 0},
		{"email:read", "mailbox:alice/*", "email:read", "mailbox:bob/inbox", 0, true, 0},
		{"*:*", "*", "slack:post", "slack:acme/general", 0, true, 0},
		{"email:draft", "mailbox:alice/*", "email:draft", "mailbox:alice/drafts", 0, true, 0},
		{"email:read", "mailbox:alice/*", "email:read", "mailbox:alice/inbox", 1, true, 0},
		{"email:read", "mailbox:alice/*", "email:read", "mailbox:alice/inbox", 0, true, -2},
		{"email:read", "mailbox:alice/*", "email:read", "mailbox:alice/inbox", 0, true, 1000},
	} {
		f.Add(s.action, s.resource, s.reqAction, s.reqResource, s.depth, s.keepForbidden, s.notAfterHours)
	}
	f.Fuzz(func(t *testing.T, action, resource, reqAction, reqResource string, depth uint8, keepForbidden bool, notAfterHours int16) {
		g := credentials.Grant{ID: "urn:mandate:grant:x", Action: action, Resource: resource}
		if notAfterHours != 0 {
			end := t0.Add(time.Duration(notAfterHours) * time.Hour)
			g.Constraints.NotAfter = &end
		}
		sub := credentials.Subject{
			ID: summarizer.DID(), Principal: alice.DID(), Purpose: "whatever the attacker says",
			Grants:     []credentials.Grant{g},
			Delegation: credentials.Delegation{Allowed: depth%4 > 0, MaxDepth: int(depth % 4)},
			Parent:     &credentials.Parent{ID: w.root.ID, Digest: digest},
		}
		if keepForbidden {
			sub.Forbidden = w.root.Subject.Forbidden
		}
		child, err := credentials.SignUnchecked(assistant, sub, credentials.Template{},
			credentials.IssueOptions{Now: func() time.Time { return t0 }, Rand: rand.NewChaCha8([32]byte{'c'})})
		if err != nil {
			return // not even a well-formed credential
		}
		req := presentation.Request{Action: reqAction, Resource: reqResource, Intent: "fuzz"}
		ch, err := w.v.Challenge(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		vp, err := presentation.Present(summarizer, []*credentials.Credential{w.root, child}, ch, req, w.now)
		if err != nil {
			return // the wallet will not present it; a hand-built presentation is FuzzAuthorize's
		}
		d := w.v.Authorize(context.Background(), vp, req)
		if d.Outcome == presentation.Deny && len(d.Reasons) == 1 && d.Reasons[0] != presentation.ReasonInternalError {
			return
		}
		inRoot := scope.MatchAction("email:read", reqAction) && scope.MatchResource("mailbox:alice/*", reqResource) &&
			!scope.MatchAction("email:send", reqAction)
		inChild := scope.MatchAction(action, reqAction) && scope.MatchResource(resource, reqResource)
		if d.Outcome != presentation.Allow || !inRoot || !inChild || d.Grant != g.ID {
			t.Fatalf("child %s on %s (depth %d, forbidden kept %v, notAfter %+dh), request %s on %s: %s %v (%s), grant %s",
				action, resource, depth%4, keepForbidden, notAfterHours, reqAction, reqResource, d.Outcome, d.Reasons, d.Message, d.Grant)
		}
	})
}
