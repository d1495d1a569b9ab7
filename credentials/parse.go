package credentials

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/mandate-dev/mandate/credentials/scope"
	"github.com/mandate-dev/mandate/internal/strictjson"
)

// Limits on a credential's size and contents.
const (
	MaxCredentialBytes = 64 << 10
	MaxGrants          = 64
	MaxForbidden       = 64
	MaxPurposeBytes    = 1024
	MaxConditions      = 8
	MaxConditionBytes  = 1024
	MaxGrantIDBytes    = 128
	MaxDepthLimit      = 8
	MaxApprovers       = 8
	// MaxChainLinks is the longest chain accepted: a root and MaxDepthLimit children.
	MaxChainLinks = MaxDepthLimit + 1
)

var (
	wantContext = []string{ContextCredentialsV1, ContextEd25519_2020, ContextStatusV1, ContextPoAV1}
	wantType    = []string{"VerifiableCredential", Type}
	// envelopeKeys is the closed list of top-level members.
	envelopeKeys = map[string]bool{
		"@context": true, "id": true, "type": true, "issuer": true, "issuanceDate": true,
		"expirationDate": true, "credentialStatus": true, "credentialSubject": true, "proof": true,
	}
)

// Decode parses untrusted credential bytes into a JSON object, with size,
// depth and duplicate-key checks.
func Decode(data []byte) (map[string]any, error) {
	var m map[string]any
	if err := strictjson.Decode(data, MaxCredentialBytes, &m); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	if m == nil {
		return nil, fmt.Errorf("%w: not a JSON object", ErrMalformed)
	}
	return m, nil
}

// Parse reads a credential's fields from its JSON object and checks its
// shape. It checks no signature: see Verifier.
func Parse(m map[string]any) (*Credential, error) {
	c, err := parse(m)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	return c, nil
}

func parse(m map[string]any) (*Credential, error) {
	for k := range m {
		if !envelopeKeys[k] {
			return nil, fmt.Errorf("member %q is not allowed in a PoA credential", k)
		}
	}
	if !strictjson.EqualStrings(m["@context"], wantContext) {
		return nil, fmt.Errorf("@context must be exactly %q", wantContext)
	}
	if !strictjson.EqualStrings(m["type"], wantType) {
		return nil, fmt.Errorf("type must be exactly %q", wantType)
	}
	c := &Credential{Raw: m}
	var ok bool
	if c.ID, ok = m["id"].(string); !ok || !strings.HasPrefix(c.ID, "urn:uuid:") || len(c.ID) > 128 {
		return nil, fmt.Errorf("id must be a urn:uuid")
	}
	if c.Issuer, ok = m["issuer"].(string); !ok || !strings.HasPrefix(c.Issuer, "did:") {
		return nil, fmt.Errorf("issuer must be a DID string")
	}
	var err error
	if c.IssuanceDate, err = parseTime(m["issuanceDate"]); err != nil {
		return nil, fmt.Errorf("issuanceDate: %w", err)
	}
	if exp, present := m["expirationDate"]; present {
		t, err := parseTime(exp)
		if err != nil {
			return nil, fmt.Errorf("expirationDate: %w", err)
		}
		if !t.After(c.IssuanceDate) {
			return nil, fmt.Errorf("expirationDate must be after issuanceDate")
		}
		c.ExpirationDate = &t
	}
	if st, present := m["credentialStatus"]; present {
		if c.Status, err = parseStatus(st); err != nil {
			return nil, fmt.Errorf("credentialStatus: %w", err)
		}
	}
	if c.Subject, err = parseSubject(m["credentialSubject"]); err != nil {
		return nil, fmt.Errorf("credentialSubject: %w", err)
	}
	return c, nil
}

func parseSubject(v any) (Subject, error) {
	var s Subject
	obj, ok := v.(map[string]any)
	if !ok {
		return s, fmt.Errorf("must be one object")
	}
	b, err := json.Marshal(obj)
	if err != nil {
		return s, err
	}
	if err := decodeStrict(b, &s); err != nil {
		return s, err
	}
	return s, s.Validate()
}

// decodeStrict decodes JSON into a struct, refusing members it does not name
// exactly (case-sensitively: see strictjson.DecodeExact).
func decodeStrict(b []byte, v any) error {
	return strictjson.DecodeExact(b, v)
}

// Validate checks a subject's contents: identifiers, patterns and limits.
// Issuance and verification run the same checks.
func (s Subject) Validate() error {
	if !strings.HasPrefix(s.ID, "did:") || !strings.HasPrefix(s.Principal, "did:") {
		return fmt.Errorf("id and principal must be DIDs")
	}
	if s.Purpose == "" || len(s.Purpose) > MaxPurposeBytes {
		return fmt.Errorf("purpose must be 1..%d bytes", MaxPurposeBytes)
	}
	if len(s.Grants) == 0 || len(s.Grants) > MaxGrants {
		return fmt.Errorf("grants: need 1..%d, have %d", MaxGrants, len(s.Grants))
	}
	if len(s.Forbidden) > MaxForbidden {
		return fmt.Errorf("forbidden: at most %d entries", MaxForbidden)
	}
	seen := map[string]bool{}
	for _, g := range s.Grants {
		if err := g.validate(); err != nil {
			return fmt.Errorf("grant %q: %w", g.ID, err)
		}
		if seen[g.ID] {
			return fmt.Errorf("grant id %q appears twice", g.ID)
		}
		seen[g.ID] = true
	}
	for _, f := range s.Forbidden {
		if _, err := scope.ParseAction(f.Action); err != nil {
			return fmt.Errorf("forbidden: %w", err)
		}
		if f.Resource != "" {
			if _, err := scope.ParseResource(f.Resource); err != nil {
				return fmt.Errorf("forbidden: %w", err)
			}
		}
	}
	d := s.Delegation
	if d.MaxDepth < 0 || d.MaxDepth > MaxDepthLimit {
		return fmt.Errorf("delegation.maxDepth must be 0..%d", MaxDepthLimit)
	}
	if d.Allowed != (d.MaxDepth > 0) {
		return fmt.Errorf("delegation: allowed must be true exactly when maxDepth > 0")
	}
	if p := s.Parent; p != nil && (!strings.HasPrefix(p.ID, "urn:uuid:") || !strings.HasPrefix(p.Digest, "z")) {
		return fmt.Errorf("parent needs a urn:uuid id and a base58btc multihash digest")
	}
	return validateApprovers(s)
}

func validateApprovers(s Subject) error {
	switch {
	case len(s.Approvers) == 0:
		return nil
	case s.Parent != nil:
		return fmt.Errorf("approvers: only a root credential names approvers")
	case len(s.Approvers) > MaxApprovers:
		return fmt.Errorf("approvers: at most %d", MaxApprovers)
	}
	seen := map[string]bool{}
	for _, a := range s.Approvers {
		if !strings.HasPrefix(a, "did:") || len(a) > 2048 || seen[a] {
			return fmt.Errorf("approvers: %q is not a DID, or appears twice", a)
		}
		seen[a] = true
	}
	return nil
}

func (g Grant) validate() error {
	name, ok := strings.CutPrefix(g.ID, GrantIDPrefix)
	if !ok || name == "" || len(g.ID) > MaxGrantIDBytes {
		return fmt.Errorf("id must be %s<name>, at most %d bytes", GrantIDPrefix, MaxGrantIDBytes)
	}
	for _, r := range name {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.') {
			return fmt.Errorf("id name may use a-z 0-9 - _ . only")
		}
	}
	if _, err := scope.ParseAction(g.Action); err != nil {
		return err
	}
	if _, err := scope.ParseResource(g.Resource); err != nil {
		return err
	}
	if err := validateStatus(g.Status); err != nil {
		return fmt.Errorf("status: %w", err)
	}
	return g.Constraints.validate()
}

func (c Constraints) validate() error {
	if c.NotBefore != nil && c.NotAfter != nil && !c.NotBefore.Before(*c.NotAfter) {
		return fmt.Errorf("notBefore must be before notAfter")
	}
	if c.Rate != nil {
		if c.Rate.Count < 1 {
			return fmt.Errorf("rate.count must be at least 1")
		}
		if _, err := ParseDuration(c.Rate.Per); err != nil {
			return fmt.Errorf("rate.per: %w", err)
		}
	}
	const maxSafe = 1 << 53 // integers above this do not survive JSON numbers
	if c.MaxUses != nil && (*c.MaxUses < 1 || *c.MaxUses > maxSafe) {
		return fmt.Errorf("maxUses must be 1..2^53")
	}
	if c.MaxAmount != nil && (*c.MaxAmount < 0 || *c.MaxAmount > maxSafe) {
		return fmt.Errorf("maxAmount must be 0..2^53")
	}
	switch c.Approval {
	case "", ApprovalNone, ApprovalRequired:
	default:
		return fmt.Errorf("approval must be %q or %q", ApprovalNone, ApprovalRequired)
	}
	if len(c.Conditions) > MaxConditions {
		return fmt.Errorf("at most %d conditions", MaxConditions)
	}
	for _, cond := range c.Conditions {
		if cond == "" || len(cond) > MaxConditionBytes {
			return fmt.Errorf("a condition must be 1..%d bytes", MaxConditionBytes)
		}
	}
	return nil
}

func parseTime(v any) (time.Time, error) {
	s, ok := v.(string)
	if !ok {
		return time.Time{}, fmt.Errorf("must be an RFC 3339 string")
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, err
	}
	return t, nil
}
