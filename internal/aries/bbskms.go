package aries

import (
	"fmt"

	"github.com/hyperledger/aries-framework-go/component/kmscrypto/crypto/primitive/bbs12381g2pub"
	"github.com/hyperledger/aries-framework-go/pkg/kms"

	"github.com/mandate-dev/mandate/internal/aries/g2"
)

// CreateBLS12381G2 makes and stores a new BBS+ key (BLS12-381, public key in
// G2) in the KMS, beside the Ed25519 keys and under the same encryption at
// rest, and returns its id and 96-byte compressed public key.
func (k *KeyManager) CreateBLS12381G2() (string, []byte, error) {
	keyID, _, err := k.kms.Create(kms.BLS12381G2Type)
	if err != nil {
		return "", nil, fmt.Errorf("aries: create bls12381g2 key: %w", err)
	}
	pub, err := k.BLSPublicKey(keyID)
	if err != nil {
		return "", nil, err
	}
	return keyID, pub, nil
}

// BLSPublicKey returns the public half of the BBS+ key keyID; other key
// types are refused, and so is a point that is not a valid G2 key.
func (k *KeyManager) BLSPublicKey(keyID string) ([]byte, error) {
	if err := checkKeyID(keyID); err != nil {
		return nil, err
	}
	raw, kt, err := k.kms.ExportPubKeyBytes(keyID)
	if err != nil {
		return nil, fmt.Errorf("aries: export public key %q: %w", keyID, err)
	}
	if kt != kms.BLS12381G2Type {
		return nil, fmt.Errorf("aries: key %q is %s, want %s", keyID, kt, kms.BLS12381G2Type)
	}
	if err := g2.Check(raw); err != nil {
		return nil, fmt.Errorf("aries: key %q: %w", keyID, err)
	}
	return raw, nil
}

// SignMessages makes a BBS+ signature over msgs with the KMS key keyID.
func (k *KeyManager) SignMessages(keyID string, msgs [][]byte) ([]byte, error) {
	if _, err := k.BLSPublicKey(keyID); err != nil {
		return nil, err
	}
	if len(msgs) == 0 || len(msgs) > MaxBBSMessages {
		return nil, fmt.Errorf("aries: bbs sign: %d messages, want 1..%d", len(msgs), MaxBBSMessages)
	}
	kh, err := k.kms.Get(keyID)
	if err != nil {
		return nil, fmt.Errorf("aries: get key %q: %w", keyID, err)
	}
	// tinkcrypto's BBS+ signer is bbs12381g2pub: the same package globals.
	bbsMu.Lock()
	sig, err := k.crypto.SignMulti(msgs, kh)
	bbsMu.Unlock()
	if err != nil {
		return nil, fmt.Errorf("aries: bbs sign with key %q: %w", keyID, err)
	}
	return sig, nil
}

// MaxBLSSignedMessage bounds a message VerifyBLSSignature accepts.
const MaxBLSSignedMessage = 64 << 10

// VerifyBLSSignature checks a BBS+ signature over the one message msg by
// the G2 key pub: a BLS12-381 G2 did:key's proof of possession, used where
// a holder signs (a BBS+ presentation's binding).
func VerifyBLSSignature(pub, msg, sig []byte) error {
	if err := g2.Check(pub); err != nil {
		return fmt.Errorf("aries: bbs signature: %w", err)
	}
	if len(msg) == 0 || len(msg) > MaxBLSSignedMessage {
		return fmt.Errorf("aries: bbs signature: message is %d bytes, want 1..%d", len(msg), MaxBLSSignedMessage)
	}
	// A BBS+ signature is a G1 point and two scalars.
	if len(sig) != g1Size+2*frSize {
		return fmt.Errorf("aries: bbs signature: %d bytes, want %d", len(sig), g1Size+2*frSize)
	}
	bbsMu.Lock()
	defer bbsMu.Unlock()
	if err := bbs12381g2pub.New().Verify([][]byte{msg}, sig, pub); err != nil {
		return fmt.Errorf("aries: bbs signature: %w", err)
	}
	return nil
}
