package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

// TestStory plays the example as `go run` does and asserts every outcome
// exactly, and what the agent's wallet recorded.
func TestStory(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	story, err := Run(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	want := []struct{ method, outcome, detail string }{
		{"Read", "ALLOW", "2 messages in inbox (grant urn:mandate:grant:read), audit record 1"},
		{"List", "ALLOW", "invoice 42; lunch?"},
		{"Send", "DENY FORBIDDEN", "forbids email:send (audit record 3)"},
		{"Send", "DENY REQUEST_MISMATCH", "presentation is bound to another request (audit record 4)"},
		{"Read", "DENY REPLAY", "challenge already used (audit record 6) (the first use: 2 messages in inbox"},
	}
	if len(story.Steps) != len(want) {
		t.Fatalf("%d steps, want %d: %+v", len(story.Steps), len(want), story.Steps)
	}
	for i, s := range story.Steps {
		w := want[i]
		if s.Method != w.method || s.Got != w.outcome || s.Expected != w.outcome || !strings.Contains(s.Detail, w.detail) {
			t.Errorf("step %d %q: %s got %s (%s), expected %s; want %s %s (%q)", i+1, s.Name, s.Method, s.Got, s.Detail, s.Expected, w.method, w.outcome, w.detail)
		}
	}
	// The wallet presented for every call that reached it, the forbidden
	// one included (so that the verifier decided and recorded it).
	wantLog := []string{
		"PRESENTED email:read mailbox:alice/inbox",
		"PRESENTED email:list mailbox:alice/inbox",
		"PRESENTED_FORBIDDING email:send mailbox:alice/outbox",
		"PRESENTED email:read mailbox:alice/inbox",
		"PRESENTED email:read mailbox:alice/inbox",
	}
	if len(story.WalletLog) != len(wantLog) {
		t.Fatalf("wallet log %+v", story.WalletLog)
	}
	for i, e := range story.WalletLog {
		if got := e.Decision + " " + e.Action + " " + e.Resource; got != wantLog[i] || e.Audience != audience || e.Intent != "find the invoice alice asked about" {
			t.Errorf("wallet log %d: %q (%+v), want %q", i, got, e, wantLog[i])
		}
	}
	var out bytes.Buffer
	if !report(&out, story) || !strings.Contains(out.String(), "5 of 5 calls as expected") {
		t.Errorf("report:\n%s", out.String())
	}
}

// TestReportFailsOnAnUnexpectedCall: one wrong outcome makes report (and so
// the exit code) fail, and so does an empty story.
func TestReportFailsOnAnUnexpectedCall(t *testing.T) {
	var out bytes.Buffer
	s := Story{Steps: []Step{{Name: "a", Expected: "ALLOW", Got: "ALLOW"}, {Name: "b", Expected: "DENY FORBIDDEN", Got: "ALLOW"}}}
	if report(&out, s) || !strings.Contains(out.String(), "UNEXPECTED") || !strings.Contains(out.String(), "1 of 2 calls as expected") {
		t.Errorf("report:\n%s", out.String())
	}
	if report(&bytes.Buffer{}, Story{}) {
		t.Error("an empty story reported as expected")
	}
}
