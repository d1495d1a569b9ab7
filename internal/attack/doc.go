// Package attack holds Mandate's attack corpus: named, crafted inputs, each
// sent to a real verifier over gRPC (gatekeeper on bufconn) backed by a real
// status server on loopback, each with the exact reason code it must be
// denied with. Zero ALLOW is the only passing result; a control case, the
// legitimate presentation, must be allowed so that the harness is shown to
// work. The package has no code of its own: everything is in its tests.
//
// The corpus (corpus_test.go) covers, each as its own named case:
//
//   - scope: escalation by one child; a salami chain of small steps (each
//     link is checked against its own parent, so the first widening step is
//     caught); a child narrower in one respect and wider in another; the
//     sum of siblings' maxUses (each sibling's use is charged to the
//     ancestor's grant too, so the ancestor's budget holds);
//   - chain: splicing a valid child under a foreign parent, a re-issued
//     parent under the same id (parent digest), a child presented without
//     its root, links in reverse order, a forged root naming another
//     principal, depth not decreasing, one link past maxDepth, delegation
//     where it is not allowed, a forbidden action re-granted, dropped, or
//     requested under a wider grant, a root from an untrusted principal;
//   - binding: replay, audience swap, a nonce from another verifier, an
//     expired nonce, a request digest for another action, intent or context
//     changed in transit, a chain the holder does not end, a wildcard
//     request;
//   - validity and status: an expired link, a not-yet-valid link, a revoked
//     or suspended ancestor, a revoked grant, a status list signed by
//     another key (its own issuer, or claiming the credential's issuer), a
//     list served under another list's URL, an older list replayed, a list
//     URL on an internal plain-http host (SSRF), a stale status list
//     (server down past the maximum age);
//   - proofs and keys: algorithm confusion (a JsonWebSignature2020/ES256
//     proof, a relabelled suite, a DataIntegrityProof, a credential proof
//     made for authentication, a holder proof made for assertion, a holder
//     key listed only under assertionMethod), unsupported DID methods
//     (did:web issuer, did:example holder), a did:key with the wrong
//     multicodec or key length, an X25519 key-agreement key as the
//     verification method, a presentation with no holder proof, a holder
//     proof by another key, a credential with two proofs;
//   - JSON and JSON-LD: an undefined term injected in a credential (subject
//     and proof) and in the presentation envelope (member and proof), a
//     defined but unsigned term in a credential proof and in the holder
//     proof, a huge
//     document (DENY MALFORMED below the gRPC cap, ResourceExhausted above
//     it), a deeply nested one, duplicate keys, an empty
//     verifiableCredential list;
//   - SD-JWT (sdjwt_test.go, format "sd-jwt", against the control chain
//     issued as SD-JWT): a duplicate Disclosure, a Disclosure swapped from
//     another credential, a Disclosure no digest names, a hidden grant
//     claimed, a parent grant hidden, a parent link with key binding, a
//     leaf without it, an sd_hash mismatch, alg none and HS256 keyed with
//     the public key on the issuer JWT and on the key binding JWT, nonce
//     replay, a wrong aud, a request digest for another action, a child
//     spliced under a foreign parent, a parent digest of another
//     credential, an untrusted root, a revoked root, a revoked grant of
//     the root (its entry inside the Disclosure), 10 links, a link past
//     128 KiB;
//   - conditions and intent (intent_test.go): a grant condition the
//     request fails, one needing a context key the request omits, one past
//     the cost limit, a parent's condition dropped by a child; with the
//     lexical checker configured (only in those cases' worlds), an
//     off-purpose intent and an instruction injected for the checker; a
//     checker that never answers (INTENT_CHECK_FAILED within the time-out);
//   - trust policy and witnesses (trust_test.go, a policy in place of the
//     trusted roots): a root outside the policy's resources, a root without
//     the witness required, one witnessed by another, a forged witness
//     proof.
//
// limits_test.go checks that every input has a limit with a clear error past
// it: a credential's bytes inside a presentation, grants, forbidden entries,
// purpose, conditions, maxDepth, chain length, request intent, context,
// action and resource, DID length, challenge length, JSON nesting, status
// lists per decision, a status list's inflated size and response size; and
// that at each bound (presentation size, 9 links, 8 status lists, nesting
// 32) the input is decided on its merits.
//
// Pending, to be added with the capability that makes them meaningful:
//
//   - approvals (issue 6: a replayed, foreign or expired approval);
//   - did:web issuers under a trust policy (a document that cannot be had,
//     a method outside the policy's list) through this world: they are in
//     presentation's TestCrossOrgResolution, on a loopback HTTPS host;
//   - BBS+ presentations, once the verifier accepts the format.
package attack
