package gatekeeper_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dgraph-io/badger/v4"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/test/bufconn"

	"github.com/mandate-dev/mandate/credentials"
	"github.com/mandate-dev/mandate/did"
	"github.com/mandate-dev/mandate/internal/testkeys"
	"github.com/mandate-dev/mandate/presentation"
	"github.com/mandate-dev/mandate/presentation/audit"
	"github.com/mandate-dev/mandate/presentation/gatekeeper"
	mandatev1 "github.com/mandate-dev/mandate/protos/mandate/v1"
)

const httpAudience = "https://mail.example"

var httpVerifierKey = testkeys.New("mail verifier")

// httpService is a small mail API behind the HTTP middleware, on loopback,
// with a real verifier whose clock stands still at now.
type httpService struct {
	now    time.Time
	v      *presentation.Verifier
	db     *badger.DB
	srv    *httptest.Server
	holder gatekeeper.Holder

	mu       sync.Mutex
	arrived  []string // every request that reached the server: "METHOD path body"
	handled  []string // every request a handler ran for
	decision presentation.Decision
}

// httpMapper is the service's mapping: /mail/{box} is read (GET), send
// (POST, context "to") and delete (DELETE) on mailbox:alice/{box};
// /drafts/{box} is email:draft (approval required) and /list/{box} is
// email:list (once an hour). Any other pattern is unmapped.
func httpMapper(r *http.Request) (presentation.Request, error) {
	res := "mailbox:alice/" + r.PathValue("box")
	switch r.Pattern {
	case "GET /mail/{box}":
		return presentation.Request{Action: "email:read", Resource: res}, nil
	case "POST /mail/{box}":
		return presentation.Request{Action: "email:send", Resource: res, Context: map[string]string{"to": r.URL.Query().Get("to")}}, nil
	case "DELETE /mail/{box}":
		return presentation.Request{Action: "email:delete", Resource: res}, nil
	case "GET /drafts/{box}":
		return presentation.Request{Action: "email:draft", Resource: res}, nil
	case "GET /list/{box}":
		return presentation.Request{Action: "email:list", Resource: res}, nil
	case "GET /bad":
		return presentation.Request{Action: "email", Resource: res}, nil // not a valid action
	}
	return presentation.Request{}, fmt.Errorf("no action for %s", r.Pattern)
}

func httpGrants() credentials.Template {
	all := "mailbox:alice/*"
	return credentials.Template{
		Subject: agent.DID(), Purpose: "manage Alice's mail",
		Grants: []credentials.Grant{
			{ID: "urn:mandate:grant:read", Action: "email:read", Resource: all},
			{ID: "urn:mandate:grant:send", Action: "email:send", Resource: all},
			{ID: "urn:mandate:grant:draft", Action: "email:draft", Resource: all, Constraints: credentials.Constraints{Approval: credentials.ApprovalRequired}},
			{ID: "urn:mandate:grant:list", Action: "email:list", Resource: all, Constraints: credentials.Constraints{Rate: &credentials.Rate{Count: 1, Per: "PT1H"}}},
		},
		Forbidden: []credentials.Forbidden{{Action: "email:delete"}},
	}
}

func newHTTPVerifier(t *testing.T, now time.Time) (*presentation.Verifier, *badger.DB) {
	t.Helper()
	db, err := badger.Open(badger.DefaultOptions("").WithInMemory(true).WithLogger(nil))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	v, err := presentation.New(presentation.Config{
		Audience: httpAudience, Resolver: did.KeyResolver{}, TrustedRoots: []string{alice.DID()}, Store: db,
		Signer: httpVerifierKey, Now: func() time.Time { return now },
	})
	if err != nil {
		t.Fatal(err)
	}
	return v, db
}

// newHTTPService starts the service; decider nil means Local(v).
func newHTTPService(t *testing.T, decider func(*presentation.Verifier) gatekeeper.Decider) *httpService {
	t.Helper()
	s := &httpService{now: time.Now().UTC().Truncate(time.Second)}
	s.v, s.db = newHTTPVerifier(t, s.now)
	root, err := credentials.Issue(alice, httpGrants(), credentials.IssueOptions{Now: func() time.Time { return s.now }})
	if err != nil {
		t.Fatal(err)
	}
	s.holder = gatekeeper.Holder{Signer: agent, Held: presentation.Held{LDP: [][]*credentials.Credential{{root}}}, Now: func() time.Time { return s.now }}
	d := gatekeeper.Local(s.v)
	if decider != nil {
		d = decider(s.v)
	}
	gate, err := gatekeeper.HTTP(d, httpMapper, gatekeeper.HTTPClock(func() time.Time { return s.now }))
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	for _, p := range []string{"GET /mail/{box}", "POST /mail/{box}", "DELETE /mail/{box}", "GET /drafts/{box}", "GET /list/{box}", "GET /unmapped", "GET /bad"} {
		mux.Handle(p, gate(http.HandlerFunc(s.handle)))
	}
	s.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))
		s.mu.Lock()
		s.arrived = append(s.arrived, fmt.Sprintf("%s %s %s", r.Method, r.URL.Path, body))
		s.mu.Unlock()
		mux.ServeHTTP(w, r)
	}))
	t.Cleanup(s.srv.Close)
	return s
}

// handle is every route's handler: it records the call and the Decision,
// and refuses to run without one or with the Mandate headers still set.
func (s *httpService) handle(w http.ResponseWriter, r *http.Request) {
	d, ok := gatekeeper.DecisionFrom(r.Context())
	if !ok || r.Header.Get("Authorization") != "" || r.Header.Get(gatekeeper.HeaderFormat) != "" || r.Header.Get(gatekeeper.HeaderIntent) != "" {
		http.Error(w, "handler reached without a decision, or with the presentation", http.StatusInternalServerError)
		return
	}
	body, _ := io.ReadAll(r.Body)
	s.mu.Lock()
	s.handled = append(s.handled, fmt.Sprintf("%s %s %s", r.Method, r.URL.Path, body))
	s.decision = d
	s.mu.Unlock()
	fmt.Fprintf(w, "%s %s ok", r.Method, r.URL.Path)
}

func (s *httpService) counts() (arrived, handled int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.arrived), len(s.handled)
}

// client is an http.Client that presents with the service's holder; base
// nil is the loopback transport.
func (s *httpService) client(base http.RoundTripper) *http.Client {
	if base == nil {
		base = s.srv.Client().Transport
	}
	return &http.Client{Transport: &gatekeeper.Transport{Base: base, Presenter: s.holder, Allow: gatekeeper.AllowAudience(httpAudience)}}
}

func (s *httpService) do(t *testing.T, c *http.Client, ctx context.Context, method, path, body string) (*http.Response, gatekeeper.HTTPRefusal) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, s.srv.URL+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	return httpSend(t, c, req)
}

func httpSend(t *testing.T, c *http.Client, req *http.Request) (*http.Response, gatekeeper.HTTPRefusal) {
	t.Helper()
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body gatekeeper.HTTPRefusal
	if resp.StatusCode != http.StatusOK {
		if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
			t.Fatalf("%s %s: %d with a body that is not JSON: %v", req.Method, req.URL.Path, resp.StatusCode, err)
		}
	}
	return resp, body
}

// httpExpect checks a refusal's status, decision and single reason, and
// that it has an audit record.
func httpExpect(t *testing.T, resp *http.Response, body gatekeeper.HTTPRefusal, code int, decision string, reason presentation.Reason) {
	t.Helper()
	if resp.StatusCode != code || body.Decision != decision || len(body.Reasons) != 1 || body.Reasons[0] != reason {
		t.Fatalf("got %d %+v, want %d %s %s", resp.StatusCode, body, code, decision, reason)
	}
	if reason != presentation.ReasonPresentationMissing && reason != presentation.ReasonInternalError && body.AuditID == "" {
		t.Fatalf("refusal %+v has no audit id", body)
	}
	if cc := resp.Header.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("Cache-Control %q", cc)
	}
}

func TestHTTPRefusesABadConfiguration(t *testing.T) {
	v, _ := newHTTPVerifier(t, time.Now())
	if _, err := gatekeeper.HTTP(nil, httpMapper); err == nil || err.Error() != "gatekeeper: http: a decider is required" {
		t.Errorf("nil decider: %v", err)
	}
	if _, err := gatekeeper.HTTP(gatekeeper.Local(v), nil); err == nil || !strings.Contains(err.Error(), "a mapper is required") {
		t.Errorf("nil mapper: %v", err)
	}
}

// A request without a presentation gets 401 and a challenge naming what is
// asked; the handler does not run.
func TestHTTPChallenge(t *testing.T) {
	s := newHTTPService(t, nil)
	resp, body := s.do(t, s.srv.Client(), context.Background(), http.MethodPost, "/mail/outbox?to=bob%40example.com", "hi")
	httpExpect(t, resp, body, http.StatusUnauthorized, "DENY", presentation.ReasonPresentationMissing)
	h := resp.Header.Values("WWW-Authenticate")
	if len(h) != 1 {
		t.Fatalf("WWW-Authenticate: %q", h)
	}
	ch, req, err := gatekeeper.ParseMandateChallenge(h[0])
	if err != nil {
		t.Fatal(err)
	}
	if ch.Audience != httpAudience || len(ch.Nonce) < 16 || !ch.ExpiresAt.Equal(s.now.Add(presentation.DefaultChallengeTTL)) ||
		strings.Join(ch.Formats, " ") != "ldp" || req.Action != "email:send" || req.Resource != "mailbox:alice/outbox" ||
		len(req.Context) != 1 || req.Context["to"] != "bob@example.com" || req.Intent != "" {
		t.Fatalf("challenge %+v for %+v", ch, req)
	}
	want := fmt.Sprintf(`Mandate nonce=%q, aud="https://mail.example", formats="ldp", expires=%q, action="email:send", resource="mailbox:alice/outbox", context="eyJ0byI6ImJvYkBleGFtcGxlLmNvbSJ9"`,
		ch.Nonce, s.now.Add(presentation.DefaultChallengeTTL).Format(time.RFC3339))
	if h[0] != want {
		t.Errorf("challenge\n%s\nwant\n%s", h[0], want)
	}
	if _, handled := s.counts(); handled != 0 {
		t.Errorf("handler ran %d times", handled)
	}
}

func TestHTTPAllow(t *testing.T) {
	s := newHTTPService(t, nil)
	ctx := gatekeeper.WithIntent(context.Background(), "summarise today's mail for Alice")
	resp, _ := s.do(t, s.client(nil), ctx, http.MethodGet, "/mail/inbox", "")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d", resp.StatusCode)
	}
	d := s.decision
	if !d.Allowed() || d.Actor != agent.DID() || d.Principal != alice.DID() || d.Grant != "urn:mandate:grant:read" || len(d.Chain) != 1 || d.AuditID == "" {
		t.Fatalf("decision in context: %+v", d)
	}
	recs, err := audit.NewReader(s.db)
	if err != nil {
		t.Fatal(err)
	}
	list, err := recs.List(audit.Filter{})
	if err != nil || len(list) != 1 || list[0].Decision != "ALLOW" || list[0].Intent != "summarise today's mail for Alice" {
		t.Fatalf("audit: %+v, %v", list, err)
	}
}

// The malformed answers are 400 MALFORMED, recorded, and the handler does
// not run.
func TestHTTPMalformedAnswer(t *testing.T) {
	s := newHTTPService(t, nil)
	cases := []struct {
		name   string
		header http.Header
	}{
		{"another scheme", http.Header{"Authorization": {"Bearer abc"}}},
		{"no presentation", http.Header{"Authorization": {"Mandate "}}},
		{"not base64url", http.Header{"Authorization": {"Mandate e30="}}},
		{"too long", http.Header{"Authorization": {"Mandate " + strings.Repeat("A", gatekeeper.MaxAuthorizationBytes)}}},
		{"two authorizations", http.Header{"Authorization": {"Mandate e30", "Mandate e30"}}},
		{"unknown format", http.Header{"Authorization": {"Mandate e30"}, "Mandate-Format": {"jwt"}}},
		{"intent not base64url", http.Header{"Authorization": {"Mandate e30"}, "Mandate-Intent": {"read mail"}}},
		{"intent not UTF-8", http.Header{"Authorization": {"Mandate e30"}, "Mandate-Intent": {"_w"}}},
		{"intent too long", http.Header{"Authorization": {"Mandate e30"}, "Mandate-Intent": {strings.Repeat("A", gatekeeper.MaxIntentHeaderBytes+1)}}},
		{"approval not a JWS", http.Header{"Authorization": {"Mandate e30"}, "Mandate-Approval": {"a b"}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			req, _ := http.NewRequest(http.MethodGet, s.srv.URL+"/mail/inbox", nil)
			req.Header = c.header
			resp, body := httpSend(t, s.srv.Client(), req)
			httpExpect(t, resp, body, http.StatusBadRequest, "DENY", presentation.ReasonMalformed)
		})
	}
	if _, handled := s.counts(); handled != 0 {
		t.Errorf("handler ran %d times", handled)
	}
}

// httpMethodRewriter is a tampering proxy: it sends the answer to a challenge
// with another method.
type httpMethodRewriter struct {
	base   http.RoundTripper
	method string
}

func (m httpMethodRewriter) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Header.Get("Authorization") != "" {
		r = r.Clone(r.Context())
		r.Method = m.method
	}
	return m.base.RoundTrip(r)
}

// A presentation made for GET and sent with DELETE is bound to another
// request: DENY REQUEST_MISMATCH, and the DELETE handler does not run.
func TestHTTPAnotherMethodIsRequestMismatch(t *testing.T) {
	s := newHTTPService(t, nil)
	resp, body := s.do(t, s.client(httpMethodRewriter{s.srv.Client().Transport, http.MethodDelete}), context.Background(), http.MethodGet, "/mail/inbox", "")
	httpExpect(t, resp, body, http.StatusForbidden, "DENY", presentation.ReasonRequestMismatch)
	arrived, handled := s.counts()
	if arrived != 2 || handled != 0 || s.arrived[1] != "DELETE /mail/inbox " {
		t.Fatalf("arrived %q, handled %d", s.arrived, handled)
	}
}

// A method override in the query (`_method`, which gorilla's
// HTTPMethodOverrideHandler and many others read) is refused, with a
// presentation or without: middleware behind the gate would run DELETE on
// an ALLOW for POST (found by a second review).
func TestHTTPMethodOverrideInTheQuery(t *testing.T) {
	s := newHTTPService(t, nil)
	for _, path := range []string{"/mail/outbox?to=bob&_method=DELETE", "/mail/outbox?_METHOD=delete&to=bob"} {
		resp, body := s.do(t, s.client(nil), context.Background(), http.MethodPost, path, "hello")
		httpExpect(t, resp, body, http.StatusBadRequest, "DENY", presentation.ReasonMalformed)
		if want := "the query names _method: the gate decides the method it sees (POST), and middleware behind it could run another"; body.Message != want || body.AuditID == "" {
			t.Fatalf("%s: %q (audit %q), want %q", path, body.Message, body.AuditID, want)
		}
	}
	if arrived, handled := s.counts(); arrived != 2 || handled != 0 {
		t.Fatalf("arrived %d, handled %d: want 2 arrived (no retry with a presentation), none handled", arrived, handled)
	}
}

// httpRecorder keeps the last answer to a challenge the transport sent.
type httpRecorder struct {
	base http.RoundTripper
	mu   sync.Mutex
	last http.Header
}

func (rc *httpRecorder) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Header.Get("Authorization") != "" {
		rc.mu.Lock()
		rc.last = r.Header.Clone()
		rc.mu.Unlock()
	}
	return rc.base.RoundTrip(r)
}

func TestHTTPReplayedAuthorizationIsReplay(t *testing.T) {
	s := newHTTPService(t, nil)
	rec := &httpRecorder{base: s.srv.Client().Transport}
	if resp, _ := s.do(t, s.client(rec), context.Background(), http.MethodGet, "/mail/inbox", ""); resp.StatusCode != http.StatusOK {
		t.Fatalf("first: %d", resp.StatusCode)
	}
	req, _ := http.NewRequest(http.MethodGet, s.srv.URL+"/mail/inbox", nil)
	req.Header = rec.last
	resp, body := httpSend(t, s.srv.Client(), req)
	httpExpect(t, resp, body, http.StatusForbidden, "DENY", presentation.ReasonReplay)
	if _, handled := s.counts(); handled != 1 {
		t.Errorf("handler ran %d times, want 1", handled)
	}
}

func TestHTTPForbidden(t *testing.T) {
	s := newHTTPService(t, nil)
	resp, body := s.do(t, s.client(nil), context.Background(), http.MethodDelete, "/mail/inbox", "")
	httpExpect(t, resp, body, http.StatusForbidden, "DENY", presentation.ReasonForbidden)
	if _, handled := s.counts(); handled != 0 {
		t.Errorf("handler ran %d times", handled)
	}
}

// An approval-required grant is 428 with the approval request's id; the
// same call with the principal's signed answer is let through.
func TestHTTPNeedsApproval(t *testing.T) {
	s := newHTTPService(t, nil)
	resp, body := s.do(t, s.client(nil), context.Background(), http.MethodGet, "/drafts/inbox", "")
	httpExpect(t, resp, body, gatekeeper.StatusNeedsApproval, "NEEDS_APPROVAL", presentation.ReasonApprovalRequired)
	if resp.StatusCode != 428 || body.ApprovalID == "" || resp.Header.Get(gatekeeper.HeaderApprovalID) != body.ApprovalID {
		t.Fatalf("approval id: body %q, header %q", body.ApprovalID, resp.Header.Get(gatekeeper.HeaderApprovalID))
	}
	r, err := s.v.Approval(body.ApprovalID)
	if err != nil || r.State != presentation.ApprovalPending || r.Grant != "urn:mandate:grant:draft" {
		t.Fatalf("approval request: %+v, %v", r, err)
	}
	token, err := presentation.SignAnswer(alice, r, true, time.Hour, s.now)
	if err != nil {
		t.Fatal(err)
	}
	resp, _ = s.do(t, s.client(nil), gatekeeper.WithApproval(context.Background(), token), http.MethodGet, "/drafts/inbox", "")
	if resp.StatusCode != http.StatusOK || s.decision.Grant != "urn:mandate:grant:draft" {
		t.Fatalf("with approval: %d, %+v", resp.StatusCode, s.decision)
	}
}

func TestHTTPRateLimited(t *testing.T) {
	s := newHTTPService(t, nil)
	if resp, _ := s.do(t, s.client(nil), context.Background(), http.MethodGet, "/list/inbox", ""); resp.StatusCode != http.StatusOK {
		t.Fatalf("first: %d", resp.StatusCode)
	}
	resp, body := s.do(t, s.client(nil), context.Background(), http.MethodGet, "/list/inbox", "")
	httpExpect(t, resp, body, http.StatusTooManyRequests, "DENY", presentation.ReasonRateLimited)
	if ra := resp.Header.Get("Retry-After"); ra != "3600" || body.RetryAt == nil || !body.RetryAt.Equal(s.now.Add(time.Hour)) {
		t.Fatalf("Retry-After %q, retryAt %v", ra, body.RetryAt)
	}
}

// An unmapped route is refused and recorded, with or without a
// presentation; it never reaches the handler.
func TestHTTPUnmappedIsRecorded(t *testing.T) {
	s := newHTTPService(t, nil)
	for _, c := range []*http.Client{s.srv.Client(), s.client(nil)} {
		resp, body := s.do(t, c, context.Background(), http.MethodGet, "/unmapped", "")
		httpExpect(t, resp, body, http.StatusForbidden, "DENY", presentation.ReasonUnmapped)
		if body.Message != `GET "/unmapped": no action for GET /unmapped` {
			t.Errorf("message %q", body.Message)
		}
	}
	resp, body := s.do(t, s.client(nil), context.Background(), http.MethodGet, "/bad", "")
	httpExpect(t, resp, body, http.StatusForbidden, "DENY", presentation.ReasonUnmapped)
	if !strings.HasPrefix(body.Message, `GET "/bad": presentation: request: `) {
		t.Errorf("message %q", body.Message)
	}
	recs, _ := audit.NewReader(s.db)
	list, err := recs.List(audit.Filter{})
	if err != nil || len(list) != 3 {
		t.Fatalf("audit: %+v, %v", list, err)
	}
	for _, r := range list {
		if r.Decision != "DENY" || len(r.Reasons) != 1 || r.Reasons[0] != "UNMAPPED" || (r.Action != "" && r.Action != "email") {
			t.Errorf("record %+v", r)
		}
	}
	if arrived, handled := s.counts(); arrived != 3 || handled != 0 {
		t.Errorf("arrived %d, handled %d: the transport must not answer a refusal that is not a challenge", arrived, handled)
	}
}

// remote serves v over bufconn and returns a Remote decider and a function
// that stops the server.
func httpRemote(t *testing.T, v *presentation.Verifier) (gatekeeper.Decider, func()) {
	t.Helper()
	lis := bufconn.Listen(1 << 20)
	srv := gatekeeper.NewGRPCServer(v)
	go srv.Serve(lis)
	t.Cleanup(srv.Stop)
	conn, err := grpc.NewClient("passthrough:///bufnet",
		grpc.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) { return lis.DialContext(ctx) }),
		grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return gatekeeper.Remote(mandatev1.NewVerifierServiceClient(conn)), srv.Stop
}

func TestHTTPRemoteVerifier(t *testing.T) {
	var stop func()
	s := newHTTPService(t, func(v *presentation.Verifier) gatekeeper.Decider {
		d, st := httpRemote(t, v)
		stop = st
		return d
	})
	resp, _ := s.do(t, s.client(nil), context.Background(), http.MethodGet, "/mail/inbox", "")
	if resp.StatusCode != http.StatusOK || !s.decision.Allowed() || s.decision.Actor != agent.DID() || s.decision.Principal != alice.DID() {
		t.Fatalf("remote allow: %d %+v", resp.StatusCode, s.decision)
	}
	resp, body := s.do(t, s.client(nil), context.Background(), http.MethodDelete, "/mail/inbox", "")
	httpExpect(t, resp, body, http.StatusForbidden, "DENY", presentation.ReasonForbidden)

	// The verifier stops between the challenge and the answer: 503, and the
	// handler does not run; with the verifier gone, no challenge either.
	stopping := &http.Client{Transport: &gatekeeper.Transport{Base: s.srv.Client().Transport, Presenter: httpPresenterFunc(
		func(ctx context.Context, ch presentation.Challenge, req presentation.Request) (string, []byte, error) {
			stop()
			return s.holder.Present(ctx, ch, req)
		}), Allow: gatekeeper.AllowAudience(httpAudience)}}
	resp, body = s.do(t, stopping, context.Background(), http.MethodGet, "/mail/inbox", "")
	httpExpect(t, resp, body, http.StatusServiceUnavailable, "DENY", presentation.ReasonInternalError)
	resp, body = s.do(t, s.srv.Client(), context.Background(), http.MethodGet, "/mail/inbox", "")
	httpExpect(t, resp, body, http.StatusServiceUnavailable, "DENY", presentation.ReasonInternalError)
	if _, handled := s.counts(); handled != 1 {
		t.Errorf("handler ran %d times, want 1", handled)
	}
}

type httpPresenterFunc func(context.Context, presentation.Challenge, presentation.Request) (string, []byte, error)

func (f httpPresenterFunc) Present(ctx context.Context, ch presentation.Challenge, req presentation.Request) (string, []byte, error) {
	return f(ctx, ch, req)
}

// A verifier, in process or remote, that refuses the input (a format it
// does not accept) is 400 MALFORMED and recorded, not 503.
func TestHTTPRefusesAFormat(t *testing.T) {
	for name, decider := range map[string]func(*presentation.Verifier) gatekeeper.Decider{
		"local":  gatekeeper.Local,
		"remote": func(v *presentation.Verifier) gatekeeper.Decider { d, _ := httpRemote(t, v); return d },
	} {
		t.Run(name, func(t *testing.T) {
			s := newHTTPService(t, decider)
			sdjwt := httpPresenterFunc(func(ctx context.Context, ch presentation.Challenge, req presentation.Request) (string, []byte, error) {
				_, vp, err := s.holder.Present(ctx, ch, req)
				return presentation.FormatSDJWT, vp, err
			})
			c := &http.Client{Transport: &gatekeeper.Transport{Base: s.srv.Client().Transport, Presenter: sdjwt, Allow: gatekeeper.AllowAudience(httpAudience)}}
			resp, body := s.do(t, c, context.Background(), http.MethodGet, "/mail/inbox", "")
			if resp.StatusCode != http.StatusBadRequest || len(body.Reasons) != 1 || body.Reasons[0] != presentation.ReasonMalformed ||
				!strings.Contains(body.Message, `format "sd-jwt" is not accepted`) || body.AuditID == "" {
				t.Fatalf("%d %+v", resp.StatusCode, body)
			}
		})
	}
}
