package statushttp

import (
	"container/list"
	"time"

	"github.com/mandate-dev/mandate/credentials/status"
)

// MaxCachedLists bounds a Fetcher's cache; the least recently used list goes
// first. An evicted list is fetched again in full, and it loses its rollback
// check (no older list can be refused for its URL until it is cached again).
const MaxCachedLists = 1024

// entry is one cached list. Entries are never changed once stored, so a fetch
// can read one without holding the Fetcher's lock; an update stores a new one.
type entry struct {
	list      *status.ListCredential
	etag      string // "" when the server sent none usable
	fetchedAt time.Time
}

// lru maps URLs to entries, most recently used first.
type lru struct {
	order *list.List // of *lruItem
	items map[string]*list.Element
}

type lruItem struct {
	url   string
	entry *entry
}

func newLRU() *lru {
	return &lru{order: list.New(), items: make(map[string]*list.Element)}
}

// get returns url's entry, or nil, and marks it used.
func (c *lru) get(url string) *entry {
	el, ok := c.items[url]
	if !ok {
		return nil
	}
	c.order.MoveToFront(el)
	return el.Value.(*lruItem).entry
}

// peek returns url's entry, or nil, without marking it used.
func (c *lru) peek(url string) *entry {
	if el, ok := c.items[url]; ok {
		return el.Value.(*lruItem).entry
	}
	return nil
}

// put stores e for url, marks it used and evicts beyond MaxCachedLists.
func (c *lru) put(url string, e *entry) {
	if el, ok := c.items[url]; ok {
		el.Value.(*lruItem).entry = e
		c.order.MoveToFront(el)
		return
	}
	c.items[url] = c.order.PushFront(&lruItem{url: url, entry: e})
	for c.order.Len() > MaxCachedLists {
		c.remove(c.order.Back().Value.(*lruItem).url)
	}
}

func (c *lru) remove(url string) {
	if el, ok := c.items[url]; ok {
		c.order.Remove(el)
		delete(c.items, url)
	}
}
