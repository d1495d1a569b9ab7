package presentation_test

import (
	"strconv"
	"testing"

	"github.com/mandate-dev/mandate/presentation"
)

// TestRefuse: a refusal without a presentation is a recorded DENY with the
// given reason, and only the refusal reasons can be given.
func TestRefuse(t *testing.T) {
	f := newFixture(t)
	post := presentation.Request{Action: "slack:post", Resource: "slack:acme/general", Intent: "say hello"}
	cases := []struct {
		name   string
		req    presentation.Request
		reason presentation.Reason
		want   presentation.Reason
	}{
		{"unmapped tool", presentation.Request{}, presentation.ReasonUnmapped, presentation.ReasonUnmapped},
		{"nothing to present", post, presentation.ReasonNotGranted, presentation.ReasonNotGranted},
		{"wallet unreachable", post, presentation.ReasonPresentationMissing, presentation.ReasonPresentationMissing},
		{"unreadable call", post, presentation.ReasonMalformed, presentation.ReasonMalformed},
		// A gatekeeper cannot make a refusal look like a verified denial.
		{"not a refusal reason", post, presentation.ReasonForbidden, presentation.ReasonInternalError},
		{"never an allow", post, "", presentation.ReasonInternalError},
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d := f.v.Refuse(c.req, c.reason, "gatekeeper %s", "said no")
			expect(t, d, presentation.Deny, c.want)
			if d.Message != "gatekeeper said no" || d.Principal != "" || d.Actor != "" || d.Grant != "" {
				t.Fatalf("decision = %+v", d)
			}
			recs := f.auditRecords(t)
			if len(recs) != i+1 {
				t.Fatalf("%d audit records, want %d", len(recs), i+1)
			}
			r := recs[i]
			if d.AuditID != strconv.FormatUint(r.Seq, 10) || r.Decision != "DENY" || len(r.Reasons) != 1 || r.Reasons[0] != string(c.want) ||
				r.Action != c.req.Action || r.Resource != c.req.Resource || r.Intent != c.req.Intent {
				t.Fatalf("audit record = %+v", r)
			}
		})
	}
	// The refusals are part of the hash chain like any decision.
	if _, err := f.v.AuditLog().Checkpoint(); err != nil {
		t.Fatal(err)
	}
}
