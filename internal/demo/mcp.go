package demo

import (
	"context"

	"github.com/mandate-dev/mandate/examples/slack-mcp/slack"
)

// mcpGateway plays the MCP story of examples/slack-mcp: Alice's assistant behind Mandate's MCP gateway
// lists its tools, reads #general, is refused #leadership, and is blocked FORBIDDEN when it posts anyway;
// the Slack server never receives the post (its own verifier and store; the mail verifier's audit log is
// not touched). Its steps are named "mcp: …".
func mcpGateway(ctx context.Context) ([]Step, error) {
	steps, err := slack.Run(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]Step, 0, len(steps))
	for _, c := range steps {
		s := Step{Name: "mcp: " + c.Name, Agent: "assistant", Action: c.Action, Resource: c.Resource,
			Decision: c.Got, Reasons: []string{}, Expected: c.Expected, Detail: c.Detail}
		if c.Reason != "" {
			s.Decision, s.Reasons = c.Outcome, []string{c.Reason}
		}
		out = append(out, s)
	}
	return out, nil
}
