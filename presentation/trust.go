package presentation

import (
	"slices"

	"github.com/mandate-dev/mandate/credentials"
)

// checkTrust decides whether the chain's root may be used at all: its
// principal must be one of the trusted roots. It runs before any status
// list is fetched (only a trusted chain may make the verifier fetch).
func (v *Verifier) checkTrust(root *credentials.Credential) error {
	if v.cfg.InsecureTrustAnyRoot || slices.Contains(v.cfg.TrustedRoots, root.Subject.Principal) {
		return nil
	}
	return deny(ReasonUntrustedRoot, "principal %s is not a trusted root", root.Subject.Principal)
}
