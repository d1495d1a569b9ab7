package intent_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/mandate-dev/mandate/intent"
)

type cfg struct {
	Answer string `json:"answer"`
}

type named struct{ fixed }

func build(c cfg) (*named, error) {
	if c.Answer == "bad" {
		return nil, errors.New("bad answer")
	}
	return &named{fixed{name: "n", a: intent.Answer{Verdict: intent.Allow, Reason: c.Answer}}}, nil
}

func TestRegistry(t *testing.T) {
	var r intent.Registry
	f := intent.Decoded(build)
	if err := r.Register("n", f); err != nil {
		t.Fatal(err)
	}
	refused := []struct {
		name string
		f    intent.Factory
		want string
	}{
		{"n", f, `intent: checker "n" is already registered`},
		{"Bad Name", f, `intent: checker name "Bad Name" is not [a-z][a-z0-9-]{0,31}`},
		{"x", nil, `intent: checker "x" has no factory`},
	}
	for _, c := range refused {
		if err := r.Register(c.name, c.f); err == nil || err.Error() != c.want {
			t.Errorf("Register(%q): got %v, want %q", c.name, err, c.want)
		}
	}
	if c, err := r.New("n", json.RawMessage(`{"answer":"yes"}`)); err != nil || c.Name() != "n" {
		t.Fatalf("New: %v %v", c, err)
	}
	news := map[string]string{
		`{"answer":"bad"}`:  `intent: checker "n": bad answer`,
		`{"answr":"x"}`:     `intent: checker "n": configuration: json: unknown field "answr"`,
		`{"answer":"x"} []`: `intent: checker "n": configuration: trailing data after the JSON object`,
		`{` + strings.Repeat(" ", intent.MaxConfigBytes) + `}`: `intent: checker "n": configuration is 65538 bytes, limit 65536`,
	}
	for config, want := range news {
		c, err := r.New("n", json.RawMessage(config))
		if err == nil || err.Error() != want || c != nil {
			t.Errorf("New(%.30s): got %v %v, want %q and no checker", config, c, err, want)
		}
	}
	if _, err := r.New("missing", nil); err == nil || err.Error() != `intent: no checker named "missing" (known: [n])` {
		t.Fatalf("unknown: %v", err)
	}
}
