package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

// TestRun plays the example as `go run` does and asserts every outcome exactly.
func TestRun(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	steps, err := run(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := []struct{ method, path, got, detail string }{
		{"GET", "/mail/inbox", "401 DENY PRESENTATION_MISSING", "challenged for email:read on mailbox:alice/inbox"},
		{"GET", "/mail/inbox", "200 ALLOW", `grant urn:mandate:grant:read-inbox, audit record 1: ["Lunch on Friday?" "Invoice 42 is due"]`},
		{"DELETE", "/mail/inbox/1", "403 DENY FORBIDDEN", "audit record 2: urn:uuid:"},
		{"GET", "/mail/inbox", "403 DENY REQUEST_MISMATCH", "audit record 3: presentation is bound to another request"},
	}
	if len(steps) != len(want) {
		t.Fatalf("%d steps, want %d: %+v", len(steps), len(want), steps)
	}
	for i, s := range steps {
		w := want[i]
		if s.Method != w.method || s.Path != w.path || s.Got != w.got || s.Expected != w.got || !strings.HasPrefix(s.Detail, w.detail) {
			t.Errorf("step %d %q: %s %s got %s (%s), expected %s; want %s %s %s (%s)", i+1, s.Name, s.Method, s.Path, s.Got, s.Detail, s.Expected, w.method, w.path, w.got, w.detail)
		}
	}
	if d := steps[2].Detail; !strings.HasSuffix(d, " forbids email:delete") {
		t.Errorf("delete: %s", d)
	}
	var out bytes.Buffer
	if !report(&out, steps) || !strings.Contains(out.String(), "4 of 4 requests as expected") {
		t.Errorf("report:\n%s", out.String())
	}
}

// TestReportFailsOnAnUnexpectedStep: one wrong outcome makes report (and so the exit code) fail, and so
// does an empty run.
func TestReportFailsOnAnUnexpectedStep(t *testing.T) {
	var out bytes.Buffer
	steps := []step{{Name: "a", Expected: "200 ALLOW", Got: "200 ALLOW"}, {Name: "b", Expected: "403 DENY FORBIDDEN", Got: "200 ALLOW"}}
	if report(&out, steps) || !strings.Contains(out.String(), "UNEXPECTED") || !strings.Contains(out.String(), "1 of 2 requests as expected") {
		t.Errorf("report:\n%s", out.String())
	}
	if report(&bytes.Buffer{}, nil) {
		t.Error("an empty run reported as expected")
	}
}
