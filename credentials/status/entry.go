package status

import (
	"encoding/json"
	"fmt"
	"math"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// Limits on the members of entries and list credentials.
const (
	maxURLBytes     = 2048
	maxPurposeBytes = 64
	maxMessageBytes = 1024
	maxReferences   = 16
)

// entryMembers are the members each entry type defines. StatusList2021
// has no statusSize, statusMessage or statusReference.
var entryMembers = map[string][]string{
	TypeBitstringEntry: {"id", "type", "statusPurpose", "statusListIndex", "statusListCredential", "statusSize", "statusMessage", "statusReference"},
	TypeSL2021Entry:    {"id", "type", "statusPurpose", "statusListIndex", "statusListCredential"},
}

// ParseEntry reads one credentialStatus entry, decoded from JSON, of type
// BitstringStatusListEntry or StatusList2021Entry.
func ParseEntry(v any) (Entry, error) {
	e, err := parseEntry(v)
	if err != nil {
		return Entry{}, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	return e, nil
}

// ParseEntries reads a credentialStatus member: one entry or an array of
// 1..MaxEntries entries.
func ParseEntries(v any) ([]Entry, error) {
	switch t := v.(type) {
	case map[string]any:
		e, err := ParseEntry(t)
		if err != nil {
			return nil, err
		}
		return []Entry{e}, nil
	case []any:
		if len(t) == 0 || len(t) > MaxEntries {
			return nil, fmt.Errorf("%w: credentialStatus has %d entries, want 1..%d", ErrMalformed, len(t), MaxEntries)
		}
		out := make([]Entry, 0, len(t))
		for i, x := range t {
			e, err := parseEntry(x)
			if err != nil {
				return nil, fmt.Errorf("%w: credentialStatus[%d]: %w", ErrMalformed, i, err)
			}
			out = append(out, e)
		}
		return out, nil
	}
	return nil, fmt.Errorf("%w: credentialStatus is %s, want an object or an array of objects", ErrMalformed, jsonKind(v))
}

// MessageFor returns the statusMessage of status value v. Without a
// statusMessage array a one-bit entry reads "unset" and "set", as the spec
// says.
func (e Entry) MessageFor(v uint64) (string, bool) {
	if len(e.Messages) == 0 {
		if e.StatusSize <= 1 && v <= 1 {
			return [...]string{"unset", "set"}[v], true
		}
		return "", false
	}
	for _, m := range e.Messages {
		if n, err := parseStatusValue(m.Status); err == nil && n == v {
			return m.Message, true
		}
	}
	return "", false
}

func parseEntry(v any) (Entry, error) {
	m, ok := v.(map[string]any)
	if !ok {
		return Entry{}, fmt.Errorf("status entry is %s, want an object", jsonKind(v))
	}
	typ, err := requiredString(m, "type")
	if err != nil {
		return Entry{}, err
	}
	allowed, ok := entryMembers[typ]
	if !ok {
		return Entry{}, fmt.Errorf("status entry type %.64q is neither %s nor %s", typ, TypeBitstringEntry, TypeSL2021Entry)
	}
	if err := onlyMembers(m, allowed, typ); err != nil {
		return Entry{}, err
	}
	if err := requireMembers(m, "statusPurpose", "statusListIndex", "statusListCredential"); err != nil {
		return Entry{}, err
	}
	e := Entry{Type: typ, StatusSize: 1}
	if e.Purpose, err = parsePurpose(m["statusPurpose"], "statusPurpose"); err != nil {
		return Entry{}, err
	}
	if e.Index, err = parseIndex(m["statusListIndex"]); err != nil {
		return Entry{}, err
	}
	if e.ListURL, err = parseHTTPURL(m["statusListCredential"], "statusListCredential"); err != nil {
		return Entry{}, err
	}
	if err := parseEntryID(m, &e); err != nil {
		return Entry{}, err
	}
	if err := parseEntrySize(m, &e); err != nil {
		return Entry{}, err
	}
	if ref, ok := m["statusReference"]; ok {
		if err := parseReference(ref); err != nil {
			return Entry{}, err
		}
	}
	return e, nil
}

// parseEntryID reads the optional id, which the spec forbids to be the
// list's own URL.
func parseEntryID(m map[string]any, e *Entry) error {
	v, ok := m["id"]
	if !ok {
		return nil
	}
	id, err := parseURI(v, "id")
	if err != nil {
		return err
	}
	if id == e.ListURL {
		return fmt.Errorf("id %q must not be the statusListCredential URL", id)
	}
	e.ID = id
	return nil
}

// parseEntrySize reads statusSize and statusMessage together: a size above
// one needs one message per possible value.
func parseEntrySize(m map[string]any, e *Entry) error {
	if v, ok := m["statusSize"]; ok {
		size, err := parseSize(v, "statusSize")
		if err != nil {
			return err
		}
		if size != 1 && (e.Purpose == Revocation || e.Purpose == Suspension) {
			return fmt.Errorf("statusSize is %d, but a %s entry is one bit", size, e.Purpose)
		}
		e.StatusSize = size
	}
	if e.Index >= MaxBits/e.StatusSize {
		return fmt.Errorf("statusListIndex %d with statusSize %d points past the largest list allowed (%d bits)", e.Index, e.StatusSize, MaxBits)
	}
	v, ok := m["statusMessage"]
	if !ok {
		if e.StatusSize > 1 {
			return fmt.Errorf("statusMessage is required when statusSize is %d", e.StatusSize)
		}
		return nil
	}
	msgs, err := parseMessages(v, e.StatusSize, "statusMessage")
	if err != nil {
		return err
	}
	e.Messages = msgs
	return nil
}

// parseIndex reads statusListIndex: decimal digits in a string, in the
// one spelling only (no sign, no leading zero), below MaxBits.
func parseIndex(v any) (int, error) {
	s, ok := v.(string)
	if !ok {
		return 0, fmt.Errorf("statusListIndex is %s, want a string of decimal digits", jsonKind(v))
	}
	if s == "" {
		return 0, fmt.Errorf("statusListIndex is empty")
	}
	for i := range len(s) {
		if s[i] < '0' || s[i] > '9' {
			return 0, fmt.Errorf("statusListIndex %.24q is not a string of decimal digits", s)
		}
	}
	if len(s) > 1 && s[0] == '0' {
		return 0, fmt.Errorf("statusListIndex %.24q has a leading zero", s)
	}
	n, err := strconv.Atoi(s)
	if err != nil || n >= MaxBits {
		return 0, fmt.Errorf("statusListIndex %.24q is not below the largest list allowed (%d bits)", s, MaxBits)
	}
	return n, nil
}

// parseSize reads a statusSize: an integer in 1..MaxStatusSize.
func parseSize(v any, name string) (int, error) {
	n, ok := intValue(v)
	if !ok || n < 1 || n > MaxStatusSize {
		return 0, fmt.Errorf("%s must be an integer in 1..%d, not %s", name, MaxStatusSize, describe(v))
	}
	return int(n), nil
}

// parseMessages reads a statusMessage array. The spec: its length "MUST
// equal the number of possible status messages indicated by statusSize"
// (2 for 1 bit, 4 for 2 bits...), and each element has a status ("0x"
// and hexadecimal) and a message, and MAY have more members. Each value
// must be named once, so that no value has two messages.
func parseMessages(v any, size int, name string) ([]StatusMessage, error) {
	list, ok := v.([]any)
	if !ok {
		return nil, fmt.Errorf("%s is %s, want an array", name, jsonKind(v))
	}
	want := 1 << size
	if len(list) != want {
		return nil, fmt.Errorf("%s has %d messages, but statusSize %d needs exactly %d, one per possible value", name, len(list), size, want)
	}
	seen := make([]bool, want)
	out := make([]StatusMessage, 0, want)
	for i, x := range list {
		m, ok := x.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("%s[%d] is %s, want an object", name, i, jsonKind(x))
		}
		st, err := requiredString(m, "status")
		if err != nil {
			return nil, fmt.Errorf("%s[%d]: %w", name, i, err)
		}
		val, err := parseStatusValue(st)
		if err != nil || val >= uint64(want) {
			return nil, fmt.Errorf("%s[%d]: status %.24q is not a value of %d bits written 0x and hexadecimal", name, i, st, size)
		}
		if seen[val] {
			return nil, fmt.Errorf("%s[%d]: status %s is named twice", name, i, st)
		}
		seen[val] = true
		msg, err := requiredString(m, "message")
		if err != nil {
			return nil, fmt.Errorf("%s[%d]: %w", name, i, err)
		}
		if len(msg) > maxMessageBytes {
			return nil, fmt.Errorf("%s[%d]: message is longer than %d bytes", name, i, maxMessageBytes)
		}
		out = append(out, StatusMessage{Status: st, Message: msg})
	}
	return out, nil
}

// parseStatusValue reads "0x" and 1 to 16 hexadecimal digits.
func parseStatusValue(s string) (uint64, error) {
	hex, ok := strings.CutPrefix(s, "0x")
	if !ok || hex == "" || len(hex) > 16 {
		return 0, fmt.Errorf("status %.24q is not 0x and hexadecimal digits", s)
	}
	return strconv.ParseUint(hex, 16, 64) // base 16: no sign, no prefix, no underscores
}

// parseReference reads statusReference: a URL or an array of URLs.
func parseReference(v any) error {
	if list, ok := v.([]any); ok {
		if len(list) == 0 || len(list) > maxReferences {
			return fmt.Errorf("statusReference has %d URLs, want 1..%d", len(list), maxReferences)
		}
		for i, x := range list {
			if _, err := parseURI(x, fmt.Sprintf("statusReference[%d]", i)); err != nil {
				return err
			}
		}
		return nil
	}
	_, err := parseURI(v, "statusReference")
	return err
}

// parsePurpose reads one statusPurpose. The spec lets the value be any
// string; Mandate keeps it to a short printable token, and leaves the
// caller to refuse a purpose it cannot act on.
func parsePurpose(v any, name string) (Purpose, error) {
	s, ok := v.(string)
	if !ok {
		return "", fmt.Errorf("%s is %s, want a string", name, jsonKind(v))
	}
	if s == "" || len(s) > maxPurposeBytes {
		return "", fmt.Errorf("%s must be 1..%d bytes long", name, maxPurposeBytes)
	}
	for i := range len(s) {
		if s[i] <= ' ' || s[i] > '~' {
			return "", fmt.Errorf("%s %.24q has a byte that is not printable ASCII", name, s)
		}
	}
	return Purpose(s), nil
}

// parseHTTPURL reads the URL of a status list: absolute http or https,
// with a host, and neither user information nor a fragment (the list is
// the whole document).
func parseHTTPURL(v any, name string) (string, error) {
	s, err := parseURI(v, name)
	if err != nil {
		return "", err
	}
	u, _ := url.Parse(s) // parseURI parsed it already
	switch {
	case u.Scheme != "https" && u.Scheme != "http":
		return "", fmt.Errorf("%s %.80q is not an http or https URL", name, s)
	case u.Opaque != "" || u.Hostname() == "":
		return "", fmt.Errorf("%s %.80q has no host", name, s)
	case u.User != nil:
		return "", fmt.Errorf("%s %.80q carries user information", name, s)
	case strings.Contains(s, "#"):
		return "", fmt.Errorf("%s %.80q has a fragment", name, s)
	}
	return s, nil
}

// parseURI reads an absolute URI (a URL or a DID) of printable ASCII,
// at most maxURLBytes long.
func parseURI(v any, name string) (string, error) {
	s, ok := v.(string)
	if !ok {
		return "", fmt.Errorf("%s is %s, want a URL string", name, jsonKind(v))
	}
	if s == "" || len(s) > maxURLBytes {
		return "", fmt.Errorf("%s must be 1..%d bytes long, not %d", name, maxURLBytes, len(s))
	}
	for i := range len(s) {
		if s[i] <= ' ' || s[i] > '~' {
			return "", fmt.Errorf("%s %.80q has a space, control or non-ASCII byte", name, s)
		}
	}
	u, err := url.Parse(s)
	if err != nil {
		return "", fmt.Errorf("%s %.80q is not a URL: %w", name, s, err)
	}
	if u.Scheme == "" {
		return "", fmt.Errorf("%s %.80q is not an absolute URL", name, s)
	}
	return s, nil
}

// requiredString returns member key of m, which must be a string.
func requiredString(m map[string]any, key string) (string, error) {
	v, ok := m[key]
	if !ok {
		return "", fmt.Errorf("%s is missing", key)
	}
	s, ok := v.(string)
	if !ok {
		return "", fmt.Errorf("%s is %s, want a string", key, jsonKind(v))
	}
	return s, nil
}

// requireMembers names the first of keys missing from m.
func requireMembers(m map[string]any, keys ...string) error {
	for _, k := range keys {
		if _, ok := m[k]; !ok {
			return fmt.Errorf("%s is missing", k)
		}
	}
	return nil
}

// onlyMembers refuses a member of m not in allowed: a member Mandate does
// not know might change the meaning of the entry for another reader.
func onlyMembers(m map[string]any, allowed []string, what string) error {
	var unknown []string
	for k := range m {
		if !slices.Contains(allowed, k) {
			unknown = append(unknown, k)
		}
	}
	if len(unknown) == 0 {
		return nil
	}
	slices.Sort(unknown)
	return fmt.Errorf("unknown member %.64q in %s", unknown[0], what)
}

// intValue returns v as an integer if it is a JSON number with no
// fractional part (float64 from encoding/json, json.Number with UseNumber,
// or an int from a map built in Go).
func intValue(v any) (int64, bool) {
	switch n := v.(type) {
	case int:
		return int64(n), true
	case int64:
		return n, true
	case json.Number:
		if i, err := n.Int64(); err == nil {
			return i, true
		}
		f, err := n.Float64()
		if err != nil {
			return 0, false
		}
		return intValue(f)
	case float64:
		if n != math.Trunc(n) || math.Abs(n) > 1<<53 {
			return 0, false
		}
		return int64(n), true
	}
	return 0, false
}

// jsonKind names the JSON type of a decoded value, for error messages.
func jsonKind(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case string:
		return "a string"
	case float64, json.Number, int, int64:
		return "a number"
	case bool:
		return "a boolean"
	case []any:
		return "an array"
	case map[string]any:
		return "an object"
	}
	return fmt.Sprintf("a %T", v)
}

// describe shows a scalar's value, or the kind of anything larger.
func describe(v any) string {
	switch n := v.(type) {
	case string:
		return fmt.Sprintf("the string %.24q", n)
	case float64:
		if math.Abs(n) < 1e21 {
			return strconv.FormatFloat(n, 'f', -1, 64)
		}
		return strconv.FormatFloat(n, 'g', -1, 64)
	case json.Number, int, int64, bool:
		return fmt.Sprintf("%.24v", n)
	}
	return jsonKind(v)
}
