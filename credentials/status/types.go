package status

import (
	"errors"
	"time"
)

// Limits on status lists. A list is at least MinBits long (the spec's
// herd-privacy floor) and at most MaxBits, so a decoded list costs at most
// MaxBits/8 bytes whatever its compressed form claims.
const (
	MinBits = 131072
	MaxBits = 1 << 24
	// MaxEncodedBytes bounds the encodedList string before decoding.
	MaxEncodedBytes = 1 << 20
	// MaxStatusSize is the largest statusSize accepted, in bits.
	MaxStatusSize = 8
	// MaxEntries bounds the credentialStatus entries of one credential.
	MaxEntries = 256
)

// Purpose is a statusPurpose.
type Purpose string

// The purposes of the Bitstring Status List v1.0 spec that Mandate reads.
const (
	Revocation Purpose = "revocation"
	Suspension Purpose = "suspension"
	Message    Purpose = "message"
)

// Credential and entry types.
const (
	TypeBitstringCredential = "BitstringStatusListCredential"
	TypeBitstringList       = "BitstringStatusList"
	TypeBitstringEntry      = "BitstringStatusListEntry"
	// StatusList2021 (CCG, 2023) is read for compatibility.
	TypeSL2021Credential = "StatusList2021Credential"
	TypeSL2021List       = "StatusList2021"
	TypeSL2021Entry      = "StatusList2021Entry"
)

// Errors a caller branches on.
var (
	// ErrMalformed: an encoded list, entry or list credential is not well formed.
	ErrMalformed = errors.New("status: malformed")
	// ErrIndexOutOfRange: an entry points past the end of its list.
	ErrIndexOutOfRange = errors.New("status: index out of range")
	// ErrPurposeMismatch: an entry's purpose is not one the list serves.
	ErrPurposeMismatch = errors.New("status: purpose mismatch")
)

// Entry is one credentialStatus entry: a pointer to StatusSize bits at
// Index in the list published at ListURL.
type Entry struct {
	ID         string
	Type       string // TypeBitstringEntry or TypeSL2021Entry
	Purpose    Purpose
	Index      int
	ListURL    string
	StatusSize int // bits per entry; 1 unless stated
	Messages   []StatusMessage
}

// StatusMessage names one value of a message entry ("0x1" -> "accepted").
type StatusMessage struct {
	Status  string
	Message string
}

// ListCredential is a status list credential's contents, read without
// checking its proof (the caller verifies the proof first).
type ListCredential struct {
	ID         string
	Type       string // TypeBitstringCredential or TypeSL2021Credential
	Issuer     string
	ValidFrom  time.Time  // validFrom, or issuanceDate for VC 1.1
	ValidUntil *time.Time // validUntil, or expirationDate for VC 1.1
	SubjectID  string
	Purposes   []Purpose
	TTL        time.Duration // 0 when the list states none
	Bits       *Bitstring
	Raw        map[string]any
}
