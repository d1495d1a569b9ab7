package status

import (
	"crypto/rand"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"time"

	badger "github.com/dgraph-io/badger/v4"
)

// Registry defaults and limits.
const (
	DefaultValidity = 24 * time.Hour
	DefaultTTL      = 5 * time.Minute
	MaxValidity     = 30 * 24 * time.Hour
	// fillLimit is the share of a list handed out before a new list opens:
	// past it, random picks would mostly hit taken indices.
	fillNum, fillDen = 3, 4
	registryPrefix   = "status/"
	// MaxBaseURLBytes bounds the base URL: every entry of every credential
	// repeats it, and a credential must stay under 64 KiB.
	MaxBaseURLBytes = 256
)

// Registry errors a caller branches on.
var (
	ErrNotConfigured = errors.New("status: the registry is not configured (run `mandate status init`)")
	ErrConfigured    = errors.New("status: the registry is already configured")
	ErrUnknown       = errors.New("status: no status entries recorded for this credential or grant")
)

var (
	listNameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,63}$`)
	prefixRE   = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,31}$`)
)

// RegistryConfig says where an issuer's lists are published and how their
// signed credentials are dated.
type RegistryConfig struct {
	BaseURL  string        `json:"baseURL"`  // a list named n is published at BaseURL/n
	Prefix   string        `json:"prefix"`   // list names start with it
	ListBits int           `json:"listBits"` // entries per list; 0 = MinBits
	Validity time.Duration `json:"validity"` // lifetime of a signed list credential; 0 = DefaultValidity
	TTL      time.Duration `json:"ttl"`      // how long verifiers may cache a list; 0 = DefaultTTL
	Dir      string        `json:"dir"`      // where the issuer writes signed lists for `mandate serve status`
}

func (c *RegistryConfig) check() error {
	if err := checkBaseURL(c.BaseURL); err != nil {
		return err
	}
	c.BaseURL = strings.TrimSuffix(c.BaseURL, "/")
	if !prefixRE.MatchString(c.Prefix) {
		return fmt.Errorf("status: prefix %q must match %s", c.Prefix, prefixRE)
	}
	if c.ListBits == 0 {
		c.ListBits = MinBits
	}
	if c.ListBits < MinBits || c.ListBits > MaxBits || c.ListBits%8 != 0 {
		return fmt.Errorf("status: list size %d must be a multiple of 8 in %d..%d", c.ListBits, MinBits, MaxBits)
	}
	if c.Validity == 0 {
		c.Validity = DefaultValidity
	}
	if c.TTL == 0 {
		c.TTL = DefaultTTL
	}
	if c.Validity < time.Minute || c.Validity > MaxValidity {
		return fmt.Errorf("status: validity %s must be 1m..%s", c.Validity, MaxValidity)
	}
	if c.TTL < time.Second || c.TTL > c.Validity {
		return fmt.Errorf("status: ttl %s must be 1s..validity (%s)", c.TTL, c.Validity)
	}
	return nil
}

// checkBaseURL refuses a base URL whose list URLs a verifier would refuse
// (parseHTTPURL): the configuration is set once, so a URL accepted here and
// refused there would make every credential the issuer signs unusable.
func checkBaseURL(s string) error {
	bad := func(why string) error {
		return fmt.Errorf("status: base URL %.80q %s; want an absolute http(s) URL without user information, query or fragment", s, why)
	}
	if s == "" || len(s) > MaxBaseURLBytes {
		return bad("must be 1..256 bytes long (every entry repeats it)")
	}
	for i := range len(s) {
		if s[i] <= ' ' || s[i] > '~' {
			return bad("has a space, control or non-ASCII byte")
		}
	}
	u, err := url.Parse(s)
	switch {
	case err != nil:
		return bad("is not a URL")
	case u.Scheme != "https" && u.Scheme != "http":
		return bad("is not http or https")
	case u.Opaque != "" || u.Hostname() == "":
		return bad("has no host")
	case u.User != nil:
		return bad("carries user information")
	case strings.ContainsAny(s, "?#"): // also an empty query or fragment, which url.URL drops
		return bad("has a query or fragment")
	}
	return nil
}

// Allocation is the entries given to one credential: its own, and each
// grant's by grant id. Every entry has a distinct index.
type Allocation struct {
	Credential []Entry            `json:"credential"`
	Grants     map[string][]Entry `json:"grants"`
}

// StoredList is one published list as the registry keeps it.
type StoredList struct {
	Name    string
	URL     string
	Purpose Purpose
	Bits    *Bitstring
	Updated time.Time
}

// storedList is StoredList on disk, with the allocation bitmap that is never
// published (it would tell which indices are live).
type storedList struct {
	URL     string    `json:"url"`
	Purpose Purpose   `json:"purpose"`
	Bits    string    `json:"bits"`
	Used    string    `json:"used"`
	Count   int       `json:"count"`
	Updated time.Time `json:"updated"`
}

// Registry is an issuer's status lists, kept in the issuer's badger store
// (the wallet's, so it is encrypted with it). Indices are drawn at random
// and never reused, so that neighbouring indices say nothing about when or
// to whom a credential was issued (herd privacy).
type Registry struct {
	db   *badger.DB
	rand io.Reader
	now  func() time.Time
	mu   sync.Mutex // one writer at a time: allocations read then write lists
}

// NewRegistry returns the registry kept in db. rnd and now may be nil
// (crypto/rand and time.Now).
func NewRegistry(db *badger.DB, rnd io.Reader, now func() time.Time) *Registry {
	if rnd == nil {
		rnd = rand.Reader
	}
	if now == nil {
		now = time.Now
	}
	return &Registry{db: db, rand: rnd, now: now}
}

// Configure sets the registry's configuration, once: entries already
// handed out name their lists' URLs, so they cannot move.
func (r *Registry) Configure(c RegistryConfig) error {
	if err := c.check(); err != nil {
		return err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.db.Update(func(txn *badger.Txn) error {
		if _, err := txn.Get(key("config")); err == nil {
			return ErrConfigured
		} else if !errors.Is(err, badger.ErrKeyNotFound) {
			return err
		}
		return putJSON(txn, key("config"), c)
	})
}

// Config returns the configuration, or ErrNotConfigured.
func (r *Registry) Config() (RegistryConfig, error) {
	var c RegistryConfig
	err := r.db.View(func(txn *badger.Txn) error { return getJSON(txn, key("config"), &c) })
	if errors.Is(err, badger.ErrKeyNotFound) {
		return c, ErrNotConfigured
	}
	return c, err
}

// Allocate gives a new credential a revocation and a suspension entry, and
// each of its grants the same. It implements credentials.StatusAllocator;
// the allocation is on disk when it returns.
func (r *Registry) Allocate(credentialID string, grantIDs []string) (Allocation, error) {
	if err := checkAllocation(credentialID, grantIDs); err != nil {
		return Allocation{}, fmt.Errorf("status: allocate: %w", err)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	var a Allocation
	err := r.db.Update(func(txn *badger.Txn) error {
		if _, err := txn.Get(key("cred/" + credentialID)); err == nil {
			return fmt.Errorf("credential %s already has entries", credentialID)
		}
		var c RegistryConfig
		if err := getJSON(txn, key("config"), &c); err != nil {
			if errors.Is(err, badger.ErrKeyNotFound) {
				return ErrNotConfigured
			}
			return err
		}
		a = Allocation{Grants: map[string][]Entry{}}
		for _, p := range []Purpose{Revocation, Suspension} {
			al := &allocator{r: r, txn: txn, cfg: c, purpose: p, lists: map[string]*storedList{}}
			e, err := al.next()
			if err != nil {
				return err
			}
			a.Credential = append(a.Credential, e)
			for _, g := range grantIDs {
				if e, err = al.next(); err != nil {
					return err
				}
				a.Grants[g] = append(a.Grants[g], e)
			}
			if err := al.flush(); err != nil {
				return err
			}
		}
		return putJSON(txn, key("cred/"+credentialID), a)
	})
	if err != nil {
		return Allocation{}, fmt.Errorf("status: allocate: %w", err)
	}
	return a, nil
}

// checkAllocation refuses ids that could not be told apart later: an empty
// grant id would be the credential itself to Revoke, and a repeated one
// would get two entries of which Revoke sets only the first.
func checkAllocation(credentialID string, grantIDs []string) error {
	if credentialID == "" || len(credentialID) > 512 {
		return fmt.Errorf("credential id must be 1..512 bytes long")
	}
	if len(grantIDs) > MaxEntries/2-1 {
		return fmt.Errorf("%d grants, at most %d", len(grantIDs), MaxEntries/2-1)
	}
	seen := make(map[string]bool, len(grantIDs))
	for _, g := range grantIDs {
		if g == "" || seen[g] {
			return fmt.Errorf("grant id %q is empty or repeated", g)
		}
		seen[g] = true
	}
	return nil
}

// allocator hands out indices of one purpose inside one transaction.
type allocator struct {
	r       *Registry
	txn     *badger.Txn
	cfg     RegistryConfig
	purpose Purpose
	name    string
	lists   map[string]*storedList
	used    map[string]*Bitstring
}

func (al *allocator) next() (Entry, error) {
	l, used, err := al.current()
	if err != nil {
		return Entry{}, err
	}
	for {
		idx, err := al.r.randomIndex(used.Len())
		if err != nil {
			return Entry{}, err
		}
		if v, _ := used.Get(idx, 1); v != 0 {
			continue
		}
		if err := used.Set(idx, 1, 1); err != nil {
			return Entry{}, err
		}
		l.Count++
		return Entry{
			ID: fmt.Sprintf("%s#%d", l.URL, idx), Type: TypeBitstringEntry, Purpose: al.purpose,
			Index: idx, ListURL: l.URL, StatusSize: 1,
		}, nil
	}
}

// current returns the list being filled, opening a new one when it is full.
func (al *allocator) current() (*storedList, *Bitstring, error) {
	if al.name == "" {
		var name string
		err := getJSON(al.txn, key("current/"+string(al.purpose)), &name)
		if err != nil && !errors.Is(err, badger.ErrKeyNotFound) {
			return nil, nil, err
		}
		if name != "" {
			if err := al.load(name); err != nil {
				return nil, nil, err
			}
		}
		al.name = name
	}
	if al.name == "" || al.lists[al.name].Count*fillDen >= al.cfg.ListBits*fillNum {
		if err := al.open(); err != nil {
			return nil, nil, err
		}
	}
	return al.lists[al.name], al.used[al.name], nil
}

func (al *allocator) load(name string) error {
	var l storedList
	if err := getJSON(al.txn, key("list/"+name), &l); err != nil {
		return fmt.Errorf("list %s: %w", name, err)
	}
	used, err := DecodeBitstring(l.Used)
	if err != nil {
		return fmt.Errorf("list %s: %w", name, err)
	}
	if al.used == nil {
		al.used = map[string]*Bitstring{}
	}
	al.lists[name], al.used[name] = &l, used
	return nil
}

func (al *allocator) open() error {
	var n int
	if err := getJSON(al.txn, key("count/"+string(al.purpose)), &n); err != nil && !errors.Is(err, badger.ErrKeyNotFound) {
		return err
	}
	n++
	name := fmt.Sprintf("%s-%s-%d", al.cfg.Prefix, al.purpose, n)
	if !listNameRE.MatchString(name) {
		return fmt.Errorf("list name %q is too long", name)
	}
	bits, err := NewBitstring(al.cfg.ListBits)
	if err != nil {
		return err
	}
	enc, err := bits.Encode()
	if err != nil {
		return err
	}
	if al.used == nil {
		al.used = map[string]*Bitstring{}
	}
	al.lists[name] = &storedList{URL: al.cfg.BaseURL + "/" + name, Purpose: al.purpose, Bits: enc, Updated: al.r.now().UTC()}
	al.used[name] = bits.Clone()
	al.name = name
	if err := putJSON(al.txn, key("count/"+string(al.purpose)), n); err != nil {
		return err
	}
	return putJSON(al.txn, key("current/"+string(al.purpose)), name)
}

// flush writes back every list this allocator touched.
func (al *allocator) flush() error {
	for name, l := range al.lists {
		enc, err := al.used[name].Encode()
		if err != nil {
			return err
		}
		l.Used = enc
		if err := putJSON(al.txn, key("list/"+name), l); err != nil {
			return err
		}
	}
	return nil
}

// randomIndex returns a uniform index in [0, n) from the registry's
// randomness, by rejection so that no index is more likely than another.
func (r *Registry) randomIndex(n int) (int, error) {
	limit := ^uint64(0) - ^uint64(0)%uint64(n)
	var b [8]byte
	for {
		if _, err := io.ReadFull(r.rand, b[:]); err != nil {
			return 0, fmt.Errorf("status: random index: %w", err)
		}
		if v := binary.BigEndian.Uint64(b[:]); v < limit {
			return int(v % uint64(n)), nil
		}
	}
}

// Revoke sets the revocation bit of a credential (grantID "") or of one of
// its grants. Revocation is final. It reports the list it changed ("" when
// the bit was already set); the change is on disk when it returns.
func (r *Registry) Revoke(credentialID, grantID string) (string, error) {
	return r.set(credentialID, grantID, Revocation, 1)
}

// Suspend sets the suspension bit of a credential or one of its grants.
func (r *Registry) Suspend(credentialID, grantID string) (string, error) {
	return r.set(credentialID, grantID, Suspension, 1)
}

// Resume clears the suspension bit of a credential or one of its grants.
func (r *Registry) Resume(credentialID, grantID string) (string, error) {
	return r.set(credentialID, grantID, Suspension, 0)
}

func (r *Registry) set(credentialID, grantID string, p Purpose, v uint64) (string, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	changed := ""
	err := r.db.Update(func(txn *badger.Txn) error {
		e, err := r.entry(txn, credentialID, grantID, p)
		if err != nil {
			return err
		}
		name := strings.TrimPrefix(e.ListURL[strings.LastIndex(e.ListURL, "/"):], "/")
		var l storedList
		if err := getJSON(txn, key("list/"+name), &l); err != nil {
			return fmt.Errorf("list %s: %w", name, err)
		}
		bits, err := DecodeBitstring(l.Bits)
		if err != nil {
			return err
		}
		old, err := bits.Get(e.Index, 1)
		if err != nil {
			return err
		}
		if old == v {
			return nil
		}
		if err := bits.Set(e.Index, 1, v); err != nil {
			return err
		}
		if l.Bits, err = bits.Encode(); err != nil {
			return err
		}
		l.Updated = r.now().UTC()
		changed = name
		return putJSON(txn, key("list/"+name), l)
	})
	if err != nil {
		return "", fmt.Errorf("status: %s %s: %w", p, credentialID, err)
	}
	return changed, nil
}

func (r *Registry) entry(txn *badger.Txn, credentialID, grantID string, p Purpose) (Entry, error) {
	var a Allocation
	if err := getJSON(txn, key("cred/"+credentialID), &a); err != nil {
		if errors.Is(err, badger.ErrKeyNotFound) {
			return Entry{}, ErrUnknown
		}
		return Entry{}, err
	}
	entries := a.Credential
	if grantID != "" {
		var ok bool
		if entries, ok = a.Grants[grantID]; !ok {
			return Entry{}, fmt.Errorf("%w: grant %s", ErrUnknown, grantID)
		}
	}
	for _, e := range entries {
		if e.Purpose == p {
			return e, nil
		}
	}
	return Entry{}, fmt.Errorf("%w: no %s entry", ErrUnknown, p)
}

// Record returns the entries allocated to a credential.
func (r *Registry) Record(credentialID string) (Allocation, error) {
	var a Allocation
	err := r.db.View(func(txn *badger.Txn) error { return getJSON(txn, key("cred/"+credentialID), &a) })
	if errors.Is(err, badger.ErrKeyNotFound) {
		return a, ErrUnknown
	}
	return a, err
}

// Lists returns every list of the registry, ordered by name.
func (r *Registry) Lists() ([]StoredList, error) {
	var out []StoredList
	err := r.db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: key("list/"), PrefetchValues: true})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			name := strings.TrimPrefix(string(it.Item().Key()), string(key("list/")))
			var l storedList
			if err := it.Item().Value(func(b []byte) error { return json.Unmarshal(b, &l) }); err != nil {
				return err
			}
			bits, err := DecodeBitstring(l.Bits)
			if err != nil {
				return fmt.Errorf("list %s: %w", name, err)
			}
			out = append(out, StoredList{Name: name, URL: l.URL, Purpose: l.Purpose, Bits: bits, Updated: l.Updated})
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("status: lists: %w", err)
	}
	return out, nil
}

func key(s string) []byte { return []byte(registryPrefix + s) }

func putJSON(txn *badger.Txn, k []byte, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return txn.Set(k, b)
}

func getJSON(txn *badger.Txn, k []byte, v any) error {
	item, err := txn.Get(k)
	if err != nil {
		return err
	}
	return item.Value(func(b []byte) error { return json.Unmarshal(b, v) })
}
