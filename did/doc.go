// Package did creates and resolves Ed25519 did:key DIDs, offline.
//
// A did:key DID is its own public key: "did:key:" followed by the base58btc multibase ('z') encoding of the
// multicodec header ed25519-pub (0xed, varint 0xed01) and the 32 key bytes. FromPublicKey makes one,
// ParseKey reads the key back from a DID or from the DID URL of its verification method, and KeyResolver
// builds its DID document without a network.
//
// Only what Mandate needs is accepted; everything else is refused with an error naming the problem:
//
//   - the did:key method only (the list of methods is explicit); other methods give ErrMethodNotSupported;
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
// The sentinel errors carry the did:key specification's error names (invalidDid, methodNotSupported,
// invalidPublicKeyLength, invalidDidUrl, unsupportedPublicKeyType, invalidPublicKeyType).
package did
