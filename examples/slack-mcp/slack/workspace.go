package slack

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// Message is one message of a channel.
type Message struct {
	User string `json:"user"`
	Text string `json:"text"`
}

// Call is one tool call the Slack server received: its name and its
// arguments as they arrived.
type Call struct {
	Tool      string
	Arguments string
}

// Workspace is an in-memory Slack workspace ("acme") served as an MCP
// server; it records every call it receives. Safe for concurrent use.
type Workspace struct {
	mu       sync.Mutex
	channels map[string][]Message
	calls    []Call
}

// NewWorkspace returns acme's workspace: #general, #random and #leadership.
func NewWorkspace() *Workspace {
	return &Workspace{channels: map[string][]Message{
		"general": {
			{User: "bob", Text: "The release is on Thursday."},
			{User: "carol", Text: "I'll write the notes."},
		},
		"random":     {{User: "dave", Text: "Lunch at noon?"}},
		"leadership": {{User: "erin", Text: "Reorg plans, do not share."}},
	}}
}

// Calls returns the calls received so far, in order.
func (w *Workspace) Calls() []Call {
	w.mu.Lock()
	defer w.mu.Unlock()
	return slices.Clone(w.calls)
}

// Received reports whether a call to tool ever arrived.
func (w *Workspace) Received(tool string) bool {
	return slices.ContainsFunc(w.Calls(), func(c Call) bool { return c.Tool == tool })
}

// Messages returns a channel's messages.
func (w *Workspace) Messages(channel string) []Message {
	w.mu.Lock()
	defer w.mu.Unlock()
	return slices.Clone(w.channels[channel])
}

type (
	noArgs      struct{}
	channelsOut struct {
		Channels []string `json:"channels"`
	}
	readArgs struct {
		Channel string `json:"channel" jsonschema:"the channel's name, without #"`
	}
	readOut struct {
		Messages []Message `json:"messages"`
	}
	postArgs struct {
		Channel string `json:"channel" jsonschema:"the channel's name, without #"`
		Text    string `json:"text" jsonschema:"the message"`
	}
	postOut struct {
		Posted bool `json:"posted"`
	}
)

// Server returns the workspace's MCP server: list_channels, read_channel
// and post_message. Its arguments are validated against their schemas, so
// an argument it does not know (a justification left in) is refused.
func (w *Workspace) Server() *mcp.Server {
	s := mcp.NewServer(&mcp.Implementation{Name: "slack-acme", Version: "v1"}, nil)
	mcp.AddTool(s, &mcp.Tool{Name: "list_channels", Description: "List the workspace's channels"},
		func(_ context.Context, r *mcp.CallToolRequest, _ noArgs) (*mcp.CallToolResult, channelsOut, error) {
			w.record(r)
			w.mu.Lock()
			defer w.mu.Unlock()
			out := channelsOut{Channels: slices.Sorted(maps.Keys(w.channels))}
			return text(strings.Join(out.Channels, "\n")), out, nil
		})
	mcp.AddTool(s, &mcp.Tool{Name: "read_channel", Description: "Read a channel's messages"},
		func(_ context.Context, r *mcp.CallToolRequest, in readArgs) (*mcp.CallToolResult, readOut, error) {
			w.record(r)
			msgs, ok := w.lookup(in.Channel)
			if !ok {
				return nil, readOut{}, fmt.Errorf("slack: no channel %q", in.Channel)
			}
			var b strings.Builder
			for _, m := range msgs {
				fmt.Fprintf(&b, "%s: %s\n", m.User, m.Text)
			}
			return text(b.String()), readOut{Messages: msgs}, nil
		})
	mcp.AddTool(s, &mcp.Tool{Name: "post_message", Description: "Post a message into a channel as the user"},
		func(_ context.Context, r *mcp.CallToolRequest, in postArgs) (*mcp.CallToolResult, postOut, error) {
			w.record(r)
			w.mu.Lock()
			defer w.mu.Unlock()
			if _, ok := w.channels[in.Channel]; !ok {
				return nil, postOut{}, fmt.Errorf("slack: no channel %q", in.Channel)
			}
			w.channels[in.Channel] = append(w.channels[in.Channel], Message{User: "alice", Text: in.Text})
			return text("posted"), postOut{Posted: true}, nil
		})
	return s
}

func (w *Workspace) record(r *mcp.CallToolRequest) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.calls = append(w.calls, Call{Tool: r.Params.Name, Arguments: string(r.Params.Arguments)})
}

func (w *Workspace) lookup(channel string) ([]Message, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	m, ok := w.channels[channel]
	return slices.Clone(m), ok
}

func text(s string) *mcp.CallToolResult {
	return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: s}}}
}
