// Command slack-mcp plays the story of the MCP gateway (package slack, which `mandate demo` plays too):
// Alice's assistant, wired to a Slack MCP server through Mandate's MCP gateway, reads #general, is refused
// #leadership, does not see post_message, calls it anyway and is blocked FORBIDDEN; the Slack server
// never receives the post.
//
//	go run ./examples/slack-mcp
//
// prints one line per step and exits 1 if any step's outcome is not the expected one.
//
//	go run ./examples/slack-mcp serve [--record FILE]
//
// serves the in-memory Slack workspace as an MCP server on stdin and stdout (the upstream of
// slack/gateway.yaml); --record appends every call it receives to FILE, one JSON line each.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"text/tabwriter"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mandate-dev/mandate/examples/slack-mcp/slack"
)

// timeout bounds the whole story: everything is on loopback, and a run takes well under a second.
const timeout = 30 * time.Second

func main() {
	if len(os.Args) > 1 && os.Args[1] == "serve" {
		if err := serve(context.Background(), os.Args[2:]); err != nil {
			fmt.Fprintln(os.Stderr, "slack-mcp serve:", err)
			os.Exit(2)
		}
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	steps, err := slack.Run(ctx)
	if err != nil {
		fmt.Fprintln(os.Stderr, "slack-mcp:", err)
		os.Exit(2)
	}
	if !report(os.Stdout, steps) {
		os.Exit(1)
	}
}

// serve runs the workspace's MCP server on stdio until the client goes away.
func serve(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	record := fs.String("record", "", "append every call received to this file, one JSON line each")
	if err := fs.Parse(args); err != nil {
		return err
	}
	ws := slack.NewWorkspace()
	s := ws.Server()
	if *record != "" {
		f, err := os.OpenFile(*record, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
		if err != nil {
			return err
		}
		defer f.Close()
		s.AddReceivingMiddleware(recordCalls(f))
	}
	err := s.Run(ctx, &mcp.StdioTransport{})
	if errors.Is(err, io.EOF) || errors.Is(err, mcp.ErrConnectionClosed) {
		return nil
	}
	return err
}

// recordCalls writes each tools/call as {"tool":...,"arguments":...} before it is handled.
func recordCalls(w io.Writer) mcp.Middleware {
	enc := json.NewEncoder(w)
	return func(next mcp.MethodHandler) mcp.MethodHandler {
		return func(ctx context.Context, method string, req mcp.Request) (mcp.Result, error) {
			if r, ok := req.(*mcp.CallToolRequest); ok && method == "tools/call" {
				if err := enc.Encode(map[string]any{"tool": r.Params.Name, "arguments": r.Params.Arguments}); err != nil {
					return nil, err
				}
			}
			return next(ctx, method, req)
		}
	}
}

// report prints the steps as a table and says whether every one was as expected.
func report(out io.Writer, steps []slack.Step) bool {
	tw := tabwriter.NewWriter(out, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "#\tstep\ttool\trequest\texpected\tgot\t")
	good := 0
	for i, s := range steps {
		mark := "ok"
		if s.OK() {
			good++
		} else {
			mark = "UNEXPECTED"
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\n", i+1, s.Name, s.Tool, s.Request(), s.Expected, s.Got, mark)
	}
	tw.Flush()
	for i, s := range steps {
		if s.Detail != "" {
			fmt.Fprintf(out, "%d: %s\n", i+1, s.Detail)
		}
	}
	fmt.Fprintf(out, "%d of %d steps as expected\n", good, len(steps))
	return good == len(steps) && len(steps) > 0
}
