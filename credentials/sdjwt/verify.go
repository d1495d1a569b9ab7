package sdjwt

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/go-jose/go-jose/v4"
)

// SupportedAlgorithms are the only JWS algorithms this package signs or
// verifies with. none and every HMAC algorithm are absent on purpose.
var SupportedAlgorithms = []jose.SignatureAlgorithm{jose.EdDSA, jose.ES256, jose.ES384}

// TypeKeyBinding is the typ of every Key Binding JWT.
const TypeKeyBinding = "kb+jwt"

// Verifier checks SD-JWTs from one issuer key.
type Verifier struct {
	issuerKey  crypto.PublicKey
	typ        string
	algs       []jose.SignatureAlgorithm
	limits     Limits
	keyBinding bool
}

// Option configures a Verifier.
type Option func(*Verifier)

// WithAlgorithms narrows the accepted algorithms to a subset of
// SupportedAlgorithms.
func WithAlgorithms(algs ...jose.SignatureAlgorithm) Option {
	return func(v *Verifier) { v.algs = algs }
}

// WithLimits replaces DefaultLimits.
func WithLimits(l Limits) Option { return func(v *Verifier) { v.limits = l } }

// InsecureSkipKeyBinding accepts a plain SD-JWT without a Key Binding JWT,
// so a presentation captured in transit can be replayed. A Key Binding JWT
// that is present is still verified. Use it only to read what an issuer
// sent; never to authorize a request.
func InsecureSkipKeyBinding() Option { return func(v *Verifier) { v.keyBinding = false } }

// NewVerifier returns a Verifier for SD-JWTs signed by issuerKey (an
// ed25519.PublicKey or *ecdsa.PublicKey) whose issuer-signed JWT has the
// explicit type typ (for example "vc+sd-jwt"). Key binding is required
// unless InsecureSkipKeyBinding is given.
func NewVerifier(issuerKey crypto.PublicKey, typ string, opts ...Option) (*Verifier, error) {
	v := &Verifier{issuerKey: issuerKey, typ: typ, algs: SupportedAlgorithms, limits: DefaultLimits, keyBinding: true}
	for _, o := range opts {
		o(v)
	}
	if typ == "" || typ == TypeKeyBinding {
		return nil, fmt.Errorf("sdjwt: issuer JWT typ %q is not usable", typ)
	}
	if err := v.limits.valid(); err != nil {
		return nil, err
	}
	if len(v.algs) == 0 {
		return nil, errors.New("sdjwt: no accepted algorithm")
	}
	for _, a := range v.algs {
		if !supported(a) {
			return nil, errorf(ErrAlgorithm, "%s is not supported", a)
		}
	}
	if _, err := keyAlgorithms(issuerKey); err != nil {
		return nil, fmt.Errorf("%w (issuer key)", err)
	}
	return v, nil
}

// Verified is the outcome of a successful Verify: signatures, digests and
// sd_hash hold. It is not yet validated (see Validate).
type Verified struct {
	// Header is the issuer-signed JWT's protected header.
	Header map[string]any
	// Payload is the issuer-signed JWT's payload as signed, digests
	// included (for profiles that restrict where digests may appear).
	Payload map[string]any
	// Claims is the Processed SD-JWT Payload.
	Claims map[string]any
	// Disclosures are the presented Disclosures, all of them used.
	Disclosures []Disclosure
	// KeyBinding is nil when no Key Binding JWT was presented.
	KeyBinding *KeyBinding

	keyBindingRequired bool
}

// KeyBinding holds the claims of a verified Key Binding JWT.
type KeyBinding struct {
	Nonce    string
	Audience string
	IssuedAt time.Time
	SDHash   string
	// Claims are all claims, including the four above.
	Claims map[string]any
}

// Verify parses and verifies a compact SD-JWT or SD-JWT+KB.
func (v *Verifier) Verify(compact string) (*Verified, error) {
	s, err := Parse(compact, v.limits)
	if err != nil {
		return nil, err
	}
	return v.VerifyParsed(s)
}

// VerifyParsed verifies an SD-JWT returned by Parse or ParseJSON: RFC 9901
// section 7.1 and, for the Key Binding JWT, section 7.3 steps 5.1-5.4 and
// 5.7. Time, nonce and audience are left to Validate.
func (v *Verifier) VerifyParsed(s *SDJWT) (*Verified, error) {
	// s may have been built by hand: its shape and digests are rechecked
	// rather than trusted.
	if err := checkCompactJWT(s.IssuerJWT); err != nil {
		return nil, fmt.Errorf("%w (issuer-signed JWT)", err)
	}
	if s.KeyBinding != "" {
		if err := checkCompactJWT(s.KeyBinding); err != nil {
			return nil, fmt.Errorf("%w (key binding JWT)", err)
		}
	}
	if len(s.Disclosures) > v.limits.MaxDisclosures {
		return nil, errorf(ErrTooLarge, "%d disclosures, limit %d", len(s.Disclosures), v.limits.MaxDisclosures)
	}
	encoded := make([]string, len(s.Disclosures))
	for i, d := range s.Disclosures {
		encoded[i] = d.Encoded
	}
	disclosures, err := decodeDisclosures(encoded, v.limits)
	if err != nil {
		return nil, err
	}
	s = &SDJWT{IssuerJWT: s.IssuerJWT, Disclosures: disclosures, KeyBinding: s.KeyBinding}
	header, payload, err := v.verifyJWS(s.IssuerJWT, v.issuerKey, v.typ)
	if err != nil {
		return nil, err
	}
	claims, ok := payload.(map[string]any)
	if !ok {
		return nil, errorf(ErrMalformed, "issuer-signed JWT payload is not a JSON object")
	}
	if alg, present := claims[claimSDAlg]; present && alg != HashAlgorithm {
		return nil, errorf(ErrAlgorithm, "_sd_alg %v, only %s is accepted", alg, HashAlgorithm)
	}
	processed, err := process(claims, s.Disclosures, v.limits.MaxDepth)
	if err != nil {
		return nil, err
	}
	out := &Verified{Header: header, Payload: claims, Claims: processed, Disclosures: s.Disclosures, keyBindingRequired: v.keyBinding}
	if s.KeyBinding == "" {
		if v.keyBinding {
			return nil, errorf(ErrKeyBindingMissing, "no key binding JWT presented")
		}
		return out, nil
	}
	if out.KeyBinding, err = v.verifyKeyBinding(s, processed); err != nil {
		return nil, err
	}
	return out, nil
}

// VerifyIssued is the Holder's check of an SD-JWT received from the issuer
// (RFC 9901 section 7.2): it must not carry a Key Binding JWT.
func (v *Verifier) VerifyIssued(compact string) (*Verified, error) {
	s, err := Parse(compact, v.limits)
	if err != nil {
		return nil, err
	}
	if s.KeyBinding != "" {
		return nil, errorf(ErrMalformed, "an issued SD-JWT carries no key binding JWT")
	}
	w := *v
	w.keyBinding = false
	return w.VerifyParsed(s)
}

func (v *Verifier) verifyKeyBinding(s *SDJWT, claims map[string]any) (*KeyBinding, error) {
	holderKey, err := confirmationKey(claims)
	if err != nil {
		return nil, err
	}
	_, payload, err := v.verifyJWS(s.KeyBinding, holderKey, TypeKeyBinding)
	if err != nil {
		return nil, fmt.Errorf("%w (key binding JWT)", err)
	}
	kbClaims, ok := payload.(map[string]any)
	if !ok {
		return nil, errorf(ErrKeyBinding, "payload is not a JSON object")
	}
	kb := &KeyBinding{Claims: kbClaims}
	for name, dst := range map[string]*string{"nonce": &kb.Nonce, "aud": &kb.Audience, "sd_hash": &kb.SDHash} {
		str, ok := kbClaims[name].(string)
		if !ok || str == "" {
			return nil, errorf(ErrKeyBinding, "%s must be a non-empty string", name)
		}
		*dst = str
	}
	if kb.IssuedAt, err = numericDate(kbClaims, "iat", true); err != nil {
		return nil, errorf(ErrKeyBinding, "%v", err)
	}
	want := Digest(s.hashInput())
	if subtle.ConstantTimeCompare([]byte(want), []byte(kb.SDHash)) != 1 {
		return nil, errorf(ErrSDHash, "key binding JWT is bound to another SD-JWT")
	}
	return kb, nil
}

// confirmationKey returns the holder key of the cnf jwk claim.
func confirmationKey(claims map[string]any) (crypto.PublicKey, error) {
	cnf, ok := claims["cnf"].(map[string]any)
	if !ok {
		return nil, errorf(ErrKeyBindingMissing, "no cnf claim")
	}
	raw, ok := cnf["jwk"].(map[string]any)
	if !ok {
		return nil, errorf(ErrKeyBindingMissing, "cnf has no jwk")
	}
	b, err := json.Marshal(raw)
	if err != nil {
		return nil, errorf(ErrKeyBinding, "cnf jwk: %v", err)
	}
	var jwk jose.JSONWebKey
	if err := jwk.UnmarshalJSON(b); err != nil || !jwk.Valid() {
		return nil, errorf(ErrKeyBinding, "cnf jwk is not a valid key")
	}
	if !jwk.IsPublic() {
		return nil, errorf(ErrKeyBinding, "cnf jwk is not a public key")
	}
	if _, err := keyAlgorithms(jwk.Key); err != nil {
		return nil, fmt.Errorf("%w (cnf jwk)", err)
	}
	return jwk.Key, nil
}

// verifyJWS checks the header's alg against the accepted list and the key's
// type before the key is used, then the signature, then typ.
func (v *Verifier) verifyJWS(compact string, key crypto.PublicKey, typ string) (map[string]any, any, error) {
	header, err := decodeSegment(compact[:indexDot(compact)], v.limits.MaxDepth)
	if err != nil {
		return nil, nil, err
	}
	h, ok := header.(map[string]any)
	if !ok {
		return nil, nil, errorf(ErrMalformed, "JOSE header is not a JSON object")
	}
	alg, _ := h["alg"].(string)
	if !v.accepts(jose.SignatureAlgorithm(alg)) {
		return nil, nil, errorf(ErrAlgorithm, "%q", alg)
	}
	keyAlgs, err := keyAlgorithms(key)
	if err != nil {
		return nil, nil, err
	}
	if !contains(keyAlgs, jose.SignatureAlgorithm(alg)) {
		return nil, nil, errorf(ErrAlgorithm, "%s does not match the key", alg)
	}
	if _, crit := h["crit"]; crit {
		return nil, nil, errorf(ErrMalformed, "crit header parameters are not understood")
	}
	jws, err := jose.ParseSignedCompact(compact, []jose.SignatureAlgorithm{jose.SignatureAlgorithm(alg)})
	if err != nil {
		return nil, nil, errorf(ErrMalformed, "JWS: %v", err)
	}
	raw, err := jws.Verify(key)
	if err != nil {
		return nil, nil, errorf(ErrSignature, "%s signature does not verify", alg)
	}
	if got, _ := h["typ"].(string); got != typ {
		return nil, nil, errorf(ErrMalformed, "typ %q, want %q", got, typ)
	}
	payload, err := decodeStrict(raw, v.limits.MaxDepth)
	if err != nil {
		return nil, nil, err
	}
	return h, payload, nil
}

func indexDot(s string) int {
	for i := 0; i < len(s); i++ {
		if s[i] == '.' {
			return i
		}
	}
	return len(s)
}

func decodeSegment(seg string, maxDepth int) (any, error) {
	raw, err := base64.RawURLEncoding.DecodeString(seg)
	if err != nil {
		return nil, errorf(ErrMalformed, "JOSE header is not base64url")
	}
	return decodeStrict(raw, maxDepth)
}

func (v *Verifier) accepts(alg jose.SignatureAlgorithm) bool {
	return supported(alg) && contains(v.algs, alg)
}

func supported(alg jose.SignatureAlgorithm) bool { return contains(SupportedAlgorithms, alg) }

func contains(list []jose.SignatureAlgorithm, alg jose.SignatureAlgorithm) bool {
	for _, a := range list {
		if a == alg {
			return true
		}
	}
	return false
}

// keyAlgorithms returns the algorithms a public key may verify.
func keyAlgorithms(key crypto.PublicKey) ([]jose.SignatureAlgorithm, error) {
	switch k := key.(type) {
	case ed25519.PublicKey:
		if len(k) == ed25519.PublicKeySize {
			return []jose.SignatureAlgorithm{jose.EdDSA}, nil
		}
	case *ecdsa.PublicKey:
		switch k.Curve {
		case elliptic.P256():
			return []jose.SignatureAlgorithm{jose.ES256}, nil
		case elliptic.P384():
			return []jose.SignatureAlgorithm{jose.ES384}, nil
		}
	}
	return nil, errorf(ErrAlgorithm, "key type %T is not accepted", key)
}

// process turns the issuer-signed payload into the Processed SD-JWT Payload
// (RFC 9901 section 7.1 step 3 to 5).
func process(payload map[string]any, disclosures []Disclosure, maxDepth int) (map[string]any, error) {
	p := &processor{byDigest: make(map[string]*Disclosure, len(disclosures)), seen: map[string]bool{}, maxDepth: maxDepth}
	for i := range disclosures {
		p.byDigest[disclosures[i].Digest] = &disclosures[i]
	}
	top := make(map[string]any, len(payload))
	for k, v := range payload {
		if k != claimSDAlg {
			top[k] = v
		}
	}
	out, err := p.object(top, 0)
	if err != nil {
		return nil, err
	}
	for _, d := range disclosures {
		if !p.used[d.Digest] {
			return nil, errorf(ErrDisclosure, "disclosure %s is referenced by no digest", d.Digest)
		}
	}
	return out, nil
}

type processor struct {
	byDigest map[string]*Disclosure
	seen     map[string]bool
	used     map[string]bool
	maxDepth int
}

func (p *processor) value(v any, depth int) (any, error) {
	if depth > p.maxDepth {
		return nil, errorf(ErrTooLarge, "claims nested too deeply")
	}
	switch t := v.(type) {
	case map[string]any:
		return p.object(t, depth)
	case []any:
		return p.array(t, depth)
	}
	return v, nil
}

func (p *processor) object(obj map[string]any, depth int) (map[string]any, error) {
	out := make(map[string]any, len(obj))
	for k, v := range obj {
		switch k {
		case claimSD:
			continue
		case claimArray:
			return nil, errorf(ErrDisclosure, "%q is a key only of an array element digest", claimArray)
		case claimSDAlg:
			return nil, errorf(ErrDisclosure, "_sd_alg is allowed only at the top level")
		}
		pv, err := p.value(v, depth+1)
		if err != nil {
			return nil, err
		}
		out[k] = pv
	}
	sd, present := obj[claimSD]
	if !present {
		return out, nil
	}
	digests, ok := sd.([]any)
	if !ok {
		return nil, errorf(ErrDisclosure, "_sd is not an array")
	}
	for _, e := range digests {
		digest, ok := e.(string)
		if !ok {
			return nil, errorf(ErrDisclosure, "_sd holds a non-string")
		}
		d, err := p.claim(digest)
		if err != nil {
			return nil, err
		}
		if d == nil {
			continue // undisclosed or decoy
		}
		if d.IsArrayElement {
			return nil, errorf(ErrDisclosure, "array element disclosure %s referenced from _sd", digest)
		}
		if _, exists := out[d.Name]; exists {
			return nil, errorf(ErrDisclosure, "disclosed claim %q already exists", d.Name)
		}
		if out[d.Name], err = p.value(d.Value, depth+1); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func (p *processor) array(arr []any, depth int) ([]any, error) {
	out := make([]any, 0, len(arr))
	for _, e := range arr {
		if digest, ok := arrayDigest(e); ok {
			d, err := p.claim(digest)
			if err != nil {
				return nil, err
			}
			if d == nil {
				continue // undisclosed or decoy: the element is removed
			}
			if !d.IsArrayElement {
				return nil, errorf(ErrDisclosure, "object property disclosure %s referenced from an array", digest)
			}
			e = d.Value
		}
		pv, err := p.value(e, depth+1)
		if err != nil {
			return nil, err
		}
		out = append(out, pv)
	}
	return out, nil
}

// claim records one embedded digest and returns its Disclosure, or nil when
// none was presented (a decoy or an undisclosed claim).
func (p *processor) claim(digest string) (*Disclosure, error) {
	if p.seen[digest] {
		return nil, errorf(ErrDisclosure, "digest %s appears more than once", digest)
	}
	p.seen[digest] = true
	d := p.byDigest[digest]
	if d != nil {
		if p.used == nil {
			p.used = map[string]bool{}
		}
		p.used[digest] = true
	}
	return d, nil
}

func arrayDigest(e any) (string, bool) {
	obj, ok := e.(map[string]any)
	if !ok || len(obj) != 1 {
		return "", false
	}
	digest, ok := obj[claimArray].(string)
	return digest, ok
}

// Validation is what a presentation must match; it is checked by Validate
// against a clock the caller passes in.
type Validation struct {
	// Nonce and Audience are the verifier's challenge; both are required
	// when key binding is.
	Nonce    string
	Audience string
	// MaxAge bounds how old the Key Binding JWT's iat may be. Required
	// when key binding is.
	MaxAge time.Duration
	// Skew tolerates clocks ahead of ours (iat, nbf) and behind (exp).
	Skew time.Duration
}

// Validate checks exp and nbf of the processed payload, and the Key Binding
// JWT's iat window, nonce and audience (RFC 9901 section 7.1 step 6 and 7.3
// steps 5.5-5.6), at time now.
func (r *Verified) Validate(now time.Time, want Validation) error {
	if want.Skew < 0 || want.MaxAge < 0 {
		return errors.New("sdjwt: negative skew or max age")
	}
	if exp, err := numericDate(r.Claims, "exp", false); err != nil {
		return errorf(ErrMalformed, "%v", err)
	} else if !exp.IsZero() && !now.Before(exp.Add(want.Skew)) {
		return errorf(ErrExpired, "expired at %s", exp.UTC().Format(time.RFC3339))
	}
	if nbf, err := numericDate(r.Claims, "nbf", false); err != nil {
		return errorf(ErrMalformed, "%v", err)
	} else if !nbf.IsZero() && now.Add(want.Skew).Before(nbf) {
		return errorf(ErrExpired, "not valid before %s", nbf.UTC().Format(time.RFC3339))
	}
	kb := r.KeyBinding
	if kb == nil {
		if r.keyBindingRequired {
			return errorf(ErrKeyBindingMissing, "no key binding JWT presented")
		}
		return nil
	}
	if want.Nonce == "" || want.Audience == "" || want.MaxAge == 0 {
		return errors.New("sdjwt: validation needs a nonce, an audience and a max age")
	}
	if exp, err := numericDate(kb.Claims, "exp", false); err != nil {
		return errorf(ErrKeyBinding, "%v", err)
	} else if !exp.IsZero() && !now.Before(exp.Add(want.Skew)) {
		return errorf(ErrExpired, "key binding JWT expired at %s", exp.UTC().Format(time.RFC3339))
	}
	if kb.IssuedAt.After(now.Add(want.Skew)) {
		return errorf(ErrExpired, "key binding JWT issued in the future")
	}
	if now.Sub(kb.IssuedAt) > want.MaxAge {
		return errorf(ErrExpired, "key binding JWT older than %s", want.MaxAge)
	}
	if subtle.ConstantTimeCompare([]byte(kb.Nonce), []byte(want.Nonce)) != 1 {
		return errorf(ErrNonce, "key binding JWT answers another challenge")
	}
	if kb.Audience != want.Audience {
		return errorf(ErrAudience, "key binding JWT is for %q", kb.Audience)
	}
	return nil
}

// numericDate reads a JWT NumericDate claim; zero time when absent and not
// required.
func numericDate(claims map[string]any, name string, required bool) (time.Time, error) {
	v, present := claims[name]
	if !present {
		if required {
			return time.Time{}, fmt.Errorf("%s is required", name)
		}
		return time.Time{}, nil
	}
	n, ok := v.(json.Number)
	if !ok {
		return time.Time{}, fmt.Errorf("%s is not a number", name)
	}
	f, err := n.Float64()
	if err != nil || f < 0 || f > math.MaxInt32*8 || math.IsNaN(f) {
		return time.Time{}, fmt.Errorf("%s is out of range", name)
	}
	sec, frac := math.Modf(f)
	return time.Unix(int64(sec), int64(frac*1e9)), nil
}
