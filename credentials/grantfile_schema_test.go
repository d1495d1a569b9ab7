package credentials_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/mandate-dev/mandate/credentials"
	"github.com/mandate-dev/mandate/did"
)

const (
	// grantFileAgent is the did:key example of the did:key specification.
	grantFileAgent   = "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbh8Kq4d4x8H"
	exampleGrantsDir = "../examples/grants"
	grantFileSchema  = "../docs/grant-file.schema.json"
)

// TestExampleGrantFiles: every shipped grant file parses, templates and
// issues, so the examples in the README and SPEC never rot.
func TestExampleGrantFiles(t *testing.T) {
	if _, err := did.ParseKey(grantFileAgent); err != nil {
		t.Fatalf("test DID is not a did:key: %v", err)
	}
	files, err := filepath.Glob(filepath.Join(exampleGrantsDir, "*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatalf("no grant files in %s", exampleGrantsDir)
	}
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			data, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			f, err := credentials.ParseGrantFile(data)
			if err != nil {
				t.Fatalf("ParseGrantFile: %v", err)
			}
			tmpl, err := f.Template(grantFileAgent)
			if err != nil {
				t.Fatalf("Template: %v", err)
			}
			if tmpl.Subject != grantFileAgent {
				t.Errorf("Subject = %q, want %q", tmpl.Subject, grantFileAgent)
			}
			if _, err := credentials.Issue(alice, tmpl, opts); err != nil {
				t.Errorf("Issue: %v", err)
			}
		})
	}
}

// TestGrantFileUnknownKey: a misspelt key is an error that names its line,
// at any level, never a silently dropped limit.
func TestGrantFileUnknownKey(t *testing.T) {
	const grant = "purpose: p\ngrants:\n  - id: a\n    action: email:read\n    resource: x\n"
	cases := []struct {
		name, file, want string
	}{
		{"top level", "purpose: p\ngrnats: []\n",
			"credentials: grant file: yaml: unmarshal errors:\n  line 2: field grnats not found in type credentials.GrantFile"},
		{"constraints", grant + "    constraints:\n      maxUse: 3\n",
			"credentials: grant file: yaml: unmarshal errors:\n  line 7: field maxUse not found in type credentials.Constraints"},
		{"delegation", grant + "delegation:\n  allowed: false\n  maxdepth: 0\n",
			"credentials: grant file: yaml: unmarshal errors:\n  line 8: field maxdepth not found in type credentials.Delegation"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := credentials.ParseGrantFile([]byte(c.file))
			if err == nil || err.Error() != c.want {
				t.Fatalf("err = %v, want %q", err, c.want)
			}
		})
	}
}

// TestGrantFileSchema: docs/grant-file.schema.json is valid JSON and names
// exactly the keys the parser knows, object by object, and refuses others.
func TestGrantFileSchema(t *testing.T) {
	data, err := os.ReadFile(grantFileSchema)
	if err != nil {
		t.Fatal(err)
	}
	var schema map[string]any
	if err := json.Unmarshal(data, &schema); err != nil {
		t.Fatalf("schema is not valid JSON: %v", err)
	}
	if got := schema["$schema"]; got != "https://json-schema.org/draft/2020-12/schema" {
		t.Errorf("$schema = %v, want draft 2020-12", got)
	}
	defs, _ := schema["$defs"].(map[string]any)
	objects := []struct {
		name   string
		schema any
		typ    any
	}{
		{"top level", schema, credentials.GrantFile{}},
		{"grant", defs["grant"], credentials.GrantFileItem{}},
		{"constraints", defs["constraints"], credentials.Constraints{}},
		{"rate", defs["rate"], credentials.Rate{}},
		{"forbidden", defs["forbidden"], credentials.Forbidden{}},
		{"delegation", defs["delegation"], credentials.Delegation{}},
	}
	for _, o := range objects {
		t.Run(o.name, func(t *testing.T) {
			obj, _ := o.schema.(map[string]any)
			props, _ := obj["properties"].(map[string]any)
			got := sortedKeys(props)
			if want := yamlKeys(reflect.TypeOf(o.typ)); !slices.Equal(got, want) {
				t.Errorf("properties = %q, want the yaml keys %q", got, want)
			}
		})
	}
	checkClosed(t, "#", schema)
}

// yamlKeys lists the keys yaml.v3 decodes into struct type typ.
func yamlKeys(typ reflect.Type) []string {
	var keys []string
	for i := range typ.NumField() {
		f := typ.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		switch {
		case name == "-" || !f.IsExported():
			continue
		case name == "":
			name = strings.ToLower(f.Name)
		}
		keys = append(keys, name)
	}
	slices.Sort(keys)
	return keys
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// checkClosed fails for any object schema in v ("type": "object") that
// admits unknown members. Applicator subschemas (if/then/else) only narrow
// an object schema, so they carry no type and are not checked.
func checkClosed(t *testing.T, path string, v any) {
	t.Helper()
	switch x := v.(type) {
	case map[string]any:
		if x["type"] == "object" && x["additionalProperties"] != false {
			t.Errorf("%s: an object schema without additionalProperties: false", path)
		}
		for k, e := range x {
			checkClosed(t, path+"/"+k, e)
		}
	case []any:
		for i, e := range x {
			checkClosed(t, path+"/"+strconv.Itoa(i), e)
		}
	}
}
