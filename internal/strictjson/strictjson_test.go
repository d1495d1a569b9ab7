package strictjson_test

import (
	"strings"
	"testing"

	"github.com/mandate-dev/mandate/internal/strictjson"
)

func TestDecode(t *testing.T) {
	deep := strings.Repeat("[", 40) + strings.Repeat("]", 40)
	cases := []struct {
		name, in, wantErr string
	}{
		{"ok", `{"a":[1,{"b":2}]}`, ""},
		{"duplicate key", `{"a":1,"a":2}`, `strictjson: duplicate key "a"`},
		{"nested duplicate", `{"x":{"a":1,"a":2}}`, `strictjson: duplicate key "a"`},
		{"too deep", deep, "strictjson: nested deeper than 32"},
		{"trailing", `{"a":1} {}`, "strictjson: trailing data after the JSON value"},
		{"too big", `"` + strings.Repeat("x", 100) + `"`, "strictjson: document is 102 bytes, limit 100"},
		{"truncated", `{"a":`, "strictjson: unexpected end of input"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var v any
			err := strictjson.Decode([]byte(c.in), 100, &v)
			got := ""
			if err != nil {
				got = err.Error()
			}
			if got != c.wantErr {
				t.Fatalf("Decode(%s) error = %q, want %q", c.name, got, c.wantErr)
			}
		})
	}
}
