package wallet

import (
	"encoding/json"
	"errors"
	"fmt"

	badger "github.com/dgraph-io/badger/v4"
)

const (
	// MaxChainSize bounds one stored chain (its JSON bytes).
	MaxChainSize = 1 << 20
	// MaxChainIDSize bounds a chain id (the leaf credential's id).
	MaxChainIDSize = 512

	chainPrefix = "wallet/chain/"
	// putRetries bounds retries of a PutChain that lost a race on its key to another writer.
	putRetries = 3
)

// StoredChain is one credential chain as stored: the leaf credential id and the chain's JSON.
type StoredChain struct {
	ID    string
	Chain []byte
}

func checkChainID(id string) error {
	if id == "" {
		return errors.New("wallet: chain id is empty")
	}
	if len(id) > MaxChainIDSize {
		return fmt.Errorf("wallet: chain id is %d bytes, limit %d", len(id), MaxChainIDSize)
	}
	return nil
}

// PutChain stores chain (a JSON chain of PoA credentials, root to leaf) under id, the leaf
// credential's id. It never overwrites: an id already stored gives ErrExists. Once PutChain returns
// nil the chain is on disk.
func (w *Wallet) PutChain(id string, chain []byte) error {
	if err := checkChainID(id); err != nil {
		return err
	}
	if len(chain) == 0 {
		return errors.New("wallet: chain is empty")
	}
	if len(chain) > MaxChainSize {
		return fmt.Errorf("wallet: chain is %d bytes, limit %d", len(chain), MaxChainSize)
	}
	if !json.Valid(chain) {
		return fmt.Errorf("wallet: chain %q is not valid JSON", id)
	}
	key := []byte(chainPrefix + id)
	var err error
	for range putRetries {
		err = w.db.Update(func(txn *badger.Txn) error {
			if _, err := txn.Get(key); err == nil {
				return ErrExists
			} else if !errors.Is(err, badger.ErrKeyNotFound) {
				return err
			}
			return txn.Set(key, chain)
		})
		if !errors.Is(err, badger.ErrConflict) {
			break
		}
	}
	if err != nil {
		return fmt.Errorf("wallet: put chain %q: %w", id, err)
	}
	return nil
}

// Chain returns the chain stored under id, or an error wrapping ErrNotFound.
func (w *Wallet) Chain(id string) ([]byte, error) {
	if err := checkChainID(id); err != nil {
		return nil, err
	}
	chain, err := w.get(chainPrefix + id)
	if errors.Is(err, badger.ErrKeyNotFound) {
		return nil, fmt.Errorf("wallet: chain %q: %w", id, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("wallet: chain %q: %w", id, err)
	}
	return chain, nil
}

// Chains returns every stored chain, sorted by id (byte order).
func (w *Wallet) Chains() ([]StoredChain, error) {
	var chains []StoredChain
	err := w.db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte(chainPrefix), PrefetchValues: true, PrefetchSize: 16})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			item := it.Item()
			chain, err := item.ValueCopy(nil)
			if err != nil {
				return err
			}
			chains = append(chains, StoredChain{ID: string(item.Key()[len(chainPrefix):]), Chain: chain})
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("wallet: list chains: %w", err)
	}
	return chains, nil
}

// DeleteChain removes the chain stored under id, or returns an error wrapping ErrNotFound.
func (w *Wallet) DeleteChain(id string) error {
	if err := checkChainID(id); err != nil {
		return err
	}
	key := []byte(chainPrefix + id)
	err := w.db.Update(func(txn *badger.Txn) error {
		if _, err := txn.Get(key); err != nil {
			return err
		}
		return txn.Delete(key)
	})
	if errors.Is(err, badger.ErrKeyNotFound) {
		return fmt.Errorf("wallet: chain %q: %w", id, ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("wallet: delete chain %q: %w", id, err)
	}
	return nil
}
