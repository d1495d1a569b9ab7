// Package sdjwt implements Selective Disclosure for JWTs (SD-JWT) as
// specified by RFC 9901, on go-jose v4.
//
// An Issuer signs a JWT whose selectively disclosable claims are replaced by
// digests of Disclosures (object properties and array elements, recursively,
// with optional decoy digests) and binds it to the Holder's key with a cnf
// jwk claim. A Holder picks the Disclosures a Verifier needs and appends a
// Key Binding JWT (typ kb+jwt) carrying nonce, aud, iat and sd_hash. A
// Verifier checks the issuer signature, the hash algorithm, every Disclosure
// and the Key Binding JWT, and returns the Processed SD-JWT Payload.
//
// Verification (signatures, digests, sd_hash) and validation (expiry, the iat
// window, nonce and audience) are separate steps: Verifier.Verify returns a
// Verified value whose Validate method takes the current time and the
// expected nonce and audience.
//
// The package is deliberately narrow: only sha-256 is accepted for _sd_alg,
// only the asymmetric signature algorithms in SupportedAlgorithms are
// accepted (never none, never HMAC), the algorithm must match the key's type
// before the key is used, and every input is bounded by Limits.
package sdjwt
