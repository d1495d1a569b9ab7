package wallet

import (
	"fmt"
	"strings"

	badger "github.com/dgraph-io/badger/v4"

	"github.com/mandate-dev/mandate/did"
)

// CreateWebDID makes a new Ed25519 key in the wallet's KMS for an
// organisation's did:web DID and returns the DID document to publish at
// did.WebURL(id). The key never leaves the KMS; the wallet signs as id
// with the method "<id>#key-1".
func (w *Wallet) CreateWebDID(id string) (*did.Document, error) {
	if len(id) > maxDIDLen {
		return nil, fmt.Errorf("wallet: DID must be at most %d bytes", maxDIDLen)
	}
	if _, err := did.WebURL(id); err != nil {
		return nil, fmt.Errorf("wallet: %w", err)
	}
	if _, err := w.get(didKeyPrefix + id); err == nil {
		return nil, fmt.Errorf("wallet: DID %s already has a key", id)
	}
	keyID, pub, err := w.keys.CreateEd25519()
	if err != nil {
		return nil, fmt.Errorf("wallet: create key: %w", err)
	}
	doc, err := did.WebDocument(id, pub)
	if err != nil {
		return nil, fmt.Errorf("wallet: %w", err)
	}
	if err := w.db.Update(func(txn *badger.Txn) error { return txn.Set([]byte(didKeyPrefix+id), []byte(keyID)) }); err != nil {
		return nil, fmt.Errorf("wallet: store DID %s: %w", id, err)
	}
	w.log.Info("wallet DID created", "did", id)
	return doc, nil
}

// webMethod returns the verification method of a did:web the wallet holds
// (its identifier does not encode its key, so there is nothing to derive).
func webMethod(id string) (string, bool) {
	if !strings.HasPrefix(id, "did:web:") {
		return "", false
	}
	return id + "#" + did.WebKeyFragment, true
}
