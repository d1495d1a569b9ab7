// Package webhost is a did:web host on loopback for tests, examples and the demo: an HTTPS server whose
// certificates come from a certificate authority made in memory, one per host name asked for, and a client
// that trusts only that authority and dials only the loopback listener, whatever the host name. Nothing leaves
// the machine. Never use it for anything but tests and demos.
package webhost

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"time"

	"github.com/mandate-dev/mandate/did"
)

// Host serves DID documents over HTTPS on 127.0.0.1.
type Host struct {
	// Port is the listener's port; did:web DIDs on this host carry it (%3A).
	Port int

	lis    net.Listener
	srv    *http.Server
	caKey  *ecdsa.PrivateKey
	caCert *x509.Certificate
	pool   *x509.CertPool

	mu       sync.Mutex
	handlers map[string]http.Handler // "host/path" to handler
	certs    map[string]*tls.Certificate
	hits     map[string]int
}

// Start listens on a loopback port and serves.
func Start() (*Host, error) {
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("webhost: %w", err)
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "mandate webhost test CA"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &caKey.PublicKey, caKey)
	if err != nil {
		return nil, fmt.Errorf("webhost: CA: %w", err)
	}
	caCert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("webhost: CA: %w", err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(caCert)
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("webhost: %w", err)
	}
	h := &Host{Port: lis.Addr().(*net.TCPAddr).Port, lis: lis, caKey: caKey, caCert: caCert, pool: pool,
		handlers: map[string]http.Handler{}, certs: map[string]*tls.Certificate{}, hits: map[string]int{}}
	h.srv = &http.Server{Handler: http.HandlerFunc(h.serve), ReadHeaderTimeout: 5 * time.Second,
		TLSConfig: &tls.Config{GetCertificate: h.certificate, MinVersion: tls.VersionTLS12}}
	go func() { _ = h.srv.ServeTLS(lis, "", "") }()
	return h, nil
}

// Close stops the server.
func (h *Host) Close() error { return h.srv.Close() }

// Client returns an HTTPS client that trusts only this host's authority and dials only its listener.
func (h *Host) Client() *http.Client {
	addr := h.lis.Addr().String()
	dialer := &net.Dialer{Timeout: 5 * time.Second}
	return &http.Client{Transport: &http.Transport{
		TLSClientConfig: &tls.Config{RootCAs: h.pool, MinVersion: tls.VersionTLS12},
		DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			return dialer.DialContext(ctx, network, addr)
		},
		ForceAttemptHTTP2: true,
	}}
}

// DID returns the did:web DID of domain (and path) on this host, its port included.
func (h *Host) DID(domain, path string) string {
	id, err := did.WebDID(domain+":"+strconv.Itoa(h.Port), path)
	if err != nil {
		panic(fmt.Sprintf("webhost: %v", err)) // a test's own constant
	}
	return id
}

// Publish serves doc at the URL of its DID.
func (h *Host) Publish(doc *did.Document) error {
	b, err := json.Marshal(doc)
	if err != nil {
		return fmt.Errorf("webhost: %w", err)
	}
	return h.PublishRaw(doc.ID, b)
}

// PublishRaw serves body at the URL of id.
func (h *Host) PublishRaw(id string, body []byte) error {
	return h.Handle(id, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/did+json")
		_, _ = w.Write(body)
	}))
}

// Handle serves the URL of id with handler.
func (h *Host) Handle(id string, handler http.Handler) error {
	raw, err := did.WebURL(id)
	if err != nil {
		return fmt.Errorf("webhost: %w", err)
	}
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("webhost: %w", err)
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	h.handlers[u.Hostname()+u.Path] = handler
	return nil
}

// Remove stops serving the URL of id.
func (h *Host) Remove(id string) {
	raw, err := did.WebURL(id)
	if err != nil {
		return
	}
	u, _ := url.Parse(raw)
	h.mu.Lock()
	defer h.mu.Unlock()
	delete(h.handlers, u.Hostname()+u.Path)
}

// Hits counts the requests for the URL of id.
func (h *Host) Hits(id string) int {
	raw, err := did.WebURL(id)
	if err != nil {
		return 0
	}
	u, _ := url.Parse(raw)
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.hits[u.Hostname()+u.Path]
}

func (h *Host) serve(w http.ResponseWriter, r *http.Request) {
	host, _, err := net.SplitHostPort(r.Host)
	if err != nil {
		host = r.Host
	}
	key := host + r.URL.Path
	h.mu.Lock()
	handler := h.handlers[key]
	h.hits[key]++
	h.mu.Unlock()
	if handler == nil {
		http.NotFound(w, r)
		return
	}
	handler.ServeHTTP(w, r)
}

// certificate mints (once per name) a leaf certificate for the name the client asked for.
func (h *Host) certificate(hello *tls.ClientHelloInfo) (*tls.Certificate, error) {
	name := hello.ServerName
	if name == "" {
		return nil, fmt.Errorf("webhost: no server name")
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if c, ok := h.certs[name]; ok {
		return c, nil
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(int64(len(h.certs) + 2)), Subject: pkix.Name{CommonName: name}, DNSNames: []string{name},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, h.caCert, &key.PublicKey, h.caKey)
	if err != nil {
		return nil, err
	}
	c := &tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
	h.certs[name] = c
	return c, nil
}

// Org is an organisation's did:web signer whose document this host serves: an in-memory Ed25519 key (for
// tests and demos; a real organisation keeps it in its wallet's KMS).
type Org struct {
	did  string
	vm   string
	priv ed25519.PrivateKey
}

// NewOrg makes a key derived from name, publishes the did:web document of domain (and path) and returns
// its signer.
func (h *Host) NewOrg(domain, path, name string) (*Org, error) {
	seed := sha256.Sum256([]byte("mandate webhost org: " + name))
	priv := ed25519.NewKeyFromSeed(seed[:])
	id := h.DID(domain, path)
	doc, err := did.WebDocument(id, priv.Public().(ed25519.PublicKey))
	if err != nil {
		return nil, err
	}
	if err := h.Publish(doc); err != nil {
		return nil, err
	}
	return &Org{did: id, vm: doc.VerificationMethod[0].ID, priv: priv}, nil
}

// DID returns the organisation's did:web.
func (o *Org) DID() string { return o.did }

// VerificationMethod returns "<did>#key-1".
func (o *Org) VerificationMethod() string { return o.vm }

// Sign signs msg with Ed25519.
func (o *Org) Sign(msg []byte) ([]byte, error) { return ed25519.Sign(o.priv, msg), nil }
