package statushttp_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mandate-dev/mandate/credentials/status"
	"github.com/mandate-dev/mandate/credentials/status/statushttp"
)

// t0 is the fake clock's start.
var t0 = time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)

// clock is a Fetcher.Now that moves only when told.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// testList is what fakeVerify reads of a list credential.
type testList struct {
	ID                string `json:"id"`
	ValidFrom         string `json:"validFrom,omitempty"`
	ValidUntil        string `json:"validUntil,omitempty"`
	CredentialSubject struct {
		TTL  int64  `json:"ttl,omitempty"` // milliseconds
		Note string `json:"note,omitempty"`
	} `json:"credentialSubject"`
	Proof string `json:"proof"`
}

var errForged = errors.New("test: proof does not verify")

// fakeVerify stands in for the real verifier: it reads the fields the
// Fetcher uses straight from the JSON, and takes "proof": "valid" as a good
// signature. Proofs and the shape of list credentials are tested where they
// are checked; here the Fetcher's own code path runs for real.
func fakeVerify(_ context.Context, body []byte) (*status.ListCredential, error) {
	var l testList
	if err := json.Unmarshal(body, &l); err != nil {
		return nil, err
	}
	if l.Proof != "valid" {
		return nil, errForged
	}
	lc := &status.ListCredential{ID: l.ID, Type: status.TypeBitstringCredential,
		TTL: time.Duration(l.CredentialSubject.TTL) * time.Millisecond}
	if l.ValidFrom != "" {
		t, err := time.Parse(time.RFC3339, l.ValidFrom)
		if err != nil {
			return nil, err
		}
		lc.ValidFrom = t
	}
	if l.ValidUntil != "" {
		t, err := time.Parse(time.RFC3339, l.ValidUntil)
		if err != nil {
			return nil, err
		}
		lc.ValidUntil = &t
	}
	return lc, nil
}

// hit is one request the list server answered.
type hit struct {
	ifNoneMatch string
	status      int
}

// env is a TLS loopback server publishing lists with NewHandler from a
// directory, and a Fetcher on a fake clock.
type env struct {
	t     *testing.T
	dir   string
	srv   *httptest.Server
	clock *clock
	f     *statushttp.Fetcher

	mu   sync.Mutex
	hits []hit
	gate func() // when set, runs before each request is served
}

// setGate makes the server run g before serving each request.
func (e *env) setGate(g func()) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.gate = g
}

func newEnv(t *testing.T) *env {
	t.Helper()
	e := &env{t: t, dir: t.TempDir(), clock: &clock{now: t0}}
	h, err := statushttp.NewHandler(e.dir)
	if err != nil {
		t.Fatal(err)
	}
	e.srv = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		e.mu.Lock()
		gate := e.gate
		e.mu.Unlock()
		if gate != nil {
			gate()
		}
		h.ServeHTTP(&recorder{ResponseWriter: w, env: e, inm: r.Header.Get("If-None-Match")}, r)
	}))
	t.Cleanup(e.srv.Close)
	e.f = &statushttp.Fetcher{Client: e.srv.Client(), Verify: fakeVerify, Now: e.clock.Now}
	return e
}

// recorder logs the status as it is written, before the client can see it.
type recorder struct {
	http.ResponseWriter
	env *env
	inm string
}

func (r *recorder) WriteHeader(code int) {
	r.env.mu.Lock()
	r.env.hits = append(r.env.hits, hit{ifNoneMatch: r.inm, status: code})
	r.env.mu.Unlock()
	r.ResponseWriter.WriteHeader(code)
}

func (e *env) url(name string) string { return e.srv.URL + "/" + name }

// list is a good list for name, valid from an hour before t0.
func (e *env) list(name string) testList {
	l := testList{ID: e.url(name), ValidFrom: t0.Add(-time.Hour).Format(time.RFC3339), Proof: "valid"}
	return l
}

func (e *env) publish(name string, l testList) []byte {
	e.t.Helper()
	b, err := json.Marshal(l)
	if err != nil {
		e.t.Fatal(err)
	}
	if err := statushttp.WriteFile(e.dir, name, b); err != nil {
		e.t.Fatal(err)
	}
	return b
}

func (e *env) log() []hit {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]hit(nil), e.hits...)
}

func (e *env) get(name string) (*status.ListCredential, error) {
	return e.f.Get(context.Background(), e.url(name))
}

func (e *env) mustGet(name string) *status.ListCredential {
	e.t.Helper()
	lc, err := e.get(name)
	if err != nil {
		e.t.Fatalf("Get(%s): %v", name, err)
	}
	return lc
}

func etagOf(t *testing.T, e *env, name string) string {
	t.Helper()
	resp, err := e.srv.Client().Head(e.url(name))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.Header.Get("ETag")
}

func equalHits(t *testing.T, got, want []hit) {
	t.Helper()
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("server saw %v, want %v", got, want)
	}
}

func TestFetcherServesCacheWhileFresh(t *testing.T) {
	e := newEnv(t)
	e.publish("l1", e.list("l1"))
	first := e.mustGet("l1")
	e.clock.Advance(statushttp.DefaultMaxAge) // exactly the max age: still fresh
	if again := e.mustGet("l1"); again != first {
		t.Fatal("second Get did not return the cached list")
	}
	equalHits(t, e.log(), []hit{{"", 200}})
	if first.ID != e.url("l1") || !first.ValidFrom.Equal(t0.Add(-time.Hour)) {
		t.Fatalf("list = %+v", first)
	}
}

func TestFetcherRevalidatesAfterMaxAge(t *testing.T) {
	e := newEnv(t)
	e.publish("l1", e.list("l1"))
	etag := etagOf(t, e, "l1")
	first := e.mustGet("l1")

	e.clock.Advance(statushttp.DefaultMaxAge + time.Second)
	if again := e.mustGet("l1"); again != first {
		t.Fatal("a 304 did not return the cached list")
	}
	// The 304 renewed the entry: a full max age from now, no request.
	e.clock.Advance(statushttp.DefaultMaxAge)
	e.mustGet("l1")
	equalHits(t, e.log()[1:], []hit{{"", 200}, {etag, 304}})
}

func TestFetcherTakesRepublishedList(t *testing.T) {
	e := newEnv(t)
	e.publish("l1", e.list("l1"))
	e.mustGet("l1")

	newer := e.list("l1")
	newer.ValidFrom = t0.Format(time.RFC3339)
	e.publish("l1", newer)
	e.clock.Advance(statushttp.DefaultMaxAge + time.Second)
	if got := e.mustGet("l1"); !got.ValidFrom.Equal(t0) {
		t.Fatalf("ValidFrom = %s, want the republished list's %s", got.ValidFrom, t0)
	}
	if log := e.log(); log[1].status != 200 {
		t.Fatalf("server saw %v, want a 200 for the republished list", log)
	}
}

func TestFetcherMaxAgeAndTTL(t *testing.T) {
	tests := []struct {
		name     string
		ttl      time.Duration
		maxAge   time.Duration
		advance  time.Duration
		wantHits int
	}{
		{"ttl shorter than default, within", time.Minute, 0, time.Minute, 1},
		{"ttl shorter than default, past", time.Minute, 0, time.Minute + time.Second, 2},
		{"ttl longer than default", 10 * time.Minute, 0, statushttp.DefaultMaxAge + time.Second, 2},
		{"ttl longer than MaxAge", 10 * time.Minute, 30 * time.Second, 31 * time.Second, 2},
		{"no ttl, MaxAge, within", 0, 30 * time.Second, 30 * time.Second, 1},
		{"no ttl, MaxAge, past", 0, 30 * time.Second, 31 * time.Second, 2},
		{"no ttl, default, within", 0, 0, statushttp.DefaultMaxAge, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			e.f.MaxAge = tt.maxAge
			l := e.list("l1")
			l.CredentialSubject.TTL = tt.ttl.Milliseconds()
			e.publish("l1", l)
			e.mustGet("l1")
			e.clock.Advance(tt.advance)
			e.mustGet("l1")
			if got := len(e.log()); got != tt.wantHits {
				t.Fatalf("server hits = %d, want %d", got, tt.wantHits)
			}
		})
	}
}

func TestFetcherFailsClosedWhenServerIsDown(t *testing.T) {
	e := newEnv(t)
	e.publish("l1", e.list("l1"))
	first := e.mustGet("l1")
	e.srv.Close()

	// While fresh, the cached list needs no server.
	if got := e.mustGet("l1"); got != first {
		t.Fatal("fresh cached list not served")
	}
	e.clock.Advance(statushttp.DefaultMaxAge + time.Second)
	for range 2 {
		lc, err := e.get("l1")
		if !errors.Is(err, statushttp.ErrUnavailable) || lc != nil {
			t.Fatalf("Get = %v, %v; want nil, ErrUnavailable (no stale list)", lc, err)
		}
	}
}

func TestFetcherRefusesInvalidList(t *testing.T) {
	at := func(d time.Duration) string { return t0.Add(d).Format(time.RFC3339) }
	tests := []struct {
		name    string
		cached  func(l *testList) // when set, a first list is fetched and cached
		served  func(l *testList)
		wantErr error
		wantMsg string
	}{
		{name: "good", served: func(*testList) {}},
		{name: "forged proof", served: func(l *testList) { l.Proof = "forged" },
			wantErr: errForged, wantMsg: "test: proof does not verify"},
		{name: "id of another list", served: func(l *testList) { l.ID += "x" },
			wantErr: statushttp.ErrInvalid, wantMsg: "is not its URL"},
		{name: "expired", served: func(l *testList) { l.ValidUntil = at(-time.Second) },
			wantErr: statushttp.ErrInvalid, wantMsg: "list expired at 2025-06-01T11:59:59Z"},
		{name: "expires now", served: func(l *testList) { l.ValidUntil = at(0) },
			wantErr: statushttp.ErrInvalid, wantMsg: "list expired at"},
		{name: "valid until later", served: func(l *testList) { l.ValidUntil = at(time.Second) }},
		{name: "valid from beyond skew", served: func(l *testList) { l.ValidFrom = at(5*time.Minute + time.Second) },
			wantErr: statushttp.ErrInvalid, wantMsg: "list not valid before 2025-06-01T12:05:01Z"},
		{name: "valid from within skew", served: func(l *testList) { l.ValidFrom = at(5 * time.Minute) }},
		{name: "no validFrom", served: func(l *testList) { l.ValidFrom = "" },
			wantErr: statushttp.ErrInvalid, wantMsg: "list has no validFrom"},
		{name: "rollback",
			cached:  func(l *testList) { l.ValidFrom = at(-time.Hour) },
			served:  func(l *testList) { l.ValidFrom = at(-2 * time.Hour) },
			wantErr: statushttp.ErrInvalid, wantMsg: "older than the cached list"},
		{name: "same validFrom, new bits",
			cached: func(l *testList) { l.ValidFrom = at(-time.Hour) },
			served: func(l *testList) { l.ValidFrom = at(-time.Hour); l.CredentialSubject.Note = "new" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			if tt.cached != nil {
				l := e.list("l1")
				tt.cached(&l)
				e.publish("l1", l)
				e.mustGet("l1")
				e.clock.Advance(statushttp.DefaultMaxAge + time.Second)
			}
			l := e.list("l1")
			tt.served(&l)
			e.publish("l1", l)
			lc, err := e.get("l1")
			if tt.wantErr == nil {
				if err != nil {
					t.Fatalf("Get: %v", err)
				}
				return
			}
			if !errors.Is(err, statushttp.ErrInvalid) || !errors.Is(err, tt.wantErr) || lc != nil {
				t.Fatalf("Get = %v, %v; want nil, ErrInvalid wrapping %v", lc, err, tt.wantErr)
			}
			if !strings.Contains(err.Error(), tt.wantMsg) {
				t.Fatalf("error %q does not say %q", err, tt.wantMsg)
			}
		})
	}
}

func TestFetcherKeepsCachedEntryWhenVerifyFails(t *testing.T) {
	e := newEnv(t)
	good := e.publish("l1", e.list("l1"))
	etag := etagOf(t, e, "l1")
	first := e.mustGet("l1")

	forged := e.list("l1")
	forged.Proof = "forged"
	e.publish("l1", forged)
	e.clock.Advance(statushttp.DefaultMaxAge + time.Second)
	if _, err := e.get("l1"); !errors.Is(err, statushttp.ErrInvalid) {
		t.Fatalf("Get of a forged list: %v, want ErrInvalid", err)
	}
	// The forged list was not cached: the next request still carries the
	// good list's ETag, and the 304 answer gives the good list back.
	if err := statushttp.WriteFile(e.dir, "l1", good); err != nil {
		t.Fatal(err)
	}
	if got := e.mustGet("l1"); got != first {
		t.Fatal("the good list was not kept")
	}
	equalHits(t, e.log()[1:], []hit{{"", 200}, {etag, 200}, {etag, 304}})
}

func TestFetcherRevalidatedListExpires(t *testing.T) {
	e := newEnv(t)
	l := e.list("l1")
	l.ValidUntil = t0.Add(10 * time.Minute).Format(time.RFC3339)
	e.publish("l1", l)
	e.mustGet("l1")

	e.clock.Advance(statushttp.DefaultMaxAge + time.Second)
	e.mustGet("l1") // 304, still valid
	e.clock.Advance(5 * time.Minute)
	_, err := e.get("l1") // 304 again, but the list ran out at t0+10m
	if !errors.Is(err, statushttp.ErrInvalid) || !strings.Contains(err.Error(), "list expired at 2025-06-01T12:10:00Z") {
		t.Fatalf("Get = %v, want ErrInvalid: list expired", err)
	}
	if log := e.log(); len(log) != 3 || log[2].status != 304 {
		t.Fatalf("server saw %v, want 200, 304, 304", log)
	}
}

func TestFetcherInvalidate(t *testing.T) {
	e := newEnv(t)
	e.publish("l1", e.list("l1"))
	e.mustGet("l1")
	e.f.Invalidate(e.url("l1"))
	e.mustGet("l1")
	equalHits(t, e.log(), []hit{{"", 200}, {"", 200}})
}

func TestFetcherHTTPFailures(t *testing.T) {
	dir := t.TempDir()
	lists, err := statushttp.NewHandler(dir)
	if err != nil {
		t.Fatal(err)
	}
	var listHits atomic.Int64
	mux := http.NewServeMux()
	mux.HandleFunc("/lists/", func(w http.ResponseWriter, r *http.Request) {
		listHits.Add(1)
		http.StripPrefix("/lists", lists).ServeHTTP(w, r)
	})
	mux.HandleFunc("/error", func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "boom", http.StatusInternalServerError)
	})
	mux.HandleFunc("/redirect", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/lists/l1", http.StatusFound)
	})
	mux.HandleFunc("/unconditional-304", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusNotModified)
	})
	mux.HandleFunc("/endless", func(w http.ResponseWriter, r *http.Request) {
		// No Content-Length: the limit must hold while reading.
		chunk := []byte(strings.Repeat(" ", 4096))
		for range statushttp.MaxListCredentialBytes/len(chunk) + 2 {
			w.Write(chunk)
			w.(http.Flusher).Flush()
		}
	})
	srv := httptest.NewTLSServer(mux)
	defer srv.Close()
	l := testList{ID: srv.URL + "/lists/l1", ValidFrom: t0.Add(-time.Hour).Format(time.RFC3339), Proof: "valid"}
	b, _ := json.Marshal(l)
	if err := statushttp.WriteFile(dir, "l1", b); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name     string
		path     string
		maxBytes int64
		wantMsg  string
	}{
		{"500", "/error", 0, "HTTP status 500"},
		{"404", "/lists/missing", 0, "HTTP status 404"},
		{"redirect", "/redirect", 0, "redirect (HTTP 302) not followed"},
		{"304 without If-None-Match", "/unconditional-304", 0, "HTTP 304 to a request that was not conditional"},
		{"Content-Length over MaxBytes", "/lists/l1", 64, fmt.Sprintf("body of %d bytes exceeds 64", len(b))},
		{"streamed body over the default limit", "/endless", 0, fmt.Sprintf("body exceeds %d bytes", statushttp.MaxListCredentialBytes)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			listHits.Store(0)
			f := &statushttp.Fetcher{Client: srv.Client(), Verify: fakeVerify, Now: (&clock{now: t0}).Now, MaxBytes: tt.maxBytes}
			lc, err := f.Get(context.Background(), srv.URL+tt.path)
			if !errors.Is(err, statushttp.ErrUnavailable) || lc != nil {
				t.Fatalf("Get = %v, %v; want nil, ErrUnavailable", lc, err)
			}
			if !strings.Contains(err.Error(), tt.wantMsg) {
				t.Fatalf("error %q does not say %q", err, tt.wantMsg)
			}
			if tt.name == "redirect" && listHits.Load() != 0 {
				t.Fatal("the redirect was followed")
			}
		})
	}
}

func TestFetcherTimeout(t *testing.T) {
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-r.Context().Done() // never answers
	}))
	defer srv.Close()
	f := &statushttp.Fetcher{Client: srv.Client(), Verify: fakeVerify, Timeout: 50 * time.Millisecond}
	if _, err := f.Get(context.Background(), srv.URL+"/l1"); !errors.Is(err, statushttp.ErrUnavailable) {
		t.Fatalf("Get = %v, want ErrUnavailable", err)
	}
}

func TestFetcherVerifyTimeout(t *testing.T) {
	e := newEnv(t)
	e.publish("l1", e.list("l1"))
	e.f.Timeout = 50 * time.Millisecond
	e.f.Verify = func(ctx context.Context, _ []byte) (*status.ListCredential, error) {
		<-ctx.Done() // a key resolution that never answers
		return nil, ctx.Err()
	}
	_, err := e.get("l1")
	if !errors.Is(err, statushttp.ErrUnavailable) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Get = %v, want ErrUnavailable wrapping context.DeadlineExceeded", err)
	}
}

// dialCounter is a transport that counts the requests it is given and sends
// none.
type dialCounter struct{ n atomic.Int64 }

func (d *dialCounter) RoundTrip(*http.Request) (*http.Response, error) {
	d.n.Add(1)
	return nil, errors.New("test: no network")
}

func TestFetcherRefusesInsecureURLWithoutDialling(t *testing.T) {
	tests := []struct {
		url     string
		wantMsg string
	}{
		{"http://status.example/lists/1", "http to a non-loopback host"},
		{"http://localhost.example/lists/1", "http to a non-loopback host"},
		{"http://127.0.0.1.nip.example/lists/1", "http to a non-loopback host"},
		{"http://[::2]/lists/1", "http to a non-loopback host"},
		{"ftp://status.example/lists/1", `scheme "ftp"`},
		{"file:///etc/passwd", "no host"},
		{"/lists/1", "no host"},
		{"https:///lists/1", "no host"},
		{"https:status.example", "no host"},
		{"https://user:pw@status.example/lists/1", "user information in URL"},
		{"https://status.example/lists/1#frag", "fragment in URL"},
		{"https://status.example/" + strings.Repeat("a", 2048), "longer than 2048 bytes"},
		{"https://status.example/%zz", "invalid URL escape"},
	}
	for _, tt := range tests {
		t.Run(tt.url[:min(len(tt.url), 40)], func(t *testing.T) {
			d := &dialCounter{}
			f := &statushttp.Fetcher{Client: &http.Client{Transport: d}, Verify: fakeVerify}
			_, err := f.Get(context.Background(), tt.url)
			if !errors.Is(err, statushttp.ErrInsecureURL) || !strings.Contains(err.Error(), tt.wantMsg) {
				t.Fatalf("Get = %v, want ErrInsecureURL: %s", err, tt.wantMsg)
			}
			if d.n.Load() != 0 {
				t.Fatal("a request was sent")
			}
		})
	}
}

func TestFetcherAdmitsLoopbackHTTP(t *testing.T) {
	tests := []struct {
		url       string
		allowHTTP bool
	}{
		{"http://127.0.0.1:1/l1", false},
		{"http://127.9.8.7/l1", false},
		{"http://[::1]:1/l1", false},
		{"http://localhost/l1", false},
		{"http://LOCALHOST/l1", false},
		{"https://status.example/l1", false},
		{"http://status.example/l1", true},
	}
	for _, tt := range tests {
		t.Run(tt.url, func(t *testing.T) {
			d := &dialCounter{}
			f := &statushttp.Fetcher{Client: &http.Client{Transport: d}, Verify: fakeVerify, InsecureAllowHTTP: tt.allowHTTP}
			_, err := f.Get(context.Background(), tt.url)
			if !errors.Is(err, statushttp.ErrUnavailable) || d.n.Load() != 1 {
				t.Fatalf("Get = %v after %d requests; want the one request to fail with ErrUnavailable", err, d.n.Load())
			}
		})
	}
}

func TestFetcherPlainHTTPLoopbackServer(t *testing.T) {
	dir := t.TempDir()
	h, err := statushttp.NewHandler(dir)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	defer srv.Close()
	l := testList{ID: srv.URL + "/l1", ValidFrom: t0.Add(-time.Hour).Format(time.RFC3339), Proof: "valid"}
	b, _ := json.Marshal(l)
	if err := statushttp.WriteFile(dir, "l1", b); err != nil {
		t.Fatal(err)
	}
	f := &statushttp.Fetcher{Verify: fakeVerify, Now: (&clock{now: t0}).Now} // default client
	lc, err := f.Get(context.Background(), l.ID)
	if err != nil || lc.ID != l.ID {
		t.Fatalf("Get = %v, %v", lc, err)
	}
}

func TestFetcherConcurrentGetsShareOneFetch(t *testing.T) {
	const callers = 8
	e := newEnv(t)
	e.publish("l1", e.list("l1"))
	release := make(chan struct{})
	e.setGate(func() { <-release })
	var joined sync.WaitGroup
	joined.Add(callers - 1) // every caller but the one that starts the fetch
	statushttp.SetJoinHook(e.f, joined.Done)

	results := make(chan *status.ListCredential, callers)
	errs := make(chan error, callers)
	for range callers {
		go func() {
			lc, err := e.get("l1")
			results <- lc
			errs <- err
		}()
	}
	joined.Wait()
	close(release)
	var first *status.ListCredential
	for i := range callers {
		lc, err := <-results, <-errs
		if err != nil {
			t.Fatalf("Get: %v", err)
		}
		if i == 0 {
			first = lc
		} else if lc != first {
			t.Fatal("callers got different lists")
		}
	}
	equalHits(t, e.log(), []hit{{"", 200}})
}

func TestFetcherCallerCancelDoesNotFailOthers(t *testing.T) {
	e := newEnv(t)
	e.publish("l1", e.list("l1"))
	arrived, release := make(chan struct{}, 1), make(chan struct{})
	e.setGate(func() {
		select {
		case arrived <- struct{}{}:
		default:
		}
		<-release
	})
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error)
	go func() {
		_, err := e.f.Get(ctx, e.url("l1"))
		errc <- err
	}()
	<-arrived
	cancel()
	if err := <-errc; !errors.Is(err, statushttp.ErrUnavailable) || !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled Get = %v, want ErrUnavailable wrapping context.Canceled", err)
	}
	close(release)
	e.mustGet("l1") // joins the fetch still under way, or finds its result cached
	equalHits(t, e.log(), []hit{{"", 200}})
}

// memLists is a transport serving a good list at every URL, counting requests
// per URL.
type memLists struct {
	mu   sync.Mutex
	hits map[string]int
}

func (m *memLists) RoundTrip(r *http.Request) (*http.Response, error) {
	m.mu.Lock()
	m.hits[r.URL.String()]++
	m.mu.Unlock()
	b, _ := json.Marshal(testList{ID: r.URL.String(), ValidFrom: t0.Format(time.RFC3339), Proof: "valid"})
	return &http.Response{StatusCode: http.StatusOK, Body: io.NopCloser(strings.NewReader(string(b))),
		ContentLength: int64(len(b)), Header: http.Header{}, Request: r}, nil
}

func (m *memLists) count(url string) int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.hits[url]
}

func TestFetcherEvictsLeastRecentlyUsed(t *testing.T) {
	m := &memLists{hits: map[string]int{}}
	f := &statushttp.Fetcher{Client: &http.Client{Transport: m}, Verify: fakeVerify, Now: (&clock{now: t0}).Now}
	url := func(i int) string { return fmt.Sprintf("https://status.example/lists/%d", i) }
	get := func(i int) {
		t.Helper()
		if _, err := f.Get(context.Background(), url(i)); err != nil {
			t.Fatal(err)
		}
	}
	for i := range statushttp.MaxCachedLists {
		get(i)
	}
	get(0)                         // cached; now the most recently used
	get(statushttp.MaxCachedLists) // one too many: evicts list 1, the least recently used
	get(0)                         // still cached
	get(1)                         // fetched again
	get(statushttp.MaxCachedLists) // still cached
	for i, want := range map[int]int{0: 1, 1: 2, 2: 1, statushttp.MaxCachedLists: 1} {
		if got := m.count(url(i)); got != want {
			t.Errorf("list %d fetched %d times, want %d", i, got, want)
		}
	}
}

func TestFetcherConfiguration(t *testing.T) {
	tests := []struct {
		name    string
		f       *statushttp.Fetcher
		wantMsg string
	}{
		{"no Verify", &statushttp.Fetcher{}, "statushttp: Fetcher.Verify is nil"},
		{"negative Timeout", &statushttp.Fetcher{Verify: fakeVerify, Timeout: -1},
			"statushttp: Fetcher Timeout, MaxBytes and MaxAge must not be negative"},
		{"negative MaxAge", &statushttp.Fetcher{Verify: fakeVerify, MaxAge: -1},
			"statushttp: Fetcher Timeout, MaxBytes and MaxAge must not be negative"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tt.f.Get(context.Background(), "https://status.example/l1")
			if err == nil || err.Error() != tt.wantMsg {
				t.Fatalf("Get = %v, want %q", err, tt.wantMsg)
			}
		})
	}
}
