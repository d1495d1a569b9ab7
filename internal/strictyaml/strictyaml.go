package strictyaml

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Error is a refusal at a line of the document (0 when it has none). Each
// caller turns it into its own package's error.
type Error struct {
	Line int
	Msg  string
}

func (e *Error) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("line %d: %s", e.Line, e.Msg)
	}
	return e.Msg
}

func errorf(line int, format string, args ...any) error {
	return &Error{Line: line, Msg: fmt.Sprintf(format, args...)}
}

// Decode reads data, at most limit bytes, into v with unknown fields
// refused, and returns the document node for line look-ups. what names the
// file in messages ("policy", "configuration"). Every error is an *Error.
func Decode(data []byte, limit int, what string, v any) (*yaml.Node, error) {
	if len(data) > limit {
		return nil, errorf(0, "file is %d bytes, limit %d", len(data), limit)
	}
	var doc yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, errorf(0, "file is empty")
		}
		return nil, yamlError(err)
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		return nil, errorf(extra.Line, "a %s file holds one YAML document", what)
	}
	if err := checkNode(&doc); err != nil {
		return nil, err
	}
	if len(doc.Content) != 1 || doc.Content[0].Kind != yaml.MappingNode {
		return nil, errorf(doc.Line, "the %s must be a mapping", what)
	}
	strict := yaml.NewDecoder(bytes.NewReader(data))
	strict.KnownFields(true)
	if err := strict.Decode(v); err != nil {
		return nil, yamlError(err)
	}
	return &doc, nil
}

// yamlError turns yaml's "yaml: line N: msg" (or a TypeError's list) into
// an Error; "field x not found in type policy.wireRoot" would name our Go
// types, so it reads `unknown key "x"`.
func yamlError(err error) error {
	var te *yaml.TypeError
	msg := err.Error()
	if errors.As(err, &te) && len(te.Errors) > 0 {
		msg = te.Errors[0]
	}
	msg = strings.TrimPrefix(msg, "yaml: ")
	var line int
	if n, _ := fmt.Sscanf(msg, "line %d:", &line); n == 1 {
		_, rest, _ := strings.Cut(msg, ":")
		rest = strings.TrimSpace(rest)
		var field string
		if n, _ := fmt.Sscanf(rest, "field %s not found in type", &field); n == 1 {
			rest = fmt.Sprintf("unknown key %q", field)
		}
		return errorf(line, "%s", rest)
	}
	return errorf(0, "%s", msg)
}

// checkNode refuses aliases, anchors, tags and repeated keys (aliases could
// make a small file expand).
func checkNode(n *yaml.Node) error {
	if n.Kind == yaml.AliasNode || n.Anchor != "" {
		return errorf(n.Line, "anchors and aliases are not allowed")
	}
	if n.Tag != "" && n.Style&yaml.TaggedStyle != 0 {
		return errorf(n.Line, "explicit tags are not allowed")
	}
	if n.Kind == yaml.MappingNode {
		seen := map[string]bool{}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := n.Content[i].Value
			if seen[k] {
				return errorf(n.Content[i].Line, "key %q appears twice", k)
			}
			seen[k] = true
		}
	}
	for _, c := range n.Content {
		if err := checkNode(c); err != nil {
			return err
		}
	}
	return nil
}
