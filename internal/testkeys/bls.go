package testkeys

import (
	"bytes"
	"crypto/sha256"

	"github.com/mandate-dev/mandate/did"
	"github.com/mandate-dev/mandate/internal/aries"
)

// BLSKey is an in-memory BLS12-381 G2 did:key signer for BBS+.
type BLSKey struct {
	key *aries.BLSKey
	did string
	vm  string
}

// NewBLS derives a BBS+ key deterministically from a name. Tests only.
func NewBLS(name string) *BLSKey {
	seed := sha256.Sum256([]byte("mandate test bls key: " + name))
	k, err := aries.GenerateBLSKey(bytes.NewReader(seed[:]))
	if err != nil {
		panic(err)
	}
	d, err := did.FromBLS12381G2(k.PublicKey())
	if err != nil {
		panic(err)
	}
	return &BLSKey{key: k, did: d, vm: d + "#" + d[len("did:key:"):]}
}

// DID returns the key's did:key (zUC...).
func (k *BLSKey) DID() string { return k.did }

// VerificationMethod returns the key's verification method id.
func (k *BLSKey) VerificationMethod() string { return k.vm }

// SignMessages makes a BBS+ signature over msgs.
func (k *BLSKey) SignMessages(msgs [][]byte) ([]byte, error) { return k.key.SignMessages(msgs) }

// PublicKey returns the 96-byte compressed G2 public key.
func (k *BLSKey) PublicKey() []byte { return k.key.PublicKey() }
