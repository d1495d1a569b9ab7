package statushttp

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/mandate-dev/mandate/credentials/status"
)

// DefaultTimeout bounds one fetch when Fetcher.Timeout is zero.
const DefaultTimeout = 5 * time.Second

// clockSkew is how far in the future a list's ValidFrom may lie: the issuer's
// clock and ours may disagree by that much.
const clockSkew = 5 * time.Minute

// maxURLBytes bounds a status list URL.
const maxURLBytes = 2048

// Errors a caller branches on. Each wraps the URL and the cause.
var (
	// ErrUnavailable: no fresh list could be had (network error, timeout,
	// HTTP status other than 200 or 304, redirect, body too large). A
	// verifier denies with STATUS_UNAVAILABLE.
	ErrUnavailable = errors.New("statushttp: status list unavailable")
	// ErrInvalid: a list was fetched but refused: Verify failed, its id is
	// not its URL, it is expired or not yet valid, or it is older than the
	// cached list.
	ErrInvalid = errors.New("statushttp: invalid status list")
	// ErrInsecureURL: the URL is not https (plain http is allowed to
	// loopback hosts only), or is malformed. Nothing was sent.
	ErrInsecureURL = errors.New("statushttp: insecure or malformed status list URL")
)

// Fetcher gets status list credentials for a verifier, verifies them with
// Verify and caches them. Set its fields before the first Get and do not
// change or copy it afterwards; Get and Invalidate are safe for concurrent
// use. Lists returned are shared with other callers and must not be modified.
type Fetcher struct {
	// Client sends the requests; nil means a client with Timeout. Redirects
	// are never followed, whatever the client's CheckRedirect says.
	Client *http.Client
	// Timeout bounds one fetch, Verify included; 0 means DefaultTimeout.
	Timeout time.Duration
	// MaxBytes bounds a response body; 0 means MaxListCredentialBytes.
	MaxBytes int64
	// MaxAge: a cached list fetched longer ago than this must be fetched
	// again (a 304 answer renews it). A list's TTL, when shorter, wins.
	// 0 means DefaultMaxAge.
	MaxAge time.Duration
	// Verify checks the fetched bytes (proof, shape) and returns the list.
	// Required. Its context ends with the fetch's Timeout; an error returned
	// once that has passed counts as ErrUnavailable, any other as ErrInvalid.
	Verify func(ctx context.Context, body []byte) (*status.ListCredential, error)
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// InsecureAllowHTTP allows http:// URLs for non-loopback hosts. Unsafe: a
	// network attacker can then replay an older signed list.
	InsecureAllowHTTP bool

	mu       sync.Mutex
	cache    *lru             // nil until the first Get
	inflight map[string]*call // fetches under way, by URL
	// testHookJoin, when set, is called each time a Get joins a fetch that
	// another Get started.
	testHookJoin func()
}

// call is one fetch that concurrent Gets of the same URL share.
type call struct {
	done chan struct{} // closed when list and err are set
	list *status.ListCredential
	err  error
}

// Get returns the verified list credential published at rawURL: the cached
// one while it is fresh, otherwise one fetched now. Concurrent Gets of one URL
// share one fetch. When a list that is no longer fresh cannot be fetched, Get
// fails with ErrUnavailable and does not return the stale copy.
func (f *Fetcher) Get(ctx context.Context, rawURL string) (*status.ListCredential, error) {
	if err := f.validate(); err != nil {
		return nil, err
	}
	if err := checkURL(rawURL, f.InsecureAllowHTTP); err != nil {
		return nil, err
	}
	c, started, cached := f.lookup(rawURL)
	if cached != nil {
		return cached, nil
	}
	if started {
		// The fetch runs on its own: a caller that gives up (ctx) must not
		// fail the other callers waiting for the same list.
		go f.run(context.WithoutCancel(ctx), rawURL, c)
	} else if f.testHookJoin != nil {
		f.testHookJoin()
	}
	select {
	case <-c.done:
		return c.list, c.err
	case <-ctx.Done():
		return nil, fmt.Errorf("%w: %q: %w", ErrUnavailable, rawURL, ctx.Err())
	}
}

// Invalidate drops the cached list of rawURL, so that the next Get fetches it
// in full. Dropping it also drops its rollback check.
func (f *Fetcher) Invalidate(rawURL string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.cache != nil {
		f.cache.remove(rawURL)
	}
}

func (f *Fetcher) validate() error {
	if f.Verify == nil {
		return errors.New("statushttp: Fetcher.Verify is nil")
	}
	if f.Timeout < 0 || f.MaxBytes < 0 || f.MaxAge < 0 {
		return errors.New("statushttp: Fetcher Timeout, MaxBytes and MaxAge must not be negative")
	}
	return nil
}

// lookup returns the cached list when it is fresh; otherwise the fetch of
// rawURL under way, and whether this call started it.
func (f *Fetcher) lookup(rawURL string) (c *call, started bool, cached *status.ListCredential) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.cache == nil {
		f.cache = newLRU()
		f.inflight = make(map[string]*call)
	}
	if e := f.cache.get(rawURL); e != nil && f.fresh(e, f.now()) {
		return nil, false, e.list
	}
	if c := f.inflight[rawURL]; c != nil {
		return c, false, nil
	}
	c = &call{done: make(chan struct{})}
	f.inflight[rawURL] = c
	return c, true, nil
}

// run fetches rawURL for c, caches a good result and wakes c's callers. A
// failed fetch leaves the cached entry as it was: stale, so never served, but
// still holding the ETag and the ValidFrom that the rollback check needs.
func (f *Fetcher) run(ctx context.Context, rawURL string, c *call) {
	ctx, cancel := context.WithTimeout(ctx, f.timeout())
	defer cancel()
	f.mu.Lock()
	prev := f.cache.peek(rawURL)
	f.mu.Unlock()
	e, err := f.fetch(ctx, rawURL, prev)
	f.mu.Lock()
	if err == nil {
		f.cache.put(rawURL, e)
		c.list = e.list
	}
	c.err = err
	delete(f.inflight, rawURL)
	f.mu.Unlock()
	close(c.done)
}

// fetch gets rawURL, revalidating prev when there is one, and checks the
// result.
func (f *Fetcher) fetch(ctx context.Context, rawURL string, prev *entry) (*entry, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, rawURL, nil)
	if err != nil {
		return nil, fmt.Errorf("%w: %q: %w", ErrUnavailable, rawURL, err)
	}
	req.Header.Set("Accept", "application/ld+json, application/vc, application/json;q=0.9")
	if prev != nil && prev.etag != "" {
		req.Header.Set("If-None-Match", prev.etag)
	}
	resp, err := f.client().Do(req)
	if err != nil {
		return nil, fmt.Errorf("%w: %q: %w", ErrUnavailable, rawURL, err)
	}
	defer resp.Body.Close()
	revalidating := req.Header.Get("If-None-Match") != ""
	switch {
	case resp.StatusCode == http.StatusNotModified && revalidating:
		now := f.now()
		if err := checkWindow(prev.list, now); err != nil {
			return nil, fmt.Errorf("%w: %q: %w", ErrInvalid, rawURL, err)
		}
		return &entry{list: prev.list, etag: prev.etag, fetchedAt: now}, nil
	case resp.StatusCode == http.StatusOK:
		return f.accept(ctx, rawURL, resp, prev)
	case resp.StatusCode == http.StatusNotModified:
		return nil, fmt.Errorf("%w: %q: HTTP 304 to a request that was not conditional", ErrUnavailable, rawURL)
	case resp.StatusCode >= 300 && resp.StatusCode < 400:
		return nil, fmt.Errorf("%w: %q: redirect (HTTP %d) not followed", ErrUnavailable, rawURL, resp.StatusCode)
	default:
		return nil, fmt.Errorf("%w: %q: HTTP status %d", ErrUnavailable, rawURL, resp.StatusCode)
	}
}

// accept reads a 200 response and checks the list it holds.
func (f *Fetcher) accept(ctx context.Context, rawURL string, resp *http.Response, prev *entry) (*entry, error) {
	body, err := f.readBody(resp)
	if err != nil {
		return nil, fmt.Errorf("%w: %q: %w", ErrUnavailable, rawURL, err)
	}
	list, err := f.Verify(ctx, body)
	if err != nil && ctx.Err() != nil {
		// Verify ran out of time (resolving a key, say): the list may be
		// good, it just could not be checked.
		return nil, fmt.Errorf("%w: %q: %w", ErrUnavailable, rawURL, err)
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %q: %w", ErrInvalid, rawURL, err)
	}
	if list == nil {
		return nil, fmt.Errorf("%w: %q: Verify returned no list", ErrInvalid, rawURL)
	}
	// A list is only good for the URL it names: otherwise a server could
	// answer with another (validly signed) list of the same issuer.
	if list.ID != rawURL {
		return nil, fmt.Errorf("%w: %q: list id %q is not its URL", ErrInvalid, rawURL, list.ID)
	}
	now := f.now()
	if err := checkWindow(list, now); err != nil {
		return nil, fmt.Errorf("%w: %q: %w", ErrInvalid, rawURL, err)
	}
	if prev != nil && prev.list.ValidFrom.After(list.ValidFrom) {
		return nil, fmt.Errorf("%w: %q: older than the cached list (validFrom %s before %s)",
			ErrInvalid, rawURL, list.ValidFrom.Format(time.RFC3339), prev.list.ValidFrom.Format(time.RFC3339))
	}
	etag := resp.Header.Get("ETag")
	if !validETag(etag) {
		etag = ""
	}
	return &entry{list: list, etag: etag, fetchedAt: now}, nil
}

// readBody reads at most MaxBytes; a longer body is an error, not a prefix.
func (f *Fetcher) readBody(resp *http.Response) ([]byte, error) {
	limit := f.MaxBytes
	if limit == 0 {
		limit = MaxListCredentialBytes
	}
	if resp.ContentLength > limit {
		return nil, fmt.Errorf("body of %d bytes exceeds %d", resp.ContentLength, limit)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(body)) > limit {
		return nil, fmt.Errorf("body exceeds %d bytes", limit)
	}
	return body, nil
}

// checkWindow refuses a list that has expired, or whose validity starts
// more than clockSkew from now. A list without a ValidFrom is refused too:
// the rollback check orders lists by it.
func checkWindow(list *status.ListCredential, now time.Time) error {
	switch {
	case list.ValidFrom.IsZero():
		return errors.New("list has no validFrom")
	case list.ValidFrom.After(now.Add(clockSkew)):
		return fmt.Errorf("list not valid before %s", list.ValidFrom.Format(time.RFC3339))
	case list.ValidUntil != nil && !now.Before(*list.ValidUntil):
		return fmt.Errorf("list expired at %s", list.ValidUntil.Format(time.RFC3339))
	}
	return nil
}

// fresh reports whether e may be served without asking the server.
func (f *Fetcher) fresh(e *entry, now time.Time) bool {
	if e.list.ValidUntil != nil && !now.Before(*e.list.ValidUntil) {
		return false
	}
	return now.Sub(e.fetchedAt) <= f.maxAge(e.list)
}

// maxAge is MaxAge, or the list's TTL when that is shorter.
func (f *Fetcher) maxAge(list *status.ListCredential) time.Duration {
	age := f.MaxAge
	if age == 0 {
		age = DefaultMaxAge
	}
	if list.TTL > 0 && list.TTL < age {
		age = list.TTL
	}
	return age
}

// client is Client, or a default one, made never to follow a redirect.
// Following one would let whoever answers at the list's URL send the verifier
// elsewhere: to an internal host, or from https to http. Nothing is gained,
// since a list must carry the URL it was fetched from as its id anyway.
func (f *Fetcher) client() *http.Client {
	c := http.Client{Timeout: f.timeout()}
	if f.Client != nil {
		c = *f.Client
	}
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &c
}

func (f *Fetcher) timeout() time.Duration {
	if f.Timeout == 0 {
		return DefaultTimeout
	}
	return f.Timeout
}

func (f *Fetcher) now() time.Time {
	if f.Now == nil {
		return time.Now()
	}
	return f.Now()
}

// checkURL admits https URLs, and http URLs to loopback hosts (or to any host
// with allowHTTP). Over plain http a network attacker can replay an older
// list that is still signed and unexpired, hiding a revocation.
func checkURL(rawURL string, allowHTTP bool) error {
	if len(rawURL) > maxURLBytes {
		return fmt.Errorf("%w: longer than %d bytes", ErrInsecureURL, maxURLBytes)
	}
	u, err := url.Parse(rawURL)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrInsecureURL, err)
	}
	switch {
	case u.Opaque != "" || u.Hostname() == "":
		return fmt.Errorf("%w: %q: no host", ErrInsecureURL, rawURL)
	case u.User != nil:
		return fmt.Errorf("%w: %q: user information in URL", ErrInsecureURL, rawURL)
	case strings.Contains(rawURL, "#"):
		return fmt.Errorf("%w: %q: fragment in URL", ErrInsecureURL, rawURL)
	case u.Scheme == "https":
		return nil
	case u.Scheme == "http" && (allowHTTP || isLoopback(u.Hostname())):
		return nil
	case u.Scheme == "http":
		return fmt.Errorf("%w: %q: http to a non-loopback host", ErrInsecureURL, rawURL)
	default:
		return fmt.Errorf("%w: %q: scheme %q", ErrInsecureURL, rawURL, u.Scheme)
	}
}

// isLoopback reports whether host is "localhost" or in 127.0.0.0/8 or ::1.
// Names other than localhost are not resolved: nothing is dialled to decide.
func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
