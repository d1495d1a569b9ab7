package mcpgate

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"

	"github.com/mandate-dev/mandate/credentials/scope"
	"github.com/mandate-dev/mandate/internal/strictyaml"
	"github.com/mandate-dev/mandate/presentation"
)

// Limits on a configuration file.
const (
	MaxConfigBytes = 64 << 10
	MaxTools       = 256
	MaxCommandArgs = 64
)

// DefaultJustification is the argument the gateway adds to every tool's
// input schema for the agent's stated reason.
const DefaultJustification = "justification"

// Config is a gateway's configuration file (docs/MCP.md).
type Config struct {
	// Upstream is the MCP server the gateway forwards to.
	Upstream Upstream
	// WalletSocket is the agent's wallet service (`mandate serve wallet`).
	WalletSocket string
	// VerifierAddress is the gRPC verifier (`mandate serve verifier`).
	VerifierAddress string
	// Justification names the argument added for the stated intent
	// (DefaultJustification when the file names none).
	Justification string
	// Tools map tool names to requests.
	Tools Tools
}

// Upstream is a command to run (stdio) or a streamable HTTP URL.
type Upstream struct {
	Command []string
	URL     string
}

// Tools map each tool's name to its action and resource template; a tool
// not in the map is blocked (UNMAPPED).
type Tools map[string]Tool

// Tool is one tool's mapping.
type Tool struct {
	Action   string
	Resource Template
	// Context maps request context keys to the tool arguments that fill
	// them ("amount": "amount"): the verifier decides on them (a grant's
	// maxAmount reads "amount", a CEL condition reads any), the approver
	// sees them and the audit log keeps them. At most MaxToolContext.
	Context map[string]string
	Line    int // in the configuration file, for messages (0 when built in code)
}

// MaxToolContext bounds the context entries one tool maps from arguments.
const MaxToolContext = 8

// checkContext checks a tool's context mapping against the justification
// argument's name.
func (t Tool) checkContext(justification string) error {
	if len(t.Context) > MaxToolContext {
		return fmt.Errorf("context: more than %d entries", MaxToolContext)
	}
	for _, k := range sortedKeys(t.Context) {
		arg := t.Context[k]
		switch {
		case k == "" || len(k) > presentation.MaxContextKeyBytes || !utf8.ValidString(k):
			return fmt.Errorf("context key %.64q must be 1..%d bytes of UTF-8", k, presentation.MaxContextKeyBytes)
		case strings.HasPrefix(k, "mcp."):
			return fmt.Errorf("context key %q: keys that start mcp. are the gateway's", k)
		case !validArgName(arg):
			return fmt.Errorf("context %q: %.64q is not an argument name (letters, digits, '_', '-')", k, arg)
		case arg == justification:
			return fmt.Errorf("context %q reads the justification argument", k)
		}
	}
	return nil
}

// Error is a configuration error, at a line of the file (0 when it has none).
type Error struct {
	Line int
	Msg  string
}

func (e *Error) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("mcpgate: config: line %d: %s", e.Line, e.Msg)
	}
	return "mcpgate: config: " + e.Msg
}

func errorf(line int, format string, args ...any) error {
	return &Error{Line: line, Msg: fmt.Sprintf(format, args...)}
}

type wireConfig struct {
	Upstream      *wireUpstream       `yaml:"upstream"`
	Wallet        *wireWallet         `yaml:"wallet"`
	Verifier      *wireVerifier       `yaml:"verifier"`
	Justification string              `yaml:"justification"`
	Tools         map[string]wireTool `yaml:"tools"`
}

type wireUpstream struct {
	Command []string `yaml:"command"`
	URL     string   `yaml:"url"`
}

type wireWallet struct {
	Socket string `yaml:"socket"`
}

type wireVerifier struct {
	Address string `yaml:"address"`
}

type wireTool struct {
	Action   string            `yaml:"action"`
	Resource string            `yaml:"resource"`
	Context  map[string]string `yaml:"context"`
}

// ParseConfig reads a configuration file strictly: one YAML document of at
// most MaxConfigBytes, no unknown or repeated key, no anchors or tags;
// every error names its line.
func ParseConfig(data []byte) (*Config, error) {
	var w wireConfig
	doc, err := strictyaml.Decode(data, MaxConfigBytes, "configuration", &w)
	if err != nil {
		var se *strictyaml.Error
		if errors.As(err, &se) {
			return nil, errorf(se.Line, "%s", se.Msg)
		}
		return nil, errorf(0, "%v", err)
	}
	return w.config(doc.Content[0])
}

func (w *wireConfig) config(top *yaml.Node) (*Config, error) {
	c := &Config{Justification: w.Justification}
	switch {
	case w.Upstream == nil:
		return nil, errorf(keyLine(top, "upstream"), "upstream: required (command or url)")
	case len(w.Upstream.Command) > 0 && w.Upstream.URL != "":
		return nil, errorf(keyLine(top, "upstream"), "upstream: command and url conflict; name one")
	case len(w.Upstream.Command) == 0 && w.Upstream.URL == "":
		return nil, errorf(keyLine(top, "upstream"), "upstream: required (command or url)")
	case len(w.Upstream.Command) > MaxCommandArgs:
		return nil, errorf(keyLine(top, "upstream"), "upstream.command: more than %d arguments", MaxCommandArgs)
	}
	if w.Upstream.URL != "" {
		u, err := url.Parse(w.Upstream.URL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, errorf(keyLine(top, "upstream"), "upstream.url %.128q is not an http(s) URL", w.Upstream.URL)
		}
	}
	c.Upstream = Upstream{Command: w.Upstream.Command, URL: w.Upstream.URL}
	if w.Wallet == nil || w.Wallet.Socket == "" {
		return nil, errorf(keyLine(top, "wallet"), "wallet.socket: required (the agent's wallet service, `mandate serve wallet`)")
	}
	c.WalletSocket = w.Wallet.Socket
	if w.Verifier == nil || w.Verifier.Address == "" {
		return nil, errorf(keyLine(top, "verifier"), "verifier.address: required (the gRPC verifier, `mandate serve verifier`)")
	}
	c.VerifierAddress = w.Verifier.Address
	if c.Justification == "" {
		c.Justification = DefaultJustification
	} else if !validArgName(c.Justification) {
		return nil, errorf(keyLine(top, "justification"), "justification %.64q is not an argument name (letters, digits, '_', '-')", c.Justification)
	}
	tools, err := w.tools(top, c.Justification)
	if err != nil {
		return nil, err
	}
	c.Tools = tools
	return c, nil
}

func (w *wireConfig) tools(top *yaml.Node, justification string) (Tools, error) {
	if len(w.Tools) == 0 {
		return nil, errorf(keyLine(top, "tools"), "tools: required; a gateway that maps no tool blocks every call")
	}
	if len(w.Tools) > MaxTools {
		return nil, errorf(keyLine(top, "tools"), "tools: more than %d", MaxTools)
	}
	tools := Tools{}
	for name, wt := range w.Tools {
		line := entryLine(top, "tools", name)
		t, err := NewTool(wt.Action, wt.Resource)
		if err != nil {
			return nil, errorf(line, "tool %q: %s", name, strings.TrimPrefix(err.Error(), "mcpgate: "))
		}
		if err := validToolName(name); err != nil {
			return nil, errorf(line, "%v", err)
		}
		for _, a := range t.Resource.Args() {
			if a == justification {
				return nil, errorf(line, "tool %q: the resource reads {%s}, the justification argument", name, a)
			}
		}
		t.Context = wt.Context
		if err := t.checkContext(justification); err != nil {
			return nil, errorf(line, "tool %q: %v", name, err)
		}
		t.Line = line
		tools[name] = t
	}
	return tools, nil
}

// NewTool checks a mapping: a concrete action (no wildcard) and a resource
// template.
func NewTool(action, resource string) (Tool, error) {
	if err := scope.ValidateConcrete(action, "x"); err != nil {
		return Tool{}, fmt.Errorf("mcpgate: action: %w", err)
	}
	if resource == "" {
		return Tool{}, errors.New("mcpgate: resource: required")
	}
	t, err := ParseTemplate(resource)
	if err != nil {
		return Tool{}, err
	}
	return Tool{Action: action, Resource: t}, nil
}

// validToolName follows MCP's tool names: 1..128 of letters, digits, '_',
// '-' and '.'.
func validToolName(name string) error {
	if name == "" || len(name) > 128 {
		return fmt.Errorf("tool name %.64q must be 1..128 bytes", name)
	}
	for _, r := range name {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '-' || r == '.') {
			return fmt.Errorf("tool name %.64q holds %q", name, r)
		}
	}
	return nil
}

// keyLine is the line of a top-level key (0 when absent).
func keyLine(top *yaml.Node, name string) int {
	if n := value(top, name); n != nil {
		return n.Line
	}
	return 0
}

// entryLine is the line of key name under the top-level mapping key.
func entryLine(top *yaml.Node, key, name string) int {
	if m := value(top, key); m != nil && m.Kind == yaml.MappingNode {
		for i := 0; i+1 < len(m.Content); i += 2 {
			if m.Content[i].Value == name {
				return m.Content[i].Line
			}
		}
	}
	return keyLine(top, key)
}

func value(m *yaml.Node, name string) *yaml.Node {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == name {
			return m.Content[i+1]
		}
	}
	return nil
}
