package mcpgate_test

import (
	"context"
	"crypto/ed25519"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mandate-dev/mandate/credentials"
	"github.com/mandate-dev/mandate/did"
	"github.com/mandate-dev/mandate/internal/testkeys"
	"github.com/mandate-dev/mandate/presentation"
	"github.com/mandate-dev/mandate/presentation/gatekeeper"
	"github.com/mandate-dev/mandate/presentation/mcpgate"
	"github.com/mandate-dev/mandate/wallet"
	"github.com/mandate-dev/mandate/wallet/holder"
)

// The benchmark's own keys, verifier, upstream and wallet: not the tests'.
var (
	benchPrincipal = testkeys.New("mcpgate bench principal")
	benchAgent     = testkeys.New("mcpgate bench agent")
)

const benchAudience = "https://docs.example"

var benchRequest = presentation.Request{
	Action: "docs:read", Resource: "docs:acme/public",
	Context: map[string]string{mcpgate.ToolContextKey: "read_doc"},
}

// benchUpstream is an MCP server offering read_doc and delete_doc, which
// answer "<name> done".
func benchUpstream() *mcp.Server {
	s := mcp.NewServer(&mcp.Implementation{Name: "docs", Version: "v1"}, nil)
	args := map[string]any{"type": "object", "properties": map[string]any{"doc": map[string]any{"type": "string"}}, "required": []any{"doc"}}
	for _, name := range []string{"read_doc", "delete_doc"} {
		s.AddTool(&mcp.Tool{Name: name, InputSchema: args}, func(_ context.Context, r *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
			return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: r.Params.Name + " done"}}}, nil
		})
	}
	return s
}

// benchConnect connects a client to s over in-memory transports.
func benchConnect(b *testing.B, s *mcp.Server, name string) *mcp.ClientSession {
	b.Helper()
	ctx := context.Background()
	st, ct := mcp.NewInMemoryTransports()
	ss, err := s.Connect(ctx, st, nil)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { ss.Close() })
	cs, err := mcp.NewClient(&mcp.Implementation{Name: name, Version: "v1"}, nil).Connect(ctx, ct, nil)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { cs.Close() })
	return cs
}

func benchRoot(b *testing.B, subject string) *credentials.Credential {
	b.Helper()
	root, err := credentials.Issue(benchPrincipal, credentials.Template{
		Subject: subject, Purpose: "read the public documents",
		Grants: []credentials.Grant{{ID: "urn:mandate:grant:read", Action: "docs:read", Resource: "docs:acme/*"}},
	}, credentials.IssueOptions{})
	if err != nil {
		b.Fatal(err)
	}
	return root
}

// benchWallet is a wallet in b.TempDir() holding the read grant for its own
// DID, served by wallet/holder on a Unix socket, and a client of it.
func benchWallet(b *testing.B) *holder.Client {
	b.Helper()
	dir := b.TempDir()
	w, err := wallet.Create(filepath.Join(dir, "w"), []byte("correct horse battery staple"), wallet.WithKDFParams(1, 64, 1))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { w.Close() })
	enc, err := credentials.EncodeChain([]*credentials.Credential{benchRoot(b, w.DID())})
	if err != nil {
		b.Fatal(err)
	}
	if err := w.PutChain("docs", enc); err != nil {
		b.Fatal(err)
	}
	socket := filepath.Join(dir, "wallet.sock")
	lis, err := holder.Listen(socket)
	if err != nil {
		b.Fatal(err)
	}
	srv := holder.NewGRPCServer(w, nil, nil)
	go srv.Serve(lis)
	b.Cleanup(srv.Stop)
	c, err := holder.Dial(socket)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { c.Close() })
	return c
}

// BenchmarkGateway measures one tools/call through the MCP gateway against
// the floors of the same run. Every MCP hop (agent → gateway → upstream)
// is an in-memory transport unless the name says streamable-http.
//
//	floor/ed25519                      one ed25519.Verify of 64 bytes
//	floor/authorize                    Challenge + presentation.Present + Verifier.Authorize, in process
//	call/ungated                       read_doc straight to the upstream
//	call/allow/holder                  read_doc through the gateway, ALLOW, in-process Holder
//	call/allow/wallet-socket           the same, presenting through the wallet service's socket
//	call/allow/holder/streamable-http  the same as holder, agent → gateway over streamable HTTP on loopback
//	call/unmapped                      delete_doc: refused UNMAPPED and recorded, no presentation
func BenchmarkGateway(b *testing.B) {
	ctx := context.Background()
	db, err := openMemory()
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	v, err := presentation.New(presentation.Config{
		Audience: benchAudience, Resolver: did.KeyResolver{}, TrustedRoots: []string{benchPrincipal.DID()},
		Store: db, ChallengeTTL: presentation.MaxChallengeTTL, Signer: testkeys.New("mcpgate bench verifier"),
	})
	if err != nil {
		b.Fatal(err)
	}
	chain := []*credentials.Credential{benchRoot(b, benchAgent.DID())}
	inProcess := gatekeeper.Holder{Signer: benchAgent, Held: presentation.Held{LDP: [][]*credentials.Credential{chain}}}
	socket := benchWallet(b)
	up := benchConnect(b, benchUpstream(), "gateway")
	gateway := func(b *testing.B, w mcpgate.Wallet) *mcpgate.Gateway {
		gw, err := mcpgate.New(ctx, mcpgate.Options{
			Upstream: up, Tools: mcpgate.Tools{"read_doc": mustTool("docs:read", "docs:acme/{doc}")},
			Wallet: w, Decider: gatekeeper.Local(v),
		})
		if err != nil {
			b.Fatal(err)
		}
		return gw
	}

	b.Run("floor/ed25519", func(b *testing.B) {
		msg := make([]byte, 64)
		sig, err := benchAgent.Sign(msg)
		if err != nil {
			b.Fatal(err)
		}
		pub := benchAgent.PublicKey()
		b.ReportAllocs()
		for b.Loop() {
			if !ed25519.Verify(pub, msg, sig) {
				b.Fatal("signature does not verify")
			}
		}
	})
	b.Run("floor/authorize", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			ch, err := v.Challenge(ctx)
			if err != nil {
				b.Fatal(err)
			}
			vp, err := presentation.Present(benchAgent, chain, ch, benchRequest, time.Now())
			if err != nil {
				b.Fatal(err)
			}
			if d := v.Authorize(ctx, vp, benchRequest); !d.Allowed() {
				b.Fatalf("decision = %s %v: %s", d.Outcome, d.Reasons, d.Message)
			}
		}
	})
	b.Run("call/ungated", func(b *testing.B) {
		benchCall(b, up, "read_doc", false, "read_doc done")
	})
	b.Run("call/allow/holder", func(b *testing.B) {
		benchCall(b, benchConnect(b, gateway(b, inProcess).Server(), "agent"), "read_doc", false, "read_doc done")
	})
	b.Run("call/allow/wallet-socket", func(b *testing.B) {
		benchCall(b, benchConnect(b, gateway(b, socket).Server(), "agent"), "read_doc", false, "read_doc done")
	})
	b.Run("call/allow/holder/streamable-http", func(b *testing.B) {
		token := mcpgate.NewToken()
		h, err := gateway(b, inProcess).Handler(token)
		if err != nil {
			b.Fatal(err)
		}
		srv := httptest.NewServer(h)
		b.Cleanup(srv.Close)
		client := &http.Client{Transport: &mcpgate.BearerTransport{Token: token}}
		agent, err := mcp.NewClient(&mcp.Implementation{Name: "agent", Version: "v1"}, nil).
			Connect(ctx, &mcp.StreamableClientTransport{Endpoint: srv.URL, HTTPClient: client}, nil)
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { agent.Close() })
		benchCall(b, agent, "read_doc", false, "read_doc done")
	})
	b.Run("call/unmapped", func(b *testing.B) {
		benchCall(b, benchConnect(b, gateway(b, inProcess).Server(), "agent"), "delete_doc", true,
			`mandate: DENY UNMAPPED: tool "delete_doc" is not mapped to an action by the gateway's configuration (audit `)
	})
}

// benchCall times one tools/call of tool on doc "public" and checks every
// result's error flag and text (a prefix when refused: the audit id varies).
func benchCall(b *testing.B, s *mcp.ClientSession, tool string, refused bool, want string) {
	b.Helper()
	ctx := context.Background()
	params := &mcp.CallToolParams{Name: tool, Arguments: map[string]any{"doc": "public"}}
	b.ReportAllocs()
	for b.Loop() {
		res, err := s.CallTool(ctx, params)
		if err != nil {
			b.Fatal(err)
		}
		got := text(res)
		if res.IsError != refused || (refused && !strings.HasPrefix(got, want)) || (!refused && got != want) {
			b.Fatalf("%s: error %v, text %q, want %v %q", tool, res.IsError, got, refused, want)
		}
	}
}
