package sdjwt

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"sort"
	"time"

	"github.com/go-jose/go-jose/v4"
)

// Disclosable marks a claim value (an object property's value or an array
// element) as selectively disclosable in the claims given to Issuer.Issue.
// Values may nest Disclosable values: that yields recursive Disclosures.
type Disclosable struct{ Value any }

// Issuer signs SD-JWTs.
type Issuer struct {
	signer jose.Signer
	alg    jose.SignatureAlgorithm
	rand   io.Reader
	decoys int
}

// NewIssuer returns an Issuer signing with key (ed25519.PrivateKey,
// *ecdsa.PrivateKey, or any crypto.Signer of an Ed25519 key) and alg, which must be in SupportedAlgorithms and match
// the key. typ is the explicit type of the issuer-signed JWT. random is the
// source of salts and decoys (crypto/rand.Reader outside tests). decoys is
// the number of decoy digests added to every _sd array and to every array
// with a disclosable element.
func NewIssuer(key crypto.Signer, alg jose.SignatureAlgorithm, typ string, random io.Reader, decoys int) (*Issuer, error) {
	signer, err := newSigner(key, alg, typ)
	if err != nil {
		return nil, err
	}
	if random == nil || decoys < 0 {
		return nil, errors.New("sdjwt: issuer needs a randomness source and a non-negative decoy count")
	}
	return &Issuer{signer: signer, alg: alg, rand: random, decoys: decoys}, nil
}

func newSigner(key crypto.Signer, alg jose.SignatureAlgorithm, typ string) (jose.Signer, error) {
	if key == nil {
		return nil, errors.New("sdjwt: no signing key")
	}
	algs, err := keyAlgorithms(key.Public())
	if err != nil {
		return nil, err
	}
	if !supported(alg) || !contains(algs, alg) {
		return nil, errorf(ErrAlgorithm, "%s with key type %T", alg, key)
	}
	if typ == "" {
		return nil, errors.New("sdjwt: no typ")
	}
	var signingKey any = key
	switch key.(type) {
	case ed25519.PrivateKey, *ecdsa.PrivateKey:
	default:
		// A key held elsewhere (a wallet's KMS): Ed25519 only, since its
		// signature needs no re-encoding.
		if alg != jose.EdDSA {
			return nil, errorf(ErrAlgorithm, "signing key type %T is not accepted", key)
		}
		signingKey = opaqueEd25519{key}
	}
	return jose.NewSigner(jose.SigningKey{Algorithm: alg, Key: signingKey}, (&jose.SignerOptions{}).WithType(jose.ContentType(typ)))
}

// opaqueEd25519 lets go-jose sign with any crypto.Signer over an Ed25519
// key.
type opaqueEd25519 struct{ crypto.Signer }

func (o opaqueEd25519) Public() *jose.JSONWebKey {
	return &jose.JSONWebKey{Key: o.Signer.Public(), Algorithm: string(jose.EdDSA)}
}

func (o opaqueEd25519) Algs() []jose.SignatureAlgorithm { return []jose.SignatureAlgorithm{jose.EdDSA} }

func (o opaqueEd25519) SignPayload(payload []byte, alg jose.SignatureAlgorithm) ([]byte, error) {
	if alg != jose.EdDSA {
		return nil, errorf(ErrAlgorithm, "%s", alg)
	}
	return o.Signer.Sign(nil, payload, crypto.Hash(0))
}

// Issue signs claims, replacing every Disclosable value by a digest, adds
// _sd_alg and the holder's key as cnf jwk, and returns the SD-JWT with all
// its Disclosures.
func (i *Issuer) Issue(claims map[string]any, holderKey crypto.PublicKey) (*SDJWT, error) {
	if _, err := keyAlgorithms(holderKey); err != nil {
		return nil, fmt.Errorf("%w (holder key)", err)
	}
	for _, reserved := range []string{claimSDAlg, "cnf"} {
		if _, ok := claims[reserved]; ok {
			return nil, fmt.Errorf("sdjwt: claim %q is set by the issuer", reserved)
		}
	}
	var disclosures []Disclosure
	payload, err := i.object(claims, &disclosures)
	if err != nil {
		return nil, err
	}
	payload[claimSDAlg] = HashAlgorithm
	payload["cnf"] = map[string]any{"jwk": jose.JSONWebKey{Key: holderKey}}
	body, err := marshal(payload)
	if err != nil {
		return nil, err
	}
	jws, err := i.signer.Sign(body)
	if err != nil {
		return nil, fmt.Errorf("sdjwt: signing: %w", err)
	}
	compact, err := jws.CompactSerialize()
	if err != nil {
		return nil, fmt.Errorf("sdjwt: signing: %w", err)
	}
	return &SDJWT{IssuerJWT: compact, Disclosures: disclosures}, nil
}

func (i *Issuer) object(obj map[string]any, out *[]Disclosure) (map[string]any, error) {
	res := make(map[string]any, len(obj))
	var digests []string
	for k, v := range obj {
		if k == claimSD || k == claimArray || k == claimSDAlg {
			return nil, fmt.Errorf("sdjwt: claim name %q is reserved", k)
		}
		sd, disclosable := v.(Disclosable)
		if disclosable {
			v = sd.Value
		}
		pv, err := i.value(v, out)
		if err != nil {
			return nil, err
		}
		if !disclosable {
			res[k] = pv
			continue
		}
		d, err := i.disclose(out, k, pv, false)
		if err != nil {
			return nil, err
		}
		digests = append(digests, d)
	}
	if len(digests) == 0 {
		return res, nil
	}
	for n := 0; n < i.decoys; n++ {
		d, err := i.decoy()
		if err != nil {
			return nil, err
		}
		digests = append(digests, d)
	}
	// Sorted, so the order of digests says nothing of the order of claims.
	sort.Strings(digests)
	list := make([]any, len(digests))
	for n, d := range digests {
		list[n] = d
	}
	res[claimSD] = list
	return res, nil
}

func (i *Issuer) value(v any, out *[]Disclosure) (any, error) {
	switch t := v.(type) {
	case map[string]any:
		return i.object(t, out)
	case []any:
		res := make([]any, 0, len(t))
		hidden := false
		for _, e := range t {
			sd, disclosable := e.(Disclosable)
			if disclosable {
				e = sd.Value
			}
			pv, err := i.value(e, out)
			if err != nil {
				return nil, err
			}
			if disclosable {
				d, err := i.disclose(out, "", pv, true)
				if err != nil {
					return nil, err
				}
				pv, hidden = map[string]any{claimArray: d}, true
			}
			res = append(res, pv)
		}
		if hidden {
			for n := 0; n < i.decoys; n++ {
				d, err := i.decoy()
				if err != nil {
					return nil, err
				}
				at, err := i.intn(len(res) + 1)
				if err != nil {
					return nil, err
				}
				res = append(res[:at], append([]any{map[string]any{claimArray: d}}, res[at:]...)...)
			}
		}
		return res, nil
	case Disclosable:
		return nil, errors.New("sdjwt: a Disclosable must be an object property or an array element")
	}
	return v, nil
}

// disclose creates one Disclosure and returns its digest.
func (i *Issuer) disclose(out *[]Disclosure, name string, value any, isElement bool) (string, error) {
	salt, err := i.salt()
	if err != nil {
		return "", err
	}
	elements := []any{salt, name, value}
	if isElement {
		elements = []any{salt, value}
	}
	raw, err := marshal(elements)
	if err != nil {
		return "", err
	}
	encoded := base64.RawURLEncoding.EncodeToString(raw)
	d := Disclosure{Encoded: encoded, Digest: Digest(encoded), Salt: salt, Name: name, IsArrayElement: isElement, Value: value}
	*out = append(*out, d)
	return d.Digest, nil
}

// salt is 128 random bits, the minimum RFC 9901 section 9.3 recommends.
func (i *Issuer) salt() (string, error) {
	b := make([]byte, 16)
	if _, err := io.ReadFull(i.rand, b); err != nil {
		return "", fmt.Errorf("sdjwt: randomness: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// decoy is the digest of 256 random bits, as a real digest would look.
func (i *Issuer) decoy() (string, error) {
	b := make([]byte, 32)
	if _, err := io.ReadFull(i.rand, b); err != nil {
		return "", fmt.Errorf("sdjwt: randomness: %w", err)
	}
	return Digest(base64.RawURLEncoding.EncodeToString(b)), nil
}

func (i *Issuer) intn(n int) (int, error) {
	b := make([]byte, 8)
	if _, err := io.ReadFull(i.rand, b); err != nil {
		return 0, fmt.Errorf("sdjwt: randomness: %w", err)
	}
	return int(new(big.Int).Mod(new(big.Int).SetBytes(b), big.NewInt(int64(n))).Int64()), nil
}

func marshal(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, fmt.Errorf("sdjwt: encoding claims: %w", err)
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// Holder presents SD-JWTs, signing Key Binding JWTs with the key the issuer
// put in cnf.
type Holder struct {
	signer jose.Signer
}

// NewHolder returns a Holder whose Key Binding JWTs are signed with key and
// alg (in SupportedAlgorithms, matching the key).
func NewHolder(key crypto.Signer, alg jose.SignatureAlgorithm) (*Holder, error) {
	signer, err := newSigner(key, alg, TypeKeyBinding)
	if err != nil {
		return nil, err
	}
	return &Holder{signer: signer}, nil
}

// Select returns the SD-JWT with only the Disclosures whose digests are
// given, checking that each is part of the issued SD-JWT and that each is
// reachable from the issuer-signed JWT or from another selected Disclosure
// (RFC 9901 section 7.2). The issued SD-JWT must not carry key binding.
func (s *SDJWT) Select(digests ...string) (*SDJWT, error) {
	if s.KeyBinding != "" {
		return nil, errorf(ErrMalformed, "an issued SD-JWT carries no key binding JWT")
	}
	byDigest := make(map[string]Disclosure, len(s.Disclosures))
	for _, d := range s.Disclosures {
		byDigest[d.Digest] = d
	}
	out := &SDJWT{IssuerJWT: s.IssuerJWT}
	chosen := make(map[string]bool, len(digests))
	for _, dg := range digests {
		d, ok := byDigest[dg]
		if !ok {
			return nil, errorf(ErrDisclosure, "disclosure %s is not part of the SD-JWT", dg)
		}
		if chosen[dg] {
			return nil, errorf(ErrDisclosure, "disclosure given twice: %s", dg)
		}
		chosen[dg] = true
		out.Disclosures = append(out.Disclosures, d)
	}
	// Processing the selection without a signature check finds any
	// Disclosure whose parent was left out.
	claims, err := s.InsecurePayload()
	if err != nil {
		return nil, err
	}
	if _, err := process(claims, out.Disclosures, DefaultLimits.MaxDepth); err != nil {
		return nil, err
	}
	return out, nil
}

// InsecurePayload decodes the issuer-signed JWT's payload without checking
// its signature: only to find which key to verify it with, or for a holder
// looking at what it holds. Nothing read here may be trusted before Verify.
func (s *SDJWT) InsecurePayload() (map[string]any, error) {
	if err := checkCompactJWT(s.IssuerJWT); err != nil {
		return nil, err
	}
	payload, err := decodeSegment(segment(s.IssuerJWT, 1), DefaultLimits.MaxDepth)
	if err != nil {
		return nil, err
	}
	claims, ok := payload.(map[string]any)
	if !ok {
		return nil, errorf(ErrMalformed, "issuer-signed JWT payload is not a JSON object")
	}
	return claims, nil
}

func segment(compact string, n int) string {
	start := 0
	for i := 0; i < len(compact); i++ {
		if compact[i] == '.' {
			if n == 0 {
				return compact[start:i]
			}
			n, start = n-1, i+1
		}
	}
	if n == 0 {
		return compact[start:]
	}
	return ""
}

// KeyBindingClaims are the claims of a Key Binding JWT. Extra claims (for
// example a request digest) may not reuse the four names RFC 9901 defines.
type KeyBindingClaims struct {
	Nonce    string
	Audience string
	IssuedAt time.Time
	Extra    map[string]any
}

// Present appends a Key Binding JWT to a selected SD-JWT and returns the
// compact SD-JWT+KB.
func (h *Holder) Present(selected *SDJWT, c KeyBindingClaims) (string, error) {
	if selected.KeyBinding != "" {
		return "", errorf(ErrMalformed, "SD-JWT already carries a key binding JWT")
	}
	if c.Nonce == "" || c.Audience == "" || c.IssuedAt.IsZero() {
		return "", errors.New("sdjwt: key binding needs a nonce, an audience and an issue time")
	}
	claims := make(map[string]any, len(c.Extra)+4)
	for k, v := range c.Extra {
		claims[k] = v
	}
	for k, v := range map[string]any{"nonce": c.Nonce, "aud": c.Audience, "iat": c.IssuedAt.Unix(), "sd_hash": Digest(selected.hashInput())} {
		if _, clash := claims[k]; clash {
			return "", fmt.Errorf("sdjwt: extra key binding claim %q is reserved", k)
		}
		claims[k] = v
	}
	body, err := marshal(claims)
	if err != nil {
		return "", err
	}
	jws, err := h.signer.Sign(body)
	if err != nil {
		return "", fmt.Errorf("sdjwt: signing key binding JWT: %w", err)
	}
	kb, err := jws.CompactSerialize()
	if err != nil {
		return "", fmt.Errorf("sdjwt: signing key binding JWT: %w", err)
	}
	return selected.hashInput() + kb, nil
}
