package aries_test

import (
	"bytes"
	"errors"
	"slices"
	"strings"
	"testing"

	badger "github.com/dgraph-io/badger/v4"
	"github.com/hyperledger/aries-framework-go/spi/storage"

	"github.com/mandate-dev/mandate/internal/aries"
)

func openDB(t *testing.T) *badger.DB {
	t.Helper()
	db, err := badger.Open(badger.DefaultOptions(t.TempDir()).WithLogger(nil).
		WithMemTableSize(1 << 20).WithValueLogFileSize(4 << 20).WithBlockCacheSize(1 << 20).
		WithValueThreshold(1 << 10))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	return db
}

func newProvider(t *testing.T, db *badger.DB, prefix string) *aries.StoreProvider {
	t.Helper()
	p, err := aries.NewStoreProvider(db, prefix)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func openStore(t *testing.T, p storage.Provider, name string) storage.Store {
	t.Helper()
	s, err := p.OpenStore(name)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// allKeys lists every key in db, to check that a provider stays under its prefix.
func allKeys(t *testing.T, db *badger.DB) []string {
	t.Helper()
	var keys []string
	err := db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.DefaultIteratorOptions)
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			keys = append(keys, string(it.Item().KeyCopy(nil)))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return keys
}

func TestNewStoreProviderRefuses(t *testing.T) {
	db := openDB(t)
	tests := []struct {
		name   string
		db     *badger.DB
		prefix string
		want   string
	}{
		{"nil db", nil, "kms/", "aries: store provider needs a badger DB"},
		{"empty prefix", db, "", "aries: store prefix must be 1 to 64 bytes, got 0"},
		{"long prefix", db, strings.Repeat("p", 65), "aries: store prefix must be 1 to 64 bytes, got 65"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := aries.NewStoreProvider(tt.db, tt.prefix)
			if err == nil || err.Error() != tt.want {
				t.Fatalf("err = %v, want %q", err, tt.want)
			}
		})
	}
}

func TestStorePutGetDelete(t *testing.T) {
	db := openDB(t)
	s := openStore(t, newProvider(t, db, "kms/"), "Keys")
	tags := []storage.Tag{{Name: "type", Value: "ed25519"}, {Name: "flag"}}
	if err := s.Put("k1", []byte("v1"), tags...); err != nil {
		t.Fatal(err)
	}
	if err := s.Put("empty", []byte{}); err != nil {
		t.Fatal(err)
	}
	got, err := s.Get("k1")
	if err != nil || string(got) != "v1" {
		t.Fatalf("Get = %q, %v", got, err)
	}
	if got, err := s.Get("empty"); err != nil || got == nil || len(got) != 0 {
		t.Fatalf("Get(empty) = %#v, %v; want empty non-nil", got, err)
	}
	gotTags, err := s.GetTags("k1")
	if err != nil || !slices.Equal(gotTags, tags) {
		t.Fatalf("GetTags = %v, %v", gotTags, err)
	}
	if err := s.Put("k1", []byte("v2")); err != nil {
		t.Fatal(err)
	}
	if gotTags, err := s.GetTags("k1"); err != nil || len(gotTags) != 0 {
		t.Fatalf("GetTags after overwrite = %v, %v; want none", gotTags, err)
	}
	bulk, err := s.GetBulk("k1", "missing", "empty")
	if err != nil || string(bulk[0]) != "v2" || bulk[1] != nil || bulk[2] == nil {
		t.Fatalf("GetBulk = %q, %v", bulk, err)
	}
	if err := s.Delete("k1"); err != nil {
		t.Fatal(err)
	}
	if err := s.Delete("k1"); err != nil {
		t.Fatalf("second Delete: %v", err)
	}
	for _, op := range []func() error{
		func() error { _, err := s.Get("k1"); return err },
		func() error { _, err := s.GetTags("k1"); return err },
	} {
		if err := op(); !errors.Is(err, storage.ErrDataNotFound) {
			t.Fatalf("err = %v, want ErrDataNotFound", err)
		}
	}
	for _, k := range allKeys(t, db) {
		if !strings.HasPrefix(k, "kms/") {
			t.Errorf("key %q is outside the prefix", k)
		}
	}
}

func TestStoreRefusesBadInput(t *testing.T) {
	s := openStore(t, newProvider(t, openDB(t), "kms/"), "s")
	tests := []struct {
		name string
		op   func() error
		want string
	}{
		{"empty key", func() error { return s.Put("", []byte("v")) }, "aries: key is empty"},
		{"long key", func() error { return s.Put(strings.Repeat("k", 2049), []byte("v")) }, "aries: key is 2049 bytes, limit 2048"},
		{"nil value", func() error { return s.Put("k", nil) }, "aries: value is nil"},
		{"big value", func() error { return s.Put("k", make([]byte, 2<<20+1)) }, "aries: value is 2097153 bytes, limit 2097152"},
		{"colon in tag name", func() error { return s.Put("k", []byte("v"), storage.Tag{Name: "a:b"}) },
			`aries: tag name "a:b" contains ':'`},
		{"colon in tag value", func() error { return s.Put("k", []byte("v"), storage.Tag{Name: "a", Value: "b:c"}) },
			`aries: tag value "b:c" contains ':'`},
		{"empty tag name", func() error { return s.Put("k", []byte("v"), storage.Tag{Value: "x"}) }, "aries: tag name is empty"},
		{"repeated tag name", func() error {
			return s.Put("k", []byte("v"), storage.Tag{Name: "a"}, storage.Tag{Name: "a", Value: "2"})
		}, `aries: tag name "a" is used twice`},
		{"get empty key", func() error { _, err := s.Get(""); return err }, "aries: key is empty"},
		{"tags empty key", func() error { _, err := s.GetTags(""); return err }, "aries: key is empty"},
		{"bulk no keys", func() error { _, err := s.GetBulk(); return err }, "aries: bulk get needs at least one key"},
		{"bulk empty key", func() error { _, err := s.GetBulk("a", ""); return err }, "aries: key is empty"},
		{"delete empty key", func() error { return s.Delete("") }, "aries: key is empty"},
		{"empty batch", func() error { return s.Batch(nil) }, "aries: batch needs at least one operation"},
		{"batch empty key", func() error { return s.Batch([]storage.Operation{{Key: "a", Value: []byte("1")}, {Key: ""}}) },
			"aries: batch operation 1: aries: key is empty"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.op()
			if err == nil || err.Error() != tt.want {
				t.Fatalf("err = %v, want %q", err, tt.want)
			}
		})
	}
	if _, err := s.Get("a"); !errors.Is(err, storage.ErrDataNotFound) {
		t.Fatalf("refused batch wrote data: %v", err)
	}
}

func TestStoreBatch(t *testing.T) {
	s := openStore(t, newProvider(t, openDB(t), "kms/"), "s")
	if err := s.Put("old", []byte("x")); err != nil {
		t.Fatal(err)
	}
	err := s.Batch([]storage.Operation{
		{Key: "a", Value: []byte("1"), Tags: []storage.Tag{{Name: "t", Value: "1"}}},
		{Key: "a", Value: []byte("2")},
		{Key: "old"},
		{Key: "b", Value: []byte("3"), PutOptions: &storage.PutOptions{IsNewKey: true}},
	})
	if err != nil {
		t.Fatal(err)
	}
	got, err := s.GetBulk("a", "old", "b")
	if err != nil || string(got[0]) != "2" || got[1] != nil || string(got[2]) != "3" {
		t.Fatalf("after batch: %q, %v", got, err)
	}

	// A duplicate new key fails the whole batch: the earlier put is not applied either.
	err = s.Batch([]storage.Operation{
		{Key: "c", Value: []byte("4")},
		{Key: "b", Value: []byte("5"), PutOptions: &storage.PutOptions{IsNewKey: true}},
	})
	if !errors.Is(err, storage.ErrDuplicateKey) {
		t.Fatalf("err = %v, want ErrDuplicateKey", err)
	}
	if _, err := s.Get("c"); !errors.Is(err, storage.ErrDataNotFound) {
		t.Fatalf("failed batch was partly applied: %v", err)
	}
	if err := s.Flush(); err != nil {
		t.Fatal(err)
	}
}

func TestStoreNamesAndConfig(t *testing.T) {
	db := openDB(t)
	p := newProvider(t, db, "kms/")
	if _, err := p.GetStoreConfig("Keys"); !errors.Is(err, storage.ErrStoreNotFound) {
		t.Fatalf("GetStoreConfig before open: %v, want ErrStoreNotFound", err)
	}
	if err := p.SetStoreConfig("keys", storage.StoreConfiguration{}); !errors.Is(err, storage.ErrStoreNotFound) {
		t.Fatalf("SetStoreConfig before open: %v, want ErrStoreNotFound", err)
	}
	upper := openStore(t, p, "Keys")
	if err := upper.Put("k", []byte("v")); err != nil {
		t.Fatal(err)
	}
	lower := openStore(t, p, "keys")
	if v, err := lower.Get("k"); err != nil || string(v) != "v" {
		t.Fatalf("store names are not case-insensitive: %q, %v", v, err)
	}
	if cfg, err := p.GetStoreConfig("KEYS"); err != nil || len(cfg.TagNames) != 0 {
		t.Fatalf("GetStoreConfig = %v, %v", cfg, err)
	}
	want := storage.StoreConfiguration{TagNames: []string{"a", "b"}}
	if err := p.SetStoreConfig("keys", want); err != nil {
		t.Fatal(err)
	}
	if err := p.SetStoreConfig("keys", storage.StoreConfiguration{TagNames: []string{"a:b"}}); err == nil ||
		err.Error() != `aries: tag name "a:b" contains ':'` {
		t.Fatalf("bad tag name: %v", err)
	}
	if n := len(p.GetOpenStores()); n != 1 {
		t.Fatalf("GetOpenStores = %d stores, want 1", n)
	}

	// The configuration and data outlive the provider; another prefix sees neither.
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	again := newProvider(t, db, "kms/")
	if cfg, err := again.GetStoreConfig("keys"); err != nil || !slices.Equal(cfg.TagNames, want.TagNames) {
		t.Fatalf("config after reopen = %v, %v", cfg, err)
	}
	other := newProvider(t, db, "other/")
	if _, err := other.GetStoreConfig("keys"); !errors.Is(err, storage.ErrStoreNotFound) {
		t.Fatalf("other prefix sees the store: %v", err)
	}
	if _, err := openStore(t, other, "keys").Get("k"); !errors.Is(err, storage.ErrDataNotFound) {
		t.Fatalf("other prefix sees the data: %v", err)
	}
	for _, name := range []string{"", "a\x00b", strings.Repeat("n", 256)} {
		if _, err := p.OpenStore(name); err == nil {
			t.Errorf("OpenStore(%q) succeeded", name)
		}
	}
}

func TestStoreClosed(t *testing.T) {
	p := newProvider(t, openDB(t), "kms/")
	s := openStore(t, p, "s")
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	ops := map[string]func() error{
		"put":    func() error { return s.Put("k", []byte("v")) },
		"get":    func() error { _, err := s.Get("k"); return err },
		"delete": func() error { return s.Delete("k") },
		"query":  func() error { _, err := s.Query("t"); return err },
		"flush":  func() error { return s.Flush() },
	}
	for name, op := range ops {
		if err := op(); err == nil || err.Error() != "aries: store is closed" {
			t.Errorf("%s on closed store: %v", name, err)
		}
	}
	if n := len(p.GetOpenStores()); n != 0 {
		t.Fatalf("closed store still listed: %d", n)
	}
	s2 := openStore(t, p, "s")
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s2.Put("k", []byte("v")); err == nil || err.Error() != "aries: store is closed" {
		t.Fatalf("put after provider close: %v", err)
	}
	if _, err := p.OpenStore("s"); err == nil || err.Error() != "aries: store provider is closed" {
		t.Fatalf("OpenStore after close: %v", err)
	}
}

// collect drains an iterator into "key=value" strings.
func collect(t *testing.T, it storage.Iterator) []string {
	t.Helper()
	defer it.Close()
	var got []string
	for {
		ok, err := it.Next()
		if err != nil {
			t.Fatal(err)
		}
		if !ok {
			return got
		}
		k, err := it.Key()
		if err != nil {
			t.Fatal(err)
		}
		v, err := it.Value()
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, k+"="+string(v))
	}
}

func TestStoreQuery(t *testing.T) {
	s := openStore(t, newProvider(t, openDB(t), "kms/"), "s")
	data := []struct {
		key  string
		tags []storage.Tag
	}{
		{"a", []storage.Tag{{Name: "kind", Value: "key"}, {Name: "n", Value: "10"}}},
		{"b", []storage.Tag{{Name: "kind", Value: "key"}, {Name: "n", Value: "9"}, {Name: "old"}}},
		{"c", []storage.Tag{{Name: "kind", Value: "ctx"}, {Name: "n", Value: "x"}}},
		{"d", []storage.Tag{{Name: "kind", Value: "ctx"}}},
		{"e", nil},
	}
	for _, d := range data {
		if err := s.Put(d.key, []byte(d.key), d.tags...); err != nil {
			t.Fatal(err)
		}
	}
	sortN := func(o storage.SortOrder) storage.QueryOption {
		return storage.WithSortOrder(&storage.SortOptions{Order: o, TagName: "n"})
	}
	tests := []struct {
		expr  string
		opts  []storage.QueryOption
		want  []string
		total int
	}{
		{"kind", nil, []string{"a=a", "b=b", "c=c", "d=d"}, 4},
		{"kind:key", nil, []string{"a=a", "b=b"}, 2},
		{"kind:", nil, []string{"a=a", "b=b", "c=c", "d=d"}, 4},
		{"kind:key&&old", nil, []string{"b=b"}, 1},
		{"old||kind:ctx&&n", nil, []string{"b=b", "c=c"}, 2},
		{"missing", nil, nil, 0},
		{"kind", []storage.QueryOption{sortN(storage.SortAscending)}, []string{"b=b", "a=a", "c=c", "d=d"}, 4},
		{"kind", []storage.QueryOption{sortN(storage.SortDescending)}, []string{"c=c", "a=a", "b=b", "d=d"}, 4},
		{"kind", []storage.QueryOption{storage.WithPageSize(3), storage.WithInitialPageNum(1)}, []string{"d=d"}, 4},
		{"kind", []storage.QueryOption{storage.WithPageSize(2), storage.WithInitialPageNum(5)}, nil, 4},
	}
	for _, tt := range tests {
		t.Run(tt.expr, func(t *testing.T) {
			it, err := s.Query(tt.expr, tt.opts...)
			if err != nil {
				t.Fatal(err)
			}
			total, err := it.TotalItems()
			if err != nil || total != tt.total {
				t.Fatalf("TotalItems = %d, %v; want %d", total, err, tt.total)
			}
			if got := collect(t, it); !slices.Equal(got, tt.want) {
				t.Fatalf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestStoreQueryRefuses(t *testing.T) {
	s := openStore(t, newProvider(t, openDB(t), "kms/"), "s")
	tests := []struct {
		expr string
		opts []storage.QueryOption
		want string
	}{
		{"", nil, "aries: query expression is empty"},
		{"a:b:c", nil, `aries: query "a:b:c": criterion "a:b:c" has more than one ':'`},
		{"a&&", nil, `aries: query "a&&": criterion "" has no tag name`},
		{":v", nil, `aries: query ":v": criterion ":v" has no tag name`},
		{"a", []storage.QueryOption{storage.WithPageSize(-1)}, "aries: query page size -1 is negative"},
		{"a", []storage.QueryOption{storage.WithInitialPageNum(-1)}, "aries: query initial page -1 is negative"},
		{"a", []storage.QueryOption{storage.WithSortOrder(&storage.SortOptions{})}, "aries: query sort: aries: tag name is empty"},
	}
	for _, tt := range tests {
		t.Run(tt.expr, func(t *testing.T) {
			_, err := s.Query(tt.expr, tt.opts...)
			if err == nil || err.Error() != tt.want {
				t.Fatalf("err = %v, want %q", err, tt.want)
			}
		})
	}
}

func TestIteratorMisuse(t *testing.T) {
	s := openStore(t, newProvider(t, openDB(t), "kms/"), "s")
	if err := s.Put("k", []byte("v"), storage.Tag{Name: "t"}); err != nil {
		t.Fatal(err)
	}
	it, err := s.Query("t")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := it.Key(); err == nil {
		t.Fatal("Key before Next succeeded")
	}
	if ok, err := it.Next(); !ok || err != nil {
		t.Fatalf("Next = %v, %v", ok, err)
	}
	tags, err := it.Tags()
	if err != nil || !slices.Equal(tags, []storage.Tag{{Name: "t"}}) {
		t.Fatalf("Tags = %v, %v", tags, err)
	}
	if ok, err := it.Next(); ok || err != nil {
		t.Fatalf("Next at end = %v, %v", ok, err)
	}
	if _, err := it.Value(); err == nil {
		t.Fatal("Value after the end succeeded")
	}
	if err := it.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := it.Next(); err == nil {
		t.Fatal("Next after Close succeeded")
	}
}

// TestStoreBinaryKeys checks that keys are stored as given, including bytes used as separators.
func TestStoreBinaryKeys(t *testing.T) {
	p := newProvider(t, openDB(t), "kms/")
	a, b := openStore(t, p, "a"), openStore(t, p, "a\x01")
	key := "x\x00y/z"
	if err := a.Put(key, []byte("1"), storage.Tag{Name: "t"}); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Get(key); !errors.Is(err, storage.ErrDataNotFound) {
		t.Fatalf("store a\\x01 sees store a: %v", err)
	}
	it, err := a.Query("t")
	if err != nil {
		t.Fatal(err)
	}
	if got := collect(t, it); !slices.Equal(got, []string{key + "=1"}) {
		t.Fatalf("got %q", got)
	}
	if v, _ := a.Get(key); !bytes.Equal(v, []byte("1")) {
		t.Fatalf("Get = %q", v)
	}
}
