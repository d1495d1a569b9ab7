package did

import (
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"strings"
)

const (
	contextDIDv1        = "https://www.w3.org/ns/did/v1"
	contextEd25519v2020 = "https://w3id.org/security/suites/ed25519-2020/v1"
	typeEd25519v2020    = "Ed25519VerificationKey2020"
)

// relationships lists the verification relationships PublicKey checks a key against.
var relationships = map[string]func(*Document) []string{
	"assertionMethod": func(d *Document) []string { return d.AssertionMethod },
	"authentication":  func(d *Document) []string { return d.Authentication },
}

// VerificationMethod is a key in a DID document.
type VerificationMethod struct {
	ID                 string `json:"id"`
	Type               string `json:"type"`
	Controller         string `json:"controller"`
	PublicKeyMultibase string `json:"publicKeyMultibase,omitempty"`
	// PublicKeyJwk is the key of a JsonWebKey2020 method (did:web documents only): an OKP key on Ed25519.
	PublicKeyJwk *JWK `json:"publicKeyJwk,omitempty"`
}

// JWK is the public part of an Ed25519 JSON Web Key (RFC 8037). A private member ("d") is refused.
type JWK struct {
	Kty string `json:"kty"`
	Crv string `json:"crv"`
	X   string `json:"x"`
	Kid string `json:"kid,omitempty"`
	Alg string `json:"alg,omitempty"`
}

// Document is a DID document. Relationships refer to verification methods by id.
type Document struct {
	Context              []string             `json:"@context"`
	ID                   string               `json:"id"`
	VerificationMethod   []VerificationMethod `json:"verificationMethod"`
	Authentication       []string             `json:"authentication"`
	AssertionMethod      []string             `json:"assertionMethod"`
	CapabilityDelegation []string             `json:"capabilityDelegation"`
	CapabilityInvocation []string             `json:"capabilityInvocation"`
}

// Resolver resolves a DID to its document. Whoever calls PublicKey chooses the resolver, and with it which
// DIDs are trusted; there is no default.
type Resolver interface {
	Resolve(ctx context.Context, did string) (*Document, error)
}

// KeyResolver resolves did:key offline (no network). It is a Resolver.
type KeyResolver struct{}

var _ Resolver = KeyResolver{}

// Resolve returns the document of a did:key DID: one Ed25519VerificationKey2020 method, listed under every
// verification relationship. It makes no key agreement method.
func (KeyResolver) Resolve(ctx context.Context, did string) (*Document, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("did: resolve: %w", err)
	}
	_, mb, err := parsePlainDID(did)
	if err != nil {
		return nil, err
	}
	vm := did + "#" + mb
	return &Document{
		Context: []string{contextDIDv1, contextEd25519v2020},
		ID:      did,
		VerificationMethod: []VerificationMethod{
			{ID: vm, Type: typeEd25519v2020, Controller: did, PublicKeyMultibase: mb},
		},
		Authentication:       []string{vm},
		AssertionMethod:      []string{vm},
		CapabilityDelegation: []string{vm},
		CapabilityInvocation: []string{vm},
	}, nil
}

// PublicKey resolves a verification method id (DID URL) through r and returns its Ed25519 key, checking that the
// method is listed under the given relationship ("assertionMethod" or "authentication"); otherwise an error.
// The method must be an Ed25519VerificationKey2020 controlled by the DID itself. For a did:key the key must
// also be the one the identifier encodes, whatever r returned.
func PublicKey(ctx context.Context, r Resolver, verificationMethodID, relationship string) (ed25519.PublicKey, error) {
	if r == nil {
		return nil, errors.New("did: nil resolver")
	}
	listed, ok := relationships[relationship]
	if !ok {
		return nil, fmt.Errorf("did: verification relationship %s is not supported: only assertionMethod or authentication",
			quote(relationship))
	}
	did, err := methodDID(verificationMethodID)
	if err != nil {
		return nil, err
	}
	doc, err := r.Resolve(ctx, did)
	if err != nil {
		return nil, fmt.Errorf("did: resolve %s: %w", quote(did), err)
	}
	vm, err := findMethod(doc, did, verificationMethodID)
	if err != nil {
		return nil, err
	}
	if !slices.Contains(listed(doc), verificationMethodID) {
		return nil, fmt.Errorf("did: verification method %s is not listed under %s", quote(verificationMethodID), relationship)
	}
	return methodKey(vm)
}

// methodDID returns the DID of a verification method id, which must be a DID URL with a fragment only.
func methodDID(id string) (string, error) {
	if len(id) > maxLength {
		return "", fmt.Errorf("%w: input is %d bytes, limit %d", ErrInvalidDIDURL, len(id), maxLength)
	}
	did, fragment, ok := strings.Cut(id, "#")
	if !ok || fragment == "" {
		return "", fmt.Errorf("%w: verification method id %s has no fragment", ErrInvalidDIDURL, quote(id))
	}
	if strings.ContainsAny(did, "/?") {
		return "", fmt.Errorf("%w: %s has a path or query; only a fragment naming the key is allowed",
			ErrInvalidDIDURL, quote(id))
	}
	return did, nil
}

// findMethod returns the one verification method with the given id in a document that must be the DID's own.
func findMethod(doc *Document, did, id string) (*VerificationMethod, error) {
	if doc == nil || doc.ID != did {
		return nil, fmt.Errorf("did: resolver returned no document for %s", quote(did))
	}
	var found *VerificationMethod
	for i := range doc.VerificationMethod {
		if doc.VerificationMethod[i].ID != id {
			continue
		}
		if found != nil {
			return nil, fmt.Errorf("did: verification method %s appears more than once", quote(id))
		}
		found = &doc.VerificationMethod[i]
	}
	if found == nil {
		return nil, fmt.Errorf("did: verification method %s is not in the document", quote(id))
	}
	if found.Controller != did {
		return nil, fmt.Errorf("did: verification method %s is controlled by %s, not by %s",
			quote(id), quote(found.Controller), quote(did))
	}
	return found, nil
}

// methodKey decodes an Ed25519VerificationKey2020 method (multibase) or a JsonWebKey2020 method (an OKP
// Ed25519 JWK) and, for did:key, checks it against the identifier. Any other type or key is refused.
func methodKey(vm *VerificationMethod) (ed25519.PublicKey, error) {
	var key ed25519.PublicKey
	var err error
	switch {
	case vm.Type == typeEd25519v2020 && vm.PublicKeyJwk == nil:
		key, err = multibaseKey(vm)
	case vm.Type == typeJWK2020 && vm.PublicKeyMultibase == "" && !strings.HasPrefix(vm.ID, "did:key:"):
		key, err = jwkKey(vm.PublicKeyJwk)
	case vm.Type == typeEd25519v2020 || vm.Type == typeJWK2020:
		return nil, fmt.Errorf("did: verification method %s of type %s carries the wrong key member",
			quote(vm.ID), vm.Type)
	default:
		return nil, fmt.Errorf("%w: verification method type %s: only %s or %s",
			ErrUnsupportedPublicKeyType, quote(vm.Type), typeEd25519v2020, typeJWK2020)
	}
	if err != nil {
		return nil, err
	}
	if !strings.HasPrefix(vm.ID, "did:key:") {
		return key, nil
	}
	want, err := ParseKey(vm.ID)
	if err != nil {
		return nil, err
	}
	if !want.Equal(key) {
		return nil, fmt.Errorf("did: resolver gave %s a key other than the one its did:key encodes", quote(vm.ID))
	}
	return key, nil
}

func multibaseKey(vm *VerificationMethod) (ed25519.PublicKey, error) {
	codec, raw, err := decodeMultikey(vm.PublicKeyMultibase)
	if err != nil {
		return nil, fmt.Errorf("did: verification method %s: %w", quote(vm.ID), err)
	}
	return ed25519Key(codec, raw)
}

// jwkKey accepts only {"kty":"OKP","crv":"Ed25519","x":<32 bytes, base64url without padding>}.
func jwkKey(k *JWK) (ed25519.PublicKey, error) {
	switch {
	case k == nil:
		return nil, errors.New("did: JsonWebKey2020 method has no publicKeyJwk")
	case k.Kty != "OKP" || k.Crv != "Ed25519":
		return nil, fmt.Errorf("%w: JWK kty %s crv %s: only OKP Ed25519", ErrUnsupportedPublicKeyType, quote(k.Kty), quote(k.Crv))
	case k.Alg != "" && k.Alg != "EdDSA":
		return nil, fmt.Errorf("%w: JWK alg %s: only EdDSA", ErrUnsupportedPublicKeyType, quote(k.Alg))
	}
	raw, err := base64.RawURLEncoding.Strict().DecodeString(k.X)
	if err != nil {
		return nil, fmt.Errorf("did: JWK x: %w", err)
	}
	if len(raw) != ed25519.PublicKeySize {
		return nil, fmt.Errorf("%w: JWK x is %d bytes, want %d", ErrInvalidPublicKeyLength, len(raw), ed25519.PublicKeySize)
	}
	return ed25519.PublicKey(raw), nil
}
