package presentation_test

import (
	"context"
	"maps"
	"strings"
	"testing"

	"github.com/mandate-dev/mandate/credentials"
	"github.com/mandate-dev/mandate/presentation"
)

// TestRequestValidate: the exact error for each malformed request; the
// invalid UTF-8 ones would otherwise share their digest with the request
// that has U+FFFD in place of the bad byte.
func TestRequestValidate(t *testing.T) {
	ok := func(mod func(*presentation.Request)) presentation.Request {
		r := presentation.Request{Action: "email:send", Resource: "mailbox:alice/outbox", Intent: "reply to Bob", Context: map[string]string{"to": "bob"}}
		mod(&r)
		return r
	}
	cases := []struct {
		name string
		req  presentation.Request
		want string // "" is valid
	}{
		{"intent not UTF-8", ok(func(r *presentation.Request) { r.Intent = "reply to bob\xff" }),
			"presentation: request intent is not valid UTF-8"},
		{"context value not UTF-8", ok(func(r *presentation.Request) { r.Context["to"] = "bob\xff" }),
			`presentation: request context entry "to" is not valid UTF-8`},
		{"context key not UTF-8", ok(func(r *presentation.Request) { r.Context = map[string]string{"t\xc3o": "bob"} }),
			`presentation: request context entry "t\xc3o" is not valid UTF-8`},
		{"a lone surrogate", ok(func(r *presentation.Request) { r.Context["to"] = "\xed\xa0\x80" }),
			`presentation: request context entry "to" is not valid UTF-8`},
		{"resource not UTF-8", ok(func(r *presentation.Request) { r.Resource = "mailbox:alice/\xff" }),
			`presentation: request: scope: invalid pattern: resource "mailbox:alice/\xff" has a bad segment "\xff"`},
		{"intent too long", ok(func(r *presentation.Request) { r.Intent = strings.Repeat("a", presentation.MaxIntentBytes+1) }),
			"presentation: request intent is longer than 4096 bytes"},
		{"empty context key", ok(func(r *presentation.Request) { r.Context = map[string]string{"": "bob"} }),
			`presentation: request context entry "" is too long or empty`},
		{"valid", ok(func(*presentation.Request) {}), ""},
		{"valid, not ASCII", ok(func(r *presentation.Request) { r.Intent, r.Context["to"] = "répondre à Bob", "bob\uFFFD" }), ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := c.req.Validate()
			if c.want == "" && err != nil || c.want != "" && (err == nil || err.Error() != c.want) {
				t.Fatalf("Validate = %v, want %q", err, c.want)
			}
		})
	}
}

// TestRequestBounded: what a refusal records is valid UTF-8 and within the
// request limits, whatever it was given.
func TestRequestBounded(t *testing.T) {
	many := map[string]string{}
	for i := range presentation.MaxContextEntries + 1 {
		many[strings.Repeat("k", i+1)] = "v"
	}
	cases := []struct {
		name string
		in   presentation.Request
		want presentation.Request
	}{
		{"invalid UTF-8 replaced",
			presentation.Request{Action: "email:\xffread", Resource: "mailbox:alice/\xff\xfe", Intent: "a\xffb", Context: map[string]string{"to": "bob\xff", "k\xff": "v"}},
			presentation.Request{Action: "email:\uFFFDread", Resource: "mailbox:alice/\uFFFD", Intent: "a\uFFFDb", Context: map[string]string{"to": "bob\uFFFD", "k\uFFFD": "v"}}},
		{"two keys that read the same keep the first in byte order",
			presentation.Request{Context: map[string]string{"a\xfe": "1", "a\xff": "2"}},
			presentation.Request{Context: map[string]string{"a\uFFFD": "1"}}},
		{"cut on a UTF-8 boundary",
			presentation.Request{Action: strings.Repeat("a", 127) + "é", Intent: strings.Repeat("é", presentation.MaxIntentBytes)},
			presentation.Request{Action: strings.Repeat("a", 127), Intent: strings.Repeat("é", presentation.MaxIntentBytes/2)}},
		{"a repaired value over its limit is left out",
			presentation.Request{Context: map[string]string{"to": strings.Repeat("\xffa", 342), "cc": "carol"}},
			presentation.Request{Context: map[string]string{"cc": "carol"}}},
		{"empty and long keys are left out",
			presentation.Request{Context: map[string]string{"": "v", strings.Repeat("k", presentation.MaxContextKeyBytes+1): "v"}},
			presentation.Request{}},
		{"too many entries: no context", presentation.Request{Action: "a:b", Context: many}, presentation.Request{Action: "a:b"}},
		{"valid as given", readMail(), readMail()},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := c.in.Bounded()
			if got.Action != c.want.Action || got.Resource != c.want.Resource || got.Intent != c.want.Intent || !maps.Equal(got.Context, c.want.Context) {
				t.Fatalf("Bounded =\n%+q\nwant\n%+q", got, c.want)
			}
		})
	}
}

// TestAuthorizeInvalidUTF8: a presentation made for a request with an
// invalid byte carries the digest of the request with U+FFFD in its place;
// the verifier denies it MALFORMED and records what it can send.
func TestAuthorizeInvalidUTF8(t *testing.T) {
	f := newFixture(t)
	chain := []*credentials.Credential{f.root}
	mod := func(m func(*presentation.Request)) presentation.Request {
		r := readMail()
		r.Context = map[string]string{"folder": "today"}
		m(&r)
		return r
	}
	cases := []struct {
		name    string
		req     presentation.Request
		message string
		record  presentation.Request
	}{
		{"context value", mod(func(r *presentation.Request) { r.Context["folder"] = "to\xffday" }),
			`presentation: request context entry "folder" is not valid UTF-8`,
			mod(func(r *presentation.Request) { r.Context["folder"] = "to\uFFFDday" })},
		{"context key", mod(func(r *presentation.Request) { r.Context = map[string]string{"fol\xffder": "today"} }),
			`presentation: request context entry "fol\xffder" is not valid UTF-8`,
			mod(func(r *presentation.Request) { r.Context = map[string]string{"fol\uFFFDder": "today"} })},
		{"intent", mod(func(r *presentation.Request) { r.Intent = "summarise\xff" }),
			"presentation: request intent is not valid UTF-8",
			mod(func(r *presentation.Request) { r.Intent = "summarise\uFFFD" })},
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d := f.v.Authorize(context.Background(), f.present(t, assistant, chain, c.req), c.req)
			expect(t, d, presentation.Deny, presentation.ReasonMalformed)
			if d.Message != c.message || d.AuditID == "" {
				t.Fatalf("decision = %+v", d)
			}
			recs := f.auditRecords(t)
			r := recs[len(recs)-1]
			if len(recs) != i+1 || r.Action != c.record.Action || r.Resource != c.record.Resource || r.Intent != c.record.Intent || !maps.Equal(r.Context, c.record.Context) {
				t.Fatalf("%d records, last %+v", len(recs), r)
			}
		})
	}
	// The same call with U+FFFD where the byte was is a valid request.
	req := mod(func(r *presentation.Request) { r.Context["folder"] = "to\uFFFDday" })
	expect(t, f.v.Authorize(context.Background(), f.present(t, assistant, chain, req), req), presentation.Allow, "")
}

// TestRefuseInvalidUTF8: a refusal of a request with invalid bytes records
// it repaired, and its message is valid UTF-8 too.
func TestRefuseInvalidUTF8(t *testing.T) {
	f := newFixture(t)
	d := f.v.Refuse(presentation.Request{Action: "email:read", Resource: "mailbox:alice/\xff", Context: map[string]string{"to": "bob\xff"}},
		presentation.ReasonUnmapped, "GET %s: no action", "/mail/\xff")
	expect(t, d, presentation.Deny, presentation.ReasonUnmapped)
	if d.Message != "GET /mail/\uFFFD: no action" || d.AuditID == "" {
		t.Fatalf("decision = %+v", d)
	}
	recs := f.auditRecords(t)
	r := recs[0]
	if len(recs) != 1 || r.Resource != "mailbox:alice/\uFFFD" || r.Context["to"] != "bob\uFFFD" || r.Message != d.Message {
		t.Fatalf("%d records, first %+v", len(recs), r)
	}
}
