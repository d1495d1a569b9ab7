package status_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	badger "github.com/dgraph-io/badger/v4"

	"github.com/mandate-dev/mandate/credentials/status"
)

const regBase = "https://status.example/lists"

var regT0 = time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)

// regMemDB is a fresh in-memory badger store.
func regMemDB(t testing.TB) *badger.DB {
	t.Helper()
	db, err := badger.Open(badger.DefaultOptions("").WithInMemory(true).WithLogger(nil))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// regSeeded is a deterministic randomness source: the same seed draws the
// same indices on every run.
func regSeeded(seed byte) io.Reader { return rand.NewChaCha8([32]byte{seed}) }

// regClock is a settable clock.
type regClock struct{ t time.Time }

func (c *regClock) now() time.Time { return c.t }

// newReg returns a configured registry (prefix "alice", the smallest lists)
// over db, drawing from a seeded reader, with the clock at regT0.
func newReg(t testing.TB, db *badger.DB, seed byte) (*status.Registry, *regClock) {
	t.Helper()
	clk := &regClock{t: regT0}
	r := status.NewRegistry(db, regSeeded(seed), clk.now)
	if err := r.Configure(status.RegistryConfig{BaseURL: regBase, Prefix: "alice"}); err != nil {
		t.Fatal(err)
	}
	return r, clk
}

func regAllocate(t testing.TB, r *status.Registry, cred string, grants ...string) status.Allocation {
	t.Helper()
	a, err := r.Allocate(cred, grants)
	if err != nil {
		t.Fatalf("Allocate(%s): %v", cred, err)
	}
	return a
}

// regSet returns the set indices of every list, by list name.
func regSet(t *testing.T, r *status.Registry) map[string][]int {
	t.Helper()
	lists, err := r.Lists()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]int{}
	for _, l := range lists {
		out[l.Name] = l.Bits.SetIndices(1)
	}
	return out
}

// entryOf returns a's entry of purpose p, for the credential (grant "") or
// one grant.
func entryOf(t *testing.T, a status.Allocation, grant string, p status.Purpose) status.Entry {
	t.Helper()
	entries := a.Credential
	if grant != "" {
		entries = a.Grants[grant]
	}
	for _, e := range entries {
		if e.Purpose == p {
			return e
		}
	}
	t.Fatalf("no %s entry for grant %q in %+v", p, grant, a)
	return status.Entry{}
}

func TestConfigureDefaults(t *testing.T) {
	r := status.NewRegistry(regMemDB(t), nil, nil)
	if err := r.Configure(status.RegistryConfig{BaseURL: regBase + "/", Prefix: "alice", Dir: "/srv/lists"}); err != nil {
		t.Fatal(err)
	}
	got, err := r.Config()
	if err != nil {
		t.Fatal(err)
	}
	want := status.RegistryConfig{
		BaseURL: regBase, Prefix: "alice", ListBits: status.MinBits,
		Validity: status.DefaultValidity, TTL: status.DefaultTTL, Dir: "/srv/lists",
	}
	if got != want {
		t.Fatalf("Config() = %+v, want %+v", got, want)
	}
}

func TestConfigureRejects(t *testing.T) {
	ok := func() status.RegistryConfig { return status.RegistryConfig{BaseURL: regBase, Prefix: "alice"} }
	with := func(f func(*status.RegistryConfig)) status.RegistryConfig {
		c := ok()
		f(&c)
		return c
	}
	url := func(u string) status.RegistryConfig { return with(func(c *status.RegistryConfig) { c.BaseURL = u }) }
	tests := []struct {
		name  string
		cfg   status.RegistryConfig
		field string // the error must name it
	}{
		{"no base URL", url(""), "base URL"},
		{"relative base URL", url("/lists"), "base URL"},
		{"ftp base URL", url("ftp://status.example/lists"), "base URL"},
		{"base URL without host", url("https:///lists"), "base URL"},
		{"opaque base URL", url("https:status.example"), "base URL"},
		{"base URL with query", url(regBase + "?v=1"), "base URL"},
		{"base URL with empty query", url(regBase + "?"), "base URL"},
		{"base URL with fragment", url(regBase + "#x"), "base URL"},
		{"base URL with user information", url("https://alice:secret@status.example/lists"), "base URL"},
		{"base URL with a space", url("https://status.example/my lists"), "base URL"},
		{"base URL with non-ASCII", url("https://status.example/listé"), "base URL"},
		{"base URL too long", url(regBase + "/" + strings.Repeat("a", 1024)), "base URL"},
		{"no prefix", with(func(c *status.RegistryConfig) { c.Prefix = "" }), "prefix"},
		{"upper-case prefix", with(func(c *status.RegistryConfig) { c.Prefix = "Alice" }), "prefix"},
		{"prefix starting with a dash", with(func(c *status.RegistryConfig) { c.Prefix = "-alice" }), "prefix"},
		{"prefix with a slash", with(func(c *status.RegistryConfig) { c.Prefix = "a/b" }), "prefix"},
		{"prefix too long", with(func(c *status.RegistryConfig) { c.Prefix = strings.Repeat("a", 33) }), "prefix"},
		{"list below the minimum", with(func(c *status.RegistryConfig) { c.ListBits = status.MinBits - 8 }), "list size"},
		{"list above the maximum", with(func(c *status.RegistryConfig) { c.ListBits = status.MaxBits + 8 }), "list size"},
		{"list not whole bytes", with(func(c *status.RegistryConfig) { c.ListBits = status.MinBits + 4 }), "list size"},
		{"negative list", with(func(c *status.RegistryConfig) { c.ListBits = -8 }), "list size"},
		{"validity under a minute", with(func(c *status.RegistryConfig) { c.Validity = 59 * time.Second; c.TTL = time.Second }), "validity"},
		{"validity over the maximum", with(func(c *status.RegistryConfig) { c.Validity = status.MaxValidity + time.Second }), "validity"},
		{"negative validity", with(func(c *status.RegistryConfig) { c.Validity = -time.Hour }), "validity"},
		{"ttl under a second", with(func(c *status.RegistryConfig) { c.TTL = 999 * time.Millisecond }), "ttl"},
		{"negative ttl", with(func(c *status.RegistryConfig) { c.TTL = -time.Minute }), "ttl"},
		{"ttl longer than validity", with(func(c *status.RegistryConfig) { c.Validity = time.Hour; c.TTL = time.Hour + time.Second }), "ttl"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := status.NewRegistry(regMemDB(t), nil, nil)
			err := r.Configure(tt.cfg)
			if err == nil {
				t.Fatalf("Configure(%+v) = nil, want an error naming %s", tt.cfg, tt.field)
			}
			if !strings.HasPrefix(err.Error(), "status: "+tt.field) || errors.Is(err, status.ErrConfigured) {
				t.Fatalf("Configure: %v, want an error starting %q", err, "status: "+tt.field)
			}
			if _, err := r.Config(); !errors.Is(err, status.ErrNotConfigured) {
				t.Fatalf("after a refused Configure, Config() err = %v, want ErrNotConfigured", err)
			}
		})
	}
}

func TestConfigureOnce(t *testing.T) {
	r := status.NewRegistry(regMemDB(t), regSeeded(1), nil)
	if _, err := r.Config(); !errors.Is(err, status.ErrNotConfigured) {
		t.Fatalf("Config before Configure: %v, want ErrNotConfigured", err)
	}
	if _, err := r.Allocate("urn:uuid:1", []string{"g"}); !errors.Is(err, status.ErrNotConfigured) {
		t.Fatalf("Allocate before Configure: %v, want ErrNotConfigured", err)
	}
	if err := r.Configure(status.RegistryConfig{BaseURL: regBase, Prefix: "alice"}); err != nil {
		t.Fatal(err)
	}
	first, _ := r.Config()
	// Entries already handed out name their lists' URLs: a second
	// configuration, even a valid one, is refused and changes nothing.
	if err := r.Configure(status.RegistryConfig{BaseURL: "https://elsewhere.example", Prefix: "bob"}); !errors.Is(err, status.ErrConfigured) {
		t.Fatalf("second Configure: %v, want ErrConfigured", err)
	}
	if got, _ := r.Config(); got != first {
		t.Fatalf("Config after a refused reconfiguration = %+v, want %+v", got, first)
	}
}

func TestAllocate(t *testing.T) {
	r, _ := newReg(t, regMemDB(t), 1)
	grants := []string{"urn:mandate:grant:email-read", "urn:mandate:grant:slack-read", "urn:mandate:grant:email-draft"}
	a := regAllocate(t, r, "urn:uuid:1", grants...)

	if len(a.Credential) != 2 || len(a.Grants) != len(grants) {
		t.Fatalf("allocation has %d credential entries and %d grants, want 2 and %d", len(a.Credential), len(a.Grants), len(grants))
	}
	holders := map[string][]status.Entry{"": a.Credential}
	for _, g := range grants {
		holders[g] = a.Grants[g]
	}
	seen := map[string]bool{}
	for holder, entries := range holders {
		if len(entries) != 2 || entries[0].Purpose != status.Revocation || entries[1].Purpose != status.Suspension {
			t.Fatalf("holder %q: entries %+v, want [revocation suspension]", holder, entries)
		}
		for _, e := range entries {
			wantURL := fmt.Sprintf("%s/alice-%s-1", regBase, e.Purpose)
			if e.ListURL != wantURL || e.ID != fmt.Sprintf("%s#%d", wantURL, e.Index) {
				t.Fatalf("holder %q: entry %+v, want list %s and id <list>#<index>", holder, e, wantURL)
			}
			if e.Type != status.TypeBitstringEntry || e.StatusSize != 1 || e.Index < 0 || e.Index >= status.MinBits {
				t.Fatalf("holder %q: entry %+v", holder, e)
			}
			if seen[e.ID] {
				t.Fatalf("index %s handed out twice", e.ID)
			}
			seen[e.ID] = true
			// Every entry must read back as a credentialStatus entry: a
			// verifier refusing it would make the credential useless.
			parsed, err := status.ParseEntry(map[string]any{
				"id": e.ID, "type": e.Type, "statusPurpose": string(e.Purpose),
				"statusListIndex": fmt.Sprint(e.Index), "statusListCredential": e.ListURL,
			})
			if err != nil || !reflect.DeepEqual(parsed, e) {
				t.Fatalf("ParseEntry of %+v = %+v, %v", e, parsed, err)
			}
		}
	}
	if got, err := r.Record("urn:uuid:1"); err != nil || !reflect.DeepEqual(got, a) {
		t.Fatalf("Record = %+v, %v; want %+v", got, err, a)
	}
	// Allocation hands out indices but publishes nothing: the published
	// lists must not tell which indices are live.
	for name, set := range regSet(t, r) {
		if len(set) != 0 {
			t.Fatalf("list %s has bits %v set after allocation alone", name, set)
		}
	}
}

func TestAllocateRejects(t *testing.T) {
	r, _ := newReg(t, regMemDB(t), 1)
	first := regAllocate(t, r, "urn:uuid:1", "g1")
	tooMany := make([]string, status.MaxEntries/2)
	for i := range tooMany {
		tooMany[i] = fmt.Sprintf("g%d", i)
	}
	tests := []struct {
		name   string
		cred   string
		grants []string
	}{
		{"same credential twice", "urn:uuid:1", []string{"g2"}},
		{"no credential id", "", nil},
		{"credential id too long", strings.Repeat("x", 513), nil},
		{"too many grants", "urn:uuid:2", tooMany},
		{"empty grant id", "urn:uuid:3", []string{"g1", ""}},
		{"duplicate grant id", "urn:uuid:4", []string{"g1", "g2", "g1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := r.Allocate(tt.cred, tt.grants)
			if err == nil || !strings.HasPrefix(err.Error(), "status: allocate: ") || strings.Count(err.Error(), "status:") != 1 {
				t.Fatalf("Allocate = %v, want one status: allocate error", err)
			}
			if tt.cred != "urn:uuid:1" {
				if _, err := r.Record(tt.cred); !errors.Is(err, status.ErrUnknown) {
					t.Fatalf("Record after a refused allocation: %v, want ErrUnknown", err)
				}
			}
		})
	}
	if got, _ := r.Record("urn:uuid:1"); !reflect.DeepEqual(got, first) {
		t.Fatalf("the first allocation changed: %+v, want %+v", got, first)
	}
}

// TestAllocateRandomnessFails: when the randomness runs out mid-way, the
// allocation fails as a whole and leaves nothing behind.
func TestAllocateRandomnessFails(t *testing.T) {
	db := regMemDB(t)
	r := status.NewRegistry(db, bytes.NewReader(make([]byte, 8*3)), nil) // three draws, five needed
	if err := r.Configure(status.RegistryConfig{BaseURL: regBase, Prefix: "alice"}); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Allocate("urn:uuid:1", []string{"g1", "g2"}); !errors.Is(err, io.EOF) {
		t.Fatalf("Allocate with exhausted randomness: %v, want io.EOF", err)
	}
	if _, err := r.Record("urn:uuid:1"); !errors.Is(err, status.ErrUnknown) {
		t.Fatalf("Record: %v, want ErrUnknown", err)
	}
	if lists, err := r.Lists(); err != nil || len(lists) != 0 {
		t.Fatalf("Lists after a failed allocation = %d lists, %v; want none", len(lists), err)
	}
}

// TestAllocateNoReuse allocates 300 credentials of 5 grants (1,800 entries
// per purpose) and checks that no index is handed out twice and that the
// indices carry no trace of the order of issuance.
func TestAllocateNoReuse(t *testing.T) {
	r, _ := newReg(t, regMemDB(t), 7)
	order := map[status.Purpose][]int{}
	for c := range 300 {
		grants := make([]string, 5)
		for g := range grants {
			grants[g] = fmt.Sprintf("urn:mandate:grant:g%d", g)
		}
		a := regAllocate(t, r, fmt.Sprintf("urn:uuid:%d", c), grants...)
		for _, e := range a.Credential {
			order[e.Purpose] = append(order[e.Purpose], e.Index)
		}
		for _, g := range grants {
			for _, e := range a.Grants[g] {
				order[e.Purpose] = append(order[e.Purpose], e.Index)
			}
		}
	}
	for p, idx := range order {
		if len(idx) != 300*6 {
			t.Fatalf("%s: %d entries, want %d", p, len(idx), 300*6)
		}
		if sorted := slices.Sorted(slices.Values(idx)); len(slices.Compact(sorted)) != len(idx) {
			t.Fatalf("%s: an index was handed out twice", p)
		}
		// Sequential allocation would rise at every step and stay in the
		// first 1,800 indices. Random indices rise about half the time and
		// spread over the whole list.
		rises := 0
		for i := 1; i < len(idx); i++ {
			if idx[i] > idx[i-1] {
				rises++
			}
		}
		if frac := float64(rises) / float64(len(idx)-1); frac < 0.45 || frac > 0.55 {
			t.Fatalf("%s: indices rise at %.2f of the steps, want about half (random order)", p, frac)
		}
		if lo, hi := slices.Min(idx), slices.Max(idx); lo > status.MinBits/100 || hi < status.MinBits-status.MinBits/100 {
			t.Fatalf("%s: indices span %d..%d, want nearly the whole list of %d", p, lo, hi, status.MinBits)
		}
	}
	// The indices come from the injected randomness: another seed draws
	// other indices.
	other, _ := newReg(t, regMemDB(t), 8)
	a := regAllocate(t, other, "urn:uuid:0", "urn:mandate:grant:g0")
	if a.Credential[0].Index == order[status.Revocation][0] && a.Grants["urn:mandate:grant:g0"][0].Index == order[status.Revocation][1] {
		t.Fatal("two seeds drew the same indices")
	}
}

func TestAllocateConcurrent(t *testing.T) {
	r, _ := newReg(t, regMemDB(t), 3)
	var (
		wg  sync.WaitGroup
		mu  sync.Mutex
		ids = map[string]bool{}
	)
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for c := range 25 {
				a, err := r.Allocate(fmt.Sprintf("urn:uuid:%d-%d", w, c), []string{"g1", "g2"})
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				for _, e := range append(append(a.Credential, a.Grants["g1"]...), a.Grants["g2"]...) {
					if ids[e.ID] {
						t.Errorf("entry %s handed out twice", e.ID)
					}
					ids[e.ID] = true
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if len(ids) != 4*25*6 {
		t.Fatalf("%d distinct entries, want %d", len(ids), 4*25*6)
	}
}

// TestAllocateRollover fills the first lists to 3/4 of MinBits and checks
// that the next entries go to a second list. The fastest faithful route is
// the widest allocations the registry accepts: each credential of 127
// grants takes 128 entries of each purpose, so 768 credentials fill
// exactly 98,304 = 3/4 * 131,072 entries.
func TestAllocateRollover(t *testing.T) {
	if testing.Short() {
		t.Skip("fills a list of 131,072 entries")
	}
	r, _ := newReg(t, regMemDB(t), 5)
	grants := make([]string, status.MaxEntries/2-1)
	for i := range grants {
		grants[i] = fmt.Sprintf("g%d", i)
	}
	const perCred = status.MaxEntries / 2
	fill := status.MinBits * 3 / 4 / perCred
	used := map[status.Purpose]map[int]bool{status.Revocation: {}, status.Suspension: {}}
	for c := range fill {
		a := regAllocate(t, r, fmt.Sprintf("urn:uuid:%d", c), grants...)
		for _, p := range []status.Purpose{status.Revocation, status.Suspension} {
			for _, e := range append([]status.Entry{entryOf(t, a, "", p)}, entryOfAll(t, a, grants, p)...) {
				if !strings.HasSuffix(e.ListURL, "-1") || used[p][e.Index] {
					t.Fatalf("credential %d: entry %s: not a fresh index of list 1", c, e.ID)
				}
				used[p][e.Index] = true
			}
		}
	}
	if n := len(used[status.Revocation]); n != status.MinBits*3/4 {
		t.Fatalf("list 1 holds %d entries, want %d", n, status.MinBits*3/4)
	}
	a := regAllocate(t, r, "urn:uuid:next", "g0")
	for _, e := range append(a.Credential, a.Grants["g0"]...) {
		if want := fmt.Sprintf("%s/alice-%s-2", regBase, e.Purpose); e.ListURL != want {
			t.Fatalf("entry %s after a full list: list %s, want %s", e.ID, e.ListURL, want)
		}
	}
	lists, err := r.Lists()
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, l := range lists {
		names = append(names, l.Name)
	}
	want := []string{"alice-revocation-1", "alice-revocation-2", "alice-suspension-1", "alice-suspension-2"}
	if !slices.Equal(names, want) {
		t.Fatalf("lists %v, want %v", names, want)
	}
}

func entryOfAll(t *testing.T, a status.Allocation, grants []string, p status.Purpose) []status.Entry {
	t.Helper()
	out := make([]status.Entry, 0, len(grants))
	for _, g := range grants {
		out = append(out, entryOf(t, a, g, p))
	}
	return out
}

// TestRevokeSuspendResume runs one credential with two grants through a
// sequence of changes; after each it checks the change's result and every
// bit of both lists.
func TestRevokeSuspendResume(t *testing.T) {
	r, clk := newReg(t, regMemDB(t), 2)
	const cred = "urn:uuid:1"
	a := regAllocate(t, r, cred, "g1", "g2")
	regAllocate(t, r, "urn:uuid:other", "g1") // a bystander whose bits must stay clear
	idx := func(grant string, p status.Purpose) int { return entryOf(t, a, grant, p).Index }
	const revList, susList = "alice-revocation-1", "alice-suspension-1"
	type change func(string, string) (string, error)
	steps := []struct {
		name      string
		do        change
		grant     string
		wantList  string
		revoked   []int
		suspended []int
	}{
		{"revoke one grant", r.Revoke, "g1", revList, []int{idx("g1", status.Revocation)}, nil},
		{"revoke it again: no change", r.Revoke, "g1", "", []int{idx("g1", status.Revocation)}, nil},
		{"resume a revoked grant: revocation stays", r.Resume, "g1", "", []int{idx("g1", status.Revocation)}, nil},
		{"suspend the other grant", r.Suspend, "g2", susList, []int{idx("g1", status.Revocation)}, []int{idx("g2", status.Suspension)}},
		{"suspend it again: no change", r.Suspend, "g2", "", []int{idx("g1", status.Revocation)}, []int{idx("g2", status.Suspension)}},
		{"resume it", r.Resume, "g2", susList, []int{idx("g1", status.Revocation)}, nil},
		{"resume it again: no change", r.Resume, "g2", "", []int{idx("g1", status.Revocation)}, nil},
		{"suspend the credential", r.Suspend, "", susList, []int{idx("g1", status.Revocation)}, []int{idx("", status.Suspension)}},
		{"revoke the credential", r.Revoke, "", revList,
			slices.Sorted(slices.Values([]int{idx("g1", status.Revocation), idx("", status.Revocation)})), []int{idx("", status.Suspension)}},
		{"resume the credential: its revocation stays", r.Resume, "", susList,
			slices.Sorted(slices.Values([]int{idx("g1", status.Revocation), idx("", status.Revocation)})), nil},
	}
	for i, s := range steps {
		clk.t = regT0.Add(time.Duration(i+1) * time.Minute)
		list, err := s.do(cred, s.grant)
		if err != nil || list != s.wantList {
			t.Fatalf("step %q: = %q, %v; want %q", s.name, list, err, s.wantList)
		}
		got := regSet(t, r)
		if !slices.Equal(got[revList], s.revoked) || !slices.Equal(got[susList], s.suspended) {
			t.Fatalf("step %q: revoked %v suspended %v; want %v and %v", s.name, got[revList], got[susList], s.revoked, s.suspended)
		}
		if s.wantList != "" {
			lists, _ := r.Lists()
			for _, l := range lists {
				if l.Name == s.wantList && !l.Updated.Equal(clk.t) {
					t.Fatalf("step %q: list %s updated %s, want %s", s.name, l.Name, l.Updated, clk.t)
				}
			}
		}
	}
}

func TestChangeUnknown(t *testing.T) {
	r, _ := newReg(t, regMemDB(t), 2)
	regAllocate(t, r, "urn:uuid:1", "g1")
	for _, change := range []struct {
		name string
		do   func(string, string) (string, error)
	}{{"revoke", r.Revoke}, {"suspend", r.Suspend}, {"resume", r.Resume}} {
		for _, target := range [][2]string{{"urn:uuid:2", ""}, {"urn:uuid:2", "g1"}, {"urn:uuid:1", "g2"}, {"", ""}} {
			if list, err := change.do(target[0], target[1]); !errors.Is(err, status.ErrUnknown) || list != "" {
				t.Errorf("%s(%q, %q) = %q, %v; want ErrUnknown", change.name, target[0], target[1], list, err)
			}
		}
	}
	if _, err := r.Record("urn:uuid:2"); !errors.Is(err, status.ErrUnknown) {
		t.Fatalf("Record of an unknown credential: %v, want ErrUnknown", err)
	}
	for name, set := range regSet(t, r) {
		if len(set) != 0 {
			t.Fatalf("list %s: bits %v set by refused changes", name, set)
		}
	}
}

// TestPersistence closes the store and opens it again: configuration,
// records, bits and the indices already handed out all survive.
func TestPersistence(t *testing.T) {
	dir := t.TempDir()
	open := func() *badger.DB {
		db, err := badger.Open(badger.DefaultOptions(dir).WithLogger(nil))
		if err != nil {
			t.Fatal(err)
		}
		return db
	}
	db := open()
	r, _ := newReg(t, db, 4)
	var before []status.Allocation
	for c := range 20 {
		before = append(before, regAllocate(t, r, fmt.Sprintf("urn:uuid:%d", c), "g1", "g2"))
	}
	if _, err := r.Revoke("urn:uuid:3", "g2"); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Suspend("urn:uuid:5", ""); err != nil {
		t.Fatal(err)
	}
	cfg, _ := r.Config()
	bits := regSet(t, r)
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	db = open()
	defer db.Close()
	// The same seed again: without the stored allocation bitmap it would
	// draw the very indices it drew before.
	r = status.NewRegistry(db, regSeeded(4), func() time.Time { return regT0 })
	if got, err := r.Config(); err != nil || got != cfg {
		t.Fatalf("Config after reopening = %+v, %v; want %+v", got, err, cfg)
	}
	taken := map[string]bool{}
	for c, want := range before {
		got, err := r.Record(fmt.Sprintf("urn:uuid:%d", c))
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Fatalf("Record %d after reopening = %+v, %v; want %+v", c, got, err, want)
		}
		for _, e := range append(append(got.Credential, got.Grants["g1"]...), got.Grants["g2"]...) {
			taken[e.ID] = true
		}
	}
	if got := regSet(t, r); !reflect.DeepEqual(got, bits) {
		t.Fatalf("bits after reopening = %v, want %v", got, bits)
	}
	if _, err := r.Allocate("urn:uuid:3", nil); err == nil {
		t.Fatal("Allocate of a credential allocated before reopening succeeded")
	}
	for c := range 20 {
		a := regAllocate(t, r, fmt.Sprintf("urn:uuid:new-%d", c), "g1", "g2")
		for _, e := range append(append(a.Credential, a.Grants["g1"]...), a.Grants["g2"]...) {
			if taken[e.ID] {
				t.Fatalf("entry %s handed out again after reopening", e.ID)
			}
		}
	}
	if list, err := r.Revoke("urn:uuid:3", "g2"); err != nil || list != "" {
		t.Fatalf("Revoke of a grant revoked before reopening = %q, %v; want no change", list, err)
	}
}
