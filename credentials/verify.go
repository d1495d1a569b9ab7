package credentials

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"strings"

	"github.com/mandate-dev/mandate/did"
	"github.com/mandate-dev/mandate/internal/aries"
)

// Verifier checks single PoA credentials: shape, strict JSON-LD, and the
// issuer's Ed25519Signature2020 proof. Which DIDs it can resolve is decided
// by the resolver it is given; nothing is trusted by default.
type Verifier struct {
	resolver did.Resolver
}

// NewVerifier returns a credential verifier over resolver.
func NewVerifier(resolver did.Resolver) (*Verifier, error) {
	if resolver == nil {
		return nil, errors.New("credentials: a DID resolver is required")
	}
	return &Verifier{resolver: resolver}, nil
}

// Verify decodes and verifies credential bytes.
func (v *Verifier) Verify(ctx context.Context, data []byte) (*Credential, error) {
	m, err := Decode(data)
	if err != nil {
		return nil, err
	}
	return v.VerifyMap(ctx, m)
}

// VerifyMap verifies a decoded credential. The order matters: shape first
// (cheap, and names what is wrong), then the proof, then strict JSON-LD.
func (v *Verifier) VerifyMap(ctx context.Context, m map[string]any) (*Credential, error) {
	c, err := Parse(m)
	if err != nil {
		return nil, err
	}
	ld, err := engine()
	if err != nil {
		return nil, err
	}
	proofs, err := ld.VerifySet(m, maxProofs, func(i int, p aries.ProofOptions) (ed25519.PublicKey, error) {
		return v.proofKey(ctx, c, i, p)
	})
	if err != nil {
		if errors.Is(err, ErrUnsupportedDIDMethod) || errors.Is(err, ErrDIDResolution) || errors.Is(err, ErrMalformed) {
			return nil, err
		}
		if errors.Is(err, aries.ErrProofShape) {
			return nil, fmt.Errorf("%w: %s: %w", ErrMalformed, c.ID, err)
		}
		return nil, fmt.Errorf("%w: %s: %w", ErrSignature, c.ID, err)
	}
	if len(proofs) == 2 {
		c.Witness, _, _ = strings.Cut(proofs[1].VerificationMethod, "#")
	}
	if err := ld.Strict(m); err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrMalformed, c.ID, err)
	}
	return c, nil
}

// maxProofs: the issuer's, and on a root a witness's.
const maxProofs = 2

// proofKey checks a proof's place before its key is resolved: the first is
// the issuer's, for assertion; a second is a witness's, on a root only, by
// another DID, with the witness purpose.
func (v *Verifier) proofKey(ctx context.Context, c *Credential, i int, p aries.ProofOptions) (ed25519.PublicKey, error) {
	owner, _, _ := strings.Cut(p.VerificationMethod, "#")
	switch {
	case i == 0 && p.Purpose != "assertionMethod":
		return nil, fmt.Errorf("credentials: issuer proofPurpose %q, want assertionMethod", p.Purpose)
	case i == 0:
		return v.issuerKey(ctx, c.Issuer, p.VerificationMethod)
	case i == 1 && !c.IsRoot():
		return nil, fmt.Errorf("%w: %s: only a root credential carries a witness proof", ErrMalformed, c.ID)
	case i == 1 && p.Purpose != WitnessPurpose:
		return nil, fmt.Errorf("credentials: second proof's proofPurpose %q, want %s", p.Purpose, WitnessPurpose)
	case i == 1 && (owner == c.Issuer || owner == c.Subject.ID):
		return nil, fmt.Errorf("credentials: witness %s is the credential's issuer or subject", owner)
	}
	return v.assertionKey(ctx, p.VerificationMethod)
}

// issuerKey resolves a proof's verification method, which must belong to
// the issuer and be listed for assertion.
func (v *Verifier) issuerKey(ctx context.Context, issuer, vm string) (ed25519.PublicKey, error) {
	owner, _, _ := strings.Cut(vm, "#")
	if owner != issuer {
		return nil, fmt.Errorf("credentials: proof key %s does not belong to issuer %s", vm, issuer)
	}
	return v.assertionKey(ctx, vm)
}

func (v *Verifier) assertionKey(ctx context.Context, vm string) (ed25519.PublicKey, error) {
	pub, err := did.PublicKey(ctx, v.resolver, vm, "assertionMethod")
	switch {
	case errors.Is(err, did.ErrMethodNotSupported):
		return nil, fmt.Errorf("%w: %w", ErrUnsupportedDIDMethod, err)
	case errors.Is(err, did.ErrResolution):
		return nil, fmt.Errorf("%w: %w", ErrDIDResolution, err)
	}
	return pub, err
}
