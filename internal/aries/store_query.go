package aries

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	badger "github.com/dgraph-io/badger/v4"
	"github.com/hyperledger/aries-framework-go/spi/storage"
)

// criterion is one TagName[:TagValue] term of a query; an empty value matches any value.
type criterion struct {
	name, value string
}

// query is an OR of ANDs, which is how aries defines operator precedence ("&&" before "||").
type query [][]criterion

func parseQuery(expr string) (query, error) {
	if expr == "" {
		return nil, errors.New("aries: query expression is empty")
	}
	if len(expr) > maxQueryLen {
		return nil, fmt.Errorf("aries: query expression is %d bytes, limit %d", len(expr), maxQueryLen)
	}
	var q query
	for _, conj := range strings.Split(expr, "||") {
		var terms []criterion
		for _, term := range strings.Split(conj, "&&") {
			c, err := parseCriterion(term)
			if err != nil {
				return nil, fmt.Errorf("aries: query %q: %w", expr, err)
			}
			terms = append(terms, c)
		}
		q = append(q, terms)
	}
	return q, nil
}

func parseCriterion(term string) (criterion, error) {
	parts := strings.Split(term, ":")
	if len(parts) > 2 {
		return criterion{}, fmt.Errorf("criterion %q has more than one ':'", term)
	}
	if parts[0] == "" {
		return criterion{}, fmt.Errorf("criterion %q has no tag name", term)
	}
	c := criterion{name: parts[0]}
	if len(parts) == 2 {
		c.value = parts[1]
	}
	return c, nil
}

func (q query) matches(tags []storage.Tag) bool {
	for _, conj := range q {
		if allMatch(conj, tags) {
			return true
		}
	}
	return false
}

func allMatch(conj []criterion, tags []storage.Tag) bool {
	for _, c := range conj {
		if !slices.ContainsFunc(tags, func(t storage.Tag) bool {
			return t.Name == c.name && (c.value == "" || t.Value == c.value)
		}) {
			return false
		}
	}
	return true
}

// queryOptions applies and checks the aries query options.
func queryOptions(opts []storage.QueryOption) (storage.QueryOptions, error) {
	var o storage.QueryOptions
	for _, opt := range opts {
		if opt != nil {
			opt(&o)
		}
	}
	if o.PageSize < 0 {
		return o, fmt.Errorf("aries: query page size %d is negative", o.PageSize)
	}
	if o.PageSize == 0 {
		o.PageSize = defaultPageSize
	}
	if o.InitialPageNum < 0 {
		return o, fmt.Errorf("aries: query initial page %d is negative", o.InitialPageNum)
	}
	if o.SortOptions != nil {
		if err := checkTagPart("name", o.SortOptions.TagName, true); err != nil {
			return o, fmt.Errorf("aries: query sort: %w", err)
		}
		if o.SortOptions.Order != storage.SortAscending && o.SortOptions.Order != storage.SortDescending {
			return o, fmt.Errorf("aries: query sort order %d is unknown", o.SortOptions.Order)
		}
	}
	return o, nil
}

// entry is one query result.
type entry struct {
	key string
	record
}

// Query scans the store and returns the entries whose tags match expr. Results are in key order
// unless a sort option is given; paging only moves the starting point, since the whole result is
// read in one consistent snapshot (at most maxQueryResults entries, beyond which Query fails).
func (s *store) Query(expr string, opts ...storage.QueryOption) (storage.Iterator, error) {
	if err := s.usable(); err != nil {
		return nil, err
	}
	q, err := parseQuery(expr)
	if err != nil {
		return nil, err
	}
	o, err := queryOptions(opts)
	if err != nil {
		return nil, err
	}
	found, err := s.scan(q)
	if err != nil {
		return nil, fmt.Errorf("aries: query store %q: %w", s.name, err)
	}
	if o.SortOptions != nil {
		sortEntries(found, *o.SortOptions)
	}
	start := len(found)
	if o.InitialPageNum <= len(found)/o.PageSize {
		start = min(o.InitialPageNum*o.PageSize, len(found))
	}
	return &iterator{entries: found[start:], total: len(found), pos: -1}, nil
}

func (s *store) scan(q query) ([]entry, error) {
	var found []entry
	err := s.provider.db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: s.dataPrefix, PrefetchValues: false})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			item := it.Item()
			raw, err := item.ValueCopy(nil)
			if err != nil {
				return err
			}
			r, err := decodeRecord(raw)
			if err != nil {
				return err
			}
			if !q.matches(r.Tags) {
				continue
			}
			if len(found) == maxQueryResults {
				return fmt.Errorf("more than %d results", maxQueryResults)
			}
			key := string(item.Key()[len(s.dataPrefix):])
			found = append(found, entry{key: key, record: r})
		}
		return nil
	})
	return found, err
}

// sortEntries orders by the value of the sort tag: decimal numbers numerically and before other
// values, other values as strings, entries without the tag last; ties keep key order.
func sortEntries(es []entry, so storage.SortOptions) {
	slices.SortStableFunc(es, func(a, b entry) int {
		av, aok := tagValue(a.Tags, so.TagName)
		bv, bok := tagValue(b.Tags, so.TagName)
		if aok != bok {
			if aok {
				return -1
			}
			return 1
		}
		c := compareTagValues(av, bv)
		if so.Order == storage.SortDescending {
			c = -c
		}
		return c
	})
}

func tagValue(tags []storage.Tag, name string) (string, bool) {
	for _, t := range tags {
		if t.Name == name {
			return t.Value, true
		}
	}
	return "", false
}

func compareTagValues(a, b string) int {
	af, aerr := strconv.ParseFloat(a, 64)
	bf, berr := strconv.ParseFloat(b, 64)
	switch {
	case aerr == nil && berr == nil:
		return cmp.Compare(af, bf)
	case aerr == nil:
		return -1
	case berr == nil:
		return 1
	default:
		return strings.Compare(a, b)
	}
}

// iterator walks a query result held in memory.
type iterator struct {
	entries []entry
	total   int
	pos     int
	closed  bool
}

var _ storage.Iterator = (*iterator)(nil)

var errNoEntry = errors.New("aries: iterator has no current entry (call Next first, or it is exhausted)")

func (it *iterator) Next() (bool, error) {
	if it.closed {
		return false, errors.New("aries: iterator is closed")
	}
	if it.pos < len(it.entries) {
		it.pos++
	}
	return it.pos < len(it.entries), nil
}

func (it *iterator) current() (*entry, error) {
	if it.closed {
		return nil, errors.New("aries: iterator is closed")
	}
	if it.pos < 0 || it.pos >= len(it.entries) {
		return nil, errNoEntry
	}
	return &it.entries[it.pos], nil
}

func (it *iterator) Key() (string, error) {
	e, err := it.current()
	if err != nil {
		return "", err
	}
	return e.key, nil
}

func (it *iterator) Value() ([]byte, error) {
	e, err := it.current()
	if err != nil {
		return nil, err
	}
	return e.Value, nil
}

func (it *iterator) Tags() ([]storage.Tag, error) {
	e, err := it.current()
	if err != nil {
		return nil, err
	}
	if e.Tags == nil {
		return []storage.Tag{}, nil
	}
	return e.Tags, nil
}

// TotalItems counts every match, ignoring paging.
func (it *iterator) TotalItems() (int, error) {
	if it.closed {
		return 0, errors.New("aries: iterator is closed")
	}
	return it.total, nil
}

// Close releases the results; closing twice is allowed.
func (it *iterator) Close() error {
	it.closed = true
	it.entries = nil
	return nil
}
