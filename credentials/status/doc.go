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
package status
