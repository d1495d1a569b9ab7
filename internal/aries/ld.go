package aries

import (
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/hyperledger/aries-framework-go/component/models/ld/processor"
	ldproof "github.com/hyperledger/aries-framework-go/component/models/ld/proof"
	"github.com/hyperledger/aries-framework-go/component/models/signature/api"
	"github.com/hyperledger/aries-framework-go/component/models/signature/signer"
	"github.com/hyperledger/aries-framework-go/component/models/signature/suite"
	"github.com/hyperledger/aries-framework-go/component/models/signature/suite/ed25519signature2020"
	"github.com/hyperledger/aries-framework-go/component/models/signature/verifier"
	"github.com/piprate/json-gold/ld"
)

// ProofType is the only linked-data proof type Mandate signs and accepts.
const ProofType = "Ed25519Signature2020"

// ed25519KeyType is the verification key type aries' Ed25519Signature2020
// verifier requires.
const ed25519KeyType = "Ed25519VerificationKey2020"

// ErrUnknownContext is returned when a document names a JSON-LD context that
// is not embedded. Contexts are never fetched from the network.
var ErrUnknownContext = errors.New("aries: JSON-LD context is not embedded")

// ErrProofShape marks a proof object that is not one Mandate signs: a wrong
// type, a missing field, or a member the signature would not cover.
var ErrProofShape = errors.New("aries: malformed proof")

// proofMembers are the members of an Ed25519Signature2020 proof that the
// signature covers (proofValue is the signature). The suite's context
// defines more terms (expires, nonce, ...), which aries leaves out of the
// signed proof options: accepting them would let anyone on the path add
// unsigned statements to a signed document, so they are refused.
var proofMembers = map[string]bool{
	"type": true, "created": true, "verificationMethod": true, "proofPurpose": true,
	"proofValue": true, "challenge": true, "domain": true,
}

// LD signs and verifies JSON-LD documents with Ed25519Signature2020 proofs,
// resolving contexts only from the embedded set it was built with.
type LD struct {
	loader *staticLoader
}

// NewLD builds the JSON-LD engine from a map of context URL to document bytes.
func NewLD(contexts map[string][]byte) (*LD, error) {
	l, err := newStaticLoader(contexts)
	if err != nil {
		return nil, err
	}
	return &LD{loader: l}, nil
}

// ProofOptions are the proof fields the signer sets and the verifier reads back.
type ProofOptions struct {
	VerificationMethod string
	Purpose            string // "assertionMethod" or "authentication"
	Created            time.Time
	Challenge          string
	Domain             string
}

// SignFunc signs the canonical proof input with the key named by VerificationMethod.
type SignFunc func(msg []byte) ([]byte, error)

// Sign adds an Ed25519Signature2020 proof to doc and returns the signed JSON.
func (l *LD) Sign(doc []byte, opts ProofOptions, sign SignFunc) ([]byte, error) {
	s := ed25519signature2020.New(suite.WithSigner(signFunc(sign)))
	created := opts.Created.UTC().Truncate(time.Second)
	ctx := &signer.Context{
		SignatureType:           ProofType,
		SignatureRepresentation: ldproof.SignatureProofValue,
		Created:                 &created,
		VerificationMethod:      opts.VerificationMethod,
		Purpose:                 opts.Purpose,
		Challenge:               opts.Challenge,
		Domain:                  opts.Domain,
	}
	out, err := signer.New(s).Sign(ctx, doc, processor.WithDocumentLoader(l.loader))
	if err != nil {
		return nil, fmt.Errorf("aries: sign: %w", err)
	}
	return out, nil
}

// KeyFunc returns the Ed25519 key for a verification method id, after the
// caller has checked that the method belongs to the expected controller and
// relationship.
type KeyFunc func(verificationMethod string) (ed25519.PublicKey, error)

// Verify checks the single Ed25519Signature2020 proof on doc and returns its
// options. A document with no proof, several proofs or another proof type is
// refused before any key is resolved.
func (l *LD) Verify(doc map[string]any, keys KeyFunc) (ProofOptions, error) {
	opts, err := readProof(doc)
	if err != nil {
		return ProofOptions{}, err
	}
	resolver := keyResolver(func(id string) (*api.PublicKey, error) {
		if id != opts.VerificationMethod {
			return nil, fmt.Errorf("aries: proof names key %q, expected %q", id, opts.VerificationMethod)
		}
		pub, err := keys(id)
		if err != nil {
			return nil, err
		}
		return &api.PublicKey{Type: ed25519KeyType, Value: pub}, nil
	})
	s := ed25519signature2020.New(suite.WithVerifier(ed25519signature2020.NewPublicKeyVerifier()))
	v, err := verifier.New(resolver, s)
	if err != nil {
		return ProofOptions{}, fmt.Errorf("aries: verifier: %w", err)
	}
	// aries' verifier mutates the map it is given (it removes the proof);
	// work on a copy so the caller's document stays whole.
	if err := v.VerifyObject(deepCopy(doc), processor.WithDocumentLoader(l.loader)); err != nil {
		return ProofOptions{}, fmt.Errorf("aries: verify proof: %w", err)
	}
	return opts, nil
}

// readProof extracts exactly one proof of the accepted type.
func readProof(doc map[string]any) (ProofOptions, error) {
	raw, ok := doc["proof"]
	if !ok {
		return ProofOptions{}, errors.New("aries: document has no proof")
	}
	if list, isList := raw.([]any); isList {
		if len(list) != 1 {
			return ProofOptions{}, fmt.Errorf("aries: document has %d proofs, want exactly 1", len(list))
		}
		raw = list[0]
	}
	p, ok := raw.(map[string]any)
	if !ok {
		return ProofOptions{}, fmt.Errorf("%w: proof is not an object", ErrProofShape)
	}
	str := func(k string) string { s, _ := p[k].(string); return s }
	if t := str("type"); t != ProofType {
		return ProofOptions{}, fmt.Errorf("aries: proof type %q is not accepted, only %s", t, ProofType)
	}
	created, err := time.Parse(time.RFC3339, str("created"))
	if err != nil {
		return ProofOptions{}, fmt.Errorf("aries: proof created: %w", err)
	}
	opts := ProofOptions{
		VerificationMethod: str("verificationMethod"),
		Purpose:            str("proofPurpose"),
		Created:            created,
		Challenge:          str("challenge"),
		Domain:             str("domain"),
	}
	if opts.VerificationMethod == "" || str("proofValue") == "" {
		return ProofOptions{}, errors.New("aries: proof lacks verificationMethod or proofValue")
	}
	for k, v := range p {
		if !proofMembers[k] {
			return ProofOptions{}, fmt.Errorf("%w: proof member %q is not covered by the signature", ErrProofShape, k)
		}
		if _, isString := v.(string); !isString {
			return ProofOptions{}, fmt.Errorf("%w: proof member %q is not a string", ErrProofShape, k)
		}
	}
	return opts, nil
}

// Strict refuses a document that carries anything its contexts do not
// define. A plain canonicalise-and-verify check silently drops undefined
// terms, so a signed credential would still verify with extra, unsigned
// claims in it. json-gold's safe mode is not enough either: it misses terms
// inside a proof graph (measured). So the document is expanded, compacted
// again with its own context, and must come back unchanged (up to the
// single-value-array form); every @id and @type must also be an absolute IRI,
// since an undefined type or a relative id would drop out of the signed RDF.
func (l *LD) Strict(doc map[string]any) error {
	proc := ld.NewJsonLdProcessor()
	opts := ld.NewJsonLdOptions("")
	opts.DocumentLoader = l.loader
	opts.SafeMode = true
	expanded, err := proc.Expand(doc, opts)
	if err != nil {
		return fmt.Errorf("aries: strict JSON-LD: %w", err)
	}
	if err := absoluteIRIs(expanded); err != nil {
		return err
	}
	compacted, err := proc.Compact(expanded, map[string]any{"@context": doc["@context"]}, opts)
	if err != nil {
		return fmt.Errorf("aries: strict JSON-LD: compact: %w", err)
	}
	if path := firstDifference(withoutContext(doc), withoutContext(compacted), ""); path != "" {
		return fmt.Errorf("aries: strict JSON-LD: %s is not defined by the document's contexts", path)
	}
	return nil
}

func withoutContext(m map[string]any) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		if k != "@context" {
			out[k] = v
		}
	}
	return out
}

// firstDifference returns the path of the first member of a that b lacks or
// holds differently, or "" when they are equal. A one-element array equals
// its element, as JSON-LD compaction treats them.
func firstDifference(a, b any, path string) string {
	a, b = single(a), single(b)
	switch x := a.(type) {
	case map[string]any:
		y, ok := b.(map[string]any)
		if !ok {
			return orRoot(path)
		}
		for k, v := range x {
			if d := firstDifference(v, y[k], path+"/"+k); d != "" {
				return d
			}
		}
		for k := range y {
			if _, ok := x[k]; !ok {
				return path + "/" + k
			}
		}
	case []any:
		y, ok := b.([]any)
		if !ok || len(x) != len(y) {
			return orRoot(path)
		}
		for i := range x {
			if d := firstDifference(x[i], y[i], fmt.Sprintf("%s/%d", path, i)); d != "" {
				return d
			}
		}
	default:
		if a != b {
			return orRoot(path)
		}
	}
	return ""
}

func single(v any) any {
	if l, ok := v.([]any); ok && len(l) == 1 {
		return l[0]
	}
	return v
}

func orRoot(path string) string {
	if path == "" {
		return "/"
	}
	return path
}

// absoluteIRIs walks an expanded document.
func absoluteIRIs(v any) error {
	switch t := v.(type) {
	case []any:
		for _, e := range t {
			if err := absoluteIRIs(e); err != nil {
				return err
			}
		}
	case map[string]any:
		for k, e := range t {
			switch k {
			case "@id":
				if err := checkIRI(k, e); err != nil {
					return err
				}
			case "@type":
				if _, isValue := t["@value"]; isValue {
					if err := checkIRI(k, e); err != nil {
						return err
					}
					continue
				}
				list, _ := e.([]any)
				for _, x := range list {
					if err := checkIRI(k, x); err != nil {
						return err
					}
				}
			default:
				if err := absoluteIRIs(e); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

func checkIRI(key string, v any) error {
	s, ok := v.(string)
	if !ok || !strings.Contains(s, ":") {
		return fmt.Errorf("aries: strict JSON-LD: %s %v is not an absolute IRI (undefined term?)", key, v)
	}
	return nil
}

type signFunc SignFunc

func (f signFunc) Sign(msg []byte) ([]byte, error) { return f(msg) }
func (signFunc) Alg() string                       { return "EdDSA" }

type keyResolver func(id string) (*api.PublicKey, error)

func (f keyResolver) Resolve(id string) (*api.PublicKey, error) { return f(id) }

// deepCopy copies a JSON value through an encode/decode round trip; the value
// came from JSON, so this cannot lose information.
func deepCopy(doc map[string]any) map[string]any {
	b, err := json.Marshal(doc)
	if err != nil {
		return map[string]any{}
	}
	var out map[string]any
	if err := json.Unmarshal(b, &out); err != nil {
		return map[string]any{}
	}
	return out
}
