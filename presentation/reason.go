package presentation

import "time"

// Reason is a stable reason code of a Decision. This file is the closed
// list; codes are never renamed or reused.
type Reason string

// Reason codes.
const (
	ReasonMalformed             Reason = "MALFORMED"              // not a well-formed presentation or credential
	ReasonSignatureInvalid      Reason = "SIGNATURE_INVALID"      // a credential's or the holder's proof does not verify
	ReasonUnsupportedDIDMethod  Reason = "UNSUPPORTED_DID_METHOD" // a DID method outside the accepted list
	ReasonHolderMismatch        Reason = "HOLDER_MISMATCH"        // the presenter is not the leaf credential's subject
	ReasonChallengeUnknown      Reason = "CHALLENGE_UNKNOWN"      // the nonce was never issued by this verifier
	ReasonChallengeExpired      Reason = "CHALLENGE_EXPIRED"      // the nonce is past its expiry
	ReasonReplay                Reason = "REPLAY"                 // the nonce was already used
	ReasonAudienceMismatch      Reason = "AUDIENCE_MISMATCH"      // made for another verifier
	ReasonRequestMismatch       Reason = "REQUEST_MISMATCH"       // bound to another action, resource, intent or context
	ReasonChainBroken           Reason = "CHAIN_BROKEN"           // links do not connect
	ReasonParentDigestMismatch  Reason = "PARENT_DIGEST_MISMATCH" // a parent link names other bytes
	ReasonScopeEscalation       Reason = "SCOPE_ESCALATION"       // a child is wider than its parent
	ReasonDelegationNotAllowed  Reason = "DELEGATION_NOT_ALLOWED" // a parent forbids delegation
	ReasonDepthExceeded         Reason = "DEPTH_EXCEEDED"         // maxDepth does not decrease, or too many links
	ReasonNotYetValid           Reason = "NOT_YET_VALID"          // a credential or the grant is not valid yet
	ReasonExpired               Reason = "EXPIRED"                // a credential or the grant is past its end
	ReasonForbidden             Reason = "FORBIDDEN"              // the action is forbidden somewhere in the chain
	ReasonNotGranted            Reason = "NOT_GRANTED"            // no grant of the leaf covers the request
	ReasonUnsupportedConstraint Reason = "UNSUPPORTED_CONSTRAINT" // the grant carries a limit this verifier cannot enforce yet
	ReasonUntrustedRoot         Reason = "UNTRUSTED_ROOT"         // the root principal is not trusted by this verifier
	ReasonWitnessRequired       Reason = "WITNESS_REQUIRED"       // the trust policy demands a root witnessed by a named witness, and it is not
	ReasonDIDResolutionFailed   Reason = "DID_RESOLUTION_FAILED"  // a signer's DID document could not be had (did:web fetch, size, id, key type)
	ReasonApprovalRequired      Reason = "APPROVAL_REQUIRED"      // the grant needs the principal's signed approval
	ReasonRevoked               Reason = "REVOKED"                // a credential of the chain, or the grant used, is revoked
	ReasonSuspended             Reason = "SUSPENDED"              // a credential of the chain, or the grant used, is suspended
	ReasonStatusUnavailable     Reason = "STATUS_UNAVAILABLE"     // a status list cannot be had fresh enough; fail closed
	ReasonStatusInvalid         Reason = "STATUS_INVALID"         // a status list fails its proof, issuer, purpose or index checks
	ReasonStatusMissing         Reason = "STATUS_MISSING"         // the verifier requires status entries and a credential has none
	ReasonRateLimited           Reason = "RATE_LIMITED"           // a rate limit of the grant (or an ancestor's) is reached; see RetryAt
	ReasonUsesExhausted         Reason = "USES_EXHAUSTED"         // a maxUses budget of the grant (or an ancestor's) is spent
	ReasonAmountExceeded        Reason = "AMOUNT_EXCEEDED"        // the request's amount would pass a maxAmount budget
	ReasonAmountRequired        Reason = "AMOUNT_REQUIRED"        // the grant caps amounts and the request states none (context "amount")
	ReasonApprovalDenied        Reason = "APPROVAL_DENIED"        // an approver refused this request
	ReasonApprovalInvalid       Reason = "APPROVAL_INVALID"       // the attached approval is not signed by an approver or is bound to something else
	ReasonApprovalExpired       Reason = "APPROVAL_EXPIRED"       // the attached approval is past its expiry
	ReasonConditionFailed       Reason = "CONDITION_FAILED"       // a CEL condition of the grant (or an ancestor's) is false or cannot be evaluated
	ReasonIntentMismatch        Reason = "INTENT_MISMATCH"        // an intent checker found the request outside the declared purpose
	ReasonIntentUncertain       Reason = "INTENT_UNCERTAIN"       // an intent checker could not tell; a human must approve (NEEDS_APPROVAL)
	ReasonIntentCheckFailed     Reason = "INTENT_CHECK_FAILED"    // an intent checker failed or did not answer in time; fail closed
	ReasonUnmapped              Reason = "UNMAPPED"               // a gatekeeper maps no action and resource to the call (an unmapped tool or method)
	ReasonPresentationMissing   Reason = "PRESENTATION_MISSING"   // a gatekeeper got no presentation: the agent's wallet holds none for the call, or could not be reached
	ReasonInternalError         Reason = "INTERNAL_ERROR"         // the verifier failed; fail closed
)

// Outcome is the verdict. The zero value is Deny.
type Outcome int

// Outcomes.
const (
	Deny Outcome = iota
	Allow
	NeedsApproval
)

func (o Outcome) String() string {
	switch o {
	case Allow:
		return "ALLOW"
	case NeedsApproval:
		return "NEEDS_APPROVAL"
	default:
		return "DENY"
	}
}

// Decision is the structured answer to one request.
type Decision struct {
	Outcome   Outcome
	Reasons   []Reason // empty only for Allow
	Message   string   // detail of the first failure, for logs and people
	Principal string   // the root principal, liable by default
	Actor     string   // the presenting agent
	Chain     []string // credential ids, root first
	Grant     string   // the leaf grant that allowed (or would allow) the request
	AuditID   string   // the audit record of this decision ("" only when it could not be written: then DENY)
	// ApprovalID names the approval request to answer (NEEDS_APPROVAL).
	ApprovalID string
	// RetryAt is when a usage limit's window frees (RATE_LIMITED, AMOUNT_EXCEEDED); zero when it never does.
	RetryAt time.Time
	// Checks are the intent checkers' verdicts, in the order they were asked.
	Checks []CheckerVerdict
}

// Allowed reports whether the request may proceed.
func (d Decision) Allowed() bool { return d.Outcome == Allow && len(d.Reasons) == 0 }
