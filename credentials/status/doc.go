// Package status reads and writes W3C Bitstring Status List v1.0 status
// lists, and reads the CCG StatusList2021 lists that came before them.
//
// A status list is a Bitstring of at least MinBits bits. A credential points
// into it with an Entry (its credentialStatus member): StatusSize bits at
// position Index*StatusSize, the left-most bit of the list being bit 0 and
// the first bit of an entry its most significant. A list is published inside
// a status list credential (ListCredential) whose encodedList is the
// GZIP-compressed bitstring in multibase base64url ("u" prefix, no padding);
// StatusList2021 lists carry the same bytes without the prefix.
//
// Everything here reads untrusted input and fails closed: every size is
// bounded (MaxEncodedBytes, MaxBits, MaxEntries, MaxStatusSize), a GZIP
// bomb is stopped while it inflates, and every problem is an error wrapping
// ErrMalformed, ErrIndexOutOfRange or ErrPurposeMismatch that names it.
//
// ParseListCredential checks the shape of a list credential only: its proof,
// its issuer and its freshness are for the caller to check before
// ListCredential.Status is trusted.
//
// Registry is the issuer's side: the lists of the credentials one issuer
// signs, kept in its (encrypted) badger store. It hands out random indices
// that are never reused, gives every credential and every grant a
// revocation and a suspension entry, and records revocations (final) and
// suspensions (reversible) durably. Signing and publishing the lists is
// done by credentials.SignStatusList and statushttp.WriteFile.
package status
