package statushttp

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"math"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"
)

// DefaultMaxAge is the Cache-Control max-age of a list that states no ttl, and
// the Fetcher's default maximum age of a cached list.
const DefaultMaxAge = 5 * time.Minute

// mediaType is the Content-Type of a served list. VC Data Model 1.1 registers
// no media type for credentials (its IANA section registers only the JWT
// claims vc and vp), and application/vc+ld+json, used by VC 2.0 drafts, was
// never registered. A VC 1.1 credential in JSON-LD is a JSON-LD document, so
// its registered media type is JSON-LD's own. (VC 2.0's application/vc is
// defined for VCDM 2.0 documents only; application/ld+json is also true of
// them.)
const mediaType = "application/ld+json"

// maxDeltaSeconds caps max-age: RFC 9111 section 1.2.2 has caches treat any
// larger delta-seconds as 2^31.
const maxDeltaSeconds = 1 << 31

// errNotRegular marks a {name}.json that is a directory, symlink, device or
// FIFO: it is not served, as if absent.
var errNotRegular = errors.New("not a regular file")

// errTooLarge marks a file bigger than MaxListCredentialBytes.
var errTooLarge = errors.New("file too large")

// HandlerOption configures NewHandler.
type HandlerOption func(*handler)

// WithLogger logs server-side failures (an unreadable or oversized file) to
// l. Nil, the default, discards them. Log lines name the list, never its
// contents.
func WithLogger(l *slog.Logger) HandlerOption {
	return func(h *handler) { h.log = l }
}

type handler struct {
	root *os.Root
	log  *slog.Logger
}

// NewHandler serves the status list credentials in dir: GET and HEAD of
// /{name} return dir/{name}.json. dir is opened once, as an os.Root, so no
// request can reach outside it; its files are read at each request. Mount the
// handler with http.StripPrefix to serve it below a path.
func NewHandler(dir string, opts ...HandlerOption) (http.Handler, error) {
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, fmt.Errorf("statushttp: open list directory: %w", err)
	}
	h := &handler{root: root}
	for _, opt := range opts {
		opt(h)
	}
	if h.log == nil {
		h.log = slog.New(slog.DiscardHandler)
	}
	return h, nil
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	// r.URL.Path is decoded, so "/%2e%2e/x" and "/a%2Fb" arrive with their
	// dot and slash and fail validName like any other name with them.
	name, ok := strings.CutPrefix(r.URL.Path, "/")
	if !ok || !validName(name) {
		http.Error(w, http.StatusText(http.StatusNotFound), http.StatusNotFound)
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, http.StatusText(http.StatusMethodNotAllowed), http.StatusMethodNotAllowed)
		return
	}
	body, err := h.read(name)
	switch {
	case errors.Is(err, fs.ErrNotExist), errors.Is(err, errNotRegular):
		http.Error(w, http.StatusText(http.StatusNotFound), http.StatusNotFound)
		return
	case err != nil:
		// The reason goes to the log, not to the client.
		h.log.Error("statushttp: cannot serve status list", "list", name, "error", err)
		http.Error(w, http.StatusText(http.StatusInternalServerError), http.StatusInternalServerError)
		return
	}
	etag := strongETag(body)
	hdr := w.Header()
	// RFC 9110 section 15.4.5: a 304 carries the ETag and Cache-Control a 200
	// would have.
	hdr.Set("ETag", etag)
	hdr.Set("Cache-Control", "max-age="+strconv.FormatInt(maxAgeSeconds(body), 10))
	hdr.Set("X-Content-Type-Options", "nosniff")
	if noneMatch(r.Header.Values("If-None-Match"), etag) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	hdr.Set("Content-Type", mediaType)
	hdr.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(http.StatusOK)
	if r.Method == http.MethodGet {
		w.Write(body)
	}
}

// read returns the bytes of {name}.json. Only a regular file is read: Lstat
// shows a symlink, a directory or a FIFO (whose open would block) as what it
// is, and each is refused as if absent.
func (h *handler) read(name string) ([]byte, error) {
	file := name + ".json"
	fi, err := h.root.Lstat(file)
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, errNotRegular
	}
	f, err := h.root.Open(file)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	body, err := io.ReadAll(io.LimitReader(f, MaxListCredentialBytes+1))
	if err != nil {
		return nil, err
	}
	if len(body) > MaxListCredentialBytes {
		return nil, fmt.Errorf("%w: more than %d bytes", errTooLarge, MaxListCredentialBytes)
	}
	return body, nil
}

// strongETag is the quoted hex of the first 16 bytes of body's SHA-256: the
// same bytes always give the same tag, on every server of a fleet.
func strongETag(body []byte) string {
	sum := sha256.Sum256(body)
	return `"` + hex.EncodeToString(sum[:16]) + `"`
}

// maxAgeSeconds is the max-age for a list: its credentialSubject.ttl, a JSON
// number of milliseconds, in whole seconds rounded down, or DefaultMaxAge when
// the body is not such a document or the ttl is absent, not a number, or
// negative. The handler serves bytes it does not verify, so this reads only
// the one member it needs.
func maxAgeSeconds(body []byte) int64 {
	def := int64(DefaultMaxAge / time.Second)
	var doc struct {
		CredentialSubject struct {
			TTL json.RawMessage `json:"ttl"`
		} `json:"credentialSubject"`
	}
	if err := json.Unmarshal(body, &doc); err != nil {
		return def
	}
	ttl := doc.CredentialSubject.TTL
	// A JSON number starts with a digit or a minus sign; a string holding
	// digits is not a number, and json.Number would accept it.
	if len(ttl) == 0 || (ttl[0] < '0' || ttl[0] > '9') {
		return def
	}
	ms, err := strconv.ParseFloat(string(ttl), 64)
	if err != nil || math.IsInf(ms, 0) {
		return def
	}
	return int64(min(math.Floor(ms/1000), maxDeltaSeconds))
}
