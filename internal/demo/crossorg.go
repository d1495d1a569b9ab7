package demo

import (
	"context"

	"github.com/mandate-dev/mandate/examples/cross-org/crossorg"
)

// crossOrg plays the cross-organisation story of examples/cross-org: Acme's did:web root, witnessed by its
// legal department, delegated by a partner's agent to its reconciliation bot, before Acme's own verifier
// with a trust policy (its own store and did:web host on loopback; the mail verifier's audit log is not
// touched). Its steps are named "cross-org: …".
func crossOrg(ctx context.Context) ([]Step, error) {
	steps, err := crossorg.Run(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]Step, 0, len(steps))
	for _, c := range steps {
		s := Step{Name: "cross-org: " + c.Name, Agent: "reconciliation bot", Action: c.Action, Resource: c.Resource,
			Decision: c.Outcome, Reasons: []string{}, Expected: c.Expected, Detail: c.Detail}
		if c.Reason != "" {
			s.Reasons = []string{c.Reason}
		}
		out = append(out, s)
	}
	return out, nil
}
