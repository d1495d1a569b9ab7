package credentials

import (
	"fmt"
	"strings"
	"time"

	"github.com/mandate-dev/mandate/internal/aries"
)

// WitnessPurpose is the proofPurpose of a witness proof, a term of the
// poa-v1 context (poa:witness), so that strict JSON-LD holds and a witness
// proof can never be read as the issuer's (assertionMethod). The witness
// signs with a key its DID document lists under assertionMethod.
const WitnessPurpose = "witness"

// Witness adds w's Ed25519Signature2020 proof to a root credential, beside
// the issuer's: the proof array gains a second proof over the same
// document (proofs excluded), with its own purpose. A witness signs before
// the root is delegated: a child's parent digest covers every proof.
// The caller should have verified c (Verifier.Verify) before witnessing it.
func Witness(w Signer, c *Credential, now func() time.Time) (*Credential, error) {
	switch {
	case c == nil || !c.IsRoot():
		return nil, fmt.Errorf("%w: only a root credential is witnessed", ErrMalformed)
	case c.Witness != "":
		return nil, fmt.Errorf("%w: %s is already witnessed by %s", ErrMalformed, c.ID, c.Witness)
	case w.DID() == c.Issuer || w.DID() == c.Subject.ID:
		return nil, fmt.Errorf("%w: the witness %s is the credential's issuer or subject", ErrMalformed, w.DID())
	}
	if p, ok := c.Raw["proof"]; !ok {
		return nil, fmt.Errorf("%w: %s has no issuer proof", ErrMalformed, c.ID)
	} else if list, isList := p.([]any); isList && len(list) != 1 {
		return nil, fmt.Errorf("%w: %s has %d proofs, want the issuer's alone", ErrMalformed, c.ID, len(list))
	}
	owner, _, _ := strings.Cut(w.VerificationMethod(), "#")
	if owner != w.DID() {
		return nil, fmt.Errorf("credentials: witness key %s does not belong to %s", w.VerificationMethod(), w.DID())
	}
	if now == nil {
		now = time.Now
	}
	doc, err := c.Marshal()
	if err != nil {
		return nil, fmt.Errorf("credentials: encode: %w", err)
	}
	ld, err := engine()
	if err != nil {
		return nil, err
	}
	signed, err := ld.Sign(doc, aries.ProofOptions{VerificationMethod: w.VerificationMethod(), Purpose: WitnessPurpose, Created: now()}, w.Sign)
	if err != nil {
		return nil, fmt.Errorf("credentials: witness: %w", err)
	}
	m, err := Decode(signed)
	if err != nil {
		return nil, err
	}
	out, err := Parse(m)
	if err != nil {
		return nil, err
	}
	out.Witness = w.DID()
	return out, nil
}
