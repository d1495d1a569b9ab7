package presentation

import (
	"errors"
	"fmt"
	"slices"

	"github.com/mandate-dev/mandate/credentials"
	"github.com/mandate-dev/mandate/did"
	"github.com/mandate-dev/mandate/presentation/policy"
)

// checkTrust decides whether the chain's root may be used at all for this
// request. With a trust policy: the root's principal must be trusted for
// the requested resource, and where the policy demands a witness for the
// action, the root must carry a verified witness proof by one of the
// named witnesses. Without one: the principal must be one of the trusted
// roots. It runs before any status list is fetched (only a trusted chain
// may make the verifier fetch).
func (v *Verifier) checkTrust(chain []*credentials.Credential, req Request) error {
	root := chain[0]
	if p := v.cfg.Policy; p != nil {
		return checkPolicy(p, root, req)
	}
	if v.cfg.InsecureTrustAnyRoot || slices.Contains(v.cfg.TrustedRoots, root.Subject.Principal) {
		return nil
	}
	return deny(ReasonUntrustedRoot, "principal %s is not a trusted root", root.Subject.Principal)
}

func checkPolicy(p *policy.Policy, root *credentials.Credential, req Request) error {
	principal := root.Subject.Principal
	if _, ok := p.Trusts(principal, req.Resource); !ok {
		return deny(ReasonUntrustedRoot, "the trust policy does not trust principal %s for %s", principal, req.Resource)
	}
	for _, rule := range p.WitnessesFor(req.Action, req.Resource) {
		switch {
		case root.Witness == "":
			return deny(ReasonWitnessRequired, "%s on %s needs a root witnessed by one of %v (policy line %d); the root has no witness",
				req.Action, req.Resource, rule.By, rule.Line)
		case !slices.Contains(rule.By, root.Witness):
			return deny(ReasonWitnessRequired, "%s on %s needs a root witnessed by one of %v (policy line %d); it was witnessed by %s",
				req.Action, req.Resource, rule.By, rule.Line, root.Witness)
		}
	}
	return nil
}

// validateTrust refuses a trust policy combined with the other ways of
// choosing roots, or with a format list that differs from its own.
func (c Config) validateTrust() error {
	if c.Policy == nil {
		return nil
	}
	switch {
	case len(c.TrustedRoots) > 0:
		return errors.New("presentation: config: Policy and TrustedRoots conflict: the policy names the roots")
	case c.InsecureTrustAnyRoot:
		return errors.New("presentation: config: Policy and InsecureTrustAnyRoot conflict")
	case len(c.Formats) > 0 && !slices.Equal(c.Formats, c.Policy.Formats):
		return fmt.Errorf("presentation: config: Formats %v differ from the policy's %v", c.Formats, c.Policy.Formats)
	}
	if err := c.Policy.Validate(); err != nil {
		return fmt.Errorf("presentation: config: %w", err)
	}
	return validateFormats(c.Policy.Formats)
}

// withPolicy applies a trust policy's lists: its formats become the
// verifier's, and DIDs of methods outside its list are refused before any
// resolver is asked (so before any key is used or any document fetched).
func (c Config) withPolicy() Config {
	if c.Policy == nil {
		return c
	}
	c.Formats = slices.Clone(c.Policy.Formats)
	c.Resolver = did.Only(c.Resolver, c.Policy.DIDMethods)
	return c
}
