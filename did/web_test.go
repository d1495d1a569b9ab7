package did_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/mandate-dev/mandate/did"
	"github.com/mandate-dev/mandate/internal/testkeys"
	"github.com/mandate-dev/mandate/internal/webhost"
)

func TestWebURL(t *testing.T) {
	for _, tc := range []struct{ did, url, err string }{
		{"did:web:example.com", "https://example.com/.well-known/did.json", ""},
		{"did:web:example.com%3A8443", "https://example.com:8443/.well-known/did.json", ""},
		{"did:web:example.com%3a8443:user:alice", "https://example.com:8443/user/alice/did.json", ""},
		{"did:web:erp.example.com:org:invoices", "https://erp.example.com/org/invoices/did.json", ""},
		{"did:web:127.0.0.1", "", `did: invalid DID: "did:web:127.0.0.1": host "127.0.0.1" is an IP address; did:web needs a domain name`},
		{"did:web:Example.com", "", `did: invalid DID: "did:web:Example.com": host "Example.com" is not a lowercase DNS name`},
		{"did:web:example.com%3A0", "", `did: invalid DID: "did:web:example.com%3A0": port "0" is not 1..65535`},
		{"did:web:example.com%3A70000", "", `did: invalid DID: "did:web:example.com%3A70000": port "70000" is not 1..65535`},
		{"did:web:example.com%2Fevil", "", `did: invalid DID: "did:web:example.com%2Fevil": host "example.com%2Fevil": only the port's colon may be percent-encoded (%3A)`},
		{"did:web:example.com::a", "", `did: invalid DID: "did:web:example.com::a": path segment "" is not 1..255 unreserved characters (A-Z a-z 0-9 - . _ ~)`},
		{"did:web:example.com:..", "", `did: invalid DID: "did:web:example.com:..": path segment ".." is not 1..255 unreserved characters (A-Z a-z 0-9 - . _ ~)`},
		{"did:web:example.com/x", "", `did: invalid DID: "did:web:example.com/x" is a DID URL, not a DID`},
		{"did:key:z6Mk", "", `did: invalid DID: "did:key:z6Mk" is not a did:web DID`},
	} {
		got, err := did.WebURL(tc.did)
		if tc.err != "" {
			if err == nil || err.Error() != tc.err || !errors.Is(err, did.ErrInvalidDID) {
				t.Errorf("WebURL(%s) error = %v, want %s", tc.did, err, tc.err)
			}
			continue
		}
		if err != nil || got != tc.url {
			t.Errorf("WebURL(%s) = %q, %v; want %q", tc.did, got, err, tc.url)
		}
	}
	if id, err := did.WebDID("example.com:8443", "org/legal"); err != nil || id != "did:web:example.com%3A8443:org:legal" {
		t.Errorf("WebDID = %q, %v", id, err)
	}
}

// webWorld is a loopback did:web host with one published organisation.
type webWorld struct {
	host *webhost.Host
	org  string
	key  *testkeys.Key
}

func newWebWorld(t *testing.T) *webWorld {
	t.Helper()
	h, err := webhost.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close() })
	w := &webWorld{host: h, org: h.DID("erp.example.com", ""), key: testkeys.New("erp")}
	doc, err := did.WebDocument(w.org, w.key.PublicKey())
	if err != nil {
		t.Fatal(err)
	}
	if err := h.Publish(doc); err != nil {
		t.Fatal(err)
	}
	return w
}

func (w *webWorld) resolver(o did.WebOptions) *did.WebResolver {
	o.Client = w.host.Client()
	return did.NewWebResolver(o)
}

func TestWebResolve(t *testing.T) {
	w := newWebWorld(t)
	r := w.resolver(did.WebOptions{})
	pub, err := did.PublicKey(context.Background(), r, w.org+"#key-1", "assertionMethod")
	if err != nil {
		t.Fatal(err)
	}
	if !pub.Equal(w.key.PublicKey()) {
		t.Fatal("resolved key differs from the published one")
	}
	// Without the loopback client the host is unknown to the system roots: no trust, no document.
	if _, err := did.NewWebResolver(did.WebOptions{Timeout: time.Second}).Resolve(context.Background(), "did:web:erp.example.invalid"); !errors.Is(err, did.ErrResolution) {
		t.Errorf("unknown host: %v, want ErrResolution", err)
	}
}

func TestWebCache(t *testing.T) {
	w := newWebWorld(t)
	now := time.Unix(1_700_000_000, 0)
	r := w.resolver(did.WebOptions{MaxAge: time.Minute, CacheSize: 1, Now: func() time.Time { return now }})
	ctx := context.Background()
	for range 3 {
		if _, err := r.Resolve(ctx, w.org); err != nil {
			t.Fatal(err)
		}
	}
	if n := w.host.Hits(w.org); n != 1 {
		t.Fatalf("3 resolutions within max age fetched %d times, want 1", n)
	}
	now = now.Add(time.Minute)
	if _, err := r.Resolve(ctx, w.org); err != nil {
		t.Fatal(err)
	}
	if n := w.host.Hits(w.org); n != 2 {
		t.Fatalf("after max age: %d fetches, want 2", n)
	}
	// A second DID evicts the first (size 1).
	other := w.host.DID("legal.example.com", "")
	doc, _ := did.WebDocument(other, testkeys.New("legal").PublicKey())
	if err := w.host.Publish(doc); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Resolve(ctx, other); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Resolve(ctx, w.org); err != nil {
		t.Fatal(err)
	}
	if n := w.host.Hits(w.org); n != 3 {
		t.Fatalf("evicted entry: %d fetches, want 3", n)
	}
	// A document that stops being served fails once the cache is stale: no stale answers.
	w.host.Remove(w.org)
	now = now.Add(time.Minute)
	if _, err := r.Resolve(ctx, w.org); !errors.Is(err, did.ErrResolution) {
		t.Fatalf("removed document: %v, want ErrResolution", err)
	}
}

func TestWebResolveRefusals(t *testing.T) {
	w := newWebWorld(t)
	key := testkeys.New("erp").PublicKey()
	x := base64.RawURLEncoding.EncodeToString(key)
	doc := func(id, vm string) string {
		return `{"@context":["https://www.w3.org/ns/did/v1"],"id":"` + id + `","verificationMethod":[` + vm + `],"assertionMethod":["` + id + `#k"]}`
	}
	mb := func(id string) string {
		d, _ := did.WebDocument(id, key)
		return d.VerificationMethod[0].PublicKeyMultibase
	}
	other := w.host.DID("other.example.com", "")
	for _, tc := range []struct {
		name, path string
		handler    http.HandlerFunc
		body       func(id string) string
		want       string
	}{
		{name: "id mismatch", path: "a", body: func(id string) string {
			return doc(other, `{"id":"`+other+`#k","type":"Ed25519VerificationKey2020","controller":"`+other+`","publicKeyMultibase":"`+mb(other)+`"}`)
		}, want: "document id \"" + other + "\" is not the DID \"$ID\""},
		{name: "p-256 jwk", path: "b", body: func(id string) string {
			return doc(id, `{"id":"`+id+`#k","type":"JsonWebKey2020","controller":"`+id+`","publicKeyJwk":{"kty":"EC","crv":"P-256","x":"`+x+`"}}`)
		}, want: `verification method "$ID#k": did: unsupported public key type: JWK kty "EC" crv "P-256": only OKP Ed25519`},
		{name: "secp256k1 type", path: "c", body: func(id string) string {
			return doc(id, `{"id":"`+id+`#k","type":"EcdsaSecp256k1VerificationKey2019","controller":"`+id+`","publicKeyMultibase":"z1"}`)
		}, want: `verification method "$ID#k": did: unsupported public key type: verification method type "EcdsaSecp256k1VerificationKey2019": only Ed25519VerificationKey2020 or JsonWebKey2020`},
		{name: "private jwk", path: "d", body: func(id string) string {
			return doc(id, `{"id":"`+id+`#k","type":"JsonWebKey2020","controller":"`+id+`","publicKeyJwk":{"kty":"OKP","crv":"Ed25519","x":"`+x+`","d":"`+x+`"}}`)
		}, want: `document: json: unknown field "d"`},
		{name: "foreign controller", path: "e", body: func(id string) string {
			return doc(id, `{"id":"`+id+`#k","type":"Ed25519VerificationKey2020","controller":"`+other+`","publicKeyMultibase":"`+mb(id)+`"}`)
		}, want: `verification method "$ID#k" is controlled by "` + other + `", not by the DID`},
		{name: "unknown member", path: "f", body: func(id string) string {
			return `{"@context":"https://www.w3.org/ns/did/v1","id":"` + id + `","verificationMethod":[],"keyAgreement":[]}`
		}, want: `document: json: unknown field "keyAgreement"`},
		{name: "dangling reference", path: "g", body: func(id string) string {
			return `{"@context":"https://www.w3.org/ns/did/v1","id":"` + id + `","verificationMethod":[{"id":"` + id + `#x","type":"Ed25519VerificationKey2020","controller":"` + id + `","publicKeyMultibase":"` + mb(id) + `"}],"assertionMethod":["` + id + `#k"]}`
		}, want: `assertionMethod names "$ID#k", which is not a verification method of the document`},
		{name: "too large", path: "h", body: func(id string) string { return `{"id":"` + strings.Repeat("a", 70<<10) + `"}` },
			want: `GET https://erp.example.com:$PORT/h/did.json: document is larger than 65536 bytes`},
		{name: "not found", path: "i", handler: http.NotFound, want: `GET https://erp.example.com:$PORT/i/did.json: HTTP 404`},
		{name: "redirect elsewhere", path: "j", handler: func(rw http.ResponseWriter, r *http.Request) {
			http.Redirect(rw, r, "https://evil.example.com/did.json", http.StatusFound)
		}, want: `GET https://erp.example.com:$PORT/j/did.json: redirect to "https://evil.example.com" leaves "erp.example.com:$PORT"`},
		{name: "slow", path: "k", handler: func(rw http.ResponseWriter, r *http.Request) {
			select {
			case <-r.Context().Done():
			case <-time.After(5 * time.Second):
			}
		}, want: `GET https://erp.example.com:$PORT/k/did.json: context deadline exceeded (Client.Timeout exceeded while awaiting headers)`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			id := w.host.DID("erp.example.com", tc.path)
			h := tc.handler
			if h == nil {
				body := tc.body(id)
				h = func(rw http.ResponseWriter, _ *http.Request) { _, _ = rw.Write([]byte(body)) }
			}
			if err := w.host.Handle(id, h); err != nil {
				t.Fatal(err)
			}
			r := w.resolver(did.WebOptions{Timeout: 300 * time.Millisecond})
			_, err := r.Resolve(context.Background(), id)
			port := strings.TrimPrefix(strings.Split(strings.TrimPrefix(id, "did:web:erp.example.com"), ":")[0], "%3A")
			want := "did: resolution failed: \"" + id + "\": " + strings.NewReplacer("$ID", id, "$PORT", port).Replace(tc.want)
			if err == nil || err.Error() != want || !errors.Is(err, did.ErrResolution) {
				t.Fatalf("error = %v\nwant    %s", err, want)
			}
		})
	}
}

func TestWebSameHostRedirectAndJWK(t *testing.T) {
	w := newWebWorld(t)
	key := testkeys.New("jwk")
	id := w.host.DID("erp.example.com", "jwk")
	doc := map[string]any{
		"@context": []string{"https://www.w3.org/ns/did/v1", "https://w3id.org/security/suites/jws-2020/v1"},
		"id":       id,
		"verificationMethod": []any{map[string]any{"id": id + "#k", "type": "JsonWebKey2020", "controller": id,
			"publicKeyJwk": map[string]string{"kty": "OKP", "crv": "Ed25519", "x": base64.RawURLEncoding.EncodeToString(key.PublicKey())}}},
		"assertionMethod": []string{id + "#k"},
		"service":         []any{map[string]any{"id": id + "#erp", "type": "LinkedDomains", "serviceEndpoint": "https://erp.example.com"}},
	}
	body, _ := json.Marshal(doc)
	moved := w.host.DID("erp.example.com", "moved")
	_ = w.host.PublishRaw(id, body)
	_ = w.host.Handle(moved, http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		http.Redirect(rw, r, "/jwk/did.json", http.StatusMovedPermanently)
	}))
	r := w.resolver(did.WebOptions{})
	pub, err := did.PublicKey(context.Background(), r, id+"#k", "assertionMethod")
	if err != nil || !pub.Equal(key.PublicKey()) {
		t.Fatalf("JsonWebKey2020: %v", err)
	}
	// moved's document is id's: its id is not moved, so it is refused even though the redirect was allowed.
	if _, err := r.Resolve(context.Background(), moved); err == nil || !strings.Contains(err.Error(), "is not the DID") {
		t.Fatalf("same-host redirect to another DID's document: %v", err)
	}
}

func TestMethods(t *testing.T) {
	w := newWebWorld(t)
	m, err := did.NewMethods(map[string]did.Resolver{"key": did.KeyResolver{}, "web": w.resolver(did.WebOptions{})})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := m.Resolve(ctx, alice); err != nil {
		t.Errorf("did:key: %v", err)
	}
	if _, err := m.Resolve(ctx, w.org); err != nil {
		t.Errorf("did:web: %v", err)
	}
	_, err = m.Resolve(ctx, "did:ion:abc")
	if want := `did: method not supported: "did:ion:abc": accepted methods are [key web]`; err == nil || err.Error() != want || !errors.Is(err, did.ErrMethodNotSupported) {
		t.Errorf("did:ion: %v, want %s", err, want)
	}
	only := did.Only(m, []string{"key"})
	if _, err := only.Resolve(ctx, w.org); !errors.Is(err, did.ErrMethodNotSupported) {
		t.Errorf("Only(key) resolved did:web: %v", err)
	}
	if w.host.Hits(w.org) != 1 {
		t.Errorf("Only(key) fetched a did:web document")
	}
	if _, err := did.NewMethods(nil); err == nil {
		t.Error("NewMethods(nil) accepted")
	}
}
