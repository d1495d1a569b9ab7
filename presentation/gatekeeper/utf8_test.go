package gatekeeper_test

import (
	"context"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/mandate-dev/mandate/presentation"
	"github.com/mandate-dev/mandate/presentation/audit"
	"github.com/mandate-dev/mandate/presentation/gatekeeper"
)

// TestHTTPInvalidUTF8: a mapper's request with an invalid byte does not
// validate (its digest is that of the request with U+FFFD in its place), so
// it is refused UNMAPPED and recorded, repaired, in process and through a
// remote verifier alike; the handler never runs.
func TestHTTPInvalidUTF8(t *testing.T) {
	cases := []struct {
		name, method, path string
		message            string
		record             presentation.Request
	}{
		{"context value", http.MethodPost, "/mail/outbox?to=bob%FF",
			`POST "/mail/outbox": presentation: request context entry "to" is not valid UTF-8`,
			presentation.Request{Action: "email:send", Resource: "mailbox:alice/outbox", Context: map[string]string{"to": "bob\uFFFD"}}},
		{"resource", http.MethodGet, "/mail/%FF",
			`GET "/mail/\xff": presentation: request: scope: invalid pattern: resource "mailbox:alice/\xff" has a bad segment "\xff"`,
			presentation.Request{Action: "email:read", Resource: "mailbox:alice/\uFFFD"}},
	}
	for name, decider := range map[string]func(*presentation.Verifier) gatekeeper.Decider{
		"local":  gatekeeper.Local,
		"remote": func(v *presentation.Verifier) gatekeeper.Decider { d, _ := httpRemote(t, v); return d },
	} {
		for _, c := range cases {
			t.Run(name+"/"+c.name, func(t *testing.T) {
				s := newHTTPService(t, decider)
				resp, body := s.do(t, s.client(nil), context.Background(), c.method, c.path, "")
				httpExpect(t, resp, body, http.StatusForbidden, "DENY", presentation.ReasonUnmapped)
				if body.Message != c.message {
					t.Errorf("message %q, want %q", body.Message, c.message)
				}
				recs, err := s.v.AuditLog().List(audit.Filter{})
				if err != nil || len(recs) != 1 {
					t.Fatalf("audit: %+v, %v", recs, err)
				}
				r := recs[0]
				if fmt.Sprint(r.Seq) != body.AuditID || r.Decision != "DENY" || !slices.Equal(r.Reasons, []string{"UNMAPPED"}) ||
					r.Action != c.record.Action || r.Resource != c.record.Resource || r.Intent != "" || !maps.Equal(r.Context, c.record.Context) {
					t.Fatalf("record %+v", r)
				}
				if arrived, handled := s.counts(); arrived != 1 || handled != 0 {
					t.Errorf("arrived %d, handled %d", arrived, handled)
				}
			})
		}
	}
}

// rpcQueryMapper maps Read to email:read on mailbox:alice/inbox with the
// context given as the call's value, a URL query ("folder=to%FFday").
func rpcQueryMapper(_ context.Context, _ string, req any) (presentation.Request, error) {
	q, err := url.ParseQuery(req.(*wrapperspb.StringValue).GetValue())
	if err != nil {
		return presentation.Request{}, err
	}
	ctx := map[string]string{}
	for k := range q {
		ctx[k] = q.Get(k)
	}
	return presentation.Request{Action: "email:read", Resource: "mailbox:alice/inbox", Context: ctx}, nil
}

// TestInterceptorInvalidUTF8: the interceptor refuses a mapped request that
// does not validate as it always has, InvalidArgument DENY MALFORMED, and
// the refusal is recorded, repaired, through a remote verifier too.
func TestInterceptorInvalidUTF8(t *testing.T) {
	cases := []struct {
		name, value string
		message     string
		context     map[string]string
	}{
		{"context value", "folder=to%FFday", `gatekeeper: mapped presentation: request context entry "folder" is not valid UTF-8`,
			map[string]string{"folder": "to\uFFFDday"}},
		{"context key", "fol%FFder=today", `gatekeeper: mapped presentation: request context entry "fol\xffder" is not valid UTF-8`,
			map[string]string{"fol\uFFFDder": "today"}},
	}
	for _, remote := range []bool{false, true} {
		for _, c := range cases {
			t.Run(fmt.Sprintf("remote=%v/%s", remote, c.name), func(t *testing.T) {
				f := newRPCFixture(t, rpcOptions{remote: remote, mapper: gatekeeper.MapMethods(map[string]gatekeeper.MethodMapper{rpcMethod("Read"): rpcQueryMapper})})
				_, err := rpcCall(context.Background(), f.agentConn(t, f.holder, rpcAudience), "Read", c.value)
				d := rpcRefused(t, err, codes.InvalidArgument, presentation.Deny, presentation.ReasonMalformed)
				if d.Message != c.message {
					t.Errorf("message %q, want %q", d.Message, c.message)
				}
				r := f.lastAudit(t)
				if d.AuditID == "" || fmt.Sprint(r.Seq) != d.AuditID || r.Action != "email:read" || r.Resource != "mailbox:alice/inbox" || !maps.Equal(r.Context, c.context) {
					t.Fatalf("decision %+v, record %+v", d, r)
				}
				if ran := f.handled(); len(ran) != 0 {
					t.Errorf("handler ran: %+v", ran)
				}
			})
		}
	}
}
