package credentials

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/mandate-dev/mandate/credentials/status"
	"github.com/mandate-dev/mandate/internal/aries"
	"github.com/mandate-dev/mandate/internal/strictjson"
)

// MaxStatusListBytes bounds a status list credential (a list of MaxBits
// random bits compresses to little under 2 MiB; Mandate's lists of MinBits
// entries stay under 24 KiB even when every bit is random).
const MaxStatusListBytes = 256 << 10

var statusListContext = []string{ContextCredentialsV1, ContextEd25519_2020, ContextStatusV1}

// SignStatusList builds and signs the BitstringStatusListCredential that
// publishes l, valid for validity from now and cacheable for ttl.
func SignStatusList(s Signer, l status.StoredList, validity, ttl time.Duration, o IssueOptions) ([]byte, error) {
	now := time.Now
	if o.Now != nil {
		now = o.Now
	}
	enc, err := l.Bits.Encode()
	if err != nil {
		return nil, err
	}
	from := now().UTC().Truncate(time.Second)
	doc := map[string]any{
		"@context":       statusListContext,
		"id":             l.URL,
		"type":           []string{"VerifiableCredential", status.TypeBitstringCredential},
		"issuer":         s.DID(),
		"issuanceDate":   from.Format(time.RFC3339),
		"expirationDate": from.Add(validity).Format(time.RFC3339),
		"credentialSubject": map[string]any{
			"id":            l.URL + "#list",
			"type":          status.TypeBitstringList,
			"statusPurpose": string(l.Purpose),
			"encodedList":   enc,
			"ttl":           ttl.Milliseconds(),
		},
	}
	unsigned, err := json.Marshal(doc)
	if err != nil {
		return nil, fmt.Errorf("credentials: encode status list: %w", err)
	}
	ld, err := engine()
	if err != nil {
		return nil, err
	}
	signed, err := ld.Sign(unsigned, aries.ProofOptions{
		VerificationMethod: s.VerificationMethod(), Purpose: "assertionMethod", Created: now(),
	}, s.Sign)
	if err != nil {
		return nil, fmt.Errorf("credentials: sign status list: %w", err)
	}
	return signed, nil
}

// VerifyStatusList checks a status list credential published by a Mandate
// issuer: size, shape, the issuer's Ed25519Signature2020 proof (never
// skipped) and strict JSON-LD. Whether its issuer is the right one for an
// entry, and whether it is fresh, is the caller's to decide.
func (v *Verifier) VerifyStatusList(ctx context.Context, data []byte) (*status.ListCredential, error) {
	var m map[string]any
	if err := strictjson.Decode(data, MaxStatusListBytes, &m); err != nil {
		return nil, fmt.Errorf("%w: status list: %w", ErrMalformed, err)
	}
	if m == nil || !strictjson.EqualStrings(m["@context"], statusListContext) {
		return nil, fmt.Errorf("%w: status list @context must be exactly %q", ErrMalformed, statusListContext)
	}
	lc, err := status.ParseListCredential(m)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	if lc.Type != status.TypeBitstringCredential {
		return nil, fmt.Errorf("%w: status list type %s, want %s", ErrMalformed, lc.Type, status.TypeBitstringCredential)
	}
	ld, err := engine()
	if err != nil {
		return nil, err
	}
	opts, err := ld.Verify(m, func(vm string) (ed25519.PublicKey, error) {
		return v.issuerKey(ctx, lc.Issuer, vm)
	})
	if err != nil {
		if errors.Is(err, ErrUnsupportedDIDMethod) {
			return nil, err
		}
		return nil, fmt.Errorf("%w: status list %s: %w", ErrSignature, lc.ID, err)
	}
	if opts.Purpose != "assertionMethod" {
		return nil, fmt.Errorf("%w: status list %s: proofPurpose %q, want assertionMethod", ErrSignature, lc.ID, opts.Purpose)
	}
	if err := ld.Strict(m); err != nil {
		return nil, fmt.Errorf("%w: status list %s: %w", ErrMalformed, lc.ID, err)
	}
	return lc, nil
}
