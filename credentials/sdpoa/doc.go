// Package sdpoa secures Mandate's Power-of-Attorney credentials as SD-JWTs
// (RFC 9901, package sdjwt), in the style of VC-JOSE-COSE: the payload is
// the credential itself, without a proof, and the issuer-signed JWT is the
// proof.
//
// Each grant is one Disclosure of an array element of
// credentialSubject.grants, shown whole (constraints and status entries
// included). Everything else — the subject and principal DIDs, purpose,
// forbidden, delegation, parent, approvers, the credential's status entries,
// the validity dates — is always visible: Verify refuses an SD-JWT that hides
// any of it. The cnf key is the key of the subject's did:key, so the key
// binding JWT is signed by the attorney itself.
//
// Select (or Present) gives a verifier only the grants a request needs.
package sdpoa
