package did

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/mandate-dev/mandate/internal/strictjson"
)

// ErrResolution marks a DID that could not be resolved: the document could not be fetched in time, was too
// large, was not a well-formed DID document, was another DID's document, or held a key that is not Ed25519.
var ErrResolution = errors.New("did: resolution failed")

// Limits and defaults of did:web resolution.
const (
	DefaultWebTimeout   = 5 * time.Second
	DefaultWebMaxBytes  = 64 << 10
	DefaultWebCacheSize = 256
	DefaultWebMaxAge    = 5 * time.Minute
	// MaxWebBytes is the largest WebOptions.MaxBytes (and ParseWebDocument input).
	MaxWebBytes = 1 << 20
	// MaxWebMethods bounds the verification methods of one did:web document.
	MaxWebMethods = 16
	// WebKeyFragment names the one key of a document made by WebDocument.
	WebKeyFragment = "key-1"
	maxRedirects   = 3
)

const (
	typeJWK2020    = "JsonWebKey2020"
	contextJWS2020 = "https://w3id.org/security/suites/jws-2020/v1"
)

// WebDID builds a did:web DID from a domain (host, or host:port) and an optional path ("a/b"), encoded as the
// did:web specification says: the port's colon as %3A, path segments joined by colons.
func WebDID(domain, path string) (string, error) {
	id := "did:web:" + strings.Replace(domain, ":", "%3A", 1)
	if p := strings.Trim(path, "/"); p != "" {
		id += ":" + strings.ReplaceAll(p, "/", ":")
	}
	if _, err := WebURL(id); err != nil {
		return "", err
	}
	return id, nil
}

// WebURL returns the HTTPS URL of a did:web DID's document: https://<host>[:<port>]/.well-known/did.json, or
// https://<host>[:<port>]/<path>/did.json when the DID has path segments. Host names are lowercase DNS names
// (no IP addresses, as the specification requires); path segments are unreserved characters only.
func WebURL(did string) (string, error) {
	if len(did) > maxLength {
		return "", fmt.Errorf("%w: input is %d bytes, limit %d", ErrInvalidDID, len(did), maxLength)
	}
	rest, ok := strings.CutPrefix(did, "did:web:")
	if !ok {
		return "", fmt.Errorf("%w: %s is not a did:web DID", ErrInvalidDID, quote(did))
	}
	if strings.ContainsAny(rest, "/?#") {
		return "", fmt.Errorf("%w: %s is a DID URL, not a DID", ErrInvalidDID, quote(did))
	}
	parts := strings.Split(rest, ":")
	host, port, err := webHost(parts[0])
	if err != nil {
		return "", fmt.Errorf("%w: %s: %w", ErrInvalidDID, quote(did), err)
	}
	for _, seg := range parts[1:] {
		if !validSegment(seg) {
			return "", fmt.Errorf("%w: %s: path segment %s is not 1..255 unreserved characters (A-Z a-z 0-9 - . _ ~)",
				ErrInvalidDID, quote(did), quote(seg))
		}
	}
	authority := host
	if port != "" {
		authority = net.JoinHostPort(host, port)
	}
	if len(parts) == 1 {
		return "https://" + authority + "/.well-known/did.json", nil
	}
	return "https://" + authority + "/" + strings.Join(parts[1:], "/") + "/did.json", nil
}

// webHost splits "host" or "host%3Aport" and checks both.
func webHost(s string) (host, port string, err error) {
	host = s
	if i := strings.Index(strings.ToUpper(s), "%3A"); i >= 0 {
		host, port = s[:i], s[i+3:]
		n, err := strconv.Atoi(port)
		if err != nil || n < 1 || n > 65535 || port[0] == '0' {
			return "", "", fmt.Errorf("port %s is not 1..65535", quote(port))
		}
	}
	if strings.Contains(host, "%") {
		return "", "", fmt.Errorf("host %s: only the port's colon may be percent-encoded (%%3A)", quote(host))
	}
	if net.ParseIP(host) != nil {
		return "", "", fmt.Errorf("host %s is an IP address; did:web needs a domain name", quote(host))
	}
	if !validHost(host) {
		return "", "", fmt.Errorf("host %s is not a lowercase DNS name", quote(host))
	}
	return host, port, nil
}

func validHost(h string) bool {
	if h == "" || len(h) > 253 {
		return false
	}
	for _, label := range strings.Split(h, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for _, c := range []byte(label) {
			if (c < 'a' || c > 'z') && (c < '0' || c > '9') && c != '-' {
				return false
			}
		}
	}
	return true
}

func validSegment(s string) bool {
	if s == "" || s == "." || s == ".." || len(s) > 255 {
		return false
	}
	for _, c := range []byte(s) {
		if (c < 'a' || c > 'z') && (c < 'A' || c > 'Z') && (c < '0' || c > '9') && !strings.ContainsRune("-._~", rune(c)) {
			return false
		}
	}
	return true
}

// WebDocument returns the DID document to publish for a did:web DID whose key is pub: one
// Ed25519VerificationKey2020 method "<did>#key-1", listed under every verification relationship.
func WebDocument(did string, pub ed25519.PublicKey) (*Document, error) {
	if _, err := WebURL(did); err != nil {
		return nil, err
	}
	if len(pub) != ed25519.PublicKeySize {
		return nil, fmt.Errorf("%w: ed25519 public key is %d bytes, want %d",
			ErrInvalidPublicKeyLength, len(pub), ed25519.PublicKeySize)
	}
	vm := did + "#" + WebKeyFragment
	return &Document{
		Context: []string{contextDIDv1, contextEd25519v2020},
		ID:      did,
		VerificationMethod: []VerificationMethod{
			{ID: vm, Type: typeEd25519v2020, Controller: did, PublicKeyMultibase: encodeKey(pub)},
		},
		Authentication:       []string{vm},
		AssertionMethod:      []string{vm},
		CapabilityDelegation: []string{vm},
		CapabilityInvocation: []string{vm},
	}, nil
}

// WebOptions configure a WebResolver. The zero value is usable: the system's roots, the default limits.
type WebOptions struct {
	// Client makes the HTTPS requests (its TLS roots and dialer); nil: a client with the system roots. Its
	// redirect policy and time-out are replaced: redirects stay on the same host and on HTTPS.
	Client    *http.Client
	Timeout   time.Duration    // one resolution; 0: DefaultWebTimeout
	MaxBytes  int64            // the largest document read; 0: DefaultWebMaxBytes
	CacheSize int              // documents kept; 0: DefaultWebCacheSize
	MaxAge    time.Duration    // a cached document is refetched after this; 0: DefaultWebMaxAge
	Now       func() time.Time // nil: time.Now
}

// WebResolver resolves did:web DIDs over HTTPS, with a time-out, a size limit and a bounded cache. Every failure
// wraps ErrResolution (a DID that is not did:web gives ErrMethodNotSupported). It is safe for concurrent use.
type WebResolver struct {
	client   *http.Client
	maxBytes int64
	size     int
	maxAge   time.Duration
	now      func() time.Time

	mu    sync.Mutex
	cache map[string]cached
}

type cached struct {
	doc     *Document
	fetched time.Time
}

var _ Resolver = (*WebResolver)(nil)

// NewWebResolver returns a did:web resolver.
func NewWebResolver(o WebOptions) *WebResolver {
	c := &http.Client{}
	if o.Client != nil {
		*c = *o.Client
	}
	if o.Timeout <= 0 {
		o.Timeout = DefaultWebTimeout
	}
	c.Timeout = o.Timeout
	c.CheckRedirect = sameHostRedirect
	r := &WebResolver{client: c, maxBytes: o.MaxBytes, size: o.CacheSize, maxAge: o.MaxAge, now: o.Now, cache: map[string]cached{}}
	if r.maxBytes <= 0 {
		r.maxBytes = DefaultWebMaxBytes
	}
	r.maxBytes = min(r.maxBytes, MaxWebBytes)
	if r.size <= 0 {
		r.size = DefaultWebCacheSize
	}
	if r.maxAge <= 0 {
		r.maxAge = DefaultWebMaxAge
	}
	if r.now == nil {
		r.now = time.Now
	}
	return r
}

// sameHostRedirect follows a redirect only to the same host and port, over HTTPS: a document served from
// elsewhere is not the domain's.
func sameHostRedirect(req *http.Request, via []*http.Request) error {
	if len(via) >= maxRedirects {
		return fmt.Errorf("more than %d redirects", maxRedirects)
	}
	if req.URL.Scheme != "https" || req.URL.Host != via[0].URL.Host {
		return fmt.Errorf("redirect to %s leaves %s", quote(req.URL.Scheme+"://"+req.URL.Host), quote(via[0].URL.Host))
	}
	return nil
}

// Resolve fetches (or takes from the cache) the DID's document and checks it: its id must be the DID, its
// verification methods Ed25519 keys controlled by the DID, its relationships references to them.
func (r *WebResolver) Resolve(ctx context.Context, did string) (*Document, error) {
	if !strings.HasPrefix(did, "did:web:") {
		return nil, fmt.Errorf("%w: %s: this resolver resolves did:web only", ErrMethodNotSupported, quote(did))
	}
	u, err := WebURL(did)
	if err != nil {
		return nil, err
	}
	now := r.now()
	if doc, ok := r.lookup(did, now); ok {
		return doc, nil
	}
	doc, err := r.fetch(ctx, did, u)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrResolution, quote(did), err)
	}
	r.store(did, doc, now)
	return doc.clone(), nil
}

func (r *WebResolver) lookup(did string, now time.Time) (*Document, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	e, ok := r.cache[did]
	if !ok || now.Sub(e.fetched) >= r.maxAge || now.Before(e.fetched) {
		return nil, false
	}
	return e.doc.clone(), true
}

// store keeps doc, evicting the oldest entry when the cache is full.
func (r *WebResolver) store(did string, doc *Document, now time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, ok := r.cache[did]; !ok && len(r.cache) >= r.size {
		oldest := ""
		for k, e := range r.cache {
			if oldest == "" || e.fetched.Before(r.cache[oldest].fetched) {
				oldest = k
			}
		}
		delete(r.cache, oldest)
	}
	r.cache[did] = cached{doc: doc, fetched: now}
}

func (r *WebResolver) fetch(ctx context.Context, did, u string) (*Document, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/did+json, application/json")
	resp, err := r.client.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // the URL is already named
		}
		return nil, fmt.Errorf("GET %s: %w", u, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: HTTP %d", u, resp.StatusCode)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, r.maxBytes+1))
	if err != nil {
		return nil, fmt.Errorf("GET %s: %w", u, err)
	}
	if int64(len(body)) > r.maxBytes {
		return nil, fmt.Errorf("GET %s: document is larger than %d bytes", u, r.maxBytes)
	}
	return ParseWebDocument(did, body)
}

// webDocument is the wire form of a did:web document: the members Mandate reads, plus the DID Core members it
// tolerates and ignores (controller, alsoKnownAs, service). Any other member is refused.
type webDocument struct {
	Context              json.RawMessage      `json:"@context"`
	ID                   string               `json:"id"`
	Controller           json.RawMessage      `json:"controller,omitempty"`
	AlsoKnownAs          []string             `json:"alsoKnownAs,omitempty"`
	VerificationMethod   []VerificationMethod `json:"verificationMethod"`
	Authentication       []string             `json:"authentication,omitempty"`
	AssertionMethod      []string             `json:"assertionMethod,omitempty"`
	CapabilityDelegation []string             `json:"capabilityDelegation,omitempty"`
	CapabilityInvocation []string             `json:"capabilityInvocation,omitempty"`
	Service              json.RawMessage      `json:"service,omitempty"`
}

// ParseWebDocument reads a fetched did:web document and checks it against the DID it was fetched for. The error
// names the problem; it does not wrap ErrResolution (Resolve adds it).
func ParseWebDocument(did string, data []byte) (*Document, error) {
	if len(data) > MaxWebBytes {
		return nil, fmt.Errorf("document is %d bytes, limit %d", len(data), MaxWebBytes)
	}
	if err := strictjson.Check(data); err != nil {
		return nil, fmt.Errorf("document: %w", err)
	}
	var w webDocument
	if err := strictjson.DecodeExact(data, &w); err != nil {
		return nil, fmt.Errorf("document: %w", err)
	}
	ctxs, err := contextList(w.Context)
	if err != nil {
		return nil, err
	}
	if w.ID != did {
		return nil, fmt.Errorf("document id %s is not the DID %s", quote(w.ID), quote(did))
	}
	if len(w.VerificationMethod) == 0 || len(w.VerificationMethod) > MaxWebMethods {
		return nil, fmt.Errorf("document has %d verification methods, want 1..%d", len(w.VerificationMethod), MaxWebMethods)
	}
	ids := map[string]bool{}
	for i := range w.VerificationMethod {
		vm := &w.VerificationMethod[i]
		if !strings.HasPrefix(vm.ID, did+"#") || len(vm.ID) == len(did)+1 {
			return nil, fmt.Errorf("verification method id %s is not <DID>#<fragment>", quote(vm.ID))
		}
		if ids[vm.ID] {
			return nil, fmt.Errorf("verification method %s appears more than once", quote(vm.ID))
		}
		ids[vm.ID] = true
		if vm.Controller != did {
			return nil, fmt.Errorf("verification method %s is controlled by %s, not by the DID", quote(vm.ID), quote(vm.Controller))
		}
		if _, err := methodKey(vm); err != nil {
			return nil, fmt.Errorf("verification method %s: %w", quote(vm.ID), err)
		}
	}
	for name, refs := range map[string][]string{
		"authentication": w.Authentication, "assertionMethod": w.AssertionMethod,
		"capabilityDelegation": w.CapabilityDelegation, "capabilityInvocation": w.CapabilityInvocation,
	} {
		for _, ref := range refs {
			if !ids[ref] {
				return nil, fmt.Errorf("%s names %s, which is not a verification method of the document", name, quote(ref))
			}
		}
	}
	return &Document{
		Context: ctxs, ID: w.ID, VerificationMethod: w.VerificationMethod,
		Authentication: w.Authentication, AssertionMethod: w.AssertionMethod,
		CapabilityDelegation: w.CapabilityDelegation, CapabilityInvocation: w.CapabilityInvocation,
	}, nil
}

// contextList accepts "@context" as a string or an array of strings whose first is the DID v1 context.
func contextList(raw json.RawMessage) ([]string, error) {
	var list []string
	var one string
	if err := json.Unmarshal(raw, &one); err == nil {
		list = []string{one}
	} else if err := json.Unmarshal(raw, &list); err != nil {
		return nil, errors.New("document @context must be a string or an array of strings")
	}
	if len(list) == 0 || list[0] != contextDIDv1 {
		return nil, fmt.Errorf("document @context must start with %s", contextDIDv1)
	}
	return list, nil
}

func (d *Document) clone() *Document {
	c := *d
	c.Context = slices.Clone(d.Context)
	c.VerificationMethod = slices.Clone(d.VerificationMethod)
	for i, vm := range c.VerificationMethod {
		if vm.PublicKeyJwk != nil {
			k := *vm.PublicKeyJwk
			c.VerificationMethod[i].PublicKeyJwk = &k
		}
	}
	c.Authentication = slices.Clone(d.Authentication)
	c.AssertionMethod = slices.Clone(d.AssertionMethod)
	c.CapabilityDelegation = slices.Clone(d.CapabilityDelegation)
	c.CapabilityInvocation = slices.Clone(d.CapabilityInvocation)
	return &c
}
