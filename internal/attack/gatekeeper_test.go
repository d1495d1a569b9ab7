package attack_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/mandate-dev/mandate/credentials"
	"github.com/mandate-dev/mandate/presentation"
	"github.com/mandate-dev/mandate/presentation/gatekeeper"
)

// The gatekeepers under attack: the world's verifier behind gatekeeper.HTTP,
// in front of the mail routes of examples/http-service (the mapper services
// copy), on loopback. Every case says what the wire carries and the exact
// answer; the handler must not run for anything but the ALLOW of exactly the
// request it serves.

// mailGate is the service. Its handler records what it was given.
type mailGate struct {
	w      *world
	srv    *httptest.Server
	holder gatekeeper.Holder

	mu   sync.Mutex
	runs []handled
}

// handled is what one run of the handler saw.
type handled struct {
	method, box, id string
	mandate         []string // the Mandate-* and Authorization header names it saw
	override        string   // the method an override header would make it use
	header          []string // every header name it saw, sorted
	decision        presentation.Decision
}

// mailMapper is examples/http-service's mapper.
func mailMapper(r *http.Request) (presentation.Request, error) {
	box := "mailbox:alice/" + r.PathValue("box")
	switch r.Pattern {
	case "GET /mail/{box}":
		return presentation.Request{Action: "email:read", Resource: box}, nil
	case "DELETE /mail/{box}":
		return presentation.Request{Action: "email:delete", Resource: box}, nil
	case "DELETE /mail/{box}/{id}":
		return presentation.Request{Action: "email:delete", Resource: box, Context: map[string]string{"message": r.PathValue("id")}}, nil
	}
	return presentation.Request{}, errors.New("no action is mapped to this route")
}

func newMailGate(t *testing.T, w *world, d gatekeeper.Decider, m gatekeeper.HTTPMapper) *mailGate {
	t.Helper()
	g := &mailGate{w: w, holder: gatekeeper.Holder{Signer: summarizer, Held: presentation.Held{LDP: [][]*credentials.Credential{w.chain()}}, Now: w.now}}
	if d == nil {
		d = gatekeeper.Local(w.v)
	}
	if m == nil {
		m = mailMapper
	}
	gate, err := gatekeeper.HTTP(d, m)
	if err != nil {
		t.Fatal(err)
	}
	h := gate(http.HandlerFunc(g.handle))
	mux := http.NewServeMux()
	for _, p := range []string{"GET /mail/{box}", "DELETE /mail/{box}", "DELETE /mail/{box}/{id}"} {
		mux.Handle(p, h)
	}
	g.srv = httptest.NewServer(mux)
	t.Cleanup(g.srv.Close)
	return g
}

func (g *mailGate) handle(w http.ResponseWriter, r *http.Request) {
	d, _ := gatekeeper.DecisionFrom(r.Context())
	run := handled{method: r.Method, box: r.PathValue("box"), id: r.PathValue("id"), decision: d}
	for k := range r.Header {
		if k == "Authorization" || strings.HasPrefix(k, "Mandate-") {
			run.mandate = append(run.mandate, k)
		}
		run.header = append(run.header, k)
	}
	slices.Sort(run.mandate)
	slices.Sort(run.header)
	// What an override middleware inside the gate (gorilla's
	// HTTPMethodOverrideHandler and the like) would act on.
	for _, k := range []string{"X-Http-Method-Override", "X-Http-Method", "X-Method-Override"} {
		if v := r.Header.Get(k); v != "" {
			run.override = v
		}
	}
	g.mu.Lock()
	g.runs = append(g.runs, run)
	g.mu.Unlock()
	fmt.Fprint(w, "ok")
}

func (g *mailGate) ran() []handled {
	g.mu.Lock()
	defer g.mu.Unlock()
	return slices.Clone(g.runs)
}

// answer is what an honest agent sends for method path: the Authorization
// and Mandate-Format of a presentation for the request the challenge names.
func (g *mailGate) answer(t *testing.T, method, path string) (auth, format string) {
	t.Helper()
	req, _ := http.NewRequest(method, g.srv.URL+path, nil)
	resp, err := g.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("%s %s without a presentation: %d, want 401", method, path, resp.StatusCode)
	}
	ch, asked, err := gatekeeper.ParseMandateChallenge(resp.Header.Get("WWW-Authenticate"))
	if err != nil {
		t.Fatal(err)
	}
	format, vp, err := g.holder.Present(context.Background(), ch, asked)
	if err != nil {
		t.Fatal(err)
	}
	return gatekeeper.MandateAuthorization(vp), format
}

// raw writes a request on a fresh connection, byte for byte, and reads the
// answer: the status and the refusal's decision and reasons.
func (g *mailGate) raw(t *testing.T, request string) (int, gatekeeper.HTTPRefusal) {
	t.Helper()
	c, err := net.Dial("tcp", g.srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Write([]byte(request)); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatalf("no answer: %v", err)
	}
	defer resp.Body.Close()
	var body gatekeeper.HTTPRefusal
	if resp.StatusCode != http.StatusOK && resp.Header.Get("Content-Type") == "application/json" {
		if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
			t.Fatal(err)
		}
	}
	return resp.StatusCode, body
}

// send sends method path with the given header lines (each "Name: value").
func (g *mailGate) send(t *testing.T, method, path string, lines ...string) (int, gatekeeper.HTTPRefusal) {
	t.Helper()
	head := method + " " + path + " HTTP/1.1\r\nHost: mail.example\r\nConnection: close\r\n"
	for _, l := range lines {
		head += l + "\r\n"
	}
	return g.raw(t, head+"\r\n")
}

// refused is "status DECISION REASON..." of an answer.
func refused(code int, body gatekeeper.HTTPRefusal) string {
	s := fmt.Sprint(code)
	if body.Decision != "" {
		s += " " + body.Decision
	}
	for _, r := range body.Reasons {
		s += " " + string(r)
	}
	return s
}

func TestHTTPGatekeeperAttacks(t *testing.T) {
	w := newWorld(t, nil)
	g := newMailGate(t, w, nil, nil)

	t.Run("control: the honest answer is let through", func(t *testing.T) {
		auth, format := g.answer(t, http.MethodGet, "/mail/inbox")
		before := len(g.ran())
		got := refused(g.send(t, http.MethodGet, "/mail/inbox", "Authorization: "+auth, "Mandate-Format: "+format))
		runs := g.ran()
		if got != "200" || len(runs) != before+1 || runs[len(runs)-1].box != "inbox" || runs[len(runs)-1].decision.Grant != grantRead {
			t.Fatalf("control: %s, runs %+v: the harness does not work", got, runs)
		}
	})

	type smuggle struct {
		name         string
		method, path string
		lines        func(auth, format string) []string
		want         string
		answerFor    string // the path the presentation is made for, with GET ("": method and path)
	}
	cases := []smuggle{
		{name: "two Authorization fields", method: "GET", path: "/mail/inbox", want: "400 DENY MALFORMED",
			lines: func(a, f string) []string {
				return []string{"Authorization: " + a, "Authorization: " + a, "Mandate-Format: " + f}
			}},
		{name: "Authorization and authorization", method: "GET", path: "/mail/inbox", want: "400 DENY MALFORMED",
			lines: func(a, f string) []string {
				return []string{"authorization: " + a, "AUTHORIZATION: " + a, "Mandate-Format: " + f}
			}},
		{name: "two presentations in one field", method: "GET", path: "/mail/inbox", want: "400 DENY MALFORMED",
			lines: func(a, f string) []string { return []string{"Authorization: " + a + ", " + a, "Mandate-Format: " + f} }},
		{name: "a Basic field before the Mandate one", method: "GET", path: "/mail/inbox", want: "400 DENY MALFORMED",
			lines: func(a, f string) []string {
				return []string{"Authorization: Basic YWxpY2U6cHc=", "Authorization: " + a, "Mandate-Format: " + f}
			}},
		{name: "a tab after the scheme", method: "GET", path: "/mail/inbox", want: "400 DENY MALFORMED",
			lines: func(a, f string) []string {
				return []string{"Authorization: Mandate\t" + strings.TrimPrefix(a, "Mandate "), "Mandate-Format: " + f}
			}},
		{name: "the token padded with =", method: "GET", path: "/mail/inbox", want: "400 DENY MALFORMED",
			lines: func(a, f string) []string { return []string{"Authorization: " + a + "==", "Mandate-Format: " + f} }},
		{name: "two Mandate-Format fields", method: "GET", path: "/mail/inbox", want: "400 DENY MALFORMED",
			lines: func(a, f string) []string {
				return []string{"Authorization: " + a, "Mandate-Format: " + f, "mandate-format: sd-jwt"}
			}},
		{name: "two Mandate-Intent fields", method: "GET", path: "/mail/inbox", want: "400 DENY MALFORMED",
			lines: func(a, f string) []string {
				return []string{"Authorization: " + a, "Mandate-Format: " + f, "Mandate-Intent: YQ", "Mandate-Intent: Yg"}
			}},
		{name: "an intent added in transit", method: "GET", path: "/mail/inbox", want: "403 DENY REQUEST_MISMATCH",
			lines: func(a, f string) []string {
				return []string{"Authorization: " + a, "Mandate-Format: " + f, "Mandate-Intent: YQ"}
			}},
		{name: "the presentation for /mail/inbox sent to /mail/private", method: "GET", path: "/mail/private", answerFor: "/mail/inbox",
			want: "403 DENY REQUEST_MISMATCH", lines: honest},
		{name: "an encoded slash: /mail/inbox%2Fsecret is mailbox:alice/inbox/secret", method: "GET", path: "/mail/inbox%2Fsecret",
			answerFor: "/mail/inbox", want: "403 DENY REQUEST_MISMATCH", lines: honest},
		{name: "a dot segment is redirected before the gate", method: "GET", path: "/mail/private/../inbox", answerFor: "/mail/inbox",
			want: "307", lines: honest},
		{name: "an encoded dot segment is no route", method: "GET", path: "/mail/private/%2E%2E/inbox", answerFor: "/mail/inbox",
			want: "404", lines: honest},
		{name: "a double slash is redirected before the gate", method: "GET", path: "/mail//inbox", answerFor: "/mail/inbox", want: "307", lines: honest},
		{name: "a trailing slash is no route", method: "GET", path: "/mail/inbox/", answerFor: "/mail/inbox", want: "404", lines: honest},
		{name: "a query string the mapper does not read", method: "GET", path: "/mail/inbox?box=private", answerFor: "/mail/inbox", want: "200", lines: honest},
		{name: "the presentation for GET sent with DELETE", method: "DELETE", path: "/mail/inbox", answerFor: "/mail/inbox",
			want: "403 DENY REQUEST_MISMATCH", lines: honest},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			method, answerFor := http.MethodGet, c.answerFor
			if answerFor == "" {
				method, answerFor = c.method, c.path
			}
			auth, format := g.answer(t, method, answerFor)
			before := len(g.ran())
			got := refused(g.send(t, c.method, c.path, c.lines(auth, format)...))
			runs := g.ran()[before:]
			if got != c.want {
				t.Fatalf("got %s, want %s (handler runs %+v)", got, c.want, runs)
			}
			if c.want != "200" && len(runs) != 0 {
				t.Fatalf("the handler ran: %+v", runs)
			}
			if c.want == "200" && (len(runs) != 1 || runs[0].box != "inbox") {
				t.Fatalf("the handler ran for %+v, want once for inbox", runs)
			}
		})
	}

	t.Run("the same presentation twice is REPLAY", func(t *testing.T) {
		auth, format := g.answer(t, http.MethodGet, "/mail/inbox")
		first := refused(g.send(t, "GET", "/mail/inbox", "Authorization: "+auth, "Mandate-Format: "+format))
		before := len(g.ran())
		second := refused(g.send(t, "GET", "/mail/inbox", "Authorization: "+auth, "Mandate-Format: "+format))
		if first != "200" || second != "403 DENY REPLAY" || len(g.ran()) != before {
			t.Fatalf("first %s, second %s, want 200 then 403 DENY REPLAY with no second run", first, second)
		}
	})
}

// honest sends the answer as the agent made it.
func honest(auth, format string) []string {
	return []string{"Authorization: " + auth, "Mandate-Format: " + format}
}

func TestHTTPGatekeeperHeadersTheHandlerSees(t *testing.T) {
	w := newWorld(t, nil)
	g := newMailGate(t, w, nil, nil)
	t.Run("no Mandate-* header reaches the handler", func(t *testing.T) {
		// An upstream that forwards whatever the caller sent: a handler (or a
		// proxy behind it) that trusted a Mandate-Decision header would be
		// told ALLOW by the caller.
		auth, format := g.answer(t, http.MethodGet, "/mail/inbox")
		before := len(g.ran())
		got := refused(g.send(t, "GET", "/mail/inbox", "Authorization: "+auth, "Mandate-Format: "+format,
			"Mandate-Decision: ALLOW", "Mandate-Audit-Id: 1", "Mandate-Approval-Id: x", "Mandate-Actor: did:key:zMallory"))
		runs := g.ran()[before:]
		if got != "200" || len(runs) != 1 || len(runs[0].mandate) != 0 {
			t.Fatalf("got %s, the handler saw %+v, want 200 and no Authorization or Mandate-* header", got, runs)
		}
	})
	t.Run("no method override header reaches the handler", func(t *testing.T) {
		// The gate decided GET (email:read); an override middleware inside
		// it would run DELETE on that ALLOW.
		auth, format := g.answer(t, http.MethodGet, "/mail/inbox")
		before := len(g.ran())
		got := refused(g.send(t, "GET", "/mail/inbox", "Authorization: "+auth, "Mandate-Format: "+format,
			"X-HTTP-Method-Override: DELETE", "X-HTTP-Method: DELETE", "X-Method-Override: DELETE"))
		runs := g.ran()[before:]
		if got != "200" || len(runs) != 1 || runs[0].override != "" || runs[0].method != http.MethodGet {
			t.Fatalf("got %s, the handler saw %+v, want 200, GET and no override", got, runs)
		}
	})
	t.Run("underscore spellings do not reach the handler", func(t *testing.T) {
		// CGI, WSGI and PHP read '-' and '_' as one: Mandate_Decision is
		// HTTP_MANDATE_DECISION there, as Mandate-Decision is.
		cases := []struct {
			name, line string
			want       []string // the header names the handler sees
		}{
			{"Mandate_Decision", "Mandate_Decision: ALLOW", []string{"Connection"}},
			{"mandate_actor", "mandate_actor: did:key:zMallory", []string{"Connection"}},
			{"MANDATE_AUDIT_ID", "MANDATE_AUDIT_ID: 1", []string{"Connection"}},
			{"Mandate-Approval_Id", "Mandate-Approval_Id: x", []string{"Connection"}},
			{"X_HTTP_Method_Override", "X_HTTP_Method_Override: DELETE", []string{"Connection"}},
			{"x_http_method", "x_http_method: DELETE", []string{"Connection"}},
			{"X-Method_Override", "X-Method_Override: DELETE", []string{"Connection"}},
			// Headers with which a framework behind the gate reroutes the
			// call to another path or method (found by a second review).
			{"X-Original-URL", "X-Original-URL: /mail/private", []string{"Connection"}},
			{"X-Rewrite-Url", "X-Rewrite-Url: /mail/private", []string{"Connection"}},
			{"X_Original_Method", "X_Original_Method: DELETE", []string{"Connection"}},
			{"X-Forwarded-Method", "X-Forwarded-Method: DELETE", []string{"Connection"}},
			{"X-Forwarded-Uri", "X-Forwarded-Uri: /mail/private", []string{"Connection"}},
			{"X-Forwarded-Path", "X-Forwarded-Path: /mail/private", []string{"Connection"}},
			// Controls: other headers with underscores, and names that only
			// start alike, are the handler's.
			{"X_Request_Id", "X_Request_Id: 7", []string{"Connection", "X_request_id"}},
			{"Mandatory", "Mandatory: yes", []string{"Connection", "Mandatory"}},
			{"X_HTTP_Method_Overrides", "X_HTTP_Method_Overrides: DELETE", []string{"Connection", "X_http_method_overrides"}},
			{"Authorization_Hint", "Authorization_Hint: x", []string{"Authorization_hint", "Connection"}},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				auth, format := g.answer(t, http.MethodGet, "/mail/inbox")
				before := len(g.ran())
				got := refused(g.send(t, "GET", "/mail/inbox", "Authorization: "+auth, "Mandate-Format: "+format, c.line))
				runs := g.ran()[before:]
				if got != "200" || len(runs) != 1 || !slices.Equal(runs[0].header, c.want) || runs[0].method != http.MethodGet {
					t.Fatalf("got %s, the handler saw %+v, want 200 and headers %q", got, runs, c.want)
				}
			})
		}
	})
	t.Run("a folded Authorization field is one field", func(t *testing.T) {
		// net/http unfolds obs-fold before the gate reads the field: the gate
		// and the handler see the same single value.
		auth, format := g.answer(t, http.MethodGet, "/mail/inbox")
		before := len(g.ran())
		scheme, token, _ := strings.Cut(auth, " ")
		got := refused(g.send(t, "GET", "/mail/inbox", "Authorization: "+scheme, " "+token, "Mandate-Format: "+format))
		if runs := g.ran()[before:]; got != "200" || len(runs) != 1 || len(runs[0].mandate) != 0 {
			t.Fatalf("got %s, handler runs %+v, want 200 once without the field", got, runs)
		}
	})
}

// decider is a Decider whose Decide is replaced; the rest is the world's
// verifier.
type decider struct {
	gatekeeper.Decider
	decide func(ctx context.Context, format string, vp []byte, req presentation.Request, approval string) (presentation.Decision, error)
}

func (d decider) Decide(ctx context.Context, format string, vp []byte, req presentation.Request, approval string) (presentation.Decision, error) {
	return d.decide(ctx, format, vp, req, approval)
}

func TestHTTPGatekeeperFailsClosed(t *testing.T) {
	w := newWorld(t, nil)
	allowWith := func(reasons ...presentation.Reason) decider {
		return decider{gatekeeper.Local(w.v), func(context.Context, string, []byte, presentation.Request, string) (presentation.Decision, error) {
			return presentation.Decision{Outcome: presentation.Allow, Reasons: reasons, AuditID: "1"}, nil
		}}
	}
	cases := []struct {
		name   string
		d      gatekeeper.Decider
		mapper gatekeeper.HTTPMapper
		want   string
	}{
		{name: "an ALLOW with a reason is no ALLOW", d: allowWith(presentation.ReasonForbidden), want: "403 DENY FORBIDDEN"},
		{name: "an ALLOW with an internal error is no ALLOW", d: allowWith(presentation.ReasonInternalError), want: "503 DENY INTERNAL_ERROR"},
		{name: "Decide fails", want: "503 DENY INTERNAL_ERROR", d: decider{gatekeeper.Local(w.v),
			func(context.Context, string, []byte, presentation.Request, string) (presentation.Decision, error) {
				return presentation.Decision{Outcome: presentation.Allow}, errors.New("verifier: connection refused")
			}}},
		{name: "Decide fails with the call's context cancelled", want: "503 DENY INTERNAL_ERROR", d: decider{gatekeeper.Local(w.v),
			func(ctx context.Context, format string, vp []byte, req presentation.Request, approval string) (presentation.Decision, error) {
				ctx, cancel := context.WithCancel(ctx)
				cancel()
				d, err := gatekeeper.Local(w.v).Decide(ctx, format, vp, req, approval)
				if err == nil && ctx.Err() != nil {
					err = ctx.Err()
				}
				return d, err
			}}},
		{name: "a mapper that panics maps nothing", want: "403 DENY UNMAPPED",
			mapper: func(r *http.Request) (presentation.Request, error) {
				return presentation.Request{Context: map[string]string{"id": r.PathValue("id")[5:]}}, nil
			}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			g := newMailGate(t, w, c.d, c.mapper)
			auth, format := "Mandate AAAA", "ldp"
			if c.mapper == nil {
				auth, format = g.answer(t, http.MethodGet, "/mail/inbox")
			}
			code, body := g.send(t, "GET", "/mail/inbox", "Authorization: "+auth, "Mandate-Format: "+format)
			if got := refused(code, body); got != c.want || len(g.ran()) != 0 {
				t.Fatalf("got %s (%s), handler runs %+v, want %s and none", got, body.Message, g.ran(), c.want)
			}
		})
	}
}

// relay is a phishing server: for any request it fetches a challenge from
// the real gate for a call of its own choosing, hands it to the agent as its
// own, and spends whatever presentation comes back at the real gate.
type relay struct {
	g      *mailGate
	srv    *httptest.Server
	mu     sync.Mutex
	spent  []string // the real gate's answers to what the agent presented
	target string   // the call the relay wants: "GET /mail/private"
}

func newRelay(t *testing.T, g *mailGate, target string) *relay {
	t.Helper()
	rl := &relay{g: g, target: target}
	method, path, _ := strings.Cut(target, " ")
	rl.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if auth := r.Header.Get("Authorization"); auth != "" {
			req, _ := http.NewRequest(method, g.srv.URL+path, nil)
			req.Header.Set("Authorization", auth)
			req.Header.Set(gatekeeper.HeaderFormat, r.Header.Get(gatekeeper.HeaderFormat))
			if i := r.Header.Get(gatekeeper.HeaderIntent); i != "" {
				req.Header.Set(gatekeeper.HeaderIntent, i)
			}
			resp, err := g.srv.Client().Do(req)
			if err == nil {
				resp.Body.Close()
				rl.mu.Lock()
				rl.spent = append(rl.spent, fmt.Sprint(resp.StatusCode))
				rl.mu.Unlock()
			}
			fmt.Fprint(w, "thanks")
			return
		}
		req, _ := http.NewRequest(method, g.srv.URL+path, nil)
		resp, err := g.srv.Client().Do(req)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		resp.Body.Close()
		w.Header().Set("WWW-Authenticate", resp.Header.Get("WWW-Authenticate"))
		w.WriteHeader(http.StatusUnauthorized)
	}))
	t.Cleanup(rl.srv.Close)
	return rl
}

func (rl *relay) spentAt() []string {
	rl.mu.Lock()
	defer rl.mu.Unlock()
	return slices.Clone(rl.spent)
}

func TestTransportRelayedChallenge(t *testing.T) {
	w := newWorld(t, nil)
	g := newMailGate(t, w, nil, nil)
	gateHost := strings.TrimPrefix(g.srv.URL, "http://")
	cases := []struct {
		name  string
		allow func(*http.Request, presentation.Challenge, presentation.Request) error
		want  string // the agent's error
	}{
		{name: "a transport without Allow presents to no one", want: "gatekeeper: challenge refused: the transport has no Allow"},
		{name: "the audience pinned to the gate's host", allow: gatekeeper.AllowAudience(audience, gateHost),
			want: "is not a host of audience \"https://mail.example\""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rl := newRelay(t, g, "GET /mail/private")
			before := len(g.ran())
			agent := &http.Client{Transport: &gatekeeper.Transport{Base: rl.srv.Client().Transport, Presenter: g.holder, Allow: c.allow}}
			resp, err := agent.Get(rl.srv.URL + "/weather")
			if err == nil {
				resp.Body.Close()
			}
			if err == nil || !errors.Is(err, gatekeeper.ErrChallengeRefused) || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("agent: %v, want ErrChallengeRefused mentioning %q", err, c.want)
			}
			if spent, runs := rl.spentAt(), g.ran()[before:]; len(spent) != 0 || len(runs) != 0 {
				t.Fatalf("the relay spent a presentation (%v); the gate's handler ran %+v", spent, runs)
			}
		})
	}
	t.Run("control: the pinned transport presents to the gate itself", func(t *testing.T) {
		before := len(g.ran())
		agent := &http.Client{Transport: &gatekeeper.Transport{Base: g.srv.Client().Transport, Presenter: g.holder, Allow: gatekeeper.AllowAudience(audience, gateHost)}}
		resp, err := agent.Get(g.srv.URL + "/mail/inbox")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if runs := g.ran()[before:]; resp.StatusCode != http.StatusOK || len(runs) != 1 || runs[0].box != "inbox" {
			t.Fatalf("status %d, runs %+v", resp.StatusCode, runs)
		}
	})
}
