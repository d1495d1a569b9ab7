package did

import (
	"crypto/ed25519"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/multiformats/go-multibase"
)

// The sentinel errors carry the did:key specification's error names, so that a caller can branch on them and a
// test can check the specification's negative cases.
var (
	// ErrInvalidDID is the spec's invalidDid: the input is not a well-formed did:key DID.
	ErrInvalidDID = errors.New("did: invalid DID")
	// ErrMethodNotSupported is the spec's methodNotSupported: a well-formed DID of a method other than key.
	ErrMethodNotSupported = errors.New("did: method not supported")
	// ErrInvalidPublicKeyLength is the spec's invalidPublicKeyLength: the key bytes do not fit the key type.
	ErrInvalidPublicKeyLength = errors.New("did: invalid public key length")
	// ErrInvalidDIDURL is the spec's invalidDidUrl: a DID URL this package does not dereference.
	ErrInvalidDIDURL = errors.New("did: invalid DID URL")
	// ErrUnsupportedPublicKeyType is the spec's unsupportedPublicKeyType: a key type other than Ed25519.
	ErrUnsupportedPublicKeyType = errors.New("did: unsupported public key type")
	// ErrInvalidPublicKeyType is the spec's invalidPublicKeyType: a key that may not be used for signatures,
	// such as the X25519 key agreement key that did:key derives from an Ed25519 key.
	ErrInvalidPublicKeyType = errors.New("did: invalid public key type")
)

// maxLength bounds every DID and DID URL this package reads: an RSA-4096 did:key is about 750 bytes.
const maxLength = 2048

// methods lists the DID methods this package resolves.
var methods = []string{"key"}

const (
	codecEd25519 = 0xed
	codecX25519  = 0xec
)

// codecNames names the multicodec key types that did:key DIDs use, so that an unsupported key is named.
var codecNames = map[uint64]string{
	0xe7:   "secp256k1-pub",
	0xea:   "bls12_381-g1-pub",
	0xeb:   "bls12_381-g2-pub",
	0xec:   "x25519-pub",
	0xed:   "ed25519-pub",
	0xee:   "bls12_381-g1g2-pub",
	0x1200: "p256-pub",
	0x1201: "p384-pub",
	0x1202: "p521-pub",
	0x1203: "ed448-pub",
	0x1204: "x448-pub",
	0x1205: "rsa-pub",
	0x1206: "sm2-pub",
}

var base58btc = multibase.MustNewEncoder(multibase.Base58BTC)

// FromPublicKey returns the did:key for an Ed25519 public key ("did:key:z6Mk...").
func FromPublicKey(pub ed25519.PublicKey) (string, error) {
	if len(pub) != ed25519.PublicKeySize {
		return "", fmt.Errorf("%w: ed25519 public key is %d bytes, want %d",
			ErrInvalidPublicKeyLength, len(pub), ed25519.PublicKeySize)
	}
	return "did:key:" + encodeKey(pub), nil
}

// VerificationMethodID returns "<did>#<multibase-part>" for a did:key.
func VerificationMethodID(did string) (string, error) {
	_, mb, err := parsePlainDID(did)
	if err != nil {
		return "", err
	}
	return did + "#" + mb, nil
}

// ParseKey parses a did:key DID or a did:key DID URL ("did:key:z..#z..") and returns its Ed25519 public key.
// For a DID URL the fragment must equal the key's own multibase value (else ErrInvalidDIDURL); a fragment
// naming an X25519 key agreement key gives ErrInvalidPublicKeyType.
func ParseKey(didOrURL string) (ed25519.PublicKey, error) {
	if len(didOrURL) > maxLength {
		return nil, fmt.Errorf("%w: input is %d bytes, limit %d", ErrInvalidDID, len(didOrURL), maxLength)
	}
	did, rest := didOrURL, ""
	if i := strings.IndexAny(didOrURL, "/?#"); i >= 0 {
		did, rest = didOrURL[:i], didOrURL[i:]
	}
	if rest != "" && rest[0] != '#' {
		return nil, fmt.Errorf("%w: %s has a path or query; only a fragment naming the key is allowed",
			ErrInvalidDIDURL, quote(didOrURL))
	}
	key, mb, err := parseDID(did)
	if err != nil {
		return nil, err
	}
	if rest != "" {
		if err := checkFragment(rest[1:], mb); err != nil {
			return nil, err
		}
	}
	return key, nil
}

// parsePlainDID parses a DID that must not be a DID URL.
func parsePlainDID(did string) (ed25519.PublicKey, string, error) {
	if len(did) > maxLength {
		return nil, "", fmt.Errorf("%w: input is %d bytes, limit %d", ErrInvalidDID, len(did), maxLength)
	}
	if strings.ContainsAny(did, "/?#") {
		return nil, "", fmt.Errorf("%w: %s is a DID URL, not a DID", ErrInvalidDID, quote(did))
	}
	return parseDID(did)
}

// parseDID follows the did:key spec's document creation steps 1-6 and returns the key and the multibase value.
func parseDID(did string) (ed25519.PublicKey, string, error) {
	parts := strings.Split(did, ":")
	switch {
	case len(parts) < 3:
		return nil, "", fmt.Errorf("%w: %s is not of the form did:<method>:<id>", ErrInvalidDID, quote(did))
	case parts[0] != "did":
		return nil, "", fmt.Errorf("%w: scheme %s is not \"did\"", ErrInvalidDID, quote(parts[0]))
	case !validMethodName(parts[1]):
		return nil, "", fmt.Errorf("%w: method name %s is not lowercase letters and digits",
			ErrInvalidDID, quote(parts[1]))
	case !slices.Contains(methods, parts[1]):
		return nil, "", fmt.Errorf("%w: %s: only did:key", ErrMethodNotSupported, quote(parts[1]))
	case len(parts) > 3:
		// The spec allows did:key:<version>:<value>; accepting it would give one key two identifiers, and
		// identifiers are compared as strings along a delegation chain.
		return nil, "", fmt.Errorf("%w: version segment %s is not supported: only did:key:<multibase>",
			ErrInvalidDID, quote(parts[2]))
	}
	mb := parts[2]
	codec, raw, err := decodeMultikey(mb)
	if err != nil {
		return nil, "", fmt.Errorf("%w: %w", ErrInvalidDID, err)
	}
	key, err := ed25519Key(codec, raw)
	if err != nil {
		return nil, "", err
	}
	return key, mb, nil
}

// checkFragment accepts only the fragment that names the DID's own key, as did:key documents hold no other
// signature verification method.
func checkFragment(fragment, mb string) error {
	if fragment == mb {
		return nil
	}
	if codec, _, err := decodeMultikey(fragment); err == nil && codec == codecX25519 {
		return fmt.Errorf("%w: fragment %s names an x25519-pub key agreement key, not a signature key",
			ErrInvalidPublicKeyType, quote(fragment))
	}
	return fmt.Errorf("%w: fragment %s does not name the DID's key %s", ErrInvalidDIDURL, quote(fragment), mb)
}

// decodeMultikey splits a base58btc multibase value into its multicodec code and key bytes.
func decodeMultikey(mb string) (uint64, []byte, error) {
	if len(mb) > maxLength {
		return 0, nil, fmt.Errorf("multibase value is %d bytes, limit %d", len(mb), maxLength)
	}
	if !strings.HasPrefix(mb, "z") {
		return 0, nil, fmt.Errorf("multibase value %s does not start with 'z' (base58btc)", quote(mb))
	}
	_, raw, err := multibase.Decode(mb)
	if err != nil {
		return 0, nil, fmt.Errorf("multibase value %s: %w", quote(mb), err)
	}
	codec, n := binary.Uvarint(raw)
	if n <= 0 {
		return 0, nil, fmt.Errorf("multibase value %s has no multicodec prefix", quote(mb))
	}
	// A longer-than-needed varint would let one key have several encodings.
	if n != len(binary.AppendUvarint(nil, codec)) {
		return 0, nil, fmt.Errorf("multibase value %s has a non-minimal multicodec varint", quote(mb))
	}
	return codec, raw[n:], nil
}

// ed25519Key accepts only an Ed25519 key of the right length.
func ed25519Key(codec uint64, raw []byte) (ed25519.PublicKey, error) {
	if codec != codecEd25519 {
		return nil, fmt.Errorf("%w %s: only ed25519-pub", ErrUnsupportedPublicKeyType, codecName(codec))
	}
	if len(raw) != ed25519.PublicKeySize {
		return nil, fmt.Errorf("%w: ed25519-pub key is %d bytes, want %d",
			ErrInvalidPublicKeyLength, len(raw), ed25519.PublicKeySize)
	}
	return ed25519.PublicKey(raw), nil
}

func encodeKey(pub ed25519.PublicKey) string {
	return base58btc.Encode(append(binary.AppendUvarint(nil, codecEd25519), pub...))
}

func codecName(codec uint64) string {
	if name, ok := codecNames[codec]; ok {
		return name
	}
	return fmt.Sprintf("multicodec 0x%x", codec)
}

// validMethodName follows DID Core: method-name = 1*(%x61-7A / DIGIT).
func validMethodName(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range []byte(s) {
		if (c < 'a' || c > 'z') && (c < '0' || c > '9') {
			return false
		}
	}
	return true
}

// quote shows untrusted input in an error message, cut short so that a message stays readable.
func quote(s string) string {
	const limit = 128
	if len(s) > limit {
		return strconv.Quote(s[:limit]) + "..."
	}
	return strconv.Quote(s)
}
