package credentials

import (
	"fmt"
	"slices"

	"github.com/mandate-dev/mandate/internal/strictjson"
)

// BBSLinkDigest is the digest a child names in its parent link when the
// parent is a BBS+ credential (SPEC §16.2): Digest (multibase sha2-256 of
// the JCS) of {"id", "issuer", "subjectDigest"}, where subjectDigest is the
// parent's credentialSubject.digest as the issuer signed it. A derived
// proof of the parent reveals all three whatever grants it shows (they are
// always-visible, and subjectDigest is checked against the revealed
// fields), so the digest is the same in every derivation and in the
// credential as signed.
func BBSLinkDigest(id, issuer, subjectDigest string) (string, error) {
	if id == "" || issuer == "" || subjectDigest == "" {
		return "", fmt.Errorf("%w: bbs link digest needs an id, an issuer and a subject digest", ErrMalformed)
	}
	return Digest(map[string]any{"id": id, "issuer": issuer, "subjectDigest": subjectDigest})
}

// DelegateBBS signs a child credential with BbsBlsSignature2020 under the
// BBS+ chain the signer holds (root first, each link whole as signed, the
// signer the subject of the last link: its BLS12-381 G2 did:key). The child
// names its parent by id and BBSLinkDigest, and is refused when it would be
// wider than its parent, by the same CheckChain the verifier runs.
func DelegateBBS(s BBSSigner, chain []*Credential, t Template, o IssueOptions) (*Credential, error) {
	if len(chain) == 0 {
		return nil, fmt.Errorf("%w: delegation needs the parent chain", ErrChainBroken)
	}
	if err := CheckChain(chain); err != nil {
		return nil, fmt.Errorf("credentials: bbs parent chain: %w", err)
	}
	parent := chain[len(chain)-1]
	if parent.Subject.ID != s.DID() {
		return nil, fmt.Errorf("%w: the parent was granted to %s, not to the signer %s", ErrChainBroken, parent.Subject.ID, s.DID())
	}
	if !parent.Subject.Delegation.Allowed {
		return nil, ErrDelegationNotAllowed
	}
	if parent.SignedDigest == "" {
		return nil, fmt.Errorf("%w: the parent %s is not a BBS+ credential", ErrMalformed, parent.ID)
	}
	sub := Subject{
		ID: t.Subject, Principal: parent.Subject.Principal, Purpose: t.Purpose, Grants: slices.Clone(t.Grants),
		Forbidden:  mergeForbidden(parent.Subject.Forbidden, t.Forbidden),
		Delegation: t.Delegation, Parent: &Parent{ID: parent.ID, Digest: parent.SignedDigest}, Approvers: t.Approvers,
	}
	if t.ValidUntil == nil && parent.ExpirationDate != nil {
		t.ValidUntil = parent.ExpirationDate
	}
	if o.CheckPurpose != nil {
		if err := o.CheckPurpose(chain, sub); err != nil {
			return nil, fmt.Errorf("credentials: refused at issuance: %w", err)
		}
	}
	child, err := signBBS(s, sub, t, o)
	if err != nil {
		return nil, err
	}
	if err := CheckChain(append(slices.Clone(chain), child)); err != nil {
		return nil, fmt.Errorf("credentials: refused at issuance: %w", err)
	}
	return child, nil
}

// IsBBS reports whether m is a PoA credential secured with BBS+ (by its
// exact @context).
func IsBBS(m map[string]any) bool { return strictjson.EqualStrings(m["@context"], bbsContext) }

// DecodeBBSChain reads a BBS+ chain file (EncodeChain's form: a JSON array
// of the signed credentials, root first, or one credential) and parses
// every link with its digests; it checks no signature.
func DecodeBBSChain(data []byte) ([]*Credential, error) { return decodeChain(data, parseBBS) }
