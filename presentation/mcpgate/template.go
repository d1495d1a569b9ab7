package mcpgate

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/mandate-dev/mandate/credentials/scope"
	"github.com/mandate-dev/mandate/presentation"
)

// MaxArgumentBytes bounds one argument value that fills a resource template.
const MaxArgumentBytes = 128

// Template is a resource with {name} placeholders, each filled from the
// tool argument of that name: "slack:acme/{channel}". An argument fills
// one segment, or part of one, and never more: its value is refused if it
// holds '/', '*', "..", a control character or any other character a
// resource segment may not hold, is empty or longer than MaxArgumentBytes.
// So an agent cannot widen the resource it is decided on.
//
// A placeholder written {name|lower} takes the value in ASCII lower case,
// and the gateway forwards it so: use it for an upstream that looks a name
// up without regard to case (Slack channels, GitHub owners, mail
// addresses), or "LEADERSHIP" would pass a forbidden entry written for
// "leadership" and still reach #leadership.
type Template struct {
	raw   string
	parts []part // literal text and placeholders, in order
}

type part struct {
	text  string // literal text, or the argument's name
	arg   bool
	lower bool // {name|lower}
}

// ParseTemplate reads a resource template; what it renders must be a
// concrete resource whatever the arguments (no wildcard, no empty segment).
func ParseTemplate(s string) (Template, error) {
	t := Template{raw: s}
	rest := s
	for rest != "" {
		i := strings.IndexAny(rest, "{}")
		if i < 0 {
			t.parts = append(t.parts, part{text: rest})
			break
		}
		if rest[i] == '}' {
			return Template{}, fmt.Errorf("mcpgate: resource %q: '}' without '{'", s)
		}
		if i > 0 {
			t.parts = append(t.parts, part{text: rest[:i]})
		}
		end := strings.IndexByte(rest[i:], '}')
		if end < 0 {
			return Template{}, fmt.Errorf("mcpgate: resource %q: '{' without '}'", s)
		}
		name, filter, filtered := strings.Cut(rest[i+1:i+end], "|")
		if filtered && filter != "lower" {
			return Template{}, fmt.Errorf("mcpgate: resource %q: placeholder {%s|%s}: the only filter is lower", s, name, filter)
		}
		if !validArgName(name) {
			return Template{}, fmt.Errorf("mcpgate: resource %q: placeholder {%s} is not an argument name (letters, digits, '_', '-')", s, name)
		}
		if n := len(t.parts); n > 0 && t.parts[n-1].arg {
			return Template{}, fmt.Errorf("mcpgate: resource %q: placeholders {%s} and {%s} touch; separate them with literal text", s, t.parts[n-1].text, name)
		}
		for _, p := range t.parts {
			if p.arg && p.text == name && p.lower != filtered {
				return Template{}, fmt.Errorf("mcpgate: resource %q: {%s} is read both with and without |lower", s, name)
			}
		}
		t.parts = append(t.parts, part{text: name, arg: true, lower: filtered})
		rest = rest[i+end+1:]
	}
	// A sample rendering must be a concrete resource: this refuses a
	// wildcard, an empty or dot segment and a malformed literal.
	sample, err := t.render(func(string) (string, error) { return "x", nil })
	if err != nil {
		return Template{}, err
	}
	if err := scope.ValidateConcrete("a:b", sample); err != nil {
		return Template{}, fmt.Errorf("mcpgate: resource %q: %w", s, err)
	}
	return t, nil
}

// String returns the template as written.
func (t Template) String() string { return t.raw }

// Args are the argument names the template reads, in order.
func (t Template) Args() []string {
	var out []string
	for _, p := range t.parts {
		if p.arg {
			out = append(out, p.text)
		}
	}
	return out
}

// Render fills the template from a tool call's arguments. A missing
// argument, or one that is not a string or an integer, or whose value
// could change the resource's structure, is an error.
func (t Template) Render(args map[string]json.RawMessage) (string, error) {
	res, err := t.render(func(name string) (string, error) {
		raw, ok := args[name]
		if !ok {
			return "", fmt.Errorf("mcpgate: argument %q is required (it names the resource)", name)
		}
		return segmentValue(name, raw)
	})
	if err != nil {
		return "", err
	}
	if err := scope.ValidateConcrete("a:b", res); err != nil {
		return "", fmt.Errorf("mcpgate: resource %.64q: %w", res, err)
	}
	return res, nil
}

func (t Template) render(value func(string) (string, error)) (string, error) {
	var b strings.Builder
	for _, p := range t.parts {
		if !p.arg {
			b.WriteString(p.text)
			continue
		}
		v, err := value(p.text)
		if err != nil {
			return "", err
		}
		if p.lower {
			v = strings.ToLower(v) // segmentValue admits ASCII only
		}
		b.WriteString(v)
	}
	return b.String(), nil
}

// Lower rewrites, in args, each {name|lower} argument that is a string to
// its lower-case form: what Render decided on is what the upstream gets.
// Call it after Render has accepted args.
func (t Template) Lower(args map[string]json.RawMessage) error {
	for _, p := range t.parts {
		if !p.lower {
			continue
		}
		var s string
		if json.Unmarshal(args[p.text], &s) != nil {
			continue // an integer: nothing to lower
		}
		b, err := json.Marshal(strings.ToLower(s))
		if err != nil {
			return fmt.Errorf("mcpgate: argument %q: %w", p.text, err)
		}
		args[p.text] = b
	}
	return nil
}

// segmentValue is an argument's value as resource text: a JSON string or
// integer whose text is safe inside one segment.
func segmentValue(name string, raw json.RawMessage) (string, error) {
	var v string
	var s string
	if err := json.Unmarshal(raw, &s); err == nil {
		v = s
	} else {
		var n json.Number
		if err := json.Unmarshal(raw, &n); err != nil {
			return "", fmt.Errorf("mcpgate: argument %q must be a string or an integer", name)
		}
		i, err := strconv.ParseInt(n.String(), 10, 64)
		if err != nil {
			return "", fmt.Errorf("mcpgate: argument %q must be a string or an integer", name)
		}
		// Only the canonical text: "-0" would be decided as the resource
		// ".../-0" and read as 0 by an upstream that decodes an integer.
		if v = strconv.FormatInt(i, 10); v != n.String() {
			return "", fmt.Errorf("mcpgate: argument %q: %s is not an integer as a resource may hold it (write %s)", name, n.String(), v)
		}
	}
	switch {
	case v == "":
		return "", fmt.Errorf("mcpgate: argument %q is empty", name)
	case len(v) > MaxArgumentBytes:
		return "", fmt.Errorf("mcpgate: argument %q is longer than %d bytes", name, MaxArgumentBytes)
	case v == "." || v == ".." || strings.Contains(v, ".."):
		return "", fmt.Errorf("mcpgate: argument %q: %.64q holds a dot segment", name, v)
	}
	for _, r := range v {
		if !segmentRune(r) {
			return "", fmt.Errorf("mcpgate: argument %q: %.64q holds %q, which a resource segment may not hold", name, v, r)
		}
	}
	return v, nil
}

// contextValue is the argument that fills context key k: a JSON string of
// at most presentation.MaxContextValBytes, or an integer in canonical form
// (a grant's maxAmount reads "amount" as one).
func contextValue(name, k string, args map[string]json.RawMessage) (string, error) {
	raw, ok := args[name]
	if !ok {
		return "", fmt.Errorf("mcpgate: argument %q is required (it is the request's context %q)", name, k)
	}
	var s string
	if err := json.Unmarshal(raw, &s); err == nil {
		if len(s) > presentation.MaxContextValBytes {
			return "", fmt.Errorf("mcpgate: argument %q is longer than %d bytes (it is the request's context %q)", name, presentation.MaxContextValBytes, k)
		}
		return s, nil
	}
	var n json.Number
	if err := json.Unmarshal(raw, &n); err != nil {
		return "", fmt.Errorf("mcpgate: argument %q must be a string or an integer (it is the request's context %q)", name, k)
	}
	i, err := strconv.ParseInt(n.String(), 10, 64)
	if err != nil || strconv.FormatInt(i, 10) != n.String() {
		return "", fmt.Errorf("mcpgate: argument %q: %.32s is not an integer in canonical form (it is the request's context %q)", name, n.String(), k)
	}
	return n.String(), nil
}

// segmentRune is scope's set of resource segment characters, without '*'
// (the wildcard) and '/' (the separator).
func segmentRune(r rune) bool {
	switch {
	case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
		return true
	}
	return strings.ContainsRune("-_.:@~+=", r)
}

func validArgName(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '-') {
			return false
		}
	}
	return true
}
