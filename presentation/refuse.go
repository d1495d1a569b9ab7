package presentation

import (
	"fmt"
	"slices"
)

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
	st := &state{req: req, now: v.cfg.Now()}
	d := Decision{Outcome: Deny, Reasons: []Reason{reason}, Message: fmt.Sprintf(format, args...)}
	v.commit(st, &d)
	v.log.Info("decision", "outcome", d.Outcome.String(), "reasons", d.Reasons,
		"action", req.Action, "resource", req.Resource, "audit", d.AuditID)
	return d
}
