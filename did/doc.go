// Package did creates and resolves Ed25519 DIDs: did:key offline, did:web over HTTPS.
//
// A did:key DID is its own public key: "did:key:" followed by the base58btc multibase ('z') encoding of the
// multicodec header ed25519-pub (0xed, varint 0xed01) and the 32 key bytes. FromPublicKey makes one,
// ParseKey reads the key back from a DID or from the DID URL of its verification method, and KeyResolver
// builds its DID document without a network.
//
// Only what Mandate needs is accepted; everything else is refused with an error naming the problem:
//
//   - for KeyResolver, the did:key method only (the list of methods is explicit); other methods give
//     ErrMethodNotSupported;
//   - Ed25519 keys only; P-256, P-384, secp256k1, BLS12-381, X25519, RSA and other did:key types give
//     ErrUnsupportedPublicKeyType naming the multicodec type;
//   - the version-less form did:key:z... only, so that one key has exactly one identifier;
//   - DID URLs only of the form did:key:<z-value>#<z-value>, the fragment naming the DID's own key. A fragment
//     naming an X25519 key (the key agreement key that the did:key spec derives) gives ErrInvalidPublicKeyType;
//   - inputs of at most 2048 bytes.
//
// The document has one verification method of type Ed25519VerificationKey2020 with publicKeyMultibase, in the
// contexts https://www.w3.org/ns/did/v1 and https://w3id.org/security/suites/ed25519-2020/v1, listed under
// authentication, assertionMethod, capabilityDelegation and capabilityInvocation. No keyAgreement method is
// made: Mandate signs with did:key and does not encrypt to it.
//
// PublicKey is how a verifier gets a signer's key: it resolves a verification method id through a Resolver
// the caller chooses and checks that the method is listed under the relationship the caller needs
// (assertionMethod for credentials, authentication for presentations).
//
// did:web (web.go) names an organisation by its domain. WebURL maps a DID to its document's HTTPS URL as the
// did:web specification says (did:web:example.com%3A8443:org:legal is https://example.com:8443/org/legal/did.json;
// a lowercase DNS name, never an IP address; path segments of unreserved characters). WebDocument makes the
// document to publish; WebResolver fetches it with a time-out, a size limit (64 KiB by default), same-host
// HTTPS redirects only and a bounded cache with a maximum age. A fetched document must name the DID as its id,
// and every verification method must be an Ed25519 key controlled by the DID (Ed25519VerificationKey2020 with
// publicKeyMultibase, or JsonWebKey2020 with an OKP Ed25519 publicKeyJwk); anything else is refused. Resolution
// failures wrap ErrResolution.
//
// Methods resolves an explicit list of methods, each through its own resolver, and Only narrows any resolver
// to a list of methods; a DID of another method gives ErrMethodNotSupported before anything is fetched.
//
// The sentinel errors carry the did:key specification's error names (invalidDid, methodNotSupported,
// invalidPublicKeyLength, invalidDidUrl, unsupportedPublicKeyType, invalidPublicKeyType).
package did
