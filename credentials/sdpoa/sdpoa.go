package sdpoa

import (
	"bytes"
	"crypto"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/mandate-dev/mandate/credentials"
	"github.com/mandate-dev/mandate/credentials/sdjwt"
	"github.com/mandate-dev/mandate/did"
)

// Type is the typ of a PoA credential's issuer-signed JWT.
const Type = "vc+sd-jwt"

// RequestDigestClaim is the key binding JWT claim that carries the request
// digest (SPEC §7.2) of the request a presentation is made for.
const RequestDigestClaim = "requestDigest"

// ErrGrant: a grant id that the credential does not disclose.
var ErrGrant = errors.New("sdpoa: no such grant")

// Options carries the injected clock and randomness, the issuer's status
// registry, and the number of decoy grant digests.
type Options struct {
	credentials.IssueOptions
	// Decoys is the number of decoy digests added to the grants, so that a
	// verifier cannot count the grants it was not shown.
	Decoys int
}

// Issue signs a root PoA credential as an SD-JWT: the signer is the
// principal. t.Subject must be a did:key, whose key becomes cnf.
func Issue(s credentials.Signer, t credentials.Template, o Options) (*sdjwt.SDJWT, error) {
	sub := credentials.Subject{
		ID: t.Subject, Principal: s.DID(), Purpose: t.Purpose, Grants: slices.Clone(t.Grants),
		Forbidden: t.Forbidden, Delegation: t.Delegation, Approvers: t.Approvers,
	}
	return issue(s, sub, t, o)
}

// issue signs sub as an SD-JWT, one Disclosure per grant.
func issue(s credentials.Signer, sub credentials.Subject, t credentials.Template, o Options) (*sdjwt.SDJWT, error) {
	holderKey, err := did.ParseKey(t.Subject)
	if err != nil {
		return nil, fmt.Errorf("sdpoa: subject: %w", err)
	}
	signer, err := KeySigner(s)
	if err != nil {
		return nil, err
	}
	env, err := credentials.NewEnvelope(sub, t, o.IssueOptions)
	if err != nil {
		return nil, err
	}
	now, rnd, id, credStatus, from, sub := env.Now, env.Rand, env.ID, env.Status, env.From, env.Subject
	doc := map[string]any{
		"@context":          []string{credentials.ContextCredentialsV1, credentials.ContextEd25519_2020, credentials.ContextStatusV1, credentials.ContextPoAV1},
		"id":                id,
		"type":              []string{"VerifiableCredential", credentials.Type},
		"issuer":            s.DID(),
		"issuanceDate":      from.UTC().Format(time.RFC3339),
		"credentialSubject": sub,
	}
	jwtClaims := map[string]any{"iss": s.DID(), "iat": now().Unix(), "nbf": from.Unix()}
	if t.ValidUntil != nil {
		doc["expirationDate"] = t.ValidUntil.UTC().Format(time.RFC3339)
		jwtClaims["exp"] = t.ValidUntil.Unix()
	}
	if credStatus != nil {
		doc["credentialStatus"] = credStatus
	}
	plain, err := toJSONObject(doc)
	if err != nil {
		return nil, err
	}
	// The credential is checked by the same rules as an LDP one before it
	// is signed.
	if _, err := credentials.Parse(plain); err != nil {
		return nil, err
	}
	claims := plain
	subject := claims["credentialSubject"].(map[string]any)
	grants := subject["grants"].([]any)
	for i, g := range grants {
		grants[i] = sdjwt.Disclosable{Value: g}
	}
	for k, v := range jwtClaims {
		claims[k] = v
	}
	issuer, err := sdjwt.NewIssuer(signer, jose.EdDSA, Type, rnd, o.Decoys)
	if err != nil {
		return nil, err
	}
	return issuer.Issue(claims, holderKey)
}

// Select returns the issued SD-JWT with only the Disclosures of the grants
// named, in the order named.
func Select(issued *sdjwt.SDJWT, grantIDs ...string) (*sdjwt.SDJWT, error) {
	digests := make([]string, 0, len(grantIDs))
	for _, id := range grantIDs {
		digest, ok := grantDisclosure(issued, id)
		if !ok {
			return nil, fmt.Errorf("%w: %q", ErrGrant, id)
		}
		digests = append(digests, digest)
	}
	return issued.Select(digests...)
}

// Present selects the grants named and binds the result to a challenge
// and, when requestDigest is not empty, to one request.
func Present(h *sdjwt.Holder, issued *sdjwt.SDJWT, grantIDs []string, kb sdjwt.KeyBindingClaims, requestDigest string) (string, error) {
	selected, err := Select(issued, grantIDs...)
	if err != nil {
		return "", err
	}
	if requestDigest != "" {
		extra := map[string]any{RequestDigestClaim: requestDigest}
		for k, v := range kb.Extra {
			extra[k] = v
		}
		kb.Extra = extra
	}
	return h.Present(selected, kb)
}

func grantDisclosure(s *sdjwt.SDJWT, id string) (string, bool) {
	for _, d := range s.Disclosures {
		g, ok := d.Value.(map[string]any)
		if d.IsArrayElement && ok && g["id"] == id {
			return d.Digest, true
		}
	}
	return "", false
}

// KeySigner adapts a DID signer (a wallet key, a test key) to the
// crypto.Signer that sdjwt signs with. Only did:key Ed25519 keys are
// accepted.
func KeySigner(s credentials.Signer) (crypto.Signer, error) {
	pub, err := did.ParseKey(s.DID())
	if err != nil {
		return nil, fmt.Errorf("sdpoa: signer: %w", err)
	}
	return didSigner{s, pub}, nil
}

type didSigner struct {
	s   credentials.Signer
	pub ed25519.PublicKey
}

func (d didSigner) Public() crypto.PublicKey { return d.pub }

func (d didSigner) Sign(_ io.Reader, msg []byte, opts crypto.SignerOpts) ([]byte, error) {
	if opts.HashFunc() != crypto.Hash(0) {
		return nil, errors.New("sdpoa: Ed25519 signs the message itself, not a digest")
	}
	return d.s.Sign(msg)
}

func toJSONObject(v any) (map[string]any, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("sdpoa: encode: %w", err)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		return nil, fmt.Errorf("sdpoa: encode: %w", err)
	}
	return m, nil
}
