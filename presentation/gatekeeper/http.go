package gatekeeper

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/mandate-dev/mandate/presentation"
)

// HTTPMapper states what an HTTP request asks to do: its action, resource
// and context (GET /mail/{box} is email:read on mailbox:alice/{box}). It is
// the service's, and it is asked twice per call: for the challenge and again
// for the retry, so that a presentation made for one request cannot be used
// for another. An error, or a request that does not validate, refuses the
// call (403 UNMAPPED). The Intent it returns is ignored: the intent is the
// agent's, sent in Mandate-Intent. A mapper that reads the body must put
// back what it read.
type HTTPMapper func(*http.Request) (presentation.Request, error)

// HTTPOption configures the HTTP middleware.
type HTTPOption func(*httpGate)

// HTTPLogger logs every refusal and decision (nil: discard).
func HTTPLogger(l *slog.Logger) HTTPOption { return func(g *httpGate) { g.log = l } }

// HTTPClock is the clock of Retry-After (nil: time.Now).
func HTTPClock(now func() time.Time) HTTPOption { return func(g *httpGate) { g.now = now } }

// StatusNeedsApproval answers NEEDS_APPROVAL: 428 Precondition Required, a
// refusal every HTTP client treats as one (a 2xx would read as success to a
// client that does not know Mandate), distinct from a DENY's 403 and from
// the 401 that makes a client present again: the call can succeed once its
// precondition, a principal's signed approval, is attached.
const StatusNeedsApproval = http.StatusPreconditionRequired

// HTTP returns middleware that lets a request through only on an ALLOW of
// d for the request m maps it to; the Decision is then in the request's
// context (DecisionFrom). It answers
//
//	401  no Authorization: a Mandate challenge (WWW-Authenticate)
//	400  an Authorization or Mandate-* header that cannot be read (MALFORMED)
//	403  DENY, and a request m does not map (UNMAPPED)
//	428  NEEDS_APPROVAL (StatusNeedsApproval), with Mandate-Approval-Id
//	429  DENY RATE_LIMITED, with Retry-After
//	503  the verifier could not be asked, or failed (INTERNAL_ERROR)
//
// each refusal with a JSON body (HTTPRefusal). The handler never runs on
// anything but an ALLOW, and never sees the Authorization and Mandate-*
// headers. d and m are required.
func HTTP(d Decider, m HTTPMapper, opts ...HTTPOption) (func(http.Handler) http.Handler, error) {
	switch {
	case d == nil:
		return nil, errors.New("gatekeeper: http: a decider is required")
	case m == nil:
		return nil, errors.New("gatekeeper: http: a mapper is required (unmapped requests are refused, never passed through)")
	}
	g := &httpGate{d: d, m: m}
	for _, o := range opts {
		o(g)
	}
	if g.log == nil {
		g.log = slog.New(slog.DiscardHandler)
	}
	if g.now == nil {
		g.now = time.Now
	}
	return func(next http.Handler) http.Handler {
		if next == nil {
			panic("gatekeeper: http: nil handler")
		}
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { g.serve(w, r, next) })
	}, nil
}

// HTTPRefusal is the JSON body of every answer but an ALLOW.
type HTTPRefusal struct {
	Decision   string                `json:"decision"` // DENY or NEEDS_APPROVAL
	Reasons    []presentation.Reason `json:"reasons"`
	Message    string                `json:"message,omitempty"`
	AuditID    string                `json:"auditId,omitempty"`
	ApprovalID string                `json:"approvalId,omitempty"`
	RetryAt    *time.Time            `json:"retryAt,omitempty"`
}

type httpGate struct {
	d   Decider
	m   HTTPMapper
	log *slog.Logger
	now func() time.Time
}

func (g *httpGate) serve(w http.ResponseWriter, r *http.Request, next http.Handler) {
	ctx := r.Context()
	req, err := g.mapRequest(r)
	if err != nil {
		msg := fmt.Sprintf("%.16s %.256q: %v", r.Method, r.URL.Path, err)
		g.refuse(w, http.StatusForbidden, g.d.Refuse(ctx, req, presentation.ReasonUnmapped, msg))
		return
	}
	if overridesMethod(r) {
		msg := fmt.Sprintf("the query names %s: the gate decides the method it sees (%.16s), and middleware behind it could run another", methodParam, r.Method)
		g.refuse(w, http.StatusBadRequest, g.d.Refuse(ctx, req, presentation.ReasonMalformed, msg))
		return
	}
	auth := r.Header.Values("Authorization")
	if len(auth) == 0 {
		g.challenge(w, r, req)
		return
	}
	format, vp, approval, err := readAnswer(r.Header, auth)
	if err == nil {
		req.Intent, err = readIntent(r.Header)
	}
	if err != nil {
		g.refuse(w, http.StatusBadRequest, g.d.Refuse(ctx, req, presentation.ReasonMalformed, err.Error()))
		return
	}
	d, err := g.d.Decide(ctx, format, vp, req, approval)
	if errors.Is(err, ErrInvalidPresentation) {
		g.refuse(w, http.StatusBadRequest, g.d.Refuse(ctx, req, presentation.ReasonMalformed, err.Error()))
		return
	}
	if err != nil {
		g.decideFailed(w, err)
		return
	}
	if !d.Allowed() {
		g.refuse(w, g.statusOf(d), d)
		return
	}
	g.log.Info("gatekeeper: http allow", "method", r.Method, "path", r.URL.Path, "actor", d.Actor, "grant", d.Grant, "audit", d.AuditID)
	in := r.WithContext(NewContext(ctx, d))
	in.Header = handlerHeader(r.Header)
	next.ServeHTTP(w, in)
}

// reroutes are the headers with which middleware or a framework behind the
// gate changes a request's method (gorilla's HTTPMethodOverrideHandler,
// and the like) or its path (IIS's and Symfony's X-Original-URL and
// X-Rewrite-URL, a forward-auth proxy's X-Forwarded-Method and -Uri). The
// gate decided the method and path it saw: one of these behind it would
// run another call on that ALLOW. Lower case, '-' for '_' (stripped).
var reroutes = []string{
	"x-http-method-override", "x-http-method", "x-method-override",
	"x-original-url", "x-rewrite-url", "x-original-method",
	"x-forwarded-method", "x-forwarded-uri", "x-forwarded-path",
}

// methodParam is the form field with which the same middleware overrides
// the method (`_method`, read without regard to case). In the query it is
// refused; in a form body the gate does not read, so such middleware must
// run before the gate (docs/HTTP.md).
const methodParam = "_method"

// overridesMethod reports whether the query names a method override.
func overridesMethod(r *http.Request) bool {
	for k := range r.URL.Query() {
		if strings.EqualFold(k, methodParam) {
			return true
		}
	}
	return false
}

// handlerHeader is h without the headers the handler must not see
// (stripped).
func handlerHeader(h http.Header) http.Header {
	out := make(http.Header, len(h))
	for k, v := range h {
		if stripped(k) {
			continue
		}
		out[k] = slices.Clone(v)
	}
	return out
}

// stripped reports whether the gate keeps header k from the handler:
// Authorization, any Mandate-* header (the caller's, not the gate's: a
// handler must not take a Mandate-Decision it was sent for one the gate
// made) and the rerouting headers. k is read without regard to case
// and with '_' as '-': CGI, WSGI and PHP give Mandate_Decision and
// Mandate-Decision the same name (HTTP_MANDATE_DECISION).
func stripped(k string) bool {
	k = strings.ToLower(strings.ReplaceAll(k, "_", "-"))
	return k == "authorization" || strings.HasPrefix(k, "mandate-") || slices.Contains(reroutes, k)
}

// mapRequest asks the mapper and checks what it says. On an error the
// request is cut to what may be recorded and sent (Request.Bounded: a
// mapper's "bob\xff" is refused, and recorded as "bob\uFFFD").
func (g *httpGate) mapRequest(r *http.Request) (presentation.Request, error) {
	req, err := g.callMapper(r)
	req.Intent = ""
	if err == nil {
		err = req.Validate()
	}
	if err != nil {
		return req.Bounded(), err
	}
	return req, nil
}

// callMapper calls the mapper; one that panics maps nothing (UNMAPPED,
// recorded), where net/http would drop the connection with no answer and
// no audit record.
func (g *httpGate) callMapper(r *http.Request) (req presentation.Request, err error) {
	defer func() {
		if p := recover(); p != nil {
			req, err = presentation.Request{}, fmt.Errorf("gatekeeper: the mapper panicked: %v", p)
		}
	}()
	return g.m(r)
}

// challenge answers 401 with a fresh challenge for req.
func (g *httpGate) challenge(w http.ResponseWriter, r *http.Request, req presentation.Request) {
	ch, err := g.d.Challenge(r.Context())
	var h string
	if err == nil {
		h, err = MandateChallenge(ch, req)
	}
	if err != nil {
		g.log.Error("gatekeeper: http challenge failed", "error", err)
		writeRefusal(w, http.StatusServiceUnavailable, HTTPRefusal{Decision: "DENY", Reasons: []presentation.Reason{presentation.ReasonInternalError},
			Message: "gatekeeper: the verifier could not give a challenge"})
		return
	}
	w.Header().Set("WWW-Authenticate", h)
	writeRefusal(w, http.StatusUnauthorized, HTTPRefusal{Decision: "DENY", Reasons: []presentation.Reason{presentation.ReasonPresentationMissing},
		Message: "gatekeeper: a Mandate presentation is required (see WWW-Authenticate)"})
}

// readAnswer reads the Authorization, Mandate-Format and Mandate-Approval
// headers.
func readAnswer(h http.Header, auth []string) (format string, vp []byte, approval string, err error) {
	if len(auth) > 1 {
		return "", nil, "", errors.New("gatekeeper: more than one Authorization header")
	}
	if vp, err = ParseMandateAuthorization(auth[0]); err != nil {
		return "", nil, "", err
	}
	switch f := h.Values(HeaderFormat); {
	case len(f) > 1:
		return "", nil, "", fmt.Errorf("gatekeeper: more than one %s header", HeaderFormat)
	case len(f) == 0:
		format = presentation.FormatLDP
	case f[0] == presentation.FormatLDP || f[0] == presentation.FormatSDJWT || f[0] == presentation.FormatBBS:
		format = f[0]
	default:
		return "", nil, "", fmt.Errorf("gatekeeper: %s %.32q is not a presentation format", HeaderFormat, f[0])
	}
	switch a := h.Values(HeaderApproval); {
	case len(a) > 1:
		return "", nil, "", fmt.Errorf("gatekeeper: more than one %s header", HeaderApproval)
	case len(a) == 1:
		if err := checkApprovalHeader(a[0]); err != nil {
			return "", nil, "", err
		}
		approval = a[0]
	}
	return format, vp, approval, nil
}

func readIntent(h http.Header) (string, error) {
	switch v := h.Values(HeaderIntent); len(v) {
	case 0:
		return "", nil
	case 1:
		return decodeIntent(v[0])
	default:
		return "", fmt.Errorf("gatekeeper: more than one %s header", HeaderIntent)
	}
}

// decideFailed answers a Decide error: 400 when a remote verifier refused
// the input, 503 otherwise. Either way the handler does not run.
func (g *httpGate) decideFailed(w http.ResponseWriter, err error) {
	g.log.Error("gatekeeper: http decide failed", "error", err)
	writeRefusal(w, http.StatusServiceUnavailable, HTTPRefusal{Decision: "DENY", Reasons: []presentation.Reason{presentation.ReasonInternalError},
		Message: "gatekeeper: the verifier could not decide"})
}

// statusOf is the status code of a decision that is not an ALLOW.
func (g *httpGate) statusOf(d presentation.Decision) int {
	switch {
	case d.Outcome == presentation.NeedsApproval:
		return StatusNeedsApproval
	case slices.Contains(d.Reasons, presentation.ReasonRateLimited):
		return http.StatusTooManyRequests
	case slices.Contains(d.Reasons, presentation.ReasonInternalError):
		return http.StatusServiceUnavailable
	}
	return http.StatusForbidden
}

// refuse writes a decision that is not an ALLOW.
func (g *httpGate) refuse(w http.ResponseWriter, code int, d presentation.Decision) {
	g.log.Info("gatekeeper: http refuse", "status", code, "outcome", d.Outcome.String(), "reasons", d.Reasons, "actor", d.Actor, "audit", d.AuditID)
	body := HTTPRefusal{Decision: d.Outcome.String(), Reasons: d.Reasons, Message: d.Message, AuditID: d.AuditID}
	if d.Outcome == presentation.Allow { // an ALLOW with reasons is not one
		body.Decision = presentation.Deny.String()
	}
	if d.Outcome == presentation.NeedsApproval && d.ApprovalID != "" {
		body.ApprovalID = d.ApprovalID
		w.Header().Set(HeaderApprovalID, d.ApprovalID)
	}
	if !d.RetryAt.IsZero() {
		at := d.RetryAt.UTC()
		body.RetryAt = &at
		if code == http.StatusTooManyRequests {
			w.Header().Set("Retry-After", fmt.Sprint(retryAfter(d.RetryAt, g.now())))
		}
	}
	writeRefusal(w, code, body)
}

// retryAfter is Retry-After in whole seconds, rounded up, at least 1: a
// delay, not a date, so that the client's clock does not matter.
func retryAfter(at, now time.Time) int64 {
	s := int64((at.Sub(now) + time.Second - 1) / time.Second)
	return max(s, 1)
}

func writeRefusal(w http.ResponseWriter, code int, body HTTPRefusal) {
	if body.Reasons == nil {
		body.Reasons = []presentation.Reason{}
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(body) // the status is written; a failed body write has no one to tell
}
