package mcpgate

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os/exec"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// Connect starts (or reaches) the upstream MCP server and opens a session
// with it: a command speaks MCP on its stdin and stdout (its stderr goes to
// stderr, nil: discarded), a URL is MCP's streamable HTTP. Closing the
// session ends the command.
func Connect(ctx context.Context, u Upstream, stderr io.Writer) (*mcp.ClientSession, error) {
	var t mcp.Transport
	switch {
	case len(u.Command) > 0 && u.URL != "":
		return nil, errors.New("mcpgate: upstream: command and url conflict")
	case len(u.Command) > 0:
		cmd := exec.Command(u.Command[0], u.Command[1:]...)
		cmd.Stderr = stderr
		t = &mcp.CommandTransport{Command: cmd}
	case u.URL != "":
		t = &mcp.StreamableClientTransport{Endpoint: u.URL}
	default:
		return nil, errors.New("mcpgate: upstream: a command or a url is required")
	}
	s, err := mcp.NewClient(&mcp.Implementation{Name: "mandate-mcp-gateway", Version: "v1"}, nil).Connect(ctx, t, nil)
	if err != nil {
		return nil, fmt.Errorf("mcpgate: upstream: %w", err)
	}
	return s, nil
}
