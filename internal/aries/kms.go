package aries

import (
	"crypto/ed25519"
	"errors"
	"fmt"

	badger "github.com/dgraph-io/badger/v4"
	"github.com/google/tink/go/keyset"
	tinkpb "github.com/google/tink/go/proto/tink_go_proto"
	"github.com/hyperledger/aries-framework-go/pkg/crypto/tinkcrypto"
	"github.com/hyperledger/aries-framework-go/pkg/kms"
	"github.com/hyperledger/aries-framework-go/pkg/kms/localkms"
	"github.com/hyperledger/aries-framework-go/pkg/secretlock"
	"github.com/hyperledger/aries-framework-go/pkg/secretlock/noop"
)

const (
	// primaryKeyURI names the key that wraps keysets; with the noop lock only its form matters.
	primaryKeyURI = "local-lock://mandate-wallet"

	ed25519PrivateKeyURL = "type.googleapis.com/google.crypto.tink.Ed25519PrivateKey"

	maxKeyIDLen = 128
	// MaxSignMessage bounds what Sign accepts; Mandate signs proof hashes and JWS inputs.
	MaxSignMessage = 16 << 20
)

// KeyManager keeps Ed25519 keys in aries' localkms, stored in a badger DB under a prefix, and
// signs with aries' tinkcrypto. Only Mandate's and the standard library's types cross its API.
type KeyManager struct {
	stores *StoreProvider
	kms    *localkms.LocalKMS
	crypto *tinkcrypto.Crypto
}

// kmsProvider is the pair of services localkms.New asks for.
type kmsProvider struct {
	store kms.Store
	lock  secretlock.Service
}

func (p kmsProvider) StorageProvider() kms.Store     { return p.store }
func (p kmsProvider) SecretLock() secretlock.Service { return p.lock }

// NewKeyManager opens the KMS whose keysets live under prefix in db. The caller owns db and must
// keep it open while the KeyManager is used.
//
// The secret lock is noop, so keysets are stored without a second wrapping key. That is sound only
// because db is itself encrypted at rest (badger AES-256 with a key derived from the wallet
// passphrase): the keysets never reach the disk in the clear. Do not pass an unencrypted DB.
func NewKeyManager(db *badger.DB, prefix string) (*KeyManager, error) {
	stores, err := NewStoreProvider(db, prefix)
	if err != nil {
		return nil, err
	}
	store, err := kms.NewAriesProviderWrapper(stores)
	if err != nil {
		return nil, fmt.Errorf("aries: open kms store: %w", err)
	}
	lkms, err := localkms.New(primaryKeyURI, kmsProvider{store: store, lock: &noop.NoLock{}})
	if err != nil {
		return nil, fmt.Errorf("aries: new localkms: %w", err)
	}
	c, err := tinkcrypto.New()
	if err != nil {
		return nil, fmt.Errorf("aries: new tinkcrypto: %w", err)
	}
	return &KeyManager{stores: stores, kms: lkms, crypto: c}, nil
}

// Close closes the KMS's stores; the DB stays open. Later calls fail.
func (k *KeyManager) Close() error {
	return k.stores.Close()
}

// CreateEd25519 makes and stores a new Ed25519 key and returns its id and public key.
func (k *KeyManager) CreateEd25519() (string, ed25519.PublicKey, error) {
	keyID, _, err := k.kms.Create(kms.ED25519Type)
	if err != nil {
		return "", nil, fmt.Errorf("aries: create ed25519 key: %w", err)
	}
	pub, err := k.PublicKey(keyID)
	if err != nil {
		return "", nil, err
	}
	return keyID, pub, nil
}

// PublicKey returns the public half of the Ed25519 key keyID; other key types are refused.
func (k *KeyManager) PublicKey(keyID string) (ed25519.PublicKey, error) {
	if err := checkKeyID(keyID); err != nil {
		return nil, err
	}
	raw, kt, err := k.kms.ExportPubKeyBytes(keyID)
	if err != nil {
		return nil, fmt.Errorf("aries: export public key %q: %w", keyID, err)
	}
	if kt != kms.ED25519Type {
		return nil, fmt.Errorf("aries: key %q is %s, want %s", keyID, kt, kms.ED25519Type)
	}
	if len(raw) != ed25519.PublicKeySize {
		return nil, fmt.Errorf("aries: key %q has a %d-byte public key, want %d", keyID, len(raw), ed25519.PublicKeySize)
	}
	return ed25519.PublicKey(raw), nil
}

// Sign signs msg with the Ed25519 key keyID and returns the 64-byte signature.
func (k *KeyManager) Sign(keyID string, msg []byte) ([]byte, error) {
	if err := checkKeyID(keyID); err != nil {
		return nil, err
	}
	if len(msg) > MaxSignMessage {
		return nil, fmt.Errorf("aries: message to sign is %d bytes, limit %d", len(msg), MaxSignMessage)
	}
	kh, err := k.kms.Get(keyID)
	if err != nil {
		return nil, fmt.Errorf("aries: get key %q: %w", keyID, err)
	}
	if err := checkEd25519Handle(kh); err != nil {
		return nil, fmt.Errorf("aries: key %q: %w", keyID, err)
	}
	sig, err := k.crypto.Sign(msg, kh)
	if err != nil {
		return nil, fmt.Errorf("aries: sign with key %q: %w", keyID, err)
	}
	if len(sig) != ed25519.SignatureSize {
		return nil, fmt.Errorf("aries: key %q made a %d-byte signature, want %d", keyID, len(sig), ed25519.SignatureSize)
	}
	return sig, nil
}

// checkEd25519Handle makes sure a keyset holds exactly one raw (unprefixed) Ed25519 private key,
// so that Sign never signs with a key of another type or emits Tink's prefixed signatures.
func checkEd25519Handle(kh interface{}) error {
	h, ok := kh.(*keyset.Handle)
	if !ok {
		return fmt.Errorf("unexpected key handle type %T", kh)
	}
	infos := h.KeysetInfo().GetKeyInfo()
	if len(infos) != 1 {
		return fmt.Errorf("keyset holds %d keys, want 1", len(infos))
	}
	if infos[0].GetTypeUrl() != ed25519PrivateKeyURL {
		return fmt.Errorf("key type %s is not an Ed25519 private key", infos[0].GetTypeUrl())
	}
	if infos[0].GetOutputPrefixType() != tinkpb.OutputPrefixType_RAW {
		return fmt.Errorf("key output prefix %s, want RAW", infos[0].GetOutputPrefixType())
	}
	return nil
}

func checkKeyID(keyID string) error {
	if keyID == "" {
		return errors.New("aries: key id is empty")
	}
	if len(keyID) > maxKeyIDLen {
		return fmt.Errorf("aries: key id is %d bytes, limit %d", len(keyID), maxKeyIDLen)
	}
	return nil
}
