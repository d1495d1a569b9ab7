package credentials

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// MaxGrantFileBytes bounds a grant file.
const MaxGrantFileBytes = 256 << 10

// GrantFile is the YAML (or JSON) a principal or agent writes to issue or
// delegate: docs/grant-file.schema.json describes it, examples/grants holds
// real ones. Grant ids are short names here; issuance prefixes GrantIDPrefix.
type GrantFile struct {
	Subject    string          `yaml:"subject"`
	Purpose    string          `yaml:"purpose"`
	ValidUntil *time.Time      `yaml:"validUntil"`
	Grants     []GrantFileItem `yaml:"grants"`
	Forbidden  []Forbidden     `yaml:"forbidden"`
	Delegation Delegation      `yaml:"delegation"`
	Approvers  []string        `yaml:"approvers"`
}

// GrantFileItem is one grant as written in a grant file.
type GrantFileItem struct {
	ID          string      `yaml:"id"`
	Action      string      `yaml:"action"`
	Resource    string      `yaml:"resource"`
	Constraints Constraints `yaml:"constraints"`
}

// ParseGrantFile reads a grant file. Unknown keys are errors that name the
// line, so a typo never silently widens or drops a limit.
func ParseGrantFile(data []byte) (*GrantFile, error) {
	if len(data) > MaxGrantFileBytes {
		return nil, fmt.Errorf("credentials: grant file is %d bytes, limit %d", len(data), MaxGrantFileBytes)
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	var f GrantFile
	if err := dec.Decode(&f); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, errors.New("credentials: grant file is empty")
		}
		return nil, fmt.Errorf("credentials: grant file: %w", err)
	}
	var extra any
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		return nil, errors.New("credentials: grant file holds more than one document")
	}
	return &f, nil
}

// Template turns the grant file into an issuance template for subject
// (which overrides the file's own subject when not empty).
func (f *GrantFile) Template(subject string) (Template, error) {
	if subject == "" {
		subject = f.Subject
	}
	if subject == "" {
		return Template{}, errors.New("credentials: grant file names no subject; pass one")
	}
	t := Template{Subject: subject, Purpose: f.Purpose, Forbidden: f.Forbidden, Delegation: f.Delegation, ValidUntil: f.ValidUntil, Approvers: f.Approvers}
	for _, g := range f.Grants {
		id := g.ID
		if !strings.HasPrefix(id, GrantIDPrefix) {
			id = GrantIDPrefix + id
		}
		t.Grants = append(t.Grants, Grant{ID: id, Action: g.Action, Resource: g.Resource, Constraints: g.Constraints})
	}
	sub := Subject{ID: subject, Principal: "did:placeholder", Purpose: t.Purpose, Grants: t.Grants, Forbidden: t.Forbidden, Delegation: t.Delegation, Approvers: t.Approvers}
	if err := sub.Validate(); err != nil {
		return Template{}, fmt.Errorf("credentials: grant file: %w", err)
	}
	return t, nil
}
