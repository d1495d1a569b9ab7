// Package testkeys provides in-memory did:key signers for tests, examples
// and benchmarks: real Ed25519 keys with no wallet behind them.
package testkeys

import (
	"crypto/ed25519"
	"crypto/sha256"

	"github.com/mandate-dev/mandate/did"
)

// Key is an in-memory did:key signer.
type Key struct {
	priv ed25519.PrivateKey
	did  string
	vm   string
}

// New derives a key deterministically from a name, so that test output is
// stable. Never use it for anything but tests.
func New(name string) *Key {
	seed := sha256.Sum256([]byte("mandate test key: " + name))
	priv := ed25519.NewKeyFromSeed(seed[:])
	d, err := did.FromPublicKey(priv.Public().(ed25519.PublicKey))
	if err != nil {
		panic(err) // a 32-byte Ed25519 key always has a did:key
	}
	vm, err := did.VerificationMethodID(d)
	if err != nil {
		panic(err)
	}
	return &Key{priv: priv, did: d, vm: vm}
}

// DID returns the key's did:key.
func (k *Key) DID() string { return k.did }

// VerificationMethod returns the key's verification method id.
func (k *Key) VerificationMethod() string { return k.vm }

// Sign signs msg with Ed25519.
func (k *Key) Sign(msg []byte) ([]byte, error) { return ed25519.Sign(k.priv, msg), nil }

// PublicKey returns the public key.
func (k *Key) PublicKey() ed25519.PublicKey { return k.priv.Public().(ed25519.PublicKey) }
