package presentation

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/mandate-dev/mandate/credentials"
	"github.com/mandate-dev/mandate/internal/aries"
)

// ErrNoChain is returned when no held chain covers a request.
var ErrNoChain = errors.New("presentation: no credential chain covers the request")

var vpContext = []string{credentials.ContextCredentialsV1, credentials.ContextEd25519_2020, credentials.ContextPoAV1}

// Select picks, among the chains a holder has, the first whose leaf is
// granted to holder and has a grant that covers action on resource and is
// inside its time window at now. Forbidden actions are left to the
// verifier: the holder does not second-guess it.
func Select(chains [][]*credentials.Credential, holder, action, resource string, now time.Time) ([]*credentials.Credential, error) {
	for _, chain := range chains {
		if len(chain) == 0 {
			continue
		}
		leaf := chain[len(chain)-1]
		if leaf.Subject.ID != holder {
			continue
		}
		for _, g := range leaf.Subject.Grants {
			if g.Allows(action, resource) && inWindow(g.Constraints, now) {
				return chain, nil
			}
		}
	}
	return nil, fmt.Errorf("%w: %s on %s", ErrNoChain, action, resource)
}

func inWindow(c credentials.Constraints, now time.Time) bool {
	return (c.NotBefore == nil || !now.Before(*c.NotBefore)) && (c.NotAfter == nil || now.Before(*c.NotAfter))
}

// Present builds a verifiable presentation of chain for req, bound to the
// challenge's nonce and audience and to the request digest, signed by the
// holder (who must be the leaf's subject).
func Present(holder credentials.Signer, chain []*credentials.Credential, ch Challenge, req Request, now time.Time) ([]byte, error) {
	if len(chain) == 0 {
		return nil, ErrNoChain
	}
	digest, err := req.Digest()
	if err != nil {
		return nil, err
	}
	creds := make([]any, len(chain))
	for i, c := range chain {
		creds[i] = c.Raw
	}
	vp, err := json.Marshal(map[string]any{
		"@context":             vpContext,
		"type":                 []string{"VerifiablePresentation"},
		"holder":               holder.DID(),
		"requestDigest":        digest,
		"verifiableCredential": creds,
	})
	if err != nil {
		return nil, fmt.Errorf("presentation: encode: %w", err)
	}
	ld, err := credentials.LD()
	if err != nil {
		return nil, err
	}
	signed, err := ld.Sign(vp, aries.ProofOptions{
		VerificationMethod: holder.VerificationMethod(), Purpose: "authentication", Created: now,
		Challenge: ch.Nonce, Domain: ch.Audience,
	}, holder.Sign)
	if err != nil {
		return nil, fmt.Errorf("presentation: sign: %w", err)
	}
	return signed, nil
}

// PresentForbidding is for a gatekeeper that must have every call decided
// by the verifier: when no held chain covers req (Present returned
// ErrNoChain) but an LDP chain granted to holder forbids it, that chain is
// presented, so that the verifier records FORBIDDEN (deny wins, and the
// forbidden list is never hidden). Only LDP chains are used: they are
// disclosed whole anyway. ErrNoChain when no chain forbids req.
func (h Held) PresentForbidding(holder credentials.Signer, ch Challenge, req Request, now time.Time) (string, []byte, error) {
	if !slices.Contains(ch.Formats, FormatLDP) {
		return "", nil, fmt.Errorf("%w: %s on %s", ErrNoChain, req.Action, req.Resource)
	}
	for _, chain := range h.LDP {
		if len(chain) == 0 || chain[len(chain)-1].Subject.ID != holder.DID() {
			continue
		}
		for _, c := range chain {
			if slices.ContainsFunc(c.Subject.Forbidden, func(f credentials.Forbidden) bool { return f.Forbids(req.Action, req.Resource) }) {
				vp, err := Present(holder, chain, ch, req, now)
				return FormatLDP, vp, err
			}
		}
	}
	return "", nil, fmt.Errorf("%w: %s on %s", ErrNoChain, req.Action, req.Resource)
}
