package credentials

import "errors"

// Errors callers branch on; the verifier maps each to one reason code.
var (
	// ErrMalformed: not a well-formed PoA credential (shape, size, JSON-LD).
	ErrMalformed = errors.New("credentials: malformed credential")
	// ErrSignature: the proof does not verify with the issuer's key.
	ErrSignature = errors.New("credentials: signature invalid")
	// ErrUnsupportedDIDMethod: the issuer's DID method is not accepted.
	ErrUnsupportedDIDMethod = errors.New("credentials: unsupported DID method")
	// ErrDIDResolution: a signer's DID document could not be had (did:web
	// fetch failed, too large, not the DID's own, a key that is not Ed25519).
	ErrDIDResolution = errors.New("credentials: DID resolution failed")
	// ErrChainBroken: links do not connect (issuer is not the parent's
	// subject, parent id differs, principal changes, root is not self-issued).
	ErrChainBroken = errors.New("credentials: chain broken")
	// ErrParentDigest: the parent link's digest does not match the parent.
	ErrParentDigest = errors.New("credentials: parent digest mismatch")
	// ErrScopeEscalation: a child is wider than its parent in some respect.
	ErrScopeEscalation = errors.New("credentials: scope escalation")
	// ErrDelegationNotAllowed: the parent does not allow delegation.
	ErrDelegationNotAllowed = errors.New("credentials: delegation not allowed")
	// ErrDepthExceeded: maxDepth does not strictly decrease, or the chain is too long.
	ErrDepthExceeded = errors.New("credentials: delegation depth exceeded")
	// ErrPurposeOutside: at issuance, a child's purpose was judged outside
	// the purposes of the chain above it (IssueOptions.CheckPurpose).
	ErrPurposeOutside = errors.New("credentials: purpose outside the parent's")
)
