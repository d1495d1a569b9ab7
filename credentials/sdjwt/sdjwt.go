package sdjwt

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
)

// Errors a caller branches on (a verifier maps each to one reason code).
// Every error of this package wraps exactly one of them.
var (
	// ErrMalformed: the input is not a well-formed SD-JWT, Disclosure or
	// Key Binding JWT.
	ErrMalformed = errors.New("sdjwt: malformed")
	// ErrTooLarge: an input exceeds one of the Limits.
	ErrTooLarge = errors.New("sdjwt: too large")
	// ErrAlgorithm: a signature or hash algorithm that is not accepted, or
	// one that does not match the key's type.
	ErrAlgorithm = errors.New("sdjwt: algorithm not accepted")
	// ErrSignature: the issuer or key binding signature does not verify.
	ErrSignature = errors.New("sdjwt: signature invalid")
	// ErrDisclosure: the Disclosures do not match the digests of the
	// issuer-signed JWT (duplicate, unreferenced, misplaced, reserved name,
	// claim already present).
	ErrDisclosure = errors.New("sdjwt: disclosure rejected")
	// ErrKeyBindingMissing: key binding is required and none was presented,
	// or the credential carries no cnf key.
	ErrKeyBindingMissing = errors.New("sdjwt: key binding missing")
	// ErrKeyBinding: the Key Binding JWT is present but not acceptable.
	ErrKeyBinding = errors.New("sdjwt: key binding invalid")
	// ErrSDHash: the Key Binding JWT's sd_hash is not the digest of the
	// presented SD-JWT.
	ErrSDHash = errors.New("sdjwt: sd_hash mismatch")
	// ErrExpired: exp, nbf or iat put the credential or the Key Binding JWT
	// outside its validity window.
	ErrExpired = errors.New("sdjwt: outside validity window")
	// ErrNonce: the Key Binding JWT's nonce is not the expected one.
	ErrNonce = errors.New("sdjwt: nonce mismatch")
	// ErrAudience: the Key Binding JWT's aud is not the expected verifier.
	ErrAudience = errors.New("sdjwt: audience mismatch")
)

func errorf(sentinel error, format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{sentinel}, args...)...)
}

// HashAlgorithm is the only _sd_alg value accepted, issued and assumed when
// the claim is absent.
const HashAlgorithm = "sha-256"

// Reserved claim names.
const (
	claimSD    = "_sd"
	claimSDAlg = "_sd_alg"
	claimArray = "..."
)

// Limits bound every untrusted input before it is decoded.
type Limits struct {
	// MaxBytes bounds the whole SD-JWT or SD-JWT+KB (compact or JSON).
	MaxBytes int
	// MaxDisclosures bounds the number of Disclosures.
	MaxDisclosures int
	// MaxDisclosureBytes bounds each encoded Disclosure.
	MaxDisclosureBytes int
	// MaxDepth bounds JSON nesting, including nesting reached through
	// recursive Disclosures.
	MaxDepth int
}

// DefaultLimits are generous for credentials and small for an attacker.
var DefaultLimits = Limits{MaxBytes: 256 << 10, MaxDisclosures: 512, MaxDisclosureBytes: 16 << 10, MaxDepth: 32}

func (l Limits) valid() error {
	if l.MaxBytes <= 0 || l.MaxDisclosures <= 0 || l.MaxDisclosureBytes <= 0 || l.MaxDepth <= 0 {
		return errors.New("sdjwt: every limit must be positive")
	}
	return nil
}

// Disclosure is one decoded Disclosure. Encoded is kept exactly as
// received: its digest is over these bytes, never over a re-encoding.
type Disclosure struct {
	Encoded string
	Digest  string
	Salt    string
	// Name is the claim name of an object property; empty for an array
	// element (see IsArrayElement).
	Name           string
	IsArrayElement bool
	// Value is the decoded claim value (numbers as json.Number).
	Value any
}

// Digest returns the base64url sha-256 digest of an encoded Disclosure (or of
// a whole SD-JWT for sd_hash).
func Digest(encoded string) string {
	sum := sha256.Sum256([]byte(encoded))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// SDJWT is a parsed, not yet verified SD-JWT or SD-JWT+KB.
type SDJWT struct {
	// IssuerJWT is the compact issuer-signed JWT.
	IssuerJWT   string
	Disclosures []Disclosure
	// KeyBinding is the compact Key Binding JWT, empty for a plain SD-JWT.
	KeyBinding string
}

// String returns the compact serialization.
func (s *SDJWT) String() string { return s.hashInput() + s.KeyBinding }

// hashInput is the SD-JWT without Key Binding JWT, the input of sd_hash.
func (s *SDJWT) hashInput() string {
	var b strings.Builder
	b.WriteString(s.IssuerJWT)
	b.WriteByte('~')
	for _, d := range s.Disclosures {
		b.WriteString(d.Encoded)
		b.WriteByte('~')
	}
	return b.String()
}

// Parse splits a compact SD-JWT or SD-JWT+KB and decodes its Disclosures.
// It verifies nothing.
func Parse(compact string, limits Limits) (*SDJWT, error) {
	if err := limits.valid(); err != nil {
		return nil, err
	}
	if len(compact) > limits.MaxBytes {
		return nil, errorf(ErrTooLarge, "%d bytes, limit %d", len(compact), limits.MaxBytes)
	}
	parts := strings.Split(compact, "~")
	if len(parts) < 2 {
		return nil, errorf(ErrMalformed, "no '~' after the issuer-signed JWT")
	}
	if n := len(parts) - 2; n > limits.MaxDisclosures {
		return nil, errorf(ErrTooLarge, "%d disclosures, limit %d", n, limits.MaxDisclosures)
	}
	s := &SDJWT{IssuerJWT: parts[0], KeyBinding: parts[len(parts)-1]}
	if err := checkCompactJWT(s.IssuerJWT); err != nil {
		return nil, fmt.Errorf("%w (issuer-signed JWT)", err)
	}
	if s.KeyBinding != "" {
		if err := checkCompactJWT(s.KeyBinding); err != nil {
			return nil, fmt.Errorf("%w (key binding JWT)", err)
		}
	}
	var err error
	if s.Disclosures, err = decodeDisclosures(parts[1:len(parts)-1], limits); err != nil {
		return nil, err
	}
	return s, nil
}

// jsonSerialized is the JWS JSON serialization (flattened or general) of
// RFC 9901 section 8.
type jsonSerialized struct {
	Payload    *string         `json:"payload"`
	Protected  *string         `json:"protected"`
	Signature  *string         `json:"signature"`
	Header     json.RawMessage `json:"header"`
	Signatures []struct {
		Protected *string         `json:"protected"`
		Signature *string         `json:"signature"`
		Header    json.RawMessage `json:"header"`
	} `json:"signatures"`
}

type unprotected struct {
	Disclosures []string `json:"disclosures"`
	KBJWT       *string  `json:"kb_jwt"`
}

// ParseJSON parses the flattened or general JWS JSON serialization. For the
// general form the first signature is the one used (it alone may carry
// disclosures and kb_jwt); the others are not verified by this package.
func ParseJSON(data []byte, limits Limits) (*SDJWT, error) {
	if err := limits.valid(); err != nil {
		return nil, err
	}
	if len(data) > limits.MaxBytes {
		return nil, errorf(ErrTooLarge, "%d bytes, limit %d", len(data), limits.MaxBytes)
	}
	if _, err := decodeStrict(data, limits.MaxDepth); err != nil {
		return nil, err
	}
	var js jsonSerialized
	if err := json.Unmarshal(data, &js); err != nil {
		return nil, errorf(ErrMalformed, "JWS JSON serialization: %v", err)
	}
	protected, signature, header := js.Protected, js.Signature, js.Header
	if js.Signatures != nil {
		if protected != nil || signature != nil || header != nil || len(js.Signatures) == 0 {
			return nil, errorf(ErrMalformed, "JWS JSON serialization mixes flattened and general forms")
		}
		first := js.Signatures[0]
		protected, signature, header = first.Protected, first.Signature, first.Header
		for _, other := range js.Signatures[1:] {
			var h unprotected
			if other.Header != nil {
				if err := json.Unmarshal(other.Header, &h); err != nil {
					return nil, errorf(ErrMalformed, "unprotected header: %v", err)
				}
			}
			if h.Disclosures != nil || h.KBJWT != nil {
				return nil, errorf(ErrMalformed, "disclosures or kb_jwt outside the first unprotected header")
			}
		}
	}
	if js.Payload == nil || protected == nil || signature == nil {
		return nil, errorf(ErrMalformed, "JWS JSON serialization lacks payload, protected or signature")
	}
	var h unprotected
	if header != nil {
		if err := json.Unmarshal(header, &h); err != nil {
			return nil, errorf(ErrMalformed, "unprotected header: %v", err)
		}
	}
	if len(h.Disclosures) > limits.MaxDisclosures {
		return nil, errorf(ErrTooLarge, "%d disclosures, limit %d", len(h.Disclosures), limits.MaxDisclosures)
	}
	// The compact form is rebuilt because sd_hash is defined over it.
	s := &SDJWT{IssuerJWT: *protected + "." + *js.Payload + "." + *signature}
	if err := checkCompactJWT(s.IssuerJWT); err != nil {
		return nil, fmt.Errorf("%w (issuer-signed JWT)", err)
	}
	if h.KBJWT != nil {
		if err := checkCompactJWT(*h.KBJWT); err != nil {
			return nil, fmt.Errorf("%w (key binding JWT)", err)
		}
		s.KeyBinding = *h.KBJWT
	}
	var err error
	if s.Disclosures, err = decodeDisclosures(h.Disclosures, limits); err != nil {
		return nil, err
	}
	return s, nil
}

// checkCompactJWT checks the shape header.payload.signature in base64url.
func checkCompactJWT(s string) error {
	segs := strings.Split(s, ".")
	if len(segs) != 3 {
		return errorf(ErrMalformed, "a JWT has 3 segments, got %d", len(segs))
	}
	for i, seg := range segs {
		if seg == "" && i != 2 {
			return errorf(ErrMalformed, "empty JWT segment")
		}
		if !isBase64URL(seg) {
			return errorf(ErrMalformed, "JWT segment is not base64url")
		}
	}
	return nil
}

func isBase64URL(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

func decodeDisclosures(encoded []string, limits Limits) ([]Disclosure, error) {
	out := make([]Disclosure, 0, len(encoded))
	seen := make(map[string]bool, len(encoded))
	for i, e := range encoded {
		d, err := DecodeDisclosure(e, limits)
		if err != nil {
			return nil, fmt.Errorf("%w (disclosure %d)", err, i)
		}
		if seen[d.Digest] {
			return nil, errorf(ErrDisclosure, "disclosure given twice: %s", d.Digest)
		}
		seen[d.Digest] = true
		out = append(out, d)
	}
	return out, nil
}

// DecodeDisclosure decodes one encoded Disclosure: a base64url JSON array
// of [salt, name, value] or [salt, value].
func DecodeDisclosure(encoded string, limits Limits) (Disclosure, error) {
	if len(encoded) > limits.MaxDisclosureBytes {
		return Disclosure{}, errorf(ErrTooLarge, "disclosure of %d bytes, limit %d", len(encoded), limits.MaxDisclosureBytes)
	}
	if encoded == "" {
		return Disclosure{}, errorf(ErrMalformed, "empty disclosure")
	}
	raw, err := base64.RawURLEncoding.Strict().DecodeString(encoded)
	if err != nil || !isBase64URL(encoded) {
		return Disclosure{}, errorf(ErrMalformed, "disclosure is not base64url")
	}
	v, err := decodeStrict(raw, limits.MaxDepth)
	if err != nil {
		return Disclosure{}, err
	}
	arr, ok := v.([]any)
	if !ok {
		return Disclosure{}, errorf(ErrMalformed, "disclosure is not a JSON array")
	}
	d := Disclosure{Encoded: encoded, Digest: Digest(encoded)}
	switch len(arr) {
	case 2:
		d.IsArrayElement, d.Value = true, arr[1]
	case 3:
		name, ok := arr[1].(string)
		if !ok {
			return Disclosure{}, errorf(ErrMalformed, "disclosure claim name is not a string")
		}
		if name == claimSD || name == claimArray || name == claimSDAlg {
			return Disclosure{}, errorf(ErrDisclosure, "disclosure claims the reserved name %q", name)
		}
		d.Name, d.Value = name, arr[2]
	default:
		return Disclosure{}, errorf(ErrMalformed, "disclosure array has %d elements, want 2 or 3", len(arr))
	}
	if d.Salt, ok = arr[0].(string); !ok {
		return Disclosure{}, errorf(ErrMalformed, "disclosure salt is not a string")
	}
	return d, nil
}

// decodeStrict decodes one JSON value, refusing duplicate member names,
// trailing data and nesting deeper than maxDepth. Numbers stay json.Number
// so that they survive processing unchanged.
func decodeStrict(data []byte, maxDepth int) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	v, err := decodeValue(dec, maxDepth)
	if err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errorf(ErrMalformed, "trailing data after JSON value")
	}
	return v, nil
}

func decodeValue(dec *json.Decoder, depth int) (any, error) {
	tok, err := dec.Token()
	if err != nil {
		return nil, errorf(ErrMalformed, "invalid JSON")
	}
	delim, ok := tok.(json.Delim)
	if !ok {
		return tok, nil
	}
	if depth <= 0 {
		return nil, errorf(ErrTooLarge, "JSON nested too deeply")
	}
	switch delim {
	case '{':
		obj := map[string]any{}
		for dec.More() {
			kt, err := dec.Token()
			if err != nil {
				return nil, errorf(ErrMalformed, "invalid JSON")
			}
			key := kt.(string) // the decoder only yields string keys here
			if _, dup := obj[key]; dup {
				return nil, errorf(ErrMalformed, "duplicate JSON member %q", key)
			}
			if obj[key], err = decodeValue(dec, depth-1); err != nil {
				return nil, err
			}
		}
		_, err = dec.Token()
		return obj, wrapJSON(err)
	case '[':
		arr := []any{}
		for dec.More() {
			v, err := decodeValue(dec, depth-1)
			if err != nil {
				return nil, err
			}
			arr = append(arr, v)
		}
		_, err = dec.Token()
		return arr, wrapJSON(err)
	}
	return nil, errorf(ErrMalformed, "invalid JSON")
}

func wrapJSON(err error) error {
	if err != nil {
		return errorf(ErrMalformed, "invalid JSON")
	}
	return nil
}
