package scope_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/mandate-dev/mandate/credentials/scope"
)

func TestResourceSubset(t *testing.T) {
	cases := []struct {
		child, parent string
		want          bool
	}{
		{"mailbox:alice/inbox", "mailbox:alice/*", true},
		{"mailbox:alice/inbox/123", "mailbox:alice/*", true},
		{"mailbox:alice/*", "mailbox:alice/*", true},
		{"mailbox:alice/inbox/*", "mailbox:alice/*", true},
		{"mailbox:alice", "mailbox:alice/*", false},
		{"mailbox:bob/inbox", "mailbox:alice/*", false},
		{"mailbox:alice/*", "mailbox:alice/inbox", false},
		{"*/inbox", "mailbox:alice/inbox", false},
		{"mailbox:alice/inbox", "*/inbox", true},
		{"mailbox:alice/x/inbox", "*/inbox", false},
		{"mailbox:*/inbox", "*/inbox", false}, // "mailbox:*" is a literal-looking bad segment? no: ':' allowed, '*' inside is not
		{"slack:channel/C1", "slack:channel/C1", true},
		{"slack:channel/C1", "slack:channel/C2", false},
		{"ali*", "*", false},
		{"a//b", "*", false},
	}
	for _, c := range cases {
		if got := scope.ResourceSubset(c.child, c.parent); got != c.want {
			t.Errorf("ResourceSubset(%q, %q) = %v, want %v", c.child, c.parent, got, c.want)
		}
	}
}

func TestActionSubset(t *testing.T) {
	cases := []struct {
		child, parent string
		want          bool
	}{
		{"email:read", "email:read", true},
		{"email:read", "email:*", true},
		{"email:*", "email:read", false},
		{"email:read", "*:read", true},
		{"slack:read", "email:*", false},
		{"*:*", "*:*", true},
		{"email", "email:*", false},
		{"email:read:x", "*:*", false},
		{"Email:read", "*:*", false},
	}
	for _, c := range cases {
		if got := scope.ActionSubset(c.child, c.parent); got != c.want {
			t.Errorf("ActionSubset(%q, %q) = %v, want %v", c.child, c.parent, got, c.want)
		}
	}
}

func TestValidateConcrete(t *testing.T) {
	if err := scope.ValidateConcrete("email:read", "mailbox:alice/inbox"); err != nil {
		t.Fatalf("valid request: %v", err)
	}
	for _, c := range [][2]string{{"email:*", "mailbox:alice"}, {"email:read", "mailbox:alice/*"}, {"", "x"}, {"email:read", ""}} {
		if err := scope.ValidateConcrete(c[0], c[1]); !errors.Is(err, scope.ErrInvalid) {
			t.Errorf("ValidateConcrete(%q, %q) = %v, want ErrInvalid", c[0], c[1], err)
		}
	}
}

// Dot segments are refused in requests and in patterns: a service that
// resolves paths would read "drive:alice/public/../private/diary" as a
// resource under drive:alice/private, past every rule written for it.
func TestDotSegmentsRefused(t *testing.T) {
	for _, r := range []string{
		"drive:alice/public/../private/diary", "drive:alice/./private/diary", "drive:alice/..", "./x", "mailbox:alice/../bob/inbox",
	} {
		err := scope.ValidateConcrete("files:read", r)
		want := `scope: invalid pattern: resource "` + r + `" has a bad segment "`
		if !errors.Is(err, scope.ErrInvalid) || !strings.HasPrefix(err.Error(), want) {
			t.Errorf("request %q: got %v, want %s…", r, err, want)
		}
		if _, err := scope.ParseResource(r); !errors.Is(err, scope.ErrInvalid) {
			t.Errorf("pattern %q: got %v, want ErrInvalid", r, err)
		}
	}
	for _, r := range []string{"drive:alice/report.v2.pdf", "drive:alice/.hidden", "drive:alice/...", "drive:alice/a..b"} {
		if err := scope.ValidateConcrete("files:read", r); err != nil {
			t.Errorf("%q: %v", r, err)
		}
	}
}
