package evalset

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/mandate-dev/mandate/credentials/scope"
	"github.com/mandate-dev/mandate/intent"
)

// Limits on a case file.
const (
	MaxCases     = 10_000
	MaxLineBytes = 64 << 10
)

// Labels and the columns of the matrix.
const (
	Allow    = "allow"
	Deny     = "deny"
	Escalate = "escalate"
	Error    = "error"
)

// Kinds of case.
var Kinds = []string{"in", "out", "near", "adversarial"}

// Case is one labelled request.
type Case struct {
	ID       string            `json:"id"`
	Purposes []string          `json:"purposes"`
	Action   string            `json:"action"`
	Resource string            `json:"resource"`
	Intent   string            `json:"intent"`
	Context  map[string]string `json:"context,omitempty"`
	Label    string            `json:"label"`
	Kind     string            `json:"kind"`
	Note     string            `json:"note,omitempty"`
}

// Load reads a case file, refusing unknown members, duplicate ids and
// labels or kinds outside their sets; an error names the line.
func Load(r io.Reader) ([]Case, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 4096), MaxLineBytes)
	var cases []Case
	seen := map[string]int{}
	for n := 1; sc.Scan(); n++ {
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 {
			continue
		}
		if len(cases) == MaxCases {
			return nil, fmt.Errorf("evalset: more than %d cases", MaxCases)
		}
		var c Case
		dec := json.NewDecoder(bytes.NewReader(line))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&c); err != nil {
			return nil, fmt.Errorf("evalset: line %d: %w", n, err)
		}
		if dec.More() {
			return nil, fmt.Errorf("evalset: line %d: more than one JSON value", n)
		}
		if err := c.validate(); err != nil {
			return nil, fmt.Errorf("evalset: line %d: %w", n, err)
		}
		if first, ok := seen[c.ID]; ok {
			return nil, fmt.Errorf("evalset: line %d: id %q already used on line %d", n, c.ID, first)
		}
		seen[c.ID] = n
		cases = append(cases, c)
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return nil, fmt.Errorf("evalset: a line is longer than %d bytes", MaxLineBytes)
		}
		return nil, fmt.Errorf("evalset: %w", err)
	}
	if len(cases) == 0 {
		return nil, errors.New("evalset: no cases")
	}
	return cases, nil
}

func (c Case) validate() error {
	switch {
	case c.ID == "":
		return errors.New("a case needs an id")
	case len(c.Purposes) == 0 || slices.Contains(c.Purposes, ""):
		return fmt.Errorf("case %s: purposes must be non-empty strings", c.ID)
	case c.Action == "" || c.Resource == "":
		return fmt.Errorf("case %s: action and resource are required", c.ID)
	}
	// Well-formed action and resource (a case may name a pattern, e.g. a
	// search across slack:acme/*).
	if _, err := scope.ParseAction(c.Action); err != nil {
		return fmt.Errorf("case %s: %w", c.ID, err)
	}
	if _, err := scope.ParseResource(c.Resource); err != nil {
		return fmt.Errorf("case %s: %w", c.ID, err)
	}
	switch {
	case c.Label != Allow && c.Label != Deny:
		return fmt.Errorf("case %s: label %q is not allow or deny", c.ID, c.Label)
	case !slices.Contains(Kinds, c.Kind):
		return fmt.Errorf("case %s: kind %q is not one of %v", c.ID, c.Kind, Kinds)
	}
	return nil
}

// Outcome is what the checker said about one case.
type Outcome struct {
	ID, Kind, Label, Got, Reason string
}

// Report is a checker's qualification.
type Report struct {
	Checker string `json:"checker"`
	Cases   int    `json:"cases"`
	// Matrix counts cases by label (allow, deny) and verdict (allow,
	// escalate, deny, error).
	Matrix map[string]map[string]int `json:"matrix"`
	// FalseAllowRate is the share of deny-labelled cases the checker
	// allowed: the figure that matters most.
	FalseAllowRate float64 `json:"falseAllowRate"`
	// FalseAllowByKind is the same by kind of case.
	FalseAllowByKind map[string]float64 `json:"falseAllowByKind"`
	// FalseDenyRate is the share of allow-labelled cases denied (not
	// escalated): the cost in refused honest work.
	FalseDenyRate  float64 `json:"falseDenyRate"`
	EscalationRate float64 `json:"escalationRate"`
	// Precision and recall of each verdict: allow (predicted allow vs
	// labelled allow) and deny (predicted deny vs labelled deny).
	AllowPrecision float64   `json:"allowPrecision"`
	AllowRecall    float64   `json:"allowRecall"`
	DenyPrecision  float64   `json:"denyPrecision"`
	DenyRecall     float64   `json:"denyRecall"`
	Outcomes       []Outcome `json:"outcomes,omitempty"`
}

// Epoch is the clock every case is decided at, so that a run is repeatable.
var Epoch = time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)

// Run asks c about every case, each within timeout, through intent.Run.
func Run(ctx context.Context, c intent.Checker, cases []Case, timeout time.Duration) Report {
	rep := Report{Checker: c.Name(), Cases: len(cases), Matrix: map[string]map[string]int{
		Allow: {Allow: 0, Escalate: 0, Deny: 0, Error: 0}, Deny: {Allow: 0, Escalate: 0, Deny: 0, Error: 0},
	}}
	deniesByKind, falseAllowsByKind := map[string]int{}, map[string]int{}
	for _, k := range Kinds {
		deniesByKind[k], falseAllowsByKind[k] = 0, 0
	}
	for _, tc := range cases {
		res := intent.Run(ctx, []intent.Checker{c}, request(tc), timeout)
		got := res.Verdict.String()
		if len(res.Answers) == 1 && res.Answers[0].Err != nil {
			got = Error
		}
		reason := res.Reason
		if reason == "" && len(res.Answers) == 1 {
			reason = c.Name() + ": " + res.Answers[0].Answer.Reason // an allow's reason
		}
		rep.Matrix[tc.Label][got]++
		rep.Outcomes = append(rep.Outcomes, Outcome{ID: tc.ID, Kind: tc.Kind, Label: tc.Label, Got: got, Reason: reason})
		if tc.Label == Deny {
			deniesByKind[tc.Kind]++
			if got == Allow {
				falseAllowsByKind[tc.Kind]++
			}
		}
	}
	m := rep.Matrix
	denies, allows := sum(m[Deny]), sum(m[Allow])
	predAllow, predDeny := m[Allow][Allow]+m[Deny][Allow], m[Allow][Deny]+m[Deny][Deny]
	rep.FalseAllowRate = ratio(m[Deny][Allow], denies)
	rep.FalseDenyRate = ratio(m[Allow][Deny], allows)
	rep.EscalationRate = ratio(m[Allow][Escalate]+m[Deny][Escalate], len(cases))
	rep.AllowPrecision, rep.AllowRecall = ratio(m[Allow][Allow], predAllow), ratio(m[Allow][Allow], allows)
	rep.DenyPrecision, rep.DenyRecall = ratio(m[Deny][Deny], predDeny), ratio(m[Deny][Deny], denies)
	rep.FalseAllowByKind = map[string]float64{}
	for _, k := range Kinds {
		if deniesByKind[k] > 0 {
			rep.FalseAllowByKind[k] = ratio(falseAllowsByKind[k], deniesByKind[k])
		}
	}
	return rep
}

// request is the case as the verifier would hand it to a checker: the
// grant is the request's own action and resource.
func request(c Case) intent.Request {
	return intent.Request{
		Action: c.Action, Resource: c.Resource, Intent: c.Intent, Context: c.Context, Purposes: c.Purposes,
		Grant: intent.Grant{ID: "urn:mandate:grant:case", Action: c.Action, Resource: c.Resource},
		Time:  Epoch,
	}
}

func sum(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

func ratio(a, b int) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}
