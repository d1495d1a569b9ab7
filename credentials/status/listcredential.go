package status

import (
	"fmt"
	"slices"
	"time"
)

// The base contexts that tell a VC 2.0 credential from a VC 1.1 one.
const (
	contextV2 = "https://www.w3.org/ns/credentials/v2"
	contextV1 = "https://www.w3.org/2018/credentials/v1"
)

const (
	// maxTTL bounds credentialSubject.ttl: a list cached for longer than a
	// year is not a status list any more.
	maxTTL      = 366 * 24 * time.Hour
	maxTypes    = 16
	maxPurposes = 16
	maxTimeLen  = 64
)

// subjectMembers are the members each list type defines. A Bitstring list
// with purpose "message" also states its statusSize and statusMessages.
var subjectMembers = map[string][]string{
	TypeBitstringCredential: {"id", "type", "statusPurpose", "encodedList", "ttl", "statusSize", "statusMessages"},
	TypeSL2021Credential:    {"id", "type", "statusPurpose", "encodedList"},
}

// listTypes pairs each list credential type with its subject's type and
// the entry type that points to it.
var listTypes = map[string]struct{ subject, entry string }{
	TypeBitstringCredential: {TypeBitstringList, TypeBitstringEntry},
	TypeSL2021Credential:    {TypeSL2021List, TypeSL2021Entry},
}

// ParseListCredential reads a BitstringStatusListCredential or a
// StatusList2021Credential, decoded from JSON. It checks the shape only: the
// caller verifies the proof, the issuer and the validity period.
//
// Dates follow the data model named by the first @context: validFrom and
// validUntil for VC 2.0; issuanceDate and expirationDate for VC 1.1, where
// "issued" (the VC 1.1 vocabulary's time of issue, which the StatusList2021
// examples use instead of issuanceDate) also counts. A list is not valid
// before it was issued, so ValidFrom is the later of the two when both are
// present. A member of the other data model is refused rather than ignored,
// so that no expiry goes unread.
func ParseListCredential(m map[string]any) (*ListCredential, error) {
	lc, err := parseListCredential(m)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	return lc, nil
}

func parseListCredential(m map[string]any) (*ListCredential, error) {
	if m == nil {
		return nil, fmt.Errorf("list credential is null")
	}
	v1, err := dataModel(m["@context"])
	if err != nil {
		return nil, err
	}
	if err := requireMembers(m, "type", "issuer", "credentialSubject"); err != nil {
		return nil, err
	}
	lc := &ListCredential{Raw: m}
	if lc.Type, err = listType(m["type"]); err != nil {
		return nil, err
	}
	if v, ok := m["id"]; ok {
		if lc.ID, err = parseURI(v, "id"); err != nil {
			return nil, err
		}
	}
	if lc.Issuer, err = parseIssuer(m["issuer"]); err != nil {
		return nil, err
	}
	if err := parseValidity(m, v1, lc); err != nil {
		return nil, err
	}
	if err := parseSubject(m["credentialSubject"], lc); err != nil {
		return nil, err
	}
	return lc, nil
}

// Status returns the value of entry e in the list, after checking that e
// points to this list, that the list serves e's purpose, and that the list
// holds at least MinBits entries of e's size (the spec's
// STATUS_LIST_LENGTH_ERROR).
func (lc *ListCredential) Status(e Entry) (uint64, error) {
	if lc == nil || lc.Bits == nil {
		return 0, fmt.Errorf("%w: list credential has no list", ErrMalformed)
	}
	if lc.ID == "" || e.ListURL != lc.ID {
		return 0, fmt.Errorf("%w: entry points to list %.200q, but the list credential's id is %.200q", ErrMalformed, e.ListURL, lc.ID)
	}
	if t, ok := listTypes[lc.Type]; !ok || t.entry != e.Type {
		return 0, fmt.Errorf("%w: a %.64q entry cannot be read from a %s", ErrMalformed, e.Type, lc.Type)
	}
	if !slices.Contains(lc.Purposes, e.Purpose) {
		return 0, fmt.Errorf("%w: entry purpose %q is not among the list's purposes %q", ErrPurposeMismatch, e.Purpose, lc.Purposes)
	}
	if e.StatusSize >= 1 && lc.Bits.Len()/e.StatusSize < MinBits {
		return 0, fmt.Errorf("%w: list of %d bits holds %d entries of %d bits, fewer than the minimum %d",
			ErrMalformed, lc.Bits.Len(), lc.Bits.Len()/e.StatusSize, e.StatusSize, MinBits)
	}
	return lc.Bits.Get(e.Index, e.StatusSize)
}

// dataModel reports whether @context names VC 1.1 (true) or VC 2.0 (false)
// as its first, base context.
func dataModel(v any) (bool, error) {
	var first any
	switch c := v.(type) {
	case nil:
		return false, fmt.Errorf("@context is missing")
	case string:
		first = c
	case []any:
		if len(c) > 0 {
			first = c[0]
		}
	case []string:
		if len(c) > 0 {
			first = c[0]
		}
	}
	switch first {
	case contextV2:
		return false, nil
	case contextV1:
		return true, nil
	}
	return false, fmt.Errorf("@context must begin with %s or %s", contextV2, contextV1)
}

// listType returns which list credential type m is; it must also be a
// VerifiableCredential.
func listType(v any) (string, error) {
	types, ok := stringList(v)
	if !ok || len(types) == 0 || len(types) > maxTypes {
		return "", fmt.Errorf("type must be an array of 1..%d strings", maxTypes)
	}
	if !slices.Contains(types, "VerifiableCredential") {
		return "", fmt.Errorf("type lacks VerifiableCredential")
	}
	var found []string
	for _, t := range []string{TypeBitstringCredential, TypeSL2021Credential} {
		if slices.Contains(types, t) {
			found = append(found, t)
		}
	}
	if len(found) != 1 {
		return "", fmt.Errorf("type must contain exactly one of %s and %s", TypeBitstringCredential, TypeSL2021Credential)
	}
	return found[0], nil
}

// parseIssuer reads issuer: a URL, or an object whose id is one.
func parseIssuer(v any) (string, error) {
	switch t := v.(type) {
	case map[string]any:
		id, ok := t["id"]
		if !ok {
			return "", fmt.Errorf("issuer object has no id")
		}
		return parseURI(id, "issuer.id")
	}
	return parseURI(v, "issuer")
}

// parseValidity fills ValidFrom and ValidUntil from the members of the
// list's data model.
func parseValidity(m map[string]any, v1 bool, lc *ListCredential) error {
	fromKey, untilKey, foreign := "validFrom", "validUntil", []string{"issuanceDate", "issued", "expirationDate"}
	if v1 {
		fromKey, untilKey, foreign = "issuanceDate", "expirationDate", []string{"validFrom", "validUntil"}
	}
	for _, k := range foreign {
		if _, ok := m[k]; ok {
			return fmt.Errorf("%s does not belong to the data model of the list's @context", k)
		}
	}
	from, hasFrom, err := optionalTime(m, fromKey)
	if err != nil {
		return err
	}
	if v1 {
		issued, hasIssued, err := optionalTime(m, "issued")
		if err != nil {
			return err
		}
		if !hasFrom && !hasIssued {
			return fmt.Errorf("a VC 1.1 list credential needs issuanceDate (or issued)")
		}
		if issued.After(from) {
			from = issued
		}
	}
	lc.ValidFrom = from
	until, hasUntil, err := optionalTime(m, untilKey)
	if err != nil || !hasUntil {
		return err
	}
	if until.Before(from) {
		return fmt.Errorf("%s %s is before the list is valid from %s", untilKey, until.Format(time.RFC3339), from.Format(time.RFC3339))
	}
	lc.ValidUntil = &until
	return nil
}

// optionalTime reads member key as an RFC 3339 date-time with a zone.
func optionalTime(m map[string]any, key string) (time.Time, bool, error) {
	v, ok := m[key]
	if !ok {
		return time.Time{}, false, nil
	}
	s, ok := v.(string)
	if !ok {
		return time.Time{}, false, fmt.Errorf("%s is %s, want a date-time string", key, jsonKind(v))
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil || len(s) > maxTimeLen {
		return time.Time{}, false, fmt.Errorf("%s %.40q is not an RFC 3339 date-time with a time zone", key, s)
	}
	return t, true, nil
}

// parseSubject reads credentialSubject: the list itself.
func parseSubject(v any, lc *ListCredential) error {
	m, ok := v.(map[string]any)
	if !ok {
		return fmt.Errorf("credentialSubject is %s, want one object", jsonKind(v))
	}
	if err := onlyMembers(m, subjectMembers[lc.Type], "credentialSubject"); err != nil {
		return err
	}
	if err := requireMembers(m, "type", "statusPurpose", "encodedList"); err != nil {
		return fmt.Errorf("credentialSubject.%w", err)
	}
	typ, err := requiredString(m, "type")
	if err != nil {
		return fmt.Errorf("credentialSubject.%w", err)
	}
	if want := listTypes[lc.Type].subject; typ != want {
		return fmt.Errorf("credentialSubject.type of a %s must be %s, not %.64q", lc.Type, want, typ)
	}
	if id, ok := m["id"]; ok {
		if lc.SubjectID, err = parseURI(id, "credentialSubject.id"); err != nil {
			return err
		}
	}
	if lc.Purposes, err = parsePurposes(m["statusPurpose"], lc.Type == TypeBitstringCredential); err != nil {
		return err
	}
	if lc.Bits, err = parseEncodedList(m["encodedList"], lc.Type); err != nil {
		return err
	}
	if lc.TTL, err = parseTTL(m); err != nil {
		return err
	}
	return parseListMessages(m, lc.Purposes)
}

// parsePurposes reads credentialSubject.statusPurpose: a string, or for a
// Bitstring list also an array of distinct strings.
func parsePurposes(v any, arrays bool) ([]Purpose, error) {
	const name = "credentialSubject.statusPurpose"
	list, isList := v.([]any)
	if !isList {
		p, err := parsePurpose(v, name)
		if err != nil {
			return nil, err
		}
		return []Purpose{p}, nil
	}
	if !arrays {
		return nil, fmt.Errorf("%s of a StatusList2021 must be one string", name)
	}
	if len(list) == 0 || len(list) > maxPurposes {
		return nil, fmt.Errorf("%s has %d purposes, want 1..%d", name, len(list), maxPurposes)
	}
	out := make([]Purpose, 0, len(list))
	for i, x := range list {
		p, err := parsePurpose(x, fmt.Sprintf("%s[%d]", name, i))
		if err != nil {
			return nil, err
		}
		if slices.Contains(out, p) {
			return nil, fmt.Errorf("%s names %q twice", name, p)
		}
		out = append(out, p)
	}
	return out, nil
}

// parseEncodedList decodes encodedList with the encoding of the list type.
func parseEncodedList(v any, credType string) (*Bitstring, error) {
	s, ok := v.(string)
	if !ok {
		return nil, fmt.Errorf("credentialSubject.encodedList is %s, want a string", jsonKind(v))
	}
	decode := decodeMultibase
	if credType == TypeSL2021Credential {
		decode = decodeBase64Gzip
	}
	b, err := decode(s)
	if err != nil {
		return nil, fmt.Errorf("credentialSubject.encodedList: %w", err)
	}
	return b, nil
}

// parseTTL reads the optional ttl, in milliseconds.
func parseTTL(m map[string]any) (time.Duration, error) {
	v, ok := m["ttl"]
	if !ok {
		return 0, nil
	}
	ms, ok := intValue(v)
	if !ok || ms < 0 || ms > maxTTL.Milliseconds() {
		return 0, fmt.Errorf("credentialSubject.ttl must be an integer number of milliseconds in 0..%d, not %s", maxTTL.Milliseconds(), describe(v))
	}
	return time.Duration(ms) * time.Millisecond, nil
}

// parseListMessages checks statusSize and statusMessages of the subject.
// The spec requires both when the list serves the message purpose; they
// are checked, not kept: each entry states its own size and messages, and
// Status reads an entry with the entry's size, as the spec's algorithm does.
func parseListMessages(m map[string]any, purposes []Purpose) error {
	rawSize, hasSize := m["statusSize"]
	rawMsgs, hasMsgs := m["statusMessages"]
	if slices.Contains(purposes, Message) && (!hasSize || !hasMsgs) {
		return fmt.Errorf("a list with statusPurpose message needs credentialSubject.statusSize and statusMessages")
	}
	size := 1
	if hasSize {
		var err error
		if size, err = parseSize(rawSize, "credentialSubject.statusSize"); err != nil {
			return err
		}
	}
	if hasMsgs {
		_, err := parseMessages(rawMsgs, size, "credentialSubject.statusMessages")
		return err
	}
	return nil
}

// stringList returns v as strings if it is a string or an array of them.
func stringList(v any) ([]string, bool) {
	switch t := v.(type) {
	case string:
		return []string{t}, true
	case []string:
		return t, true
	case []any:
		out := make([]string, 0, len(t))
		for _, x := range t {
			s, ok := x.(string)
			if !ok {
				return nil, false
			}
			out = append(out, s)
		}
		return out, true
	}
	return nil, false
}
