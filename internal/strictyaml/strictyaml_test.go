package strictyaml_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/mandate-dev/mandate/internal/strictyaml"
)

type file struct {
	Name  string            `yaml:"name"`
	Items map[string]string `yaml:"items"`
}

func TestDecodeRefusals(t *testing.T) {
	cases := []struct{ name, data, want string }{
		{"too large", "name: " + strings.Repeat("x", 100), "file is 106 bytes, limit 64"},
		{"empty", "", "file is empty"},
		{"two documents", "name: a\n---\nname: b\n", "line 2: a test file holds one YAML document"},
		{"a list", "- a\n", "line 1: the test must be a mapping"},
		{"unknown key", "name: a\nbogus: 1\n", `line 2: unknown key "bogus"`},
		{"repeated key", "items:\n  a: x\n  a: y\n", `line 3: key "a" appears twice`},
		{"anchor", "name: &n a\nitems: {b: *n}\n", "line 1: anchors and aliases are not allowed"},
		{"tag", "name: !!str a\n", "line 1: explicit tags are not allowed"},
		{"wrong type", "items: [a]\n", "line 1: cannot unmarshal !!seq into map[string]string"},
		{"syntax", "name: [a\n", "line 1: did not find expected ',' or ']'"},
	}
	for _, c := range cases {
		var f file
		_, err := strictyaml.Decode([]byte(c.data), 64, "test", &f)
		var se *strictyaml.Error
		if !errors.As(err, &se) || err.Error() != c.want {
			t.Errorf("%s: %v, want %s", c.name, err, c.want)
		}
	}
	var f file
	doc, err := strictyaml.Decode([]byte("name: a\nitems: {b: c}\n"), 64, "test", &f)
	if err != nil || f.Name != "a" || f.Items["b"] != "c" || doc == nil || len(doc.Content) != 1 {
		t.Fatalf("%+v %v", f, err)
	}
}
