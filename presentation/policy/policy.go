package policy

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/mandate-dev/mandate/credentials/scope"
	"github.com/mandate-dev/mandate/did"
	"github.com/mandate-dev/mandate/internal/strictyaml"
)

// Limits of a policy file.
const (
	MaxBytes       = 64 << 10
	MaxRoots       = 256
	MaxRules       = 64
	MaxPatterns    = 64
	MaxWitnesses   = 16
	MaxCheckers    = 8
	MaxConfigBytes = 16 << 10
	MaxStatusAge   = 24 * time.Hour
)

// Known values of the accepted lists.
var (
	KnownFormats    = []string{"ldp", "sd-jwt", "bbs"}
	KnownAlgorithms = []string{"Ed25519Signature2020", "EdDSA", "BbsBlsSignature2020"}
	KnownDIDMethods = []string{"key", "web"}
	// formatAlgorithm is the proof algorithm each format needs.
	formatAlgorithm = map[string]string{"ldp": "Ed25519Signature2020", "sd-jwt": "EdDSA", "bbs": "BbsBlsSignature2020"}
)

// Policy is a parsed, valid trust policy.
type Policy struct {
	Roots        []Root
	Witness      []WitnessRule
	Formats      []string
	Algorithms   []string
	DIDMethods   []string
	StatusMaxAge time.Duration // 0: the status source's own
	Checkers     []Checker
	// keyLines are the lines of the file's top-level keys, for errors.
	keyLines map[string]int
}

func (p *Policy) line(key string) int { return p.keyLines[key] }

// Root trusts one principal, or every did:web DID of one domain, for some resources.
type Root struct {
	Principal string   // a DID; or
	Domain    string   // a did:web domain, with its port if any ("erp.example.com", "erp.example.com:8443")
	Resources []string // resource patterns (credentials/scope)
	Line      int
}

// WitnessRule requires, for requests whose action (and resource) match, a root witnessed by one of By.
type WitnessRule struct {
	Actions   []string
	Resources []string // empty: any resource
	By        []string
	Line      int
}

// Checker is an intent checker by name, with its JSON configuration.
type Checker struct {
	Name   string
	Config json.RawMessage
	Line   int
}

// Error is a policy error, at a line of the file (0 when it has none).
type Error struct {
	Line int
	Msg  string
}

func (e *Error) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("policy: line %d: %s", e.Line, e.Msg)
	}
	return "policy: " + e.Msg
}

func errorf(line int, format string, args ...any) error {
	return &Error{Line: line, Msg: fmt.Sprintf(format, args...)}
}

// yamlErr is a strictyaml refusal as this package's Error.
func yamlErr(err error) error {
	var se *strictyaml.Error
	if errors.As(err, &se) {
		return &Error{Line: se.Line, Msg: se.Msg}
	}
	return errorf(0, "%v", err)
}

// wire is the file's form.
type wire struct {
	Version    int          `yaml:"version"`
	Roots      []wireRoot   `yaml:"roots"`
	Witness    []wireRule   `yaml:"witness"`
	Formats    []string     `yaml:"formats"`
	Algorithms []string     `yaml:"algorithms"`
	DIDMethods []string     `yaml:"didMethods"`
	Status     *wireStatus  `yaml:"status"`
	Intent     []wireIntent `yaml:"intentCheckers"`
}

type wireRoot struct {
	Principal string   `yaml:"principal"`
	Domain    string   `yaml:"domain"`
	Resources []string `yaml:"resources"`
}

type wireRule struct {
	Actions   []string `yaml:"actions"`
	Resources []string `yaml:"resources"`
	By        []string `yaml:"by"`
}

type wireStatus struct {
	MaxAge string `yaml:"maxAge"`
}

type wireIntent struct {
	Name   string    `yaml:"name"`
	Config yaml.Node `yaml:"config"`
}

// Parse reads and validates a policy file.
func Parse(data []byte) (*Policy, error) {
	var w wire
	doc, err := strictyaml.Decode(data, MaxBytes, "policy", &w)
	if err != nil {
		return nil, yamlErr(err)
	}
	p, err := w.policy(doc)
	if err != nil {
		return nil, err
	}
	if err := p.Validate(); err != nil {
		return nil, err
	}
	return p, nil
}

// lines finds the line of each entry of a top-level list, and of a top-level key.
type lines struct{ top *yaml.Node }

func (l lines) key(name string) int {
	if l.top == nil {
		return 0
	}
	for i := 0; i+1 < len(l.top.Content); i += 2 {
		if l.top.Content[i].Value == name {
			return l.top.Content[i].Line
		}
	}
	return 0
}

func (l lines) entry(name string, i int) int {
	if l.top == nil {
		return 0
	}
	for j := 0; j+1 < len(l.top.Content); j += 2 {
		if l.top.Content[j].Value == name {
			if seq := l.top.Content[j+1]; i < len(seq.Content) {
				return seq.Content[i].Line
			}
		}
	}
	return l.key(name)
}

func (w *wire) policy(doc *yaml.Node) (*Policy, error) {
	l := lines{}
	if len(doc.Content) == 1 && doc.Content[0].Kind == yaml.MappingNode {
		l.top = doc.Content[0]
	} else {
		return nil, errorf(doc.Line, "the policy must be a mapping")
	}
	if w.Version != 1 {
		return nil, errorf(l.key("version"), "version must be 1")
	}
	p := &Policy{Formats: w.Formats, Algorithms: w.Algorithms, DIDMethods: w.DIDMethods, keyLines: map[string]int{}}
	for _, k := range []string{"roots", "witness", "formats", "algorithms", "didMethods", "status", "intentCheckers"} {
		p.keyLines[k] = l.key(k)
	}
	for i, r := range w.Roots {
		p.Roots = append(p.Roots, Root{Principal: r.Principal, Domain: r.Domain, Resources: r.Resources, Line: l.entry("roots", i)})
	}
	for i, r := range w.Witness {
		p.Witness = append(p.Witness, WitnessRule{Actions: r.Actions, Resources: r.Resources, By: r.By, Line: l.entry("witness", i)})
	}
	if w.Status != nil {
		line := l.key("status")
		d, err := time.ParseDuration(w.Status.MaxAge)
		if err != nil {
			return nil, errorf(line, "status.maxAge %q is not a duration such as 5m", w.Status.MaxAge)
		}
		if d <= 0 {
			return nil, errorf(line, "status.maxAge must be positive")
		}
		p.StatusMaxAge = d
	}
	for i, c := range w.Intent {
		line := l.entry("intentCheckers", i)
		var cfg json.RawMessage
		if !c.Config.IsZero() {
			var v any
			if err := c.Config.Decode(&v); err != nil {
				return nil, errorf(line, "intent checker %q: config: %v", c.Name, err)
			}
			b, err := json.Marshal(v)
			if err != nil {
				return nil, errorf(line, "intent checker %q: config is not JSON-like (%v)", c.Name, err)
			}
			cfg = b
		}
		p.Checkers = append(p.Checkers, Checker{Name: c.Name, Config: cfg, Line: line})
	}
	return p, nil
}

// Validate checks a policy: each list written out and known, each entry well-formed, no duplicate and no
// contradiction.
func (p *Policy) Validate() error {
	if err := p.validateLists(); err != nil {
		return err
	}
	if len(p.Roots) == 0 || len(p.Roots) > MaxRoots {
		return errorf(p.line("roots"), "roots: need 1..%d trusted roots (a policy that trusts no root denies everything)", MaxRoots)
	}
	seen := map[string]int{}
	for _, r := range p.Roots {
		if err := p.validateRoot(r); err != nil {
			return err
		}
		k := "principal " + r.Principal
		if r.Domain != "" {
			k = "domain " + r.Domain
		}
		if first, dup := seen[k]; dup {
			return errorf(r.Line, "%s is already trusted at line %d: one entry per root", k, first)
		}
		seen[k] = r.Line
	}
	if len(p.Witness) > MaxRules {
		return errorf(p.line("witness"), "witness: at most %d rules", MaxRules)
	}
	for _, w := range p.Witness {
		if err := p.validateRule(w); err != nil {
			return err
		}
	}
	if p.StatusMaxAge < 0 || p.StatusMaxAge > MaxStatusAge {
		return errorf(p.line("status"), "status.maxAge must be 0..%s", MaxStatusAge)
	}
	if len(p.Checkers) > MaxCheckers {
		return errorf(p.line("intentCheckers"), "intentCheckers: at most %d", MaxCheckers)
	}
	names := map[string]bool{}
	for _, c := range p.Checkers {
		switch {
		case c.Name == "":
			return errorf(c.Line, "intent checker: a name is required")
		case names[c.Name]:
			return errorf(c.Line, "intent checker %q is listed twice", c.Name)
		case len(c.Config) > MaxConfigBytes:
			return errorf(c.Line, "intent checker %q: config is %d bytes, limit %d", c.Name, len(c.Config), MaxConfigBytes)
		}
		names[c.Name] = true
	}
	return nil
}

func (p *Policy) validateLists() error {
	for _, l := range []struct {
		name        string
		have, known []string
	}{{"formats", p.Formats, KnownFormats}, {"algorithms", p.Algorithms, KnownAlgorithms}, {"didMethods", p.DIDMethods, KnownDIDMethods}} {
		if len(l.have) == 0 {
			return errorf(p.line(l.name), "%s: required, an explicit list (known: %s)", l.name, strings.Join(l.known, ", "))
		}
		for i, v := range l.have {
			if !slices.Contains(l.known, v) {
				return errorf(p.line(l.name), "%s: %q is not one of %s", l.name, v, strings.Join(l.known, ", "))
			}
			if slices.Contains(l.have[:i], v) {
				return errorf(p.line(l.name), "%s: %q is listed twice", l.name, v)
			}
		}
	}
	for _, f := range p.Formats {
		if alg := formatAlgorithm[f]; !slices.Contains(p.Algorithms, alg) {
			return errorf(p.line("formats"), "formats: %s is accepted but its algorithm %s is not in algorithms", f, alg)
		}
	}
	// A BBS+ issuer's key is read from its own did:key (a BLS12-381 G2
	// key), so bbs is accepted only where did:key is.
	if slices.Contains(p.Formats, "bbs") && !slices.Contains(p.DIDMethods, "key") {
		return errorf(p.line("formats"), "formats: bbs needs did:key (BBS+ issuers are BLS12-381 G2 did:keys), which is not in didMethods")
	}
	return nil
}

func (p *Policy) validateRoot(r Root) error {
	switch {
	case (r.Principal == "") == (r.Domain == ""):
		return errorf(r.Line, "a root names exactly one of principal or domain")
	case r.Principal != "" && did.Method(r.Principal) == "":
		return errorf(r.Line, "principal %q is not a DID", r.Principal)
	case r.Principal != "" && !slices.Contains(p.DIDMethods, did.Method(r.Principal)):
		return errorf(r.Line, "principal %q: DID method %q is not in didMethods", r.Principal, did.Method(r.Principal))
	case r.Domain != "" && !slices.Contains(p.DIDMethods, "web"):
		return errorf(r.Line, "domain %q needs did:web, which is not in didMethods", r.Domain)
	case len(r.Resources) == 0 || len(r.Resources) > MaxPatterns:
		return errorf(r.Line, "resources: need 1..%d patterns", MaxPatterns)
	}
	if r.Principal != "" && did.Method(r.Principal) == "web" {
		if _, err := did.WebURL(r.Principal); err != nil {
			return errorf(r.Line, "principal: %v", err)
		}
	}
	if r.Domain != "" {
		if _, err := did.WebDID(r.Domain, ""); err != nil {
			return errorf(r.Line, "domain %q: %v", r.Domain, err)
		}
	}
	for _, res := range r.Resources {
		if _, err := scope.ParseResource(res); err != nil {
			return errorf(r.Line, "resources: %v", err)
		}
	}
	return nil
}

func (p *Policy) validateRule(w WitnessRule) error {
	switch {
	case len(w.Actions) == 0 || len(w.Actions) > MaxPatterns:
		return errorf(w.Line, "witness: actions: need 1..%d patterns", MaxPatterns)
	case len(w.Resources) > MaxPatterns:
		return errorf(w.Line, "witness: resources: at most %d patterns", MaxPatterns)
	case len(w.By) == 0 || len(w.By) > MaxWitnesses:
		return errorf(w.Line, "witness: by: need 1..%d witness DIDs", MaxWitnesses)
	}
	for _, a := range w.Actions {
		if _, err := scope.ParseAction(a); err != nil {
			return errorf(w.Line, "witness: actions: %v", err)
		}
	}
	for _, res := range w.Resources {
		if _, err := scope.ParseResource(res); err != nil {
			return errorf(w.Line, "witness: resources: %v", err)
		}
	}
	for i, b := range w.By {
		switch {
		case did.Method(b) == "":
			return errorf(w.Line, "witness: by: %q is not a DID", b)
		case !slices.Contains(p.DIDMethods, did.Method(b)):
			return errorf(w.Line, "witness: by: %q: DID method %q is not in didMethods", b, did.Method(b))
		case slices.Contains(w.By[:i], b):
			return errorf(w.Line, "witness: by: %q is listed twice", b)
		case p.trustsExactly(b):
			return errorf(w.Line, "witness: by: %q is a trusted root: a principal cannot witness its own instrument", b)
		}
	}
	return nil
}

func (p *Policy) trustsExactly(d string) bool {
	for _, r := range p.Roots {
		if r.Principal == d {
			return true
		}
	}
	return false
}

// Trusts reports whether principal is trusted for resource, and by which root entry.
func (p *Policy) Trusts(principal, resource string) (Root, bool) {
	for _, r := range p.Roots {
		if !r.names(principal) {
			continue
		}
		for _, pat := range r.Resources {
			if scope.MatchResource(pat, resource) {
				return r, true
			}
		}
	}
	return Root{}, false
}

// names reports whether the entry names principal: the DID itself, or a did:web DID of its domain (the
// domain's own DID or one under a path of it).
func (r Root) names(principal string) bool {
	if r.Principal != "" {
		return r.Principal == principal
	}
	d, err := did.WebDID(r.Domain, "")
	if err != nil {
		return false
	}
	return principal == d || strings.HasPrefix(principal, d+":")
}

// WitnessesFor returns the rules that apply to a request (action and resource): each demands a witness from its
// By list. No rule: no witness is needed.
func (p *Policy) WitnessesFor(action, resource string) []WitnessRule {
	var out []WitnessRule
	for _, w := range p.Witness {
		if !slices.ContainsFunc(w.Actions, func(a string) bool { return scope.MatchAction(a, action) }) {
			continue
		}
		if len(w.Resources) > 0 && !slices.ContainsFunc(w.Resources, func(r string) bool { return scope.MatchResource(r, resource) }) {
			continue
		}
		out = append(out, w)
	}
	return out
}
