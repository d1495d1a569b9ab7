package wallet

import (
	"crypto/ed25519"
	"errors"
	"fmt"

	badger "github.com/dgraph-io/badger/v4"

	"github.com/mandate-dev/mandate/did"
	"github.com/mandate-dev/mandate/internal/aries"
)

// Wallet records, beside the KMS's own under kmsPrefix:
//
//	wallet/primary      the primary DID
//	wallet/did/<did>    the KMS key id of that DID's key
const (
	primaryKey   = "wallet/primary"
	didKeyPrefix = "wallet/did/"
	maxDIDLen    = 256 // an Ed25519 did:key is 56 bytes
)

// Signer signs as one of the wallet's DIDs.
type Signer interface {
	// DID is the signer's did:key.
	DID() string
	// VerificationMethod is "<did>#<fragment>", for a proof's verificationMethod or a JWS kid.
	VerificationMethod() string
	// Sign returns an Ed25519 signature of msg.
	Sign(msg []byte) ([]byte, error)
}

// signer is a DID whose key is in the wallet's KMS.
type signer struct {
	keys  *aries.KeyManager
	keyID string
	did   string
	vm    string
	pub   ed25519.PublicKey
}

func (s *signer) DID() string                  { return s.did }
func (s *signer) VerificationMethod() string   { return s.vm }
func (s *signer) PublicKey() ed25519.PublicKey { return append(ed25519.PublicKey(nil), s.pub...) }

func (s *signer) Sign(msg []byte) ([]byte, error) {
	sig, err := s.keys.Sign(s.keyID, msg)
	if err != nil {
		return nil, fmt.Errorf("wallet: sign as %s: %w", s.did, err)
	}
	return sig, nil
}

// CreateDID makes a new Ed25519 key in the wallet's KMS and returns its did:key.
func (w *Wallet) CreateDID() (string, error) {
	keyID, pub, err := w.keys.CreateEd25519()
	if err != nil {
		return "", fmt.Errorf("wallet: create key: %w", err)
	}
	id, err := did.FromPublicKey(pub)
	if err != nil {
		return "", fmt.Errorf("wallet: create key: %w", err)
	}
	err = w.db.Update(func(txn *badger.Txn) error {
		return txn.Set([]byte(didKeyPrefix+id), []byte(keyID))
	})
	if err != nil {
		return "", fmt.Errorf("wallet: store DID %s: %w", id, err)
	}
	w.log.Info("wallet DID created", "did", id)
	return id, nil
}

// Signer returns a Signer for one of the wallet's DIDs, or an error wrapping ErrNotFound.
func (w *Wallet) Signer(id string) (Signer, error) {
	return w.signer(id)
}

func (w *Wallet) signer(id string) (*signer, error) {
	if id == "" || len(id) > maxDIDLen {
		return nil, fmt.Errorf("wallet: DID must be 1 to %d bytes, got %d", maxDIDLen, len(id))
	}
	keyID, err := w.get(didKeyPrefix + id)
	if errors.Is(err, badger.ErrKeyNotFound) {
		return nil, fmt.Errorf("wallet: DID %s: %w", id, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("wallet: DID %s: %w", id, err)
	}
	pub, err := w.keys.PublicKey(string(keyID))
	if err != nil {
		return nil, fmt.Errorf("wallet: DID %s: %w", id, err)
	}
	if vm, ok := webMethod(id); ok {
		return &signer{keys: w.keys, keyID: string(keyID), did: id, vm: vm, pub: pub}, nil
	}
	// The record and the KMS must agree; a mismatch means a damaged or tampered DB.
	if derived, err := did.FromPublicKey(pub); err != nil || derived != id {
		return nil, fmt.Errorf("wallet: DID %s: its stored key belongs to %s", id, derived)
	}
	vm, err := did.VerificationMethodID(id)
	if err != nil {
		return nil, fmt.Errorf("wallet: DID %s: %w", id, err)
	}
	return &signer{keys: w.keys, keyID: string(keyID), did: id, vm: vm, pub: pub}, nil
}

// DIDs lists the wallet's DIDs in byte order.
func (w *Wallet) DIDs() ([]string, error) {
	var ids []string
	err := w.db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte(didKeyPrefix)})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			ids = append(ids, string(it.Item().Key()[len(didKeyPrefix):]))
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("wallet: list DIDs: %w", err)
	}
	return ids, nil
}

func (w *Wallet) setPrimary(id string) error {
	s, err := w.signer(id)
	if err != nil {
		return err
	}
	if err := w.db.Update(func(txn *badger.Txn) error { return txn.Set([]byte(primaryKey), []byte(id)) }); err != nil {
		return fmt.Errorf("wallet: set primary DID: %w", err)
	}
	w.primary = s
	return nil
}

func (w *Wallet) loadPrimary() error {
	id, err := w.get(primaryKey)
	if err != nil {
		return fmt.Errorf("wallet: read primary DID (damaged wallet?): %w", err)
	}
	s, err := w.signer(string(id))
	if err != nil {
		return fmt.Errorf("wallet: load primary DID: %w", err)
	}
	w.primary = s
	return nil
}

// get returns a copy of the value at key, or badger.ErrKeyNotFound.
func (w *Wallet) get(key string) ([]byte, error) {
	var val []byte
	err := w.db.View(func(txn *badger.Txn) error {
		item, err := txn.Get([]byte(key))
		if err != nil {
			return err
		}
		val, err = item.ValueCopy(nil)
		return err
	})
	return val, err
}
