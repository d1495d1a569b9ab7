package wallet

import (
	"errors"
	"fmt"
	"strings"

	badger "github.com/dgraph-io/badger/v4"

	"github.com/mandate-dev/mandate/did"
	"github.com/mandate-dev/mandate/internal/aries"
)

// blsKeyPrefix: wallet/bls/<did> holds the KMS key id of a BLS12-381 G2
// did:key, kept apart from wallet/did/ (the Ed25519 DIDs every Signer
// lists) because it signs BBS+ messages, not bytes.
const blsKeyPrefix = "wallet/bls/"

// BBSSigner signs BBS+ messages as one of the wallet's BLS12-381 G2
// did:keys; it is a credentials.BBSSigner.
type BBSSigner struct {
	keys  *aries.KeyManager
	keyID string
	did   string
}

// DID is the signer's did:key (zUC...).
func (s *BBSSigner) DID() string { return s.did }

// VerificationMethod is "<did>#<multibase key>".
func (s *BBSSigner) VerificationMethod() string {
	return s.did + "#" + strings.TrimPrefix(s.did, "did:key:")
}

// SignMessages makes a BBS+ signature over msgs with the key in the KMS.
func (s *BBSSigner) SignMessages(msgs [][]byte) ([]byte, error) {
	sig, err := s.keys.SignMessages(s.keyID, msgs)
	if err != nil {
		return nil, fmt.Errorf("wallet: bbs sign as %s: %w", s.did, err)
	}
	return sig, nil
}

// CreateBLSDID makes a new BLS12-381 G2 key in the wallet's KMS (aries
// localkms, in the same encrypted badger store as the Ed25519 keys) and
// returns its did:key: the identity a wallet issues and receives BBS+
// credentials under.
func (w *Wallet) CreateBLSDID() (string, error) {
	keyID, pub, err := w.keys.CreateBLS12381G2()
	if err != nil {
		return "", fmt.Errorf("wallet: create bls key: %w", err)
	}
	id, err := did.FromBLS12381G2(pub)
	if err != nil {
		return "", fmt.Errorf("wallet: create bls key: %w", err)
	}
	if err := w.db.Update(func(txn *badger.Txn) error { return txn.Set([]byte(blsKeyPrefix+id), []byte(keyID)) }); err != nil {
		return "", fmt.Errorf("wallet: store DID %s: %w", id, err)
	}
	w.log.Info("wallet BLS12-381 G2 DID created", "did", id)
	return id, nil
}

// BBSSigner returns the signer of one of the wallet's BLS12-381 G2
// did:keys, or an error wrapping ErrNotFound.
func (w *Wallet) BBSSigner(id string) (*BBSSigner, error) {
	if id == "" || len(id) > maxDIDLen {
		return nil, fmt.Errorf("wallet: DID must be 1 to %d bytes, got %d", maxDIDLen, len(id))
	}
	keyID, err := w.get(blsKeyPrefix + id)
	if errors.Is(err, badger.ErrKeyNotFound) {
		return nil, fmt.Errorf("wallet: BLS DID %s: %w", id, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("wallet: BLS DID %s: %w", id, err)
	}
	pub, err := w.keys.BLSPublicKey(string(keyID))
	if err != nil {
		return nil, fmt.Errorf("wallet: BLS DID %s: %w", id, err)
	}
	// The record and the KMS must agree; a mismatch means a damaged or tampered DB.
	if derived, err := did.FromBLS12381G2(pub); err != nil || derived != id {
		return nil, fmt.Errorf("wallet: BLS DID %s: its stored key belongs to %s", id, derived)
	}
	return &BBSSigner{keys: w.keys, keyID: string(keyID), did: id}, nil
}

// BLSDIDs lists the wallet's BLS12-381 G2 did:keys in byte order.
func (w *Wallet) BLSDIDs() ([]string, error) {
	var ids []string
	err := w.db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte(blsKeyPrefix)})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			ids = append(ids, string(it.Item().Key()[len(blsKeyPrefix):]))
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("wallet: list BLS DIDs: %w", err)
	}
	return ids, nil
}
