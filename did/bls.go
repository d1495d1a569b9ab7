package did

import (
	"encoding/binary"
	"fmt"
	"slices"
	"strings"

	"github.com/mandate-dev/mandate/internal/aries/g2"
)

// Key types this package accepts, as multicodec names. The list is explicit: every other did:key type is refused
// before its bytes are used.
const (
	KeyTypeEd25519     = "ed25519-pub"
	KeyTypeBLS12381G2  = "bls12_381-g2-pub"
	codecBLS12381G2    = 0xeb
	typeBLS12381G2Key  = "Bls12381G2Key2020"
	contextBLS12381v20 = "https://w3id.org/security/suites/bls12381-2020/v1"
)

// KeyTypes lists the accepted did:key key types: Ed25519 (ParseKey) and BLS12-381 G2 (ParseBLS12381G2Key).
var KeyTypes = []string{KeyTypeEd25519, KeyTypeBLS12381G2}

// FromBLS12381G2 returns the did:key ("did:key:zUC...") for a 96-byte compressed BLS12-381 G2 public key. The
// point must be on the curve, in the subgroup and not the identity.
func FromBLS12381G2(pub []byte) (string, error) {
	if len(pub) != g2.PublicKeySize {
		return "", fmt.Errorf("%w: bls12_381-g2-pub key is %d bytes, want %d",
			ErrInvalidPublicKeyLength, len(pub), g2.PublicKeySize)
	}
	if err := g2.Check(pub); err != nil {
		return "", fmt.Errorf("%w: %w", ErrInvalidDID, err)
	}
	return "did:key:" + base58btc.Encode(append(binary.AppendUvarint(nil, codecBLS12381G2), pub...)), nil
}

// ParseBLS12381G2Key parses a did:key DID, or the DID URL of its key ("did:key:zUC..#zUC.."), and returns its
// BLS12-381 G2 public key (96 bytes, compressed). The same rules as ParseKey apply (method, form, fragment,
// size); an Ed25519 or any other key type gives ErrUnsupportedPublicKeyType, a G2 encoding that is not a valid
// subgroup point (or is the identity) gives ErrInvalidDID.
func ParseBLS12381G2Key(didOrURL string) ([]byte, error) {
	if len(didOrURL) > maxLength {
		return nil, fmt.Errorf("%w: input is %d bytes, limit %d", ErrInvalidDID, len(didOrURL), maxLength)
	}
	id, fragment, hasFragment := strings.Cut(didOrURL, "#")
	if strings.ContainsAny(id, "/?") || strings.Contains(fragment, "#") {
		return nil, fmt.Errorf("%w: %s has a path or query; only a fragment naming the key is allowed",
			ErrInvalidDIDURL, quote(didOrURL))
	}
	mb, err := keyMultibase(id)
	if err != nil {
		return nil, err
	}
	if hasFragment && fragment != mb {
		return nil, fmt.Errorf("%w: fragment %s does not name the DID's key %s", ErrInvalidDIDURL, quote(fragment), mb)
	}
	codec, raw, err := decodeMultikey(mb)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidDID, err)
	}
	if codec != codecBLS12381G2 {
		return nil, fmt.Errorf("%w %s: only %s here", ErrUnsupportedPublicKeyType, codecName(codec), KeyTypeBLS12381G2)
	}
	if len(raw) != g2.PublicKeySize {
		return nil, fmt.Errorf("%w: bls12_381-g2-pub key is %d bytes, want %d",
			ErrInvalidPublicKeyLength, len(raw), g2.PublicKeySize)
	}
	if err := g2.Check(raw); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidDID, err)
	}
	return raw, nil
}

// ResolveBLS12381G2 builds the DID document of a BLS12-381 G2 did:key offline: one Bls12381G2Key2020 method with
// publicKeyMultibase, listed under assertionMethod and capabilityInvocation only (a BBS+ key signs credentials;
// it does not authenticate presentations).
func ResolveBLS12381G2(id string) (*Document, error) {
	if _, err := ParseBLS12381G2Key(id); err != nil {
		return nil, err
	}
	if strings.Contains(id, "#") {
		return nil, fmt.Errorf("%w: %s is a DID URL, not a DID", ErrInvalidDID, quote(id))
	}
	mb := strings.TrimPrefix(id, "did:key:")
	vm := id + "#" + mb
	return &Document{
		Context:              []string{contextDIDv1, contextBLS12381v20},
		ID:                   id,
		VerificationMethod:   []VerificationMethod{{ID: vm, Type: typeBLS12381G2Key, Controller: id, PublicKeyMultibase: mb}},
		AssertionMethod:      []string{vm},
		CapabilityInvocation: []string{vm},
	}, nil
}

// keyMultibase checks the did:key form of id and returns its multibase value.
func keyMultibase(id string) (string, error) {
	parts := strings.Split(id, ":")
	switch {
	case len(parts) < 3:
		return "", fmt.Errorf("%w: %s is not of the form did:<method>:<id>", ErrInvalidDID, quote(id))
	case parts[0] != "did":
		return "", fmt.Errorf("%w: scheme %s is not \"did\"", ErrInvalidDID, quote(parts[0]))
	case !validMethodName(parts[1]):
		return "", fmt.Errorf("%w: method name %s is not lowercase letters and digits", ErrInvalidDID, quote(parts[1]))
	case !slices.Contains(methods, parts[1]):
		return "", fmt.Errorf("%w: %s: only did:key", ErrMethodNotSupported, quote(parts[1]))
	case len(parts) > 3:
		return "", fmt.Errorf("%w: version segment %s is not supported: only did:key:<multibase>",
			ErrInvalidDID, quote(parts[2]))
	}
	return parts[2], nil
}
