package gatekeeper_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/mandate-dev/mandate/credentials"
	"github.com/mandate-dev/mandate/presentation"
	"github.com/mandate-dev/mandate/presentation/gatekeeper"
)

// TestPowersCovers: Covers leaves out an action only when every grant
// that names it is cancelled by a forbidden entry of its own chain over
// every resource the grant names.
func TestPowersCovers(t *testing.T) {
	read := func(chain, resource string) gatekeeper.Power {
		return gatekeeper.Power{Action: "email:read", Resource: resource, Grant: "urn:mandate:grant:" + chain, Chain: chain, Format: presentation.FormatLDP}
	}
	forbid := func(chain, action, resource string) gatekeeper.Power {
		return gatekeeper.Power{Action: action, Resource: resource, Chain: chain, Format: presentation.FormatLDP}
	}
	cases := []struct {
		name string
		p    gatekeeper.Powers
		want bool
	}{
		{"no grant", gatekeeper.Powers{}, false},
		{"no grant names the action", gatekeeper.Powers{Grants: []gatekeeper.Power{{Action: "email:send", Resource: "*", Chain: "a"}}}, false},
		{"forbidden on every resource (\"\")", gatekeeper.Powers{Grants: []gatekeeper.Power{read("a", "mailbox:alice/*")}, Forbidden: []gatekeeper.Power{forbid("a", "email:read", "")}}, false},
		{"forbidden on \"*\"", gatekeeper.Powers{Grants: []gatekeeper.Power{read("a", "mailbox:alice/*")}, Forbidden: []gatekeeper.Power{forbid("a", "email:read", "*")}}, false},
		{"forbidden on a pattern wider than the grant's", gatekeeper.Powers{Grants: []gatekeeper.Power{read("a", "mailbox:alice/inbox")}, Forbidden: []gatekeeper.Power{forbid("a", "email:*", "mailbox:alice/*")}}, false},
		{"every chain's grant forbidden in its chain", gatekeeper.Powers{
			Grants:    []gatekeeper.Power{read("a", "mailbox:alice/*"), read("b", "mailbox:bob/*")},
			Forbidden: []gatekeeper.Power{forbid("a", "email:read", "*"), forbid("b", "*:read", "mailbox:bob/*")},
		}, false},
		{"forbidden in another chain", gatekeeper.Powers{
			Grants:    []gatekeeper.Power{read("a", "mailbox:alice/*")},
			Forbidden: []gatekeeper.Power{forbid("b", "email:read", "")},
		}, true},
		{"forbidden in one chain, granted in another", gatekeeper.Powers{
			Grants:    []gatekeeper.Power{read("a", "mailbox:alice/*"), read("b", "mailbox:alice/*")},
			Forbidden: []gatekeeper.Power{forbid("a", "email:read", "*")},
		}, true},
		{"forbidden on some of the grant's resources", gatekeeper.Powers{Grants: []gatekeeper.Power{read("a", "mailbox:alice/*")}, Forbidden: []gatekeeper.Power{forbid("a", "email:read", "mailbox:alice/private")}}, true},
		{"forbidden on a pattern narrower than the grant's", gatekeeper.Powers{Grants: []gatekeeper.Power{read("a", "*")}, Forbidden: []gatekeeper.Power{forbid("a", "email:read", "mailbox:alice/*")}}, true},
		{"another action forbidden", gatekeeper.Powers{Grants: []gatekeeper.Power{read("a", "mailbox:alice/*")}, Forbidden: []gatekeeper.Power{forbid("a", "email:send", "")}}, true},
		{"granted by a pattern", gatekeeper.Powers{Grants: []gatekeeper.Power{{Action: "email:*", Resource: "mailbox:alice/*", Chain: "a"}}}, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := c.p.Covers("email:read"); got != c.want {
				t.Fatalf("Covers(email:read) = %v, want %v", got, c.want)
			}
		})
	}
}

// TestHolderPowers: Holder.Powers lists, at its clock, only what the
// verifier could allow: no chain with a link expired or not yet valid, no
// grant outside its window.
func TestHolderPowers(t *testing.T) {
	now := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
	past, future := now.Add(-time.Hour), now.Add(time.Hour)
	issue := func(from time.Time, until *time.Time, g []credentials.Grant, f []credentials.Forbidden) []*credentials.Credential {
		c, err := credentials.Issue(alice, credentials.Template{
			Subject: agent.DID(), Purpose: "handle alice's mail", ValidFrom: from, ValidUntil: until, Grants: g, Forbidden: f,
		}, credentials.IssueOptions{Now: func() time.Time { return from }})
		if err != nil {
			t.Fatal(err)
		}
		return []*credentials.Credential{c}
	}
	grant := func(id, action string, c credentials.Constraints) credentials.Grant {
		return credentials.Grant{ID: "urn:mandate:grant:" + id, Action: action, Resource: "mailbox:alice/*", Constraints: c}
	}
	held := presentation.Held{LDP: [][]*credentials.Credential{
		issue(now.Add(-48*time.Hour), nil, []credentials.Grant{
			grant("read", "email:read", credentials.Constraints{}),
			grant("send", "email:send", credentials.Constraints{NotAfter: &past}),
			grant("draft", "email:draft", credentials.Constraints{NotBefore: &future}),
			grant("list", "email:list", credentials.Constraints{NotBefore: &past, NotAfter: &future}),
			grant("flag", "email:flag", credentials.Constraints{NotAfter: &now}), // notAfter is exclusive
		}, []credentials.Forbidden{{Action: "email:delete"}}),
		issue(now.Add(-48*time.Hour), &past, []credentials.Grant{grant("expired", "calendar:read", credentials.Constraints{})},
			[]credentials.Forbidden{{Action: "email:read", Resource: "*"}}),
		issue(future, nil, []credentials.Grant{grant("early", "calendar:write", credentials.Constraints{})},
			[]credentials.Forbidden{{Action: "email:list"}}),
	}}
	p, err := gatekeeper.Holder{Signer: agent, Held: held, Now: func() time.Time { return now }}.Powers(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	ldp := func(id, action, resource string) gatekeeper.Power {
		if id != "" {
			id = "urn:mandate:grant:" + id
		}
		return gatekeeper.Power{Action: action, Resource: resource, Grant: id, Chain: "ldp/0", Format: presentation.FormatLDP}
	}
	wantGrants := []gatekeeper.Power{ldp("read", "email:read", "mailbox:alice/*"), ldp("list", "email:list", "mailbox:alice/*")}
	wantForbidden := []gatekeeper.Power{ldp("", "email:delete", "")}
	if !slices.Equal(p.Grants, wantGrants) || !slices.Equal(p.Forbidden, wantForbidden) {
		t.Fatalf("powers\n%+v\nwant grants %+v, forbidden %+v", p, wantGrants, wantForbidden)
	}
	for action, want := range map[string]bool{
		"email:read": true, "email:list": true,
		"email:send": false, "email:draft": false, "email:flag": false, "calendar:read": false, "calendar:write": false, "email:delete": false,
	} {
		if got := p.Covers(action); got != want {
			t.Errorf("Covers(%s) = %v, want %v", action, got, want)
		}
	}
}
