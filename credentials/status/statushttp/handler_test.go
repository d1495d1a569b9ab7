package statushttp_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mandate-dev/mandate/credentials/status/statushttp"
)

// bsl03 is the Bitstring Status List spec's example list credential.
const bsl03 = "../../../../shared/vectors/status-list/bitstring-status-list-spec-examples/bsl-03-Example-BitstringStatusListCredential.json"

// serve starts a loopback server publishing dir.
func serve(t *testing.T, dir string) *httptest.Server {
	t.Helper()
	h, err := statushttp.NewHandler(dir)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv
}

type response struct {
	status int
	header http.Header
	body   string
}

// do sends method to srv.URL+path, raw: path is sent as written.
func do(t *testing.T, srv *httptest.Server, method, path string, header http.Header) response {
	t.Helper()
	req, err := http.NewRequest(method, srv.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return response{resp.StatusCode, resp.Header, string(body)}
}

// wantETag is the tag the handler must give body, computed independently.
func wantETag(body []byte) string {
	sum := sha256.Sum256(body)
	return `"` + hex.EncodeToString(sum[:16]) + `"`
}

func publish(t *testing.T, dir, name string, body []byte) {
	t.Helper()
	if err := statushttp.WriteFile(dir, name, body); err != nil {
		t.Fatal(err)
	}
}

func TestHandlerServesSpecExample(t *testing.T) {
	body, err := os.ReadFile(bsl03)
	if err != nil {
		t.Fatalf("test vector: %v", err)
	}
	dir := t.TempDir()
	publish(t, dir, "3", body)
	srv := serve(t, dir)

	for _, method := range []string{http.MethodGet, http.MethodHead} {
		r := do(t, srv, method, "/3", nil)
		want := map[string]string{
			"Content-Type":           "application/ld+json",
			"Etag":                   wantETag(body),
			"Cache-Control":          "max-age=300", // no ttl: DefaultMaxAge
			"X-Content-Type-Options": "nosniff",
		}
		if r.status != http.StatusOK {
			t.Fatalf("%s: status %d", method, r.status)
		}
		for k, v := range want {
			if got := r.header.Get(k); got != v {
				t.Errorf("%s: %s = %q, want %q", method, k, got, v)
			}
		}
		wantBody := string(body)
		if method == http.MethodHead {
			wantBody = ""
		}
		if r.body != wantBody {
			t.Errorf("%s: body = %q, want %q", method, r.body, wantBody)
		}
	}
}

func TestHandlerCacheControlFromTTL(t *testing.T) {
	tests := []struct {
		body string
		want string
	}{
		{`{"credentialSubject":{"ttl":60000}}`, "max-age=60"},
		{`{"credentialSubject":{"ttl":1999}}`, "max-age=1"},
		{`{"credentialSubject":{"ttl":1500.9}}`, "max-age=1"},
		{`{"credentialSubject":{"ttl":999}}`, "max-age=0"},
		{`{"credentialSubject":{"ttl":0}}`, "max-age=0"},
		{`{"credentialSubject":{"ttl":6e7}}`, "max-age=60000"},
		{`{"credentialSubject":{"ttl":1e30}}`, "max-age=2147483648"},
		{`{"credentialSubject":{"ttl":1e400}}`, "max-age=300"},
		{`{"credentialSubject":{"ttl":-5}}`, "max-age=300"},
		{`{"credentialSubject":{"ttl":"60000"}}`, "max-age=300"},
		{`{"credentialSubject":{"ttl":null}}`, "max-age=300"},
		{`{"credentialSubject":{}}`, "max-age=300"},
		{`{"credentialSubject":[{"ttl":60000}]}`, "max-age=300"},
		{`{"ttl":60000}`, "max-age=300"},
		{`not json`, "max-age=300"},
	}
	dir := t.TempDir()
	srv := serve(t, dir)
	for _, tt := range tests {
		t.Run(tt.body, func(t *testing.T) {
			publish(t, dir, "l", []byte(tt.body))
			if got := do(t, srv, http.MethodGet, "/l", nil).header.Get("Cache-Control"); got != tt.want {
				t.Fatalf("Cache-Control = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestHandlerIfNoneMatch(t *testing.T) {
	body := []byte(`{"credentialSubject":{"ttl":60000}}`)
	dir := t.TempDir()
	publish(t, dir, "l", body)
	srv := serve(t, dir)
	etag := wantETag(body)
	if got := do(t, srv, http.MethodGet, "/l", nil).header.Get("ETag"); got != etag {
		t.Fatalf("ETag = %s, want %s", got, etag)
	}

	tests := []struct {
		name   string
		values []string
		want   int
	}{
		{"same tag", []string{etag}, 304},
		{"weak form of the tag", []string{"W/" + etag}, 304},
		{"in a list", []string{`"0123", W/"4567",` + etag}, 304},
		{"in a second field", []string{`"0123"`, etag}, 304},
		{"star", []string{"*"}, 304},
		{"other tag", []string{`"0123"`}, 200},
		{"unquoted tag", []string{strings.Trim(etag, `"`)}, 200},
		{"lowercase weak prefix", []string{"w/" + etag}, 200},
		{"malformed before the tag", []string{`"01"23", ` + etag}, 200},
		{"empty", []string{""}, 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, method := range []string{http.MethodGet, http.MethodHead} {
				r := do(t, srv, method, "/l", http.Header{"If-None-Match": tt.values})
				if r.status != tt.want {
					t.Fatalf("%s: status %d, want %d", method, r.status, tt.want)
				}
				if r.header.Get("ETag") != etag || r.header.Get("Cache-Control") != "max-age=60" {
					t.Fatalf("%s: ETag %q, Cache-Control %q", method, r.header.Get("ETag"), r.header.Get("Cache-Control"))
				}
				if tt.want == 304 && (r.body != "" || r.header.Get("Content-Type") != "") {
					t.Fatalf("304 with body %q, Content-Type %q", r.body, r.header.Get("Content-Type"))
				}
			}
		})
	}
}

func TestHandlerRepublishIsVisibleAtOnce(t *testing.T) {
	dir := t.TempDir()
	v1, v2 := []byte(`{"v":1}`), []byte(`{"v":2}`)
	publish(t, dir, "l", v1)
	srv := serve(t, dir)
	if r := do(t, srv, http.MethodGet, "/l", nil); r.body != string(v1) || r.header.Get("ETag") != wantETag(v1) {
		t.Fatalf("first GET: %q, ETag %s", r.body, r.header.Get("ETag"))
	}
	publish(t, dir, "l", v2)
	r := do(t, srv, http.MethodGet, "/l", http.Header{"If-None-Match": {wantETag(v1)}})
	if r.status != 200 || r.body != string(v2) || r.header.Get("ETag") != wantETag(v2) {
		t.Fatalf("after republishing: status %d, %q, ETag %s", r.status, r.body, r.header.Get("ETag"))
	}
}

func TestHandlerNotFound(t *testing.T) {
	parent := t.TempDir()
	dir := filepath.Join(parent, "lists")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"x", "secret"} {
		if err := os.WriteFile(filepath.Join(parent, name+".json"), []byte("outside"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	publish(t, dir, "x", []byte(`{"inside":true}`))
	if err := os.Symlink(filepath.Join(parent, "secret.json"), filepath.Join(dir, "link.json")); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(dir, "sub.json"), 0o755); err != nil {
		t.Fatal(err)
	}
	srv := serve(t, dir)
	if r := do(t, srv, http.MethodGet, "/x", nil); r.status != 200 {
		t.Fatalf("GET /x: %d", r.status)
	}

	for _, path := range []string{
		"/", "/missing", "/../x", "/%2e%2e/x", "/..%2fx", "/../secret", "/%2e%2e%2fsecret",
		"/A", "/X", "/x.json", "/x/", "//x", "/x/x", "/x%2Fx", "/-x", "/.x", "/x%00",
		"/" + strings.Repeat("a", 65), "/link", "/sub", "/x%20", "/%78", // %78 is "x" escaped
	} {
		t.Run(path, func(t *testing.T) {
			r := do(t, srv, http.MethodGet, path, nil)
			if path == "/%78" {
				// An escaped unreserved character is the same URI (RFC 3986
				// section 6.2.2.2): it names list x.
				if r.status != 200 || r.body != `{"inside":true}` {
					t.Fatalf("status %d, body %q", r.status, r.body)
				}
				return
			}
			if r.status != http.StatusNotFound || strings.Contains(r.body, "outside") || strings.Contains(r.body, "inside") {
				t.Fatalf("status %d, body %q; want 404", r.status, r.body)
			}
		})
	}
}

func TestHandlerMethodNotAllowed(t *testing.T) {
	dir := t.TempDir()
	publish(t, dir, "x", []byte(`{}`))
	srv := serve(t, dir)
	for _, method := range []string{"POST", "PUT", "DELETE", "PATCH", "OPTIONS", "TRACE", "PROPFIND"} {
		t.Run(method, func(t *testing.T) {
			r := do(t, srv, method, "/x", nil)
			if r.status != http.StatusMethodNotAllowed || r.header.Get("Allow") != "GET, HEAD" {
				t.Fatalf("status %d, Allow %q", r.status, r.header.Get("Allow"))
			}
		})
	}
	if got, _ := os.ReadFile(filepath.Join(dir, "x.json")); string(got) != `{}` {
		t.Fatalf("list changed to %q", got)
	}
	// An invalid name is not found, whatever the method.
	if r := do(t, srv, "PUT", "/../x", nil); r.status != http.StatusNotFound {
		t.Fatalf("PUT /../x: %d", r.status)
	}
}

func TestHandlerSizeLimit(t *testing.T) {
	dir := t.TempDir()
	var logged bytes.Buffer
	h, err := statushttp.NewHandler(dir, statushttp.WithLogger(slog.New(slog.NewTextHandler(&logged, nil))))
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	defer srv.Close()
	// WriteFile refuses oversized lists; write one behind its back.
	secret := "s3cr3t"
	big := []byte(secret + strings.Repeat(" ", statushttp.MaxListCredentialBytes-len(secret)))
	if err := os.WriteFile(filepath.Join(dir, "max.json"), big, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "over.json"), append(big, ' '), 0o644); err != nil {
		t.Fatal(err)
	}
	if r := do(t, srv, http.MethodGet, "/max", nil); r.status != 200 || len(r.body) != statushttp.MaxListCredentialBytes {
		t.Fatalf("list of the maximum size: status %d, %d bytes", r.status, len(r.body))
	}
	for _, method := range []string{http.MethodGet, http.MethodHead} {
		r := do(t, srv, method, "/over", nil)
		if r.status != http.StatusInternalServerError || strings.Contains(r.body, secret) || r.header.Get("ETag") != "" {
			t.Fatalf("%s oversized list: status %d, ETag %q, body %q", method, r.status, r.header.Get("ETag"), r.body)
		}
	}
	if log := logged.String(); !strings.Contains(log, "list=over") || !strings.Contains(log, "file too large") || strings.Contains(log, secret) {
		t.Fatalf("log %q: want the list's name and the reason, not its contents", log)
	}
}

func TestNewHandlerNeedsDirectory(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "f")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, d := range []string{filepath.Join(dir, "missing"), file} {
		if _, err := statushttp.NewHandler(d); err == nil || !strings.HasPrefix(err.Error(), "statushttp: open list directory: ") {
			t.Fatalf("NewHandler(%s) = %v", d, err)
		}
	}
}
