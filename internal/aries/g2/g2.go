// Package g2 checks BLS12-381 G2 public keys with aries' bbs12381g2pub
// decoder. It is a leaf of the aries adapter, kept apart from internal/aries
// so that the did package can check a key without linking aries' KMS,
// storage and JSON-LD engine.
package g2

import (
	"errors"
	"fmt"

	"github.com/hyperledger/aries-framework-go/component/kmscrypto/crypto/primitive/bbs12381g2pub"
)

// PublicKeySize is the size of a compressed G2 point.
const PublicKeySize = 96

// ErrInvalidKey marks bytes that are not a usable BLS12-381 G2 public key.
var ErrInvalidKey = errors.New("g2: invalid BLS12-381 G2 public key")

// Check accepts a compressed G2 point that is on the curve, in the prime
// order subgroup, and not the point at infinity. aries' decoder does the
// first two checks but returns the identity for the infinity encoding
// (0xc0 00..00): with the identity as public key, anyone can make a BBS+
// signature that verifies, so it is refused here.
func Check(pub []byte) error {
	if len(pub) != PublicKeySize {
		return fmt.Errorf("%w: %d bytes, want %d", ErrInvalidKey, len(pub), PublicKeySize)
	}
	if pub[0]&0x80 == 0 {
		return fmt.Errorf("%w: compression flag not set", ErrInvalidKey)
	}
	if pub[0]&0x40 != 0 {
		return fmt.Errorf("%w: point at infinity", ErrInvalidKey)
	}
	if _, err := bbs12381g2pub.UnmarshalPublicKey(pub); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalidKey, err)
	}
	return nil
}
