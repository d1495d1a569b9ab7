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

func TestDecodeExact(t *testing.T) {
	type inner struct {
		Action string `json:"action"`
	}
	type outer struct {
		Purpose string  `json:"purpose"`
		Grants  []inner `json:"grants"`
		Skip    string  `json:"-"`
	}
	cases := []struct {
		name, in, wantErr string
	}{
		{"ok", `{"purpose":"p","grants":[{"action":"a"}]}`, ""},
		{"capitalised", `{"Purpose":"p"}`, `strictjson: member "Purpose" of the object is not a field name (names are case-sensitive)`},
		{"long s", `{"purpoſe":"p"}`, `strictjson: member "purpoſe" of the object is not a field name (names are case-sensitive)`},
		{"nested case", `{"grants":[{"action":"a"},{"actioN":"b"}]}`, `strictjson: member "actioN" of /grants[1] is not a field name (names are case-sensitive)`},
		{"unknown", `{"other":1}`, `json: unknown field "other"`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var v outer
			err := strictjson.DecodeExact([]byte(c.in), &v)
			got := ""
			if err != nil {
				got = err.Error()
			}
			if got != c.wantErr {
				t.Fatalf("DecodeExact(%s) error = %q, want %q", c.in, got, c.wantErr)
			}
		})
	}
}
