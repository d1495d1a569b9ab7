package main

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/mandate-dev/mandate/did"
	"github.com/mandate-dev/mandate/presentation/policy"
)

// loadPolicy reads and validates a trust policy file.
func loadPolicy(path string) (*policy.Policy, error) {
	b, err := readLimited(path, policy.MaxBytes)
	if err != nil {
		return nil, err
	}
	p, err := policy.Parse(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return p, nil
}

func newPolicyCmd(io *streams) *cobra.Command {
	cmd := &cobra.Command{Use: "policy", Short: "Verifier trust policies (docs/POLICY.md)"}
	check := &cobra.Command{
		Use:   "check FILE",
		Short: "Validate a trust policy file without starting a server; errors name the line",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			p, err := loadPolicy(args[0])
			if err != nil {
				return err
			}
			if _, _, err := buildCheckers(checkerSpecs(p)); err != nil {
				return fmt.Errorf("%s: intentCheckers: %w", args[0], err)
			}
			fmt.Fprintf(io.out, "%s: ok: %d roots, %d witness rules, formats %v, DID methods %v\n",
				args[0], len(p.Roots), len(p.Witness), p.Formats, p.DIDMethods)
			return nil
		},
	}
	cmd.AddCommand(check)
	return cmd
}

// checkerSpecs turns the policy's checkers into --intent-checker specs.
func checkerSpecs(p *policy.Policy) []string {
	out := make([]string, 0, len(p.Checkers))
	for _, c := range p.Checkers {
		s := c.Name
		if len(c.Config) > 0 {
			s += "=" + string(c.Config)
		}
		out = append(out, s)
	}
	return out
}

// trustPolicy loads --policy for `serve verifier`: its status maximum age and intent checkers replace the
// flags' (setting both is refused), and its DIDs resolve through did:key offline and did:web over HTTPS.
func (o *serveVerifierOptions) trustPolicy(cmd *cobra.Command) (*policy.Policy, did.Resolver, error) {
	if o.policyFile == "" {
		return nil, did.KeyResolver{}, nil
	}
	for _, f := range []string{"trust-root", "insecure-trust-any-root"} {
		if cmd.Flags().Changed(f) {
			return nil, nil, fmt.Errorf("--policy and --%s conflict: the policy names the trusted roots", f)
		}
	}
	p, err := loadPolicy(o.policyFile)
	if err != nil {
		return nil, nil, err
	}
	if p.StatusMaxAge > 0 {
		if cmd.Flags().Changed("status-max-age") {
			return nil, nil, errors.New("--policy sets status.maxAge; --status-max-age conflicts")
		}
		o.statusMaxAge = p.StatusMaxAge
	}
	if len(p.Checkers) > 0 {
		if cmd.Flags().Changed("intent-checker") {
			return nil, nil, errors.New("--policy sets intentCheckers; --intent-checker conflicts")
		}
		o.intentCheckers = checkerSpecs(p)
	}
	res, err := did.NewMethods(map[string]did.Resolver{"key": did.KeyResolver{}, "web": did.NewWebResolver(did.WebOptions{})})
	if err != nil {
		return nil, nil, err
	}
	return p, res, nil
}
