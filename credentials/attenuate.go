package credentials

import (
	"errors"
	"fmt"
	"slices"

	"github.com/mandate-dev/mandate/credentials/scope"
)

// CheckChain checks that every link of chain (root first) connects to the
// one before it and is no wider than it. Issuance (Delegate) and the
// verifier run this same code. Signatures are not checked here.
func CheckChain(chain []*Credential) error {
	if len(chain) == 0 {
		return fmt.Errorf("%w: empty chain", ErrChainBroken)
	}
	if len(chain) > MaxChainLinks {
		return fmt.Errorf("%w: %d links, at most %d", ErrDepthExceeded, len(chain), MaxChainLinks)
	}
	root := chain[0]
	if !root.IsRoot() {
		return fmt.Errorf("%w: first link %s names a parent", ErrChainBroken, root.ID)
	}
	if root.Issuer != root.Subject.Principal {
		return fmt.Errorf("%w: root %s is issued by %s, not by its principal %s", ErrChainBroken, root.ID, root.Issuer, root.Subject.Principal)
	}
	for i := 1; i < len(chain); i++ {
		if err := CheckChild(chain[i-1], chain[i]); err != nil {
			return err
		}
	}
	return nil
}

// CheckChild checks one link: child must be issued by parent's subject,
// name parent exactly, and be no wider than parent in any respect.
func CheckChild(parent, child *Credential) error {
	if err := checkLink(parent, child); err != nil {
		return err
	}
	if err := checkDelegation(parent.Subject.Delegation, child.Subject.Delegation); err != nil {
		return err
	}
	if err := checkValidity(parent, child); err != nil {
		return err
	}
	for _, f := range parent.Subject.Forbidden {
		if !slices.Contains(child.Subject.Forbidden, f) {
			return fmt.Errorf("%w: child drops forbidden action %s", ErrScopeEscalation, f.Action)
		}
	}
	for _, g := range child.Subject.Grants {
		if err := coveredBy(g, parent.Subject.Grants); err != nil {
			return fmt.Errorf("%w: grant %s: %w", ErrScopeEscalation, g.ID, err)
		}
		for _, f := range child.Subject.Forbidden {
			if grantInside(g, f) {
				return fmt.Errorf("%w: grant %s re-grants forbidden action %s", ErrScopeEscalation, g.ID, f.Action)
			}
		}
	}
	return nil
}

func checkLink(parent, child *Credential) error {
	p := child.Subject.Parent
	switch {
	case p == nil:
		return fmt.Errorf("%w: %s has no parent link", ErrChainBroken, child.ID)
	case p.ID != parent.ID:
		return fmt.Errorf("%w: %s names parent %s, not %s", ErrChainBroken, child.ID, p.ID, parent.ID)
	case child.Issuer != parent.Subject.ID:
		return fmt.Errorf("%w: %s is issued by %s, but the parent was granted to %s", ErrChainBroken, child.ID, child.Issuer, parent.Subject.ID)
	case child.Subject.Principal != parent.Subject.Principal:
		return fmt.Errorf("%w: principal changes from %s to %s", ErrChainBroken, parent.Subject.Principal, child.Subject.Principal)
	}
	digest, err := parent.LinkDigest()
	if err != nil {
		return fmt.Errorf("%w: %w", ErrParentDigest, err)
	}
	if p.Digest != digest {
		return fmt.Errorf("%w: %s names digest %s, parent is %s", ErrParentDigest, child.ID, p.Digest, digest)
	}
	return nil
}

func checkDelegation(parent, child Delegation) error {
	if !parent.Allowed {
		return ErrDelegationNotAllowed
	}
	if child.MaxDepth >= parent.MaxDepth {
		return fmt.Errorf("%w: child maxDepth %d must be below parent's %d", ErrDepthExceeded, child.MaxDepth, parent.MaxDepth)
	}
	return nil
}

func checkValidity(parent, child *Credential) error {
	if child.IssuanceDate.Before(parent.IssuanceDate) {
		return fmt.Errorf("%w: child valid from %s, before its parent", ErrScopeEscalation, child.IssuanceDate.Format("2006-01-02T15:04:05Z07:00"))
	}
	if pe := parent.ExpirationDate; pe != nil {
		if ce := child.ExpirationDate; ce == nil || ce.After(*pe) {
			return fmt.Errorf("%w: child outlives its parent's expirationDate", ErrScopeEscalation)
		}
	}
	return nil
}

// coveredBy returns nil when some parent grant covers g.
func coveredBy(g Grant, parents []Grant) error {
	var last error = fmt.Errorf("no parent grant covers %s on %s", g.Action, g.Resource)
	for _, p := range parents {
		if err := p.Covers(g); err != nil {
			if !errors.Is(err, errNotInside) {
				last = fmt.Errorf("parent grant %s: %w", p.ID, err)
			}
			continue
		}
		return nil
	}
	return last
}

var errNotInside = errors.New("action or resource not inside")

// Covers returns nil when child is no wider than g: its action and resource
// inside g's, its constraints at least as strict. The verifier uses it to
// find, at each link, the grants a use of the child grant rests on.
func (g Grant) Covers(child Grant) error {
	if !scope.ActionSubset(child.Action, g.Action) || !scope.ResourceSubset(child.Resource, g.Resource) {
		return errNotInside
	}
	return tighter(child.Constraints, g.Constraints)
}

// tighter returns nil when child constraints are at least as strict as parent's.
func tighter(c, p Constraints) error {
	if p.NotBefore != nil && (c.NotBefore == nil || c.NotBefore.Before(*p.NotBefore)) {
		return fmt.Errorf("notBefore is earlier than the parent's")
	}
	if p.NotAfter != nil && (c.NotAfter == nil || c.NotAfter.After(*p.NotAfter)) {
		return fmt.Errorf("notAfter is later than the parent's")
	}
	if p.Rate != nil {
		if c.Rate == nil || c.Rate.Count > p.Rate.Count {
			return fmt.Errorf("rate is looser than the parent's")
		}
		cp, cerr := ParseDuration(c.Rate.Per)
		pp, perr := ParseDuration(p.Rate.Per)
		if cerr != nil || perr != nil || cp < pp {
			return fmt.Errorf("rate period is shorter than the parent's")
		}
	}
	if p.MaxUses != nil && (c.MaxUses == nil || *c.MaxUses > *p.MaxUses) {
		return fmt.Errorf("maxUses is larger than the parent's")
	}
	if p.MaxAmount != nil && (c.MaxAmount == nil || *c.MaxAmount > *p.MaxAmount) {
		return fmt.Errorf("maxAmount is larger than the parent's")
	}
	if p.Approval == ApprovalRequired && c.Approval != ApprovalRequired {
		return fmt.Errorf("approval is relaxed")
	}
	for _, cond := range p.Conditions {
		if !slices.Contains(c.Conditions, cond) {
			return fmt.Errorf("condition %q is dropped", cond)
		}
	}
	return nil
}

// grantInside reports whether every request g allows is forbidden by f.
func grantInside(g Grant, f Forbidden) bool {
	if !scope.ActionSubset(g.Action, f.Action) {
		return false
	}
	return f.Resource == "" || scope.ResourceSubset(g.Resource, f.Resource)
}

// Forbids reports whether f forbids a concrete request.
func (f Forbidden) Forbids(action, resource string) bool {
	if !scope.MatchAction(f.Action, action) {
		return false
	}
	return f.Resource == "" || scope.MatchResource(f.Resource, resource)
}

// Allows reports whether g's action and resource patterns match a concrete request.
func (g Grant) Allows(action, resource string) bool {
	return scope.MatchAction(g.Action, action) && scope.MatchResource(g.Resource, resource)
}
