package presentation

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/mandate-dev/mandate/credentials/scope"
)

// MaxRefusalMessageBytes bounds the message a refusal records.
const MaxRefusalMessageBytes = 1024

// refusable are the reasons a gatekeeper may record without a presentation.
var refusable = []Reason{ReasonUnmapped, ReasonPresentationMissing, ReasonNotGranted, ReasonMalformed}

// Refuse records a DENY for a call that a gatekeeper refused before there
// was a presentation to verify: a tool or method it maps to no request
// (UNMAPPED), a call for which the agent's wallet had nothing to present
// (NOT_GRANTED, PRESENTATION_MISSING), or one it could not read (MALFORMED).
// Every call then has its audit record, allowed or not. Refuse can only
// deny; any other reason is recorded as INTERNAL_ERROR. The request is
// recorded as Bounded (it may be incomplete: an unmapped tool has no
// action), and the message is valid UTF-8 of at most
// MaxRefusalMessageBytes.
func (v *Verifier) Refuse(req Request, reason Reason, format string, args ...any) Decision {
	if !slices.Contains(refusable, reason) {
		reason = ReasonInternalError
	}
	st := &state{req: req.Bounded(), now: v.cfg.Now()}
	d := Decision{Outcome: Deny, Reasons: []Reason{reason}, Message: RefusalMessage(fmt.Sprintf(format, args...))}
	v.commit(st, &d)
	v.log.Info("decision", "outcome", d.Outcome.String(), "reasons", d.Reasons,
		"action", st.req.Action, "resource", st.req.Resource, "audit", d.AuditID)
	return d
}

// Bounded is r as a refusal may record and send it: a refused call need
// not be a valid request (an unmapped tool has no action), but what the
// audit log keeps of it is bounded all the same, and must survive the JSON
// of the log and the protobuf of VerifierService.Refuse. Invalid UTF-8 is
// replaced by U+FFFD, every field is cut to the request limits on a UTF-8
// boundary, and a context entry over its limits (the whole context, when it
// has too many) is left out. Bounded does not make r valid.
func (r Request) Bounded() Request {
	out := Request{
		Action:   validText(r.Action, scope.MaxActionLen),
		Resource: validText(r.Resource, scope.MaxResourceLen),
		Intent:   validText(r.Intent, MaxIntentBytes),
	}
	if len(r.Context) > MaxContextEntries {
		return out
	}
	// Sorted, so that two keys that read the same once repaired
	// ("a\xff", "a\xfe") keep the same one every time.
	for _, k := range slices.Sorted(maps.Keys(r.Context)) {
		key, val := strings.ToValidUTF8(k, "\uFFFD"), strings.ToValidUTF8(r.Context[k], "\uFFFD")
		if _, dup := out.Context[key]; dup || key == "" || len(key) > MaxContextKeyBytes || len(val) > MaxContextValBytes {
			continue
		}
		if out.Context == nil {
			out.Context = map[string]string{}
		}
		out.Context[key] = val
	}
	return out
}

// RefusalMessage is m as a refusal records it, and as VerifierService.Refuse
// can carry it: invalid UTF-8 replaced by U+FFFD, cut on a UTF-8 boundary to
// MaxRefusalMessageBytes.
func RefusalMessage(m string) string { return validText(m, MaxRefusalMessageBytes) }

// validText is s with invalid UTF-8 replaced by U+FFFD, cut to n bytes.
func validText(s string, n int) string { return clip(strings.ToValidUTF8(s, "\uFFFD"), n) }

// clip cuts s to at most n bytes, on a UTF-8 boundary.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
