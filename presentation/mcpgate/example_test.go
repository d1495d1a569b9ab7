package mcpgate_test

import (
	"context"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mandate-dev/mandate/credentials"
	"github.com/mandate-dev/mandate/did"
	"github.com/mandate-dev/mandate/presentation"
	"github.com/mandate-dev/mandate/presentation/gatekeeper"
	"github.com/mandate-dev/mandate/presentation/mcpgate"
)

// The gateway in front of an MCP server, served over streamable HTTP; the
// agent's client reaches the upstream only through it.
func Example() {
	ctx := context.Background()
	up, verifier, wallet, closeAll := exampleWorld(ctx)
	defer closeAll()

	read, err := mcpgate.NewTool("docs:read", "docs:acme/{doc}")
	if err != nil {
		log.Fatal(err)
	}
	gw, err := mcpgate.New(ctx, mcpgate.Options{
		Upstream: up, // an *mcp.ClientSession with the MCP server (mcpgate.Connect)
		Tools:    mcpgate.Tools{"read_doc": read},
		Wallet:   wallet,                     // the agent's wallet: wallet/holder.Client over its socket
		Decider:  gatekeeper.Local(verifier), // or gatekeeper.Remote over gRPC
	})
	if err != nil {
		log.Fatal(err)
	}
	token := mcpgate.NewToken() // the agent's MCP client sends it: Authorization: Bearer <token>
	h, err := gw.Handler(token) // or gw.Server().Run(ctx, &mcp.StdioTransport{})
	if err != nil {
		log.Fatal(err)
	}
	srv := httptest.NewServer(h)
	defer srv.Close()

	client := &http.Client{Transport: &mcpgate.BearerTransport{Token: token}}
	agent, err := mcp.NewClient(&mcp.Implementation{Name: "agent", Version: "v1"}, nil).
		Connect(ctx, &mcp.StreamableClientTransport{Endpoint: srv.URL + "/mcp", HTTPClient: client}, nil)
	if err != nil {
		log.Fatal(err)
	}
	defer agent.Close()
	for _, doc := range []string{"public", "private"} {
		res, err := agent.CallTool(ctx, &mcp.CallToolParams{Name: "read_doc", Arguments: map[string]any{"doc": doc, "justification": "tidy the headings"}})
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(doc, res.IsError, text(res))
	}
	// Output:
	// public false read_doc done
	// private true mandate: DENY NOT_GRANTED: the agent's wallet holds no chain that covers or forbids docs:read on docs:acme/private (audit 2)
}

// exampleWorld is an upstream MCP server in memory, a verifier that trusts
// alice, and the agent's wallet holding alice's grant.
func exampleWorld(ctx context.Context) (*mcp.ClientSession, *presentation.Verifier, mcpgate.Wallet, func()) {
	var closers []func()
	closeAll := func() {
		for i := len(closers) - 1; i >= 0; i-- {
			closers[i]()
		}
	}
	upT, gwT := mcp.NewInMemoryTransports()
	upSession, err := (&upstream{}).server().Connect(ctx, upT, nil)
	if err != nil {
		log.Fatal(err)
	}
	closers = append(closers, func() { upSession.Close() })
	up, err := mcp.NewClient(&mcp.Implementation{Name: "gateway", Version: "v1"}, nil).Connect(ctx, gwT, nil)
	if err != nil {
		log.Fatal(err)
	}
	closers = append(closers, func() { up.Close() })
	db, err := openMemory()
	if err != nil {
		log.Fatal(err)
	}
	closers = append(closers, func() { db.Close() })
	v, err := presentation.New(presentation.Config{
		Audience: "https://docs.example", Resolver: did.KeyResolver{}, TrustedRoots: []string{alice.DID()},
		Store: db, Signer: verifierKey,
	})
	if err != nil {
		log.Fatal(err)
	}
	root, err := credentials.Issue(alice, credentials.Template{
		Subject: agent.DID(), Purpose: "keep the public documents tidy",
		Grants: []credentials.Grant{{ID: "urn:mandate:grant:read", Action: "docs:read", Resource: "docs:acme/public"}},
	}, credentials.IssueOptions{})
	if err != nil {
		log.Fatal(err)
	}
	return up, v, gatekeeper.Holder{Signer: agent, Held: presentation.Held{LDP: [][]*credentials.Credential{{root}}}}, closeAll
}
