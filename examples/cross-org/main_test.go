package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/mandate-dev/mandate/examples/cross-org/crossorg"
)

// TestStory plays the example as `go run` does and asserts every outcome exactly.
func TestStory(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	steps, err := crossorg.Run(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := []struct{ outcome, detail string }{
		{"ALLOW", ""},
		{"DENY UNTRUSTED_ROOT", "the trust policy does not trust principal did:web:partner.example%3A"},
		{"DENY WITNESS_REQUIRED", "the root has no witness"},
		{"DENY REVOKED", "revoked"},
	}
	if len(steps) != len(want) {
		t.Fatalf("%d steps, want %d: %+v", len(steps), len(want), steps)
	}
	for i, s := range steps {
		if s.Got != want[i].outcome || s.Expected != want[i].outcome || !strings.Contains(s.Detail, want[i].detail) {
			t.Errorf("step %d %q: got %s (%s), expected %s, want %s (%q)", i+1, s.Name, s.Got, s.Detail, s.Expected, want[i].outcome, want[i].detail)
		}
	}
	if a := steps[0]; !strings.HasPrefix(a.Principal, "did:web:acme.example%3A") || !strings.HasPrefix(a.Actor, "did:key:z6Mk") {
		t.Errorf("ALLOW: principal %s, actor %s; want Acme's did:web and the bot's did:key", a.Principal, a.Actor)
	}
	var out bytes.Buffer
	if !report(&out, steps) || !strings.Contains(out.String(), "4 of 4 steps as expected") {
		t.Errorf("report:\n%s", out.String())
	}
}

// TestReportFailsOnAnUnexpectedStep: one wrong outcome makes report (and so the exit code) fail, and so does
// an empty story.
func TestReportFailsOnAnUnexpectedStep(t *testing.T) {
	var out bytes.Buffer
	steps := []crossorg.Step{{Name: "a", Expected: "ALLOW", Got: "ALLOW"}, {Name: "b", Expected: "DENY REVOKED", Got: "ALLOW"}}
	if report(&out, steps) || !strings.Contains(out.String(), "UNEXPECTED") || !strings.Contains(out.String(), "1 of 2 steps as expected") {
		t.Errorf("report:\n%s", out.String())
	}
	if report(&bytes.Buffer{}, nil) {
		t.Error("an empty story reported as expected")
	}
}
