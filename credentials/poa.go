package credentials

import (
	"time"
)

// Type is the credential type of every Mandate power of attorney.
const Type = "PowerOfAttorneyCredential"

// Context URLs a PoA credential carries, in this order.
const (
	ContextCredentialsV1 = "https://www.w3.org/2018/credentials/v1"
	ContextEd25519_2020  = "https://w3id.org/security/suites/ed25519-2020/v1"
	ContextPoAV1         = "https://mandate.dev/ns/poa/v1"
	// ContextStatusV1 defines BitstringStatusListEntry (W3C Bitstring Status List v1.0).
	ContextStatusV1 = "https://www.w3.org/ns/credentials/status/v1"
	// ContextStatusList2021 is the CCG StatusList2021 context, read for compatibility.
	ContextStatusList2021 = "https://w3id.org/vc/status-list/2021/v1"
)

// GrantIDPrefix starts every grant id: grant ids are IRIs so that they are
// covered by the signature (a relative id would drop out of the signed RDF).
const GrantIDPrefix = "urn:mandate:grant:"

// Approval values of a grant's constraints.
const (
	ApprovalNone     = "none"
	ApprovalRequired = "required"
)

// Credential is a parsed PoA credential: the W3C VC envelope and the PoA
// subject. Raw is the credential exactly as it was signed (JSON object).
type Credential struct {
	ID             string
	Issuer         string
	IssuanceDate   time.Time
	ExpirationDate *time.Time
	// Status is the credential's credentialStatus: at most one revocation
	// and one suspension entry.
	Status  []StatusEntry
	Subject Subject
	Raw     map[string]any
	// SignedDigest, when not empty, is the digest a child's parent link
	// must name, set by a securing format whose signed bytes are not Raw
	// (an SD-JWT: SPEC §15.2). Empty: Digest(Raw) (SPEC §4).
	SignedDigest string
	// Witness is the DID whose witness proof a root carries beside the
	// issuer's ("" when none). Set only once that proof has verified
	// (Verifier.VerifyMap) or was made (Witness).
	Witness string
}

// LinkDigest is the digest that a child of c names in its parent link.
func (c *Credential) LinkDigest() (string, error) {
	if c.SignedDigest != "" {
		return c.SignedDigest, nil
	}
	return Digest(c.Raw)
}

// Subject is the credentialSubject of a PoA credential.
type Subject struct {
	ID         string      `json:"id"`        // the attorney (agent) DID, acting as itself
	Principal  string      `json:"principal"` // the root principal DID, constant along a chain
	Purpose    string      `json:"purpose"`
	Grants     []Grant     `json:"grants"`
	Forbidden  []Forbidden `json:"forbidden,omitempty"`
	Delegation Delegation  `json:"delegation"`
	Parent     *Parent     `json:"parent,omitempty"`
	// Approvers are DIDs, besides the principal, whose signed approval
	// counts for grants that require one. Only a root names approvers.
	Approvers []string `json:"approvers,omitempty"`
}

// Grant is one power: an action on a resource, within constraints.
type Grant struct {
	ID          string      `json:"id"`
	Action      string      `json:"action"`
	Resource    string      `json:"resource"`
	Constraints Constraints `json:"constraints,omitzero"`
	// Status holds this grant's own status entries, so that one power can
	// be revoked or suspended while the others stay.
	Status []StatusEntry `json:"status,omitempty"`
}

// StatusEntry is a BitstringStatusListEntry as a PoA credential carries it:
// a bit in a status list published by the credential's issuer.
type StatusEntry struct {
	ID      string `json:"id"`
	Type    string `json:"type"`
	Purpose string `json:"statusPurpose"`
	Index   string `json:"statusListIndex"`
	ListURL string `json:"statusListCredential"`
}

// Constraints bound a grant. A zero field means "no constraint of that kind".
type Constraints struct {
	NotBefore  *time.Time `json:"notBefore,omitempty" yaml:"notBefore"`
	NotAfter   *time.Time `json:"notAfter,omitempty" yaml:"notAfter"`
	Rate       *Rate      `json:"rate,omitempty" yaml:"rate"`
	MaxUses    *int64     `json:"maxUses,omitempty" yaml:"maxUses"`
	MaxAmount  *int64     `json:"maxAmount,omitempty" yaml:"maxAmount"`
	Approval   string     `json:"approval,omitempty" yaml:"approval"`
	Conditions []string   `json:"conditions,omitempty" yaml:"conditions"`
}

// Rate is "at most Count uses per Per" (Per is an ISO 8601 duration such as PT1H).
type Rate struct {
	Count int64  `json:"count" yaml:"count"`
	Per   string `json:"per" yaml:"per"`
}

// Forbidden is an action (and optionally a resource pattern) that no grant
// anywhere in the chain can re-allow.
type Forbidden struct {
	Action   string `json:"action" yaml:"action"`
	Resource string `json:"resource,omitempty" yaml:"resource"`
}

// Delegation says whether the holder may delegate, and how many more links
// may follow this one.
type Delegation struct {
	Allowed  bool `json:"allowed" yaml:"allowed"`
	MaxDepth int  `json:"maxDepth" yaml:"maxDepth"`
}

// Parent links a child credential to the exact parent it was derived from.
type Parent struct {
	ID     string `json:"id"`
	Digest string `json:"digest"`
}

// ApprovalRequired reports whether the grant needs the principal's consent.
func (g Grant) ApprovalRequired() bool { return g.Constraints.Approval == ApprovalRequired }

// Grant returns the grant with the given id, if the credential has it.
func (c *Credential) Grant(id string) (Grant, bool) {
	for _, g := range c.Subject.Grants {
		if g.ID == id {
			return g, true
		}
	}
	return Grant{}, false
}

// IsRoot reports whether the credential was issued by its principal.
func (c *Credential) IsRoot() bool { return c.Subject.Parent == nil }
