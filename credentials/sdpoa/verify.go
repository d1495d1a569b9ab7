package sdpoa

import (
	"encoding/base64"
	"errors"
	"fmt"

	"github.com/go-jose/go-jose/v4"

	"github.com/mandate-dev/mandate/credentials"
	"github.com/mandate-dev/mandate/credentials/sdjwt"
	"github.com/mandate-dev/mandate/did"
)

// ErrHidden: the issuer made selectively disclosable something that must
// always be visible (anything but a whole grant).
var ErrHidden = errors.New("sdpoa: always-visible field hidden")

// jwtClaims are the JWT-layer claims around the credential; they are checked
// against it and removed before the credential is parsed.
var jwtClaims = []string{"iss", "iat", "nbf", "exp", "cnf"}

// Verified is a verified PoA SD-JWT presentation.
type Verified struct {
	// Credential holds only the disclosed grants; Raw is the processed
	// credential (without the JWT-layer claims).
	Credential *credentials.Credential
	// SD is the SD-JWT layer: call SD.Validate for time, nonce and
	// audience.
	SD *sdjwt.Verified
	// RequestDigest is the key binding JWT's requestDigest claim, "" when
	// absent.
	RequestDigest string
}

// Verify checks a PoA SD-JWT+KB: the issuer signature with the key of the
// issuer's did:key (whether that issuer is trusted is the caller's policy),
// the Disclosures, that only whole grants were selectively disclosable,
// the key binding by the subject's own key, and the credential's shape.
// Validation (SD.Validate) is left to the caller.
func Verify(compact string, opts ...sdjwt.Option) (*Verified, error) {
	s, err := sdjwt.Parse(compact, linkLimits)
	if err != nil {
		return nil, err
	}
	issuer, err := unverifiedIssuer(s)
	if err != nil {
		return nil, err
	}
	issuerKey, err := did.ParseKey(issuer)
	if err != nil {
		return nil, fmt.Errorf("sdpoa: issuer: %w", err)
	}
	v, err := sdjwt.NewVerifier(issuerKey, Type, append([]sdjwt.Option{sdjwt.WithAlgorithms(jose.EdDSA)}, opts...)...)
	if err != nil {
		return nil, err
	}
	sd, err := v.VerifyParsed(s)
	if err != nil {
		return nil, err
	}
	if err := checkVisible(sd); err != nil {
		return nil, err
	}
	doc := make(map[string]any, len(sd.Claims))
	for k, val := range sd.Claims {
		doc[k] = val
	}
	for _, k := range jwtClaims {
		delete(doc, k)
	}
	cred, err := credentials.Parse(doc)
	if err != nil {
		return nil, err
	}
	if sd.Claims["iss"] != cred.Issuer {
		return nil, fmt.Errorf("%w: iss is not the credential's issuer", credentials.ErrMalformed)
	}
	if err := checkHolder(sd, cred); err != nil {
		return nil, err
	}
	if cred.SignedDigest, err = ParentDigest(s.IssuerJWT); err != nil {
		return nil, err
	}
	out := &Verified{Credential: cred, SD: sd}
	if sd.KeyBinding != nil {
		if rd, present := sd.KeyBinding.Claims[RequestDigestClaim]; present {
			str, ok := rd.(string)
			if !ok || str == "" {
				return nil, fmt.Errorf("%w: %s must be a non-empty string", sdjwt.ErrKeyBinding, RequestDigestClaim)
			}
			out.RequestDigest = str
		}
	}
	return out, nil
}

// unverifiedIssuer reads iss before the signature is checked, only to find
// the key to check it with; the signature then covers it.
func unverifiedIssuer(s *sdjwt.SDJWT) (string, error) {
	payload, err := s.InsecurePayload()
	if err != nil {
		return "", err
	}
	iss, ok := payload["iss"].(string)
	if !ok {
		return "", fmt.Errorf("%w: iss must be the issuer's DID", credentials.ErrMalformed)
	}
	return iss, nil
}

// checkVisible allows digests only as elements of credentialSubject.grants,
// and Disclosures only as whole grants (no digest inside a grant).
func checkVisible(sd *sdjwt.Verified) error {
	for k, v := range sd.Payload {
		if k == "_sd" {
			return fmt.Errorf("%w: top-level claims are selectively disclosable", ErrHidden)
		}
		if k == "credentialSubject" {
			sub, ok := v.(map[string]any)
			if !ok {
				return fmt.Errorf("%w: credentialSubject is not an object", credentials.ErrMalformed)
			}
			for sk, sv := range sub {
				if sk == "grants" {
					grants, ok := sv.([]any)
					if !ok {
						return fmt.Errorf("%w: grants is not an array", credentials.ErrMalformed)
					}
					for _, g := range grants {
						if obj, ok := g.(map[string]any); ok && len(obj) == 1 && obj["..."] != nil {
							continue
						}
						if hasDigests(g) {
							return fmt.Errorf("%w: part of a grant is selectively disclosable", ErrHidden)
						}
					}
					continue
				}
				if sk == "_sd" {
					return fmt.Errorf("%w: members of credentialSubject are selectively disclosable", ErrHidden)
				}
				if hasDigests(sv) {
					return fmt.Errorf("%w: credentialSubject.%s", ErrHidden, sk)
				}
			}
			continue
		}
		if hasDigests(v) {
			return fmt.Errorf("%w: %s", ErrHidden, k)
		}
	}
	for _, d := range sd.Disclosures {
		if !d.IsArrayElement {
			return fmt.Errorf("%w: disclosure of claim %q", ErrHidden, d.Name)
		}
		if _, ok := d.Value.(map[string]any); !ok || hasDigests(d.Value) {
			return fmt.Errorf("%w: a disclosure is not one whole grant", ErrHidden)
		}
	}
	return nil
}

// hasDigests reports whether v holds an _sd member or an array element
// digest anywhere.
func hasDigests(v any) bool {
	switch t := v.(type) {
	case map[string]any:
		for k, e := range t {
			if k == "_sd" || k == "..." || hasDigests(e) {
				return true
			}
		}
	case []any:
		for _, e := range t {
			if hasDigests(e) {
				return true
			}
		}
	}
	return false
}

// checkHolder requires that cnf is the key of the subject's did:key, so
// that the key binding JWT was signed by the attorney.
func checkHolder(sd *sdjwt.Verified, cred *credentials.Credential) error {
	subjectKey, err := did.ParseKey(cred.Subject.ID)
	if err != nil {
		return fmt.Errorf("sdpoa: subject: %w", err)
	}
	cnf, _ := sd.Claims["cnf"].(map[string]any)
	jwk, _ := cnf["jwk"].(map[string]any)
	x, _ := jwk["x"].(string)
	if jwk["kty"] != "OKP" || jwk["crv"] != "Ed25519" || x != b64(subjectKey) {
		return fmt.Errorf("%w: cnf is not the key of the subject %s", sdjwt.ErrKeyBinding, cred.Subject.ID)
	}
	return nil
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }
