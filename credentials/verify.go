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
	opts, err := ld.Verify(m, func(vm string) (ed25519.PublicKey, error) {
		return v.issuerKey(ctx, c.Issuer, vm)
	})
	if err != nil {
		if errors.Is(err, ErrUnsupportedDIDMethod) {
			return nil, err
		}
		if errors.Is(err, aries.ErrProofShape) {
			return nil, fmt.Errorf("%w: %s: %w", ErrMalformed, c.ID, err)
		}
		return nil, fmt.Errorf("%w: %s: %w", ErrSignature, c.ID, err)
	}
	if opts.Purpose != "assertionMethod" {
		return nil, fmt.Errorf("%w: %s: proofPurpose %q, want assertionMethod", ErrSignature, c.ID, opts.Purpose)
	}
	if err := ld.Strict(m); err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrMalformed, c.ID, err)
	}
	return c, nil
}

// issuerKey resolves the proof's verification method, which must belong to
// the credential's issuer and be listed for assertion.
func (v *Verifier) issuerKey(ctx context.Context, issuer, vm string) (ed25519.PublicKey, error) {
	owner, _, _ := strings.Cut(vm, "#")
	if owner != issuer {
		return nil, fmt.Errorf("credentials: proof key %s does not belong to issuer %s", vm, issuer)
	}
	pub, err := did.PublicKey(ctx, v.resolver, vm, "assertionMethod")
	if errors.Is(err, did.ErrMethodNotSupported) {
		return nil, fmt.Errorf("%w: %w", ErrUnsupportedDIDMethod, err)
	}
	return pub, err
}
