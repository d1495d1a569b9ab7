package gatekeeper_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mandate-dev/mandate/presentation"
	"github.com/mandate-dev/mandate/presentation/audit"
)

// TestRemoteRefuse: a refusal through a Remote decider lands in the remote
// verifier's audit log (VerifierService.Refuse), bounded, and can only deny.
func TestRemoteRefuse(t *testing.T) {
	v, _ := newHTTPVerifier(t, time.Now())
	d, stop := httpRemote(t, v)
	ctx := context.Background()
	cases := []struct {
		name   string
		req    presentation.Request
		reason presentation.Reason
		want   string
	}{
		{"unmapped tool", presentation.Request{Context: map[string]string{"mcp.tool": "drop_tables"}}, presentation.ReasonUnmapped, "UNMAPPED"},
		{"nothing to present", presentation.Request{Action: "slack:post", Resource: "slack:acme/general"}, presentation.ReasonNotGranted, "NOT_GRANTED"},
		{"a caller claiming a verified reason", presentation.Request{Action: "slack:post", Resource: "slack:acme/general"}, presentation.ReasonForbidden, "INTERNAL_ERROR"},
		{"oversized", presentation.Request{Action: strings.Repeat("a", 10_000), Intent: strings.Repeat("é", 5_000)}, presentation.ReasonMalformed, "MALFORMED"},
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := d.Refuse(ctx, c.req, c.reason, strings.Repeat("m", 5000))
			if got.Outcome != presentation.Deny || len(got.Reasons) != 1 || string(got.Reasons[0]) != c.want || got.AuditID == "" {
				t.Fatalf("decision = %+v", got)
			}
			recs, err := v.AuditLog().List(audit.Filter{})
			if err != nil {
				t.Fatal(err)
			}
			r := recs[len(recs)-1]
			if len(recs) != i+1 || !slices.Equal(r.Reasons, []string{c.want}) || r.Decision != "DENY" ||
				len(r.Message) != presentation.MaxRefusalMessageBytes || len(r.Action) > 128 || len(r.Intent) > presentation.MaxIntentBytes {
				t.Fatalf("%d records, last %+v", len(recs), r)
			}
		})
	}
	// With the verifier gone the refusal stands, unrecorded.
	stop()
	got := d.Refuse(ctx, presentation.Request{}, presentation.ReasonUnmapped, "unmapped")
	if got.Outcome != presentation.Deny || !slices.Equal(got.Reasons, []presentation.Reason{presentation.ReasonUnmapped}) || got.AuditID != "" {
		t.Fatalf("decision with the verifier gone = %+v", got)
	}
}

// TestRemoteRefuseInvalidUTF8: a protobuf string must be UTF-8, so a
// refusal of a request with invalid bytes is sent, and recorded, repaired
// (Request.Bounded); unrepaired it could not be marshalled, and would stand
// with no audit record.
func TestRemoteRefuseInvalidUTF8(t *testing.T) {
	v, _ := newHTTPVerifier(t, time.Now())
	d, _ := httpRemote(t, v)
	req := presentation.Request{Action: "email:read", Resource: "mailbox:alice/\xff", Intent: "in\xfftent", Context: map[string]string{"k\xff": "v\xff"}}
	got := d.Refuse(context.Background(), req, presentation.ReasonUnmapped, "GET /mail/\xff"+strings.Repeat("é", 600))
	want := "GET /mail/\uFFFD" + strings.Repeat("é", (presentation.MaxRefusalMessageBytes-len("GET /mail/\uFFFD"))/2)
	if got.Outcome != presentation.Deny || !slices.Equal(got.Reasons, []presentation.Reason{presentation.ReasonUnmapped}) || got.AuditID == "" || got.Message != want {
		t.Fatalf("decision = %+v", got)
	}
	recs, err := v.AuditLog().List(audit.Filter{})
	if err != nil || len(recs) != 1 {
		t.Fatalf("audit: %+v, %v", recs, err)
	}
	r := recs[0]
	if r.Resource != "mailbox:alice/\uFFFD" || r.Intent != "in\uFFFDtent" || len(r.Context) != 1 || r.Context["k\uFFFD"] != "v\uFFFD" || r.Message != want {
		t.Fatalf("record %+v", r)
	}
}
