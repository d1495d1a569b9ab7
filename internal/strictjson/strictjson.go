// Package strictjson decodes untrusted JSON with limits: a size cap, a
// nesting cap, and no duplicate object keys. Go's encoding/json keeps the
// last of two duplicate keys while other parsers keep the first; a signed
// document must not mean two things to two readers, so duplicates are an error.
package strictjson

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// MaxDepth is the deepest nesting of objects and arrays accepted.
const MaxDepth = 32

// Decode parses data (at most maxBytes long) into v after checking its
// structure.
func Decode(data []byte, maxBytes int, v any) error {
	if len(data) > maxBytes {
		return fmt.Errorf("strictjson: document is %d bytes, limit %d", len(data), maxBytes)
	}
	if err := Check(data); err != nil {
		return err
	}
	if err := json.Unmarshal(data, v); err != nil {
		return fmt.Errorf("strictjson: %w", err)
	}
	return nil
}

// Check walks data token by token and refuses duplicate keys, nesting past
// MaxDepth, and trailing data after the first value.
func Check(data []byte) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if err := walk(dec, 0); err != nil {
		return err
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return errors.New("strictjson: trailing data after the JSON value")
	}
	return nil
}

func walk(dec *json.Decoder, depth int) error {
	tok, err := dec.Token()
	if err != nil {
		return tokenErr(err)
	}
	delim, ok := tok.(json.Delim)
	if !ok {
		return nil
	}
	if depth >= MaxDepth {
		return fmt.Errorf("strictjson: nested deeper than %d", MaxDepth)
	}
	switch delim {
	case '{':
		seen := map[string]bool{}
		for dec.More() {
			kt, err := dec.Token()
			if err != nil {
				return tokenErr(err)
			}
			key, _ := kt.(string)
			if seen[key] {
				return fmt.Errorf("strictjson: duplicate key %q", key)
			}
			seen[key] = true
			if err := walk(dec, depth+1); err != nil {
				return err
			}
		}
	case '[':
		for dec.More() {
			if err := walk(dec, depth+1); err != nil {
				return err
			}
		}
	}
	if _, err := dec.Token(); err != nil { // closing delimiter
		return tokenErr(err)
	}
	return nil
}

func tokenErr(err error) error {
	if errors.Is(err, io.EOF) {
		return errors.New("strictjson: unexpected end of input")
	}
	return fmt.Errorf("strictjson: %w", err)
}

// EqualStrings reports whether a decoded JSON value is an array holding
// exactly the strings want, in order.
func EqualStrings(v any, want []string) bool {
	list, ok := v.([]any)
	if !ok || len(list) != len(want) {
		return false
	}
	for i, e := range list {
		if s, _ := e.(string); s != want[i] {
			return false
		}
	}
	return true
}
