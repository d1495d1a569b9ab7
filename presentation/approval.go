package presentation

import (
	"context"
	"crypto"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/mandate-dev/mandate/credentials"
	"github.com/mandate-dev/mandate/did"
	"github.com/mandate-dev/mandate/internal/strictjson"
)

// Approval lifetimes and limits.
const (
	// DefaultApprovalTTL is how long a pending request waits for an answer.
	DefaultApprovalTTL = 15 * time.Minute
	// MaxAnswerTTL bounds how long a signed approval may be used for.
	MaxAnswerTTL = time.Hour
	// MaxAnswerBytes bounds a signed answer.
	MaxAnswerBytes = 8 << 10
	// answerType is the JWS "typ" of an answer.
	answerType = "mandate-approval+jwt"
	clockSkew  = time.Minute
)

// ApprovalState is where an approval request stands.
type ApprovalState string

// Approval states.
const (
	ApprovalPending  ApprovalState = "PENDING"
	ApprovalApproved ApprovalState = "APPROVED"
	ApprovalDenied   ApprovalState = "DENIED"
	ApprovalUsed     ApprovalState = "USED" // approved, presented and consumed
	ApprovalExpired  ApprovalState = "EXPIRED"
)

// Approval errors.
var (
	ErrApprovalNotFound = errors.New("presentation: no such approval request")
	ErrApprovalClosed   = errors.New("presentation: the approval request was already answered or has expired")
	ErrAnswerInvalid    = errors.New("presentation: invalid approval answer")
)

// ApprovalRequest is a request that waits for, or has had, a human's signed
// answer. It is bound to the request digest and to the agent that asked.
type ApprovalRequest struct {
	ID            string        `json:"id"`
	State         ApprovalState `json:"state"`
	Actor         string        `json:"actor"`
	Principal     string        `json:"principal"`
	Approvers     []string      `json:"approvers"`
	Chain         []string      `json:"chain"`
	Grant         string        `json:"grant"`
	Request       Request       `json:"request"`
	RequestDigest string        `json:"requestDigest"`
	Audience      string        `json:"audience"`
	Created       time.Time     `json:"created"`
	Expires       time.Time     `json:"expires"`
	Answer        string        `json:"answer,omitempty"`   // the approver's signed answer (compact JWS)
	Approver      string        `json:"approver,omitempty"` // who answered
}

// state returns the request's state at now: a pending request past its
// expiry has expired.
func (a ApprovalRequest) stateAt(now time.Time) ApprovalState {
	if a.State == ApprovalPending && !now.Before(a.Expires) {
		return ApprovalExpired
	}
	return a.State
}

// answerClaims is the payload of a signed answer.
type answerClaims struct {
	Issuer        string `json:"iss"` // the approver
	Subject       string `json:"sub"` // the agent allowed to use it
	Audience      string `json:"aud"` // the verifier
	ID            string `json:"jti"` // the approval request id
	RequestDigest string `json:"requestDigest"`
	Grant         string `json:"grant"`
	Decision      string `json:"decision"` // "approve" or "deny"
	IssuedAt      int64  `json:"iat"`
	Expires       int64  `json:"exp"`
}

// SignAnswer is the approver's side: it signs approve (or deny) for the
// request with the approver's DID key, valid for ttl (at most MaxAnswerTTL).
func SignAnswer(s credentials.Signer, r ApprovalRequest, approve bool, ttl time.Duration, now time.Time) (string, error) {
	if ttl <= 0 || ttl > MaxAnswerTTL {
		return "", fmt.Errorf("presentation: answer lifetime must be in (0, %s]", MaxAnswerTTL)
	}
	decision := "deny"
	if approve {
		decision = "approve"
	}
	claims, err := json.Marshal(answerClaims{
		Issuer: s.DID(), Subject: r.Actor, Audience: r.Audience, ID: r.ID, RequestDigest: r.RequestDigest,
		Grant: r.Grant, Decision: decision, IssuedAt: now.Unix(), Expires: now.Add(ttl).Unix(),
	})
	if err != nil {
		return "", err
	}
	pub, err := did.ParseKey(s.DID())
	if err != nil {
		return "", fmt.Errorf("presentation: approver: %w", err)
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.EdDSA, Key: opaqueSigner{s: s, pub: pub, kid: s.VerificationMethod()}},
		(&jose.SignerOptions{}).WithType(answerType))
	if err != nil {
		return "", err
	}
	jws, err := signer.Sign(claims)
	if err != nil {
		return "", fmt.Errorf("presentation: sign answer: %w", err)
	}
	return jws.CompactSerialize()
}

// opaqueSigner lets go-jose sign with a key it never sees (a wallet's key
// stays in the wallet's KMS).
type opaqueSigner struct {
	s   credentials.Signer
	pub ed25519.PublicKey
	kid string
}

func (o opaqueSigner) Public() *jose.JSONWebKey {
	return &jose.JSONWebKey{Key: o.pub, KeyID: o.kid, Algorithm: string(jose.EdDSA)}
}
func (o opaqueSigner) Algs() []jose.SignatureAlgorithm { return []jose.SignatureAlgorithm{jose.EdDSA} }
func (o opaqueSigner) SignPayload(payload []byte, alg jose.SignatureAlgorithm) ([]byte, error) {
	if alg != jose.EdDSA {
		return nil, fmt.Errorf("presentation: algorithm %s is not EdDSA", alg)
	}
	return o.s.Sign(payload)
}

var _ crypto.PublicKey = ed25519.PublicKey(nil)

// verifyAnswer checks a signed answer against the request it names:
// signature first (EdDSA only, checked before any key is resolved; the key
// belongs to the issuer, who must be one of the request's approvers), then
// the binding (agent, verifier, request digest, grant) and the times.
func verifyAnswer(ctx context.Context, resolver did.Resolver, token string, r ApprovalRequest, now time.Time) (answerClaims, error) {
	var c answerClaims
	if len(token) > MaxAnswerBytes {
		return c, fmt.Errorf("%w: %d bytes, limit %d", ErrAnswerInvalid, len(token), MaxAnswerBytes)
	}
	jws, err := jose.ParseSigned(token, []jose.SignatureAlgorithm{jose.EdDSA})
	if err != nil {
		return c, fmt.Errorf("%w: %w", ErrAnswerInvalid, err)
	}
	if len(jws.Signatures) != 1 {
		return c, fmt.Errorf("%w: want exactly one signature", ErrAnswerInvalid)
	}
	h := jws.Signatures[0].Protected
	if typ, _ := h.ExtraHeaders[jose.HeaderType].(string); typ != answerType {
		return c, fmt.Errorf("%w: typ %q, want %q", ErrAnswerInvalid, typ, answerType)
	}
	signer, _, _ := strings.Cut(h.KeyID, "#")
	if !slices.Contains(r.Approvers, signer) {
		return c, fmt.Errorf("%w: signed by %s, who is not an approver of this request", ErrAnswerInvalid, signer)
	}
	pub, err := did.PublicKey(ctx, resolver, h.KeyID, "assertionMethod")
	if err != nil {
		return c, fmt.Errorf("%w: approver key: %w", ErrAnswerInvalid, err)
	}
	payload, err := jws.Verify(pub)
	if err != nil {
		return c, fmt.Errorf("%w: signature: %w", ErrAnswerInvalid, err)
	}
	if err := strictjson.Decode(payload, MaxAnswerBytes, &c); err != nil {
		return c, fmt.Errorf("%w: claims: %w", ErrAnswerInvalid, err)
	}
	switch {
	case c.Issuer != signer:
		return c, fmt.Errorf("%w: iss %s is not the signer %s", ErrAnswerInvalid, c.Issuer, signer)
	case c.ID != r.ID || c.Subject != r.Actor || c.Audience != r.Audience || c.RequestDigest != r.RequestDigest || c.Grant != r.Grant:
		return c, fmt.Errorf("%w: bound to another request, agent, verifier or grant", ErrAnswerInvalid)
	case c.Decision != "approve" && c.Decision != "deny":
		return c, fmt.Errorf("%w: decision %q", ErrAnswerInvalid, c.Decision)
	case c.Expires <= c.IssuedAt || time.Duration(c.Expires-c.IssuedAt)*time.Second > MaxAnswerTTL:
		return c, fmt.Errorf("%w: lifetime must be in (0, %s]", ErrAnswerInvalid, MaxAnswerTTL)
	case now.Add(clockSkew).Unix() < c.IssuedAt:
		return c, fmt.Errorf("%w: issued in the future", ErrAnswerInvalid)
	case now.Unix() >= c.Expires:
		return c, errAnswerExpired
	}
	return c, nil
}

var errAnswerExpired = fmt.Errorf("%w: expired", ErrAnswerInvalid)

// approvalKey indexes requests by agent and request digest, so that asking
// again for the same thing finds the same request.
func approvalIndexKey(actor, digest string) []byte {
	sum := sha256.Sum256([]byte(actor + "\x00" + digest))
	return []byte("approval/index/" + hex.EncodeToString(sum[:]))
}

func approvalKey(id string) []byte { return []byte("approval/request/" + id) }
