package aries

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"

	badger "github.com/dgraph-io/badger/v4"
	"github.com/hyperledger/aries-framework-go/spi/storage"
)

// Limits on what the store accepts. aries' own records (KMS keysets, JSON-LD contexts) are far
// below them; anything larger is a bug or an attack and is refused with an error.
const (
	maxPrefixLen    = 64
	maxStoreNameLen = 255
	maxKeyLen       = 2048
	maxValueLen     = 2 << 20
	maxTags         = 64
	maxTagLen       = 1024
	maxQueryLen     = 8192
	maxQueryResults = 100_000
	defaultPageSize = 25
)

var (
	errProviderClosed = errors.New("aries: store provider is closed")
	errStoreClosed    = errors.New("aries: store is closed")
)

// StoreProvider implements aries' storage.Provider over a *badger.DB that it shares with other
// users: every key it writes starts with the prefix given to NewStoreProvider.
//
// Layout under the prefix:
//
//	c/<store name>                 store configuration (JSON); its presence means the store exists
//	d/<store name> 0x00 <key>      record: value and tags (JSON)
//
// Store names are lower-cased (aries store names are case-insensitive) and may not contain 0x00,
// which keeps the data prefixes of two stores disjoint.
type StoreProvider struct {
	db     *badger.DB
	prefix string

	mu     sync.Mutex
	open   map[string]*store
	closed bool
}

var _ storage.Provider = (*StoreProvider)(nil)

// NewStoreProvider returns a provider whose keys all live under prefix in db. The caller owns db:
// closing the provider does not close it.
func NewStoreProvider(db *badger.DB, prefix string) (*StoreProvider, error) {
	if db == nil {
		return nil, errors.New("aries: store provider needs a badger DB")
	}
	if prefix == "" || len(prefix) > maxPrefixLen {
		return nil, fmt.Errorf("aries: store prefix must be 1 to %d bytes, got %d", maxPrefixLen, len(prefix))
	}
	return &StoreProvider{db: db, prefix: prefix, open: map[string]*store{}}, nil
}

// OpenStore opens (creating if needed) the store called name.
func (p *StoreProvider) OpenStore(name string) (storage.Store, error) {
	n, err := storeName(name)
	if err != nil {
		return nil, err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return nil, errProviderClosed
	}
	if s, ok := p.open[n]; ok {
		return s, nil
	}
	if err := p.createStore(n); err != nil {
		return nil, err
	}
	s := &store{provider: p, name: n, dataPrefix: p.dataPrefix(n)}
	p.open[n] = s
	return s, nil
}

// createStore records that the store exists, keeping any configuration set earlier.
func (p *StoreProvider) createStore(name string) error {
	key := p.configKey(name)
	err := p.db.Update(func(txn *badger.Txn) error {
		_, err := txn.Get(key)
		if err == nil {
			return nil
		}
		if !errors.Is(err, badger.ErrKeyNotFound) {
			return err
		}
		return txn.Set(key, []byte("{}"))
	})
	if err != nil {
		return fmt.Errorf("aries: create store %q: %w", name, err)
	}
	return nil
}

// SetStoreConfig stores config for an open store. Tag names are checked but no index is built:
// queries scan the store.
func (p *StoreProvider) SetStoreConfig(name string, config storage.StoreConfiguration) error {
	n, err := storeName(name)
	if err != nil {
		return err
	}
	if len(config.TagNames) > maxTags {
		return fmt.Errorf("aries: store config has %d tag names, limit %d", len(config.TagNames), maxTags)
	}
	for _, tn := range config.TagNames {
		if err := checkTagPart("name", tn, true); err != nil {
			return err
		}
	}
	raw, err := json.Marshal(config)
	if err != nil {
		return fmt.Errorf("aries: encode store config: %w", err)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return errProviderClosed
	}
	if _, ok := p.open[n]; !ok {
		return fmt.Errorf("aries: set config of store %q: %w", n, storage.ErrStoreNotFound)
	}
	if err := p.db.Update(func(txn *badger.Txn) error { return txn.Set(p.configKey(n), raw) }); err != nil {
		return fmt.Errorf("aries: set config of store %q: %w", n, err)
	}
	return nil
}

// GetStoreConfig reads the configuration of a store that exists in the database, open or not.
func (p *StoreProvider) GetStoreConfig(name string) (storage.StoreConfiguration, error) {
	var config storage.StoreConfiguration
	n, err := storeName(name)
	if err != nil {
		return config, err
	}
	if p.isClosed() {
		return config, errProviderClosed
	}
	raw, err := p.get(p.configKey(n))
	if errors.Is(err, badger.ErrKeyNotFound) {
		return config, fmt.Errorf("aries: get config of store %q: %w", n, storage.ErrStoreNotFound)
	}
	if err != nil {
		return config, fmt.Errorf("aries: get config of store %q: %w", n, err)
	}
	if err := json.Unmarshal(raw, &config); err != nil {
		return config, fmt.Errorf("aries: decode config of store %q: %w", n, err)
	}
	return config, nil
}

// GetOpenStores returns the stores opened through this provider and not yet closed.
func (p *StoreProvider) GetOpenStores() []storage.Store {
	p.mu.Lock()
	defer p.mu.Unlock()
	stores := make([]storage.Store, 0, len(p.open))
	for _, s := range p.open {
		stores = append(stores, s)
	}
	return stores
}

// Close closes every open store; later calls on the provider or its stores fail. The badger DB
// stays open: it belongs to the caller.
func (p *StoreProvider) Close() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	for n, s := range p.open {
		s.closed.Store(true)
		delete(p.open, n)
	}
	p.closed = true
	return nil
}

func (p *StoreProvider) isClosed() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.closed
}

func (p *StoreProvider) forget(s *store) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.open[s.name] == s {
		delete(p.open, s.name)
	}
}

func (p *StoreProvider) configKey(name string) []byte {
	return []byte(p.prefix + "c/" + name)
}

func (p *StoreProvider) dataPrefix(name string) []byte {
	return []byte(p.prefix + "d/" + name + "\x00")
}

// get returns a copy of the value at key, or badger.ErrKeyNotFound.
func (p *StoreProvider) get(key []byte) ([]byte, error) {
	var val []byte
	err := p.db.View(func(txn *badger.Txn) error {
		item, err := txn.Get(key)
		if err != nil {
			return err
		}
		val, err = item.ValueCopy(nil)
		return err
	})
	return val, err
}

func storeName(name string) (string, error) {
	if name == "" {
		return "", errors.New("aries: store name is empty")
	}
	if len(name) > maxStoreNameLen {
		return "", fmt.Errorf("aries: store name is %d bytes, limit %d", len(name), maxStoreNameLen)
	}
	if strings.ContainsRune(name, 0) {
		return "", errors.New("aries: store name contains a NUL byte")
	}
	return strings.ToLower(name), nil
}

// record is what a store keeps under a key.
type record struct {
	Value []byte        `json:"v"`
	Tags  []storage.Tag `json:"t,omitempty"`
}

func decodeRecord(raw []byte) (record, error) {
	var r record
	if err := json.Unmarshal(raw, &r); err != nil {
		return r, fmt.Errorf("aries: decode record: %w", err)
	}
	if r.Value == nil {
		r.Value = []byte{}
	}
	return r, nil
}

func checkKey(key string) error {
	if key == "" {
		return errors.New("aries: key is empty")
	}
	if len(key) > maxKeyLen {
		return fmt.Errorf("aries: key is %d bytes, limit %d", len(key), maxKeyLen)
	}
	return nil
}

func checkValue(value []byte) error {
	if value == nil {
		return errors.New("aries: value is nil")
	}
	if len(value) > maxValueLen {
		return fmt.Errorf("aries: value is %d bytes, limit %d", len(value), maxValueLen)
	}
	return nil
}

// checkTags enforces aries' rules (no ':' in names or values, one tag per name) plus our limits.
func checkTags(tags []storage.Tag) error {
	if len(tags) > maxTags {
		return fmt.Errorf("aries: %d tags, limit %d", len(tags), maxTags)
	}
	seen := make(map[string]bool, len(tags))
	for _, t := range tags {
		if err := checkTagPart("name", t.Name, true); err != nil {
			return err
		}
		if err := checkTagPart("value", t.Value, false); err != nil {
			return err
		}
		if seen[t.Name] {
			return fmt.Errorf("aries: tag name %q is used twice", t.Name)
		}
		seen[t.Name] = true
	}
	return nil
}

func checkTagPart(what, s string, required bool) error {
	if required && s == "" {
		return fmt.Errorf("aries: tag %s is empty", what)
	}
	if len(s) > maxTagLen {
		return fmt.Errorf("aries: tag %s is %d bytes, limit %d", what, len(s), maxTagLen)
	}
	if strings.Contains(s, ":") {
		return fmt.Errorf("aries: tag %s %q contains ':'", what, s)
	}
	return nil
}

// store is one named aries store inside the shared DB.
type store struct {
	provider   *StoreProvider
	name       string
	dataPrefix []byte
	closed     atomic.Bool
}

var _ storage.Store = (*store)(nil)

func (s *store) key(k string) []byte {
	b := make([]byte, 0, len(s.dataPrefix)+len(k))
	return append(append(b, s.dataPrefix...), k...)
}

func (s *store) usable() error {
	if s.closed.Load() {
		return errStoreClosed
	}
	return nil
}

// Put stores value and tags under key, replacing what was there.
func (s *store) Put(key string, value []byte, tags ...storage.Tag) error {
	if err := s.usable(); err != nil {
		return err
	}
	if err := checkPut(key, value, tags); err != nil {
		return err
	}
	raw, err := json.Marshal(record{Value: value, Tags: tags})
	if err != nil {
		return fmt.Errorf("aries: encode record: %w", err)
	}
	err = s.provider.db.Update(func(txn *badger.Txn) error { return txn.Set(s.key(key), raw) })
	if err != nil {
		return fmt.Errorf("aries: put %q in store %q: %w", key, s.name, err)
	}
	return nil
}

func checkPut(key string, value []byte, tags []storage.Tag) error {
	if err := checkKey(key); err != nil {
		return err
	}
	if err := checkValue(value); err != nil {
		return err
	}
	return checkTags(tags)
}

func (s *store) record(key string) (record, error) {
	if err := s.usable(); err != nil {
		return record{}, err
	}
	if err := checkKey(key); err != nil {
		return record{}, err
	}
	raw, err := s.provider.get(s.key(key))
	if errors.Is(err, badger.ErrKeyNotFound) {
		return record{}, fmt.Errorf("aries: get %q from store %q: %w", key, s.name, storage.ErrDataNotFound)
	}
	if err != nil {
		return record{}, fmt.Errorf("aries: get %q from store %q: %w", key, s.name, err)
	}
	return decodeRecord(raw)
}

// Get returns the value under key, or an error wrapping storage.ErrDataNotFound.
func (s *store) Get(key string) ([]byte, error) {
	r, err := s.record(key)
	return r.Value, err
}

// GetTags returns the tags under key, or an error wrapping storage.ErrDataNotFound.
func (s *store) GetTags(key string) ([]storage.Tag, error) {
	r, err := s.record(key)
	if err != nil {
		return nil, err
	}
	if r.Tags == nil {
		return []storage.Tag{}, nil
	}
	return r.Tags, nil
}

// GetBulk returns the values under keys, in order, with nil for a missing key.
func (s *store) GetBulk(keys ...string) ([][]byte, error) {
	if err := s.usable(); err != nil {
		return nil, err
	}
	if len(keys) == 0 {
		return nil, errors.New("aries: bulk get needs at least one key")
	}
	for _, k := range keys {
		if err := checkKey(k); err != nil {
			return nil, err
		}
	}
	values := make([][]byte, len(keys))
	err := s.provider.db.View(func(txn *badger.Txn) error {
		for i, k := range keys {
			v, err := readValue(txn, s.key(k))
			if err != nil {
				return fmt.Errorf("%q: %w", k, err)
			}
			values[i] = v
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("aries: bulk get from store %q: %w", s.name, err)
	}
	return values, nil
}

// readValue returns the record value at key, or nil when key is absent.
func readValue(txn *badger.Txn, key []byte) ([]byte, error) {
	item, err := txn.Get(key)
	if errors.Is(err, badger.ErrKeyNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	raw, err := item.ValueCopy(nil)
	if err != nil {
		return nil, err
	}
	r, err := decodeRecord(raw)
	return r.Value, err
}

// Delete removes key and its tags. Deleting an absent key succeeds: the key is absent afterwards.
func (s *store) Delete(key string) error {
	if err := s.usable(); err != nil {
		return err
	}
	if err := checkKey(key); err != nil {
		return err
	}
	if err := s.provider.db.Update(func(txn *badger.Txn) error { return txn.Delete(s.key(key)) }); err != nil {
		return fmt.Errorf("aries: delete %q from store %q: %w", key, s.name, err)
	}
	return nil
}

// Batch applies the operations in order in one badger transaction: all of them or none.
// An operation with PutOptions.IsNewKey fails with storage.ErrDuplicateKey when the key exists.
func (s *store) Batch(ops []storage.Operation) error {
	if err := s.usable(); err != nil {
		return err
	}
	if len(ops) == 0 {
		return errors.New("aries: batch needs at least one operation")
	}
	for i, op := range ops {
		if err := checkOperation(op); err != nil {
			return fmt.Errorf("aries: batch operation %d: %w", i, err)
		}
	}
	err := s.provider.db.Update(func(txn *badger.Txn) error {
		for i, op := range ops {
			if err := s.apply(txn, op); err != nil {
				return fmt.Errorf("operation %d (%q): %w", i, op.Key, err)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("aries: batch in store %q: %w", s.name, err)
	}
	return nil
}

func checkOperation(op storage.Operation) error {
	if op.Value == nil {
		return checkKey(op.Key)
	}
	return checkPut(op.Key, op.Value, op.Tags)
}

func (s *store) apply(txn *badger.Txn, op storage.Operation) error {
	key := s.key(op.Key)
	if op.Value == nil {
		return txn.Delete(key)
	}
	if op.PutOptions != nil && op.PutOptions.IsNewKey {
		_, err := txn.Get(key)
		if err == nil {
			return storage.ErrDuplicateKey
		}
		if !errors.Is(err, badger.ErrKeyNotFound) {
			return err
		}
	}
	raw, err := json.Marshal(record{Value: op.Value, Tags: op.Tags})
	if err != nil {
		return err
	}
	return txn.Set(key, raw)
}

// Flush has nothing to do: every write is committed (and, with SyncWrites, synced) before
// Put, Delete or Batch returns.
func (s *store) Flush() error {
	return s.usable()
}

// Close closes this store handle; the data stays in the DB. Closing twice is allowed.
func (s *store) Close() error {
	if s.closed.Swap(true) {
		return nil
	}
	s.provider.forget(s)
	return nil
}
