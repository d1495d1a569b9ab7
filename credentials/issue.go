package credentials

import (
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"sync"
	"time"

	"github.com/mandate-dev/mandate/credentials/status"
	"github.com/mandate-dev/mandate/intent/cel"
	"github.com/mandate-dev/mandate/internal/aries"
)

// Signer signs with one DID's key. A wallet is a Signer; tests use an
// in-memory test principal.
type Signer interface {
	DID() string
	VerificationMethod() string
	Sign(msg []byte) ([]byte, error)
}

// Template is what an issuer states; Issue and Delegate add the envelope,
// the parent link and the proof.
type Template struct {
	Subject    string // the attorney's DID
	Purpose    string
	Grants     []Grant
	Forbidden  []Forbidden
	Delegation Delegation
	ValidFrom  time.Time  // zero: now
	ValidUntil *time.Time // nil: no expirationDate
	Approvers  []string   // root only: DIDs besides the principal whose approval counts
}

// IssueOptions carries the injected clock and randomness, and the issuer's
// status registry.
type IssueOptions struct {
	Now  func() time.Time // nil: time.Now
	Rand io.Reader        // nil: crypto/rand
	// Status, when set, gives the credential and each of its grants their
	// own revocation and suspension entries. Nil issues a credential that
	// cannot be revoked (verifiers may refuse it: Config.RequireStatus).
	Status StatusAllocator
	// CheckPurpose, when set, is asked by Delegate before signing whether
	// the child's purpose and grants fit the purposes of the chain above
	// it (the intent checkers at delegation time). An error refuses the
	// child; it should wrap ErrPurposeOutside when the answer was "no".
	CheckPurpose func(parents []*Credential, child Subject) error
}

// StatusAllocator assigns status list entries to a new credential; an
// issuer's status registry (wallet) is one. The allocation must be durable
// before Allocate returns.
type StatusAllocator interface {
	Allocate(credentialID string, grantIDs []string) (status.Allocation, error)
}

// Issue signs a root PoA credential: the signer is the principal.
func Issue(s Signer, t Template, o IssueOptions) (*Credential, error) {
	sub := Subject{
		ID: t.Subject, Principal: s.DID(), Purpose: t.Purpose, Grants: t.Grants,
		Forbidden: t.Forbidden, Delegation: t.Delegation, Approvers: t.Approvers,
	}
	return sign(s, sub, t, o)
}

// Delegate signs a child credential under the chain that the signer holds
// (root first; the signer must be the subject of its last link). The child
// is refused when it would be wider than its parent in any respect, by the
// same CheckChild the verifier runs.
func Delegate(s Signer, chain []*Credential, t Template, o IssueOptions) (*Credential, error) {
	if len(chain) == 0 {
		return nil, fmt.Errorf("%w: delegation needs the parent chain", ErrChainBroken)
	}
	parent := chain[len(chain)-1]
	if parent.Subject.ID != s.DID() {
		return nil, fmt.Errorf("%w: the parent was granted to %s, not to the signer %s", ErrChainBroken, parent.Subject.ID, s.DID())
	}
	if !parent.Subject.Delegation.Allowed {
		return nil, ErrDelegationNotAllowed
	}
	digest, err := Digest(parent.Raw)
	if err != nil {
		return nil, err
	}
	sub := Subject{
		ID: t.Subject, Principal: parent.Subject.Principal, Purpose: t.Purpose, Grants: t.Grants,
		Forbidden:  mergeForbidden(parent.Subject.Forbidden, t.Forbidden),
		Delegation: t.Delegation, Parent: &Parent{ID: parent.ID, Digest: digest}, Approvers: t.Approvers,
	}
	if t.ValidUntil == nil && parent.ExpirationDate != nil {
		t.ValidUntil = parent.ExpirationDate
	}
	if o.CheckPurpose != nil {
		if err := o.CheckPurpose(chain, sub); err != nil {
			return nil, fmt.Errorf("credentials: refused at issuance: %w", err)
		}
	}
	child, err := sign(s, sub, t, o)
	if err != nil {
		return nil, err
	}
	if err := CheckChain(append(append([]*Credential{}, chain...), child)); err != nil {
		return nil, fmt.Errorf("credentials: refused at issuance: %w", err)
	}
	return child, nil
}

// conditionEngine checks conditions at issuance, in the environment every
// verifier evaluates them in.
var conditionEngine = sync.OnceValues(func() (*cel.Engine, error) { return cel.NewEngine(cel.EngineOptions{}) })

// compileConditions refuses a grant whose condition no verifier could
// evaluate: it must compile and type-check to bool.
func compileConditions(grants []Grant) error {
	e, err := conditionEngine()
	if err != nil {
		return err
	}
	for _, g := range grants {
		for _, c := range g.Constraints.Conditions {
			if err := e.Compile(c); err != nil {
				return fmt.Errorf("grant %s: %w", g.ID, err)
			}
		}
	}
	return nil
}

// mergeForbidden keeps every inherited entry first, then adds the new ones.
func mergeForbidden(inherited, added []Forbidden) []Forbidden {
	out := append([]Forbidden{}, inherited...)
	for _, f := range added {
		dup := false
		for _, g := range out {
			dup = dup || g == f
		}
		if !dup {
			out = append(out, f)
		}
	}
	return out
}

// Envelope is what every way of securing a new credential starts from: the
// subject as the issuer signs it (the template's status entries dropped,
// the registry's assigned), checked and its conditions compiled; a fresh
// id; the credential's own status entries; the start of its validity; and
// the clock and randomness to sign with.
type Envelope struct {
	ID      string
	Subject Subject
	Status  []StatusEntry
	From    time.Time
	Now     func() time.Time
	Rand    io.Reader
}

// NewEnvelope checks sub and allocates its id and status entries (durably,
// when the issuer has a registry). LDP, SD-JWT and BBS+ issuance share it.
func NewEnvelope(sub Subject, t Template, o IssueOptions) (Envelope, error) {
	e := Envelope{Now: o.Now, Rand: o.Rand}
	if e.Now == nil {
		e.Now = time.Now
	}
	if e.Rand == nil {
		e.Rand = rand.Reader
	}
	// Status entries are the issuer's to assign: a template's are dropped,
	// so a delegation never carries its parent's entries.
	sub.Grants = slices.Clone(sub.Grants)
	for i := range sub.Grants {
		sub.Grants[i].Status = nil
	}
	if err := sub.Validate(); err != nil {
		return e, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	if err := compileConditions(sub.Grants); err != nil {
		return e, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	var err error
	if e.ID, err = newUUID(e.Rand); err != nil {
		return e, err
	}
	if e.Status, err = allocateStatus(o.Status, e.ID, sub.Grants); err != nil {
		return e, err
	}
	e.Subject, e.From = sub, t.ValidFrom
	if e.From.IsZero() {
		e.From = e.Now()
	}
	return e, nil
}

func sign(s Signer, sub Subject, t Template, o IssueOptions) (*Credential, error) {
	env, err := NewEnvelope(sub, t, o)
	if err != nil {
		return nil, err
	}
	now, id, credStatus, from, sub := env.Now, env.ID, env.Status, env.From, env.Subject
	doc := map[string]any{
		"@context":          wantContext,
		"id":                id,
		"type":              wantType,
		"issuer":            s.DID(),
		"issuanceDate":      from.UTC().Format(time.RFC3339),
		"credentialSubject": sub,
	}
	if t.ValidUntil != nil {
		doc["expirationDate"] = t.ValidUntil.UTC().Format(time.RFC3339)
	}
	if credStatus != nil {
		doc["credentialStatus"] = credStatus
	}
	unsigned, err := json.Marshal(doc)
	if err != nil {
		return nil, fmt.Errorf("credentials: encode: %w", err)
	}
	ld, err := engine()
	if err != nil {
		return nil, err
	}
	signed, err := ld.Sign(unsigned, aries.ProofOptions{
		VerificationMethod: s.VerificationMethod(), Purpose: "assertionMethod", Created: now(),
	}, s.Sign)
	if err != nil {
		return nil, fmt.Errorf("credentials: sign: %w", err)
	}
	m, err := Decode(signed)
	if err != nil {
		return nil, err
	}
	return Parse(m)
}

// allocateStatus asks the registry for entries and writes the grants' into
// grants; it returns the credential's own entries.
func allocateStatus(a StatusAllocator, credID string, grants []Grant) ([]StatusEntry, error) {
	if a == nil {
		return nil, nil
	}
	ids := make([]string, len(grants))
	for i, g := range grants {
		ids[i] = g.ID
	}
	alloc, err := a.Allocate(credID, ids)
	if err != nil {
		return nil, fmt.Errorf("credentials: status entries: %w", err)
	}
	for i, g := range grants {
		for _, e := range alloc.Grants[g.ID] {
			grants[i].Status = append(grants[i].Status, StatusEntryFrom(e))
		}
	}
	var out []StatusEntry
	for _, e := range alloc.Credential {
		out = append(out, StatusEntryFrom(e))
	}
	return out, nil
}

func newUUID(r io.Reader) (string, error) {
	var b [16]byte
	if _, err := io.ReadFull(r, b[:]); err != nil {
		return "", fmt.Errorf("credentials: random id: %w", err)
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("urn:uuid:%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:]), nil
}

// Marshal returns the credential's signed JSON.
func (c *Credential) Marshal() ([]byte, error) { return json.Marshal(c.Raw) }
