package mcpgate

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mandate-dev/mandate/presentation"
)

// withJustification is a copy of t whose input schema has the optional
// string property name, the agent's stated reason for the call. A schema
// that already has such a property is an error: the tool is left out.
func withJustification(t *mcp.Tool, name string) (*mcp.Tool, error) {
	schema, err := asObject(t.InputSchema)
	if err != nil {
		return nil, err
	}
	if schema["type"] != "object" {
		return nil, errors.New("mcpgate: input schema is not of type object")
	}
	props := map[string]any{}
	if p, ok := schema["properties"]; ok {
		m, ok := p.(map[string]any)
		if !ok {
			return nil, errors.New("mcpgate: input schema's properties are not an object")
		}
		props = maps.Clone(m)
	}
	if hasProperty(schema, name) {
		return nil, fmt.Errorf("mcpgate: input schema already has a %q property; name another justification argument", name)
	}
	props[name] = map[string]any{
		"type":        "string",
		"maxLength":   presentation.MaxIntentBytes,
		"description": "Why you make this call, in one sentence, for the person whose authority you act under. It is checked against the purpose they gave you.",
	}
	schema = maps.Clone(schema)
	schema["properties"] = props
	out := *t
	out.InputSchema = schema
	return &out, nil
}

// hasProperty reports whether an input schema declares property name, or
// one equal to it under case folding (checkKeys: an upstream may read
// either as the other).
func hasProperty(schema any, name string) bool {
	m, err := asObject(schema)
	if err != nil {
		return false
	}
	props, _ := m["properties"].(map[string]any)
	for p := range props {
		if strings.EqualFold(p, name) {
			return true
		}
	}
	return false
}

// asObject is a schema as a JSON object (the client holds map[string]any;
// anything else is re-encoded).
func asObject(schema any) (map[string]any, error) {
	if m, ok := schema.(map[string]any); ok {
		return m, nil
	}
	b, err := json.Marshal(schema)
	if err != nil {
		return nil, fmt.Errorf("mcpgate: input schema: %w", err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil || m == nil {
		return nil, errors.New("mcpgate: input schema is not a JSON object")
	}
	return m, nil
}

func sortedKeys[V any](m map[string]V) []string {
	return slices.Sorted(maps.Keys(m))
}
