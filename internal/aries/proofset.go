package aries

import (
	"crypto/ed25519"
	"fmt"
)

// ProofKeyFunc returns the key for one proof of a set, after the caller has
// checked that the proof's purpose and verification method fit its place
// in the set (position i).
type ProofKeyFunc func(i int, opts ProofOptions) (ed25519.PublicKey, error)

// VerifySet checks every Ed25519Signature2020 proof on doc: a single proof
// or an array of 1..max, each over the same document (without proofs), each
// with its own key. Every proof present must verify; none is skipped. It
// returns the proofs' options in order.
func (l *LD) VerifySet(doc map[string]any, max int, keys ProofKeyFunc) ([]ProofOptions, error) {
	raw, ok := doc["proof"]
	if !ok {
		return nil, fmt.Errorf("aries: document has no proof")
	}
	list, isList := raw.([]any)
	if !isList {
		list = []any{raw}
	}
	if len(list) == 0 || len(list) > max {
		return nil, fmt.Errorf("aries: document has %d proofs, want 1..%d", len(list), max)
	}
	out := make([]ProofOptions, 0, len(list))
	for i, p := range list {
		one := make(map[string]any, len(doc))
		for k, v := range doc {
			one[k] = v
		}
		one["proof"] = p
		opts, err := readProof(one)
		if err == nil {
			_, err = l.Verify(one, func(string) (ed25519.PublicKey, error) { return keys(i, opts) })
		}
		if err != nil && len(list) > 1 {
			return nil, fmt.Errorf("proof %d: %w", i, err)
		}
		if err != nil {
			return nil, err
		}
		out = append(out, opts)
	}
	return out, nil
}
