package strictjson_test

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mandate-dev/mandate/internal/strictjson"
)

// FuzzDecode: whatever Check accepts is valid JSON that encoding/json reads
// without error, holds no duplicate key and no nesting past MaxDepth; its
// re-encoding is accepted too and decodes to the same value. Every refusal
// is a "strictjson: " error.
func FuzzDecode(f *testing.F) {
	for _, s := range []string{`{"a":[1,{"b":2}]}`, `{"a":1,"a":2}`, `{"x":{"a":1,"a":2}}`, `{"a":1} {}`,
		strings.Repeat("[", 33) + strings.Repeat("]", 33), `{"a":"\u0061","\u0061":1}`, `{"a":1e400}`, `"\ud800"`} {
		f.Add([]byte(s))
	}
	files, _ := filepath.Glob("../../../shared/vectors/negative/*/*.json")
	for _, p := range files {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var v any
		err := strictjson.Decode(data, 1<<20, &v)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "strictjson: ") {
				t.Fatalf("error %q has no package prefix", err)
			}
			return
		}
		if !json.Valid(data) {
			t.Fatalf("accepted invalid JSON %q", data)
		}
		if d := depth(v); d > strictjson.MaxDepth {
			t.Fatalf("accepted nesting %d", d)
		}
		if dup := duplicate(t, data); dup != "" {
			t.Fatalf("accepted duplicate key %q in %q", dup, data)
		}
		enc, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		var again any
		if err := strictjson.Decode(enc, 1<<20, &again); err != nil {
			t.Fatalf("re-encoding %s refused: %v", enc, err)
		}
		if enc2, _ := json.Marshal(again); !bytes.Equal(enc, enc2) {
			t.Fatalf("value changed on re-encoding: %s, %s", enc, enc2)
		}
	})
}

func depth(v any) int {
	d := 0
	switch x := v.(type) {
	case map[string]any:
		for _, e := range x {
			d = max(d, depth(e))
		}
		return d + 1
	case []any:
		for _, e := range x {
			d = max(d, depth(e))
		}
		return d + 1
	}
	return 0
}

// duplicate finds a repeated key in any object of data, independently of
// Check: it decodes each object into ordered key/value pairs.
func duplicate(t *testing.T, data []byte) string {
	var raw json.RawMessage = data
	return dupIn(t, raw)
}

func dupIn(t *testing.T, raw json.RawMessage) string {
	raw = bytes.TrimSpace(raw)
	switch {
	case len(raw) > 0 && raw[0] == '[':
		var list []json.RawMessage
		if err := json.Unmarshal(raw, &list); err != nil {
			t.Fatal(err)
		}
		for _, e := range list {
			if d := dupIn(t, e); d != "" {
				return d
			}
		}
	case len(raw) > 0 && raw[0] == '{':
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.Token() // {
		seen := map[string]bool{}
		for dec.More() {
			k, _ := dec.Token()
			key := k.(string)
			if seen[key] {
				return key
			}
			seen[key] = true
			var e json.RawMessage
			if err := dec.Decode(&e); err != nil {
				t.Fatal(err)
			}
			if d := dupIn(t, e); d != "" {
				return d
			}
		}
	}
	return ""
}
