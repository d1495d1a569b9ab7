package mcpgate

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
)

// Bounds of the bearer token that guards the gateway's HTTP transport.
const (
	// MinTokenBytes is 32: a NewToken is 43 characters (256 random bits).
	MinTokenBytes = 32
	MaxTokenBytes = 512
)

// NewToken returns a fresh bearer token: 32 random bytes, unpadded base64url.
func NewToken() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // never fails (Go 1.24 on): it crashes the program instead
	return base64.RawURLEncoding.EncodeToString(b)
}

// CheckToken refuses a bearer token that is too short or too long, or not
// printable ASCII without spaces (it must fit an Authorization field as it
// is).
func CheckToken(t string) error {
	if len(t) < MinTokenBytes || len(t) > MaxTokenBytes {
		return fmt.Errorf("mcpgate: the bearer token must be %d to %d bytes", MinTokenBytes, MaxTokenBytes)
	}
	for i := 0; i < len(t); i++ {
		if t[i] <= ' ' || t[i] > '~' {
			return errors.New("mcpgate: the bearer token must be printable ASCII without spaces")
		}
	}
	return nil
}

// requireBearer answers 401 to a request without the token, before any MCP
// processing. The comparison takes the same time wherever a guess differs.
func requireBearer(token string, next http.Handler, log *slog.Logger) http.Handler {
	want := []byte(token)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got, ok := bearer(r.Header.Values("Authorization"))
		if !ok || subtle.ConstantTimeCompare([]byte(got), want) != 1 {
			log.Warn("mcp request without the gateway's bearer token refused", "remote", r.RemoteAddr)
			w.Header().Set("WWW-Authenticate", `Bearer realm="mandate-mcp-gateway"`)
			http.Error(w, "mcpgate: this gateway needs its bearer token (Authorization: Bearer …)", http.StatusUnauthorized)
			return
		}
		r.Header.Del("Authorization") // the token goes no further
		next.ServeHTTP(w, r)
	})
}

// bearer is the token of the one Authorization field of scheme Bearer.
func bearer(values []string) (string, bool) {
	if len(values) != 1 {
		return "", false
	}
	scheme, token, ok := strings.Cut(values[0], " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || len(token) > MaxTokenBytes {
		return "", false
	}
	return strings.TrimLeft(token, " "), true
}

// BearerTransport is an http.RoundTripper that adds the gateway's bearer
// token to every request: the agent's side of Handler, for an MCP client
// in Go (mcp.StreamableClientTransport's HTTPClient).
type BearerTransport struct {
	Token string
	Base  http.RoundTripper // nil: http.DefaultTransport
}

// RoundTrip implements http.RoundTripper on a clone of r.
func (t *BearerTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	base := t.Base
	if base == nil {
		base = http.DefaultTransport
	}
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "Bearer "+t.Token)
	return base.RoundTrip(r)
}
