package presentation

import (
	"fmt"
	"slices"
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
// recorded as given (it may be incomplete: an unmapped tool has no action).
func (v *Verifier) Refuse(req Request, reason Reason, format string, args ...any) Decision {
	if !slices.Contains(refusable, reason) {
		reason = ReasonInternalError
	}
	st := &state{req: boundedRequest(req), now: v.cfg.Now()}
	d := Decision{Outcome: Deny, Reasons: []Reason{reason}, Message: clip(fmt.Sprintf(format, args...), MaxRefusalMessageBytes)}
	v.commit(st, &d)
	v.log.Info("decision", "outcome", d.Outcome.String(), "reasons", d.Reasons,
		"action", req.Action, "resource", req.Resource, "audit", d.AuditID)
	return d
}

// boundedRequest is req cut to the request limits: a refused call need not
// be a valid request (an unmapped tool has no action), but what the audit
// log keeps of it is bounded all the same.
func boundedRequest(req Request) Request {
	out := Request{
		Action:   clip(req.Action, scope.MaxActionLen),
		Resource: clip(req.Resource, scope.MaxResourceLen),
		Intent:   clip(req.Intent, MaxIntentBytes),
	}
	if len(req.Context) <= MaxContextEntries {
		for k, val := range req.Context {
			if k != "" && len(k) <= MaxContextKeyBytes && len(val) <= MaxContextValBytes {
				if out.Context == nil {
					out.Context = map[string]string{}
				}
				out.Context[k] = val
			}
		}
	}
	return out
}

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
