package mcpgate_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mandate-dev/mandate/presentation/mcpgate"
)

// Whoever reaches the HTTP transport acts with the agent's powers: without
// the bearer token nothing reaches the MCP server (found by a review: any
// local process could open its own session on the loopback port).
func TestHandlerNeedsTheBearerToken(t *testing.T) {
	f := setUp(t)
	for token, want := range map[string]string{
		"":                        "mcpgate: the bearer token must be 32 to 512 bytes",
		strings.Repeat("a", 31):   "mcpgate: the bearer token must be 32 to 512 bytes",
		strings.Repeat("a", 513):  "mcpgate: the bearer token must be 32 to 512 bytes",
		strings.Repeat("a ", 20):  "mcpgate: the bearer token must be printable ASCII without spaces",
		strings.Repeat("é", 20):   "mcpgate: the bearer token must be printable ASCII without spaces",
		strings.Repeat("a\n", 20): "mcpgate: the bearer token must be printable ASCII without spaces",
	} {
		if _, err := f.gw.Handler(token); err == nil || err.Error() != want {
			t.Errorf("token %.10q: %v, want %s", token, err, want)
		}
	}
	token := mcpgate.NewToken()
	if len(token) != 43 || token == mcpgate.NewToken() {
		t.Fatalf("NewToken: %q", token)
	}
	h, err := f.gw.Handler(token)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	defer srv.Close()
	initialize := `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"x","version":"1"}}}`
	for name, auth := range map[string][]string{
		"none":            nil,
		"wrong token":     {"Bearer " + mcpgate.NewToken()},
		"a prefix":        {"Bearer " + token[:42]},
		"another scheme":  {"Basic " + token},
		"token alone":     {token},
		"two fields":      {"Bearer " + token, "Bearer " + token},
		"token and extra": {"Bearer " + token + "x"},
	} {
		req, _ := http.NewRequest(http.MethodPost, srv.URL+"/mcp", strings.NewReader(initialize))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept", "application/json, text/event-stream")
		req.Header["Authorization"] = auth
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized || resp.Header.Get("WWW-Authenticate") != `Bearer realm="mandate-mcp-gateway"` {
			t.Errorf("%s: %d %q", name, resp.StatusCode, resp.Header.Get("WWW-Authenticate"))
		}
	}
	// An MCP client without the token cannot connect; with it, it calls.
	ctx := context.Background()
	if s, err := mcp.NewClient(&mcp.Implementation{Name: "someone-else", Version: "v1"}, nil).
		Connect(ctx, &mcp.StreamableClientTransport{Endpoint: srv.URL + "/mcp"}, nil); err == nil {
		s.Close()
		t.Fatal("connected without the token")
	}
	client := &http.Client{Transport: &mcpgate.BearerTransport{Token: token}}
	s, err := mcp.NewClient(&mcp.Implementation{Name: "agent", Version: "v1"}, nil).
		Connect(ctx, &mcp.StreamableClientTransport{Endpoint: srv.URL + "/mcp", HTTPClient: client}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	res, err := s.CallTool(ctx, &mcp.CallToolParams{Name: "read_doc", Arguments: map[string]any{"doc": "public"}})
	if err != nil || res.IsError || text(res) != "read_doc done" {
		t.Fatalf("with the token: %v %v", res, err)
	}
	if got := f.upstream.received(); len(got) != 1 {
		t.Fatalf("the upstream received %q", got)
	}
}
