package strictjson

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
)

// DecodeExact decodes b into v (a pointer to a struct, or to a slice of
// them) and refuses members the struct does not name exactly. encoding/json
// matches member names case-insensitively, with Unicode folding, so
// "Purpose" or "purpoſe" (long s) would fill the purpose field while a JSON-LD
// processor, and so the signature, sees another term: one document, two
// meanings.
func DecodeExact(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	var raw any
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	return exactNames(raw, reflect.TypeOf(v), "")
}

var unmarshaler = reflect.TypeFor[json.Unmarshaler]()

func exactNames(raw any, t reflect.Type, path string) error {
	for t.Kind() == reflect.Pointer {
		if t.Implements(unmarshaler) {
			return nil
		}
		t = t.Elem()
	}
	if reflect.PointerTo(t).Implements(unmarshaler) {
		return nil
	}
	switch t.Kind() {
	case reflect.Slice, reflect.Array:
		list, _ := raw.([]any)
		for i, e := range list {
			if err := exactNames(e, t.Elem(), fmt.Sprintf("%s[%d]", path, i)); err != nil {
				return err
			}
		}
	case reflect.Struct:
		obj, _ := raw.(map[string]any)
		fields := fieldTypes(t)
		for k, e := range obj {
			ft, ok := fields[k]
			if !ok {
				return fmt.Errorf("strictjson: member %q of %s is not a field name (names are case-sensitive)", k, orRoot(path))
			}
			if err := exactNames(e, ft, path+"/"+k); err != nil {
				return err
			}
		}
	}
	return nil
}

// fieldTypes maps a struct's JSON member names to their field types.
func fieldTypes(t reflect.Type) map[string]reflect.Type {
	out := map[string]reflect.Type{}
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		switch name {
		case "-":
			continue
		case "":
			name = f.Name
		}
		out[name] = f.Type
	}
	return out
}

func orRoot(path string) string {
	if path == "" {
		return "the object"
	}
	return path
}
