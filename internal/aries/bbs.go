package aries

import (
	"bytes"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/hyperledger/aries-framework-go/component/kmscrypto/crypto/primitive/bbs12381g2pub"
	"github.com/hyperledger/aries-framework-go/component/models/ld/processor"
	ldproof "github.com/hyperledger/aries-framework-go/component/models/ld/proof"
	"github.com/hyperledger/aries-framework-go/component/models/signature/signer"
	"github.com/hyperledger/aries-framework-go/component/models/signature/suite"
	"github.com/hyperledger/aries-framework-go/component/models/signature/suite/bbsblssignature2020"
	"github.com/hyperledger/aries-framework-go/component/models/signature/suite/bbsblssignatureproof2020"
	sigverifier "github.com/hyperledger/aries-framework-go/component/models/signature/verifier"

	"github.com/mandate-dev/mandate/internal/aries/g2"
)

// The BBS+ proof types: the issuer's signature and the holder's derived proof.
const (
	BBSProofType        = "BbsBlsSignature2020"
	BBSDerivedProofType = "BbsBlsSignatureProof2020"
	bbsKeyType          = "Bls12381G2Key2020"
)

// Limits on what the BBS+ engine reads from untrusted input.
const (
	// MaxBBSMessages bounds the statements of a signed or derived document;
	// a PoA credential within MaxCredentialBytes has a few hundred. It also
	// bounds the message count a proof may claim, which costs one
	// hash-to-curve per message before any check.
	MaxBBSMessages = 2048
	// MaxBBSNonce bounds a derived proof's nonce.
	MaxBBSNonce = 256
	// maxProofValue: payload + 3 G1 points + two Schnorr proofs over at most
	// MaxBBSMessages+2 responses.
	maxProofValue = 2 + MaxBBSMessages/8 + 1 + 3*48 + 2*(48+4) + 4 + (MaxBBSMessages+4)*32
)

// ErrNonce marks a derived proof made for another challenge.
var ErrNonce = errors.New("aries: BBS+ proof nonce does not match the challenge")

// bbsDerivedMembers are the members of a derived proof. nonce is not among
// the signed statements but is bound by the proof itself (it enters the
// Fiat-Shamir challenge), so it is compared with the verifier's challenge.
var bbsDerivedMembers = map[string]bool{
	"type": true, "created": true, "verificationMethod": true, "proofPurpose": true,
	"proofValue": true, "nonce": true,
}

// BBS signs PoA documents with BbsBlsSignature2020, derives
// BbsBlsSignatureProof2020 proofs by JSON-LD frame, and verifies derived
// proofs with a cache of message generators. Contexts come only from the
// embedded set it was built with.
type BBS struct {
	loader *staticLoader
	ld     *LD
	gens   *generatorCache
}

// NewBBS builds the engine; cacheEntries bounds the generator cache (one
// entry per issuer key and message count; 0 means 64).
func NewBBS(contexts map[string][]byte, cacheEntries int) (*BBS, error) {
	l, err := newStaticLoader(contexts)
	if err != nil {
		return nil, err
	}
	if cacheEntries <= 0 {
		cacheEntries = 64
	}
	return &BBS{loader: l, ld: &LD{loader: l}, gens: newGeneratorCache(cacheEntries)}, nil
}

// Strict runs the strict JSON-LD check (see LD.Strict) over this engine's contexts.
func (b *BBS) Strict(doc map[string]any) error { return b.ld.Strict(doc) }

// BLSKey is a BBS+ signing key on BLS12-381 (secret in Fr, public in G2).
type BLSKey struct {
	priv []byte
	pub  []byte
}

// GenerateBLSKey makes a key from 32 bytes of r.
func GenerateBLSKey(r io.Reader) (*BLSKey, error) {
	seed := make([]byte, 32)
	if _, err := io.ReadFull(r, seed); err != nil {
		return nil, fmt.Errorf("aries: bls key seed: %w", err)
	}
	pub, priv, err := bbs12381g2pub.GenerateKeyPair(sha256.New, seed)
	if err != nil {
		return nil, fmt.Errorf("aries: generate bls key: %w", err)
	}
	k := &BLSKey{}
	if k.priv, err = priv.Marshal(); err != nil {
		return nil, fmt.Errorf("aries: bls key: %w", err)
	}
	if k.pub, err = pub.Marshal(); err != nil {
		return nil, fmt.Errorf("aries: bls key: %w", err)
	}
	if err := g2.Check(k.pub); err != nil {
		return nil, err
	}
	return k, nil
}

// PublicKey returns the 96-byte compressed G2 public key.
func (k *BLSKey) PublicKey() []byte { return append([]byte{}, k.pub...) }

// SignMessages makes a BBS+ signature over the messages.
func (k *BLSKey) SignMessages(msgs [][]byte) ([]byte, error) {
	if len(msgs) == 0 || len(msgs) > MaxBBSMessages {
		return nil, fmt.Errorf("aries: bbs sign: %d messages, want 1..%d", len(msgs), MaxBBSMessages)
	}
	bbsMu.Lock()
	sig, err := bbs12381g2pub.New().Sign(msgs, k.priv)
	bbsMu.Unlock()
	if err != nil {
		return nil, fmt.Errorf("aries: bbs sign: %w", err)
	}
	return sig, nil
}

// MessageSigner signs a list of BBS+ messages (the canonical statements).
type MessageSigner func(msgs [][]byte) ([]byte, error)

type bbsSigner MessageSigner

func (s bbsSigner) Sign(data []byte) ([]byte, error) { return s(statements(string(data), false)) }
func (bbsSigner) Alg() string                        { return "Bls12381G2" }

// Sign adds a BbsBlsSignature2020 proof to doc.
func (b *BBS) Sign(doc []byte, opts ProofOptions, sign MessageSigner) ([]byte, error) {
	s := bbsblssignature2020.New(suite.WithSigner(bbsSigner(sign)))
	created := opts.Created.UTC().Truncate(time.Second)
	ctx := &signer.Context{
		SignatureType:           BBSProofType,
		SignatureRepresentation: ldproof.SignatureProofValue,
		Created:                 &created,
		VerificationMethod:      opts.VerificationMethod,
		Purpose:                 opts.Purpose,
	}
	out, err := signer.New(s).Sign(ctx, doc, processor.WithDocumentLoader(b.loader))
	if err != nil {
		return nil, fmt.Errorf("aries: bbs sign: %w", err)
	}
	return out, nil
}

// Derive makes a BbsBlsSignatureProof2020 document from a document signed
// with BbsBlsSignature2020, revealing what frame selects, bound to nonce.
// pub is the issuer's key, already resolved and checked by the caller.
func (b *BBS) Derive(signed map[string]any, frame map[string]any, nonce, pub []byte) (map[string]any, error) {
	if len(nonce) == 0 || len(nonce) > MaxBBSNonce {
		return nil, fmt.Errorf("aries: bbs derive: nonce is %d bytes, want 1..%d", len(nonce), MaxBBSNonce)
	}
	if err := g2.Check(pub); err != nil {
		return nil, fmt.Errorf("aries: bbs derive: %w", err)
	}
	resolver := keyResolver(func(string) (*sigverifier.PublicKey, error) {
		return &sigverifier.PublicKey{Type: bbsKeyType, Value: pub}, nil
	})
	s := bbsblssignatureproof2020.New()
	bbsMu.Lock()
	out, err := s.SelectiveDisclosure(deepCopy(signed), deepCopy(frame), nonce, resolver,
		processor.WithDocumentLoader(b.loader))
	bbsMu.Unlock()
	if err != nil {
		return nil, fmt.Errorf("aries: bbs derive: %w", err)
	}
	return deepCopy(out), nil
}

// BLSKeyFunc returns the issuer's G2 key for a verification method id, after
// the caller has checked that the method belongs to the expected issuer.
type BLSKeyFunc func(verificationMethod string) ([]byte, error)

// VerifyDerived checks the one BbsBlsSignatureProof2020 proof on doc
// against nonce (the verifier's challenge) and returns the proof options.
// The statements are rebuilt by aries' canonicaliser; the BBS+ proof is
// checked by verifyProof below, with cached generators.
func (b *BBS) VerifyDerived(doc map[string]any, nonce []byte, keys BLSKeyFunc) (ProofOptions, error) {
	opts, proofValue, err := readDerivedProof(doc, nonce)
	if err != nil {
		return ProofOptions{}, err
	}
	pub, err := keys(opts.VerificationMethod)
	if err != nil {
		return ProofOptions{}, err
	}
	if err := g2.Check(pub); err != nil {
		return ProofOptions{}, fmt.Errorf("aries: bbs verify: %w", err)
	}
	msgs, err := b.derivedStatements(doc)
	if err != nil {
		return ProofOptions{}, err
	}
	if err := b.verifyProof(msgs, proofValue, nonce, pub); err != nil {
		return ProofOptions{}, fmt.Errorf("aries: bbs verify: %w", err)
	}
	return opts, nil
}

// derivedStatements are the messages a derived proof reveals: the proof's
// options (as BbsBlsSignature2020, without proofValue and nonce) and then
// the document's canonical statements, blank node labels restored.
func (b *BBS) derivedStatements(doc map[string]any) ([][]byte, error) {
	d := deepCopy(doc)
	p, _ := d["proof"].([]any)
	proofOpts := map[string]any{}
	if len(p) == 1 {
		if m, ok := p[0].(map[string]any); ok {
			proofOpts = m
		}
	} else if m, ok := d["proof"].(map[string]any); ok {
		proofOpts = m
	}
	sfx := bbsblssignatureproof2020.New()
	data, err := ldproof.CreateVerifyHash(sfx, deepCopy(d), proofOpts, processor.WithDocumentLoader(b.loader))
	if err != nil {
		return nil, fmt.Errorf("aries: bbs verify: statements: %w", err)
	}
	docPart, err := sfx.GetCanonicalDocument(ldproof.GetCopyWithoutProof(d), processor.WithDocumentLoader(b.loader))
	if err != nil {
		return nil, fmt.Errorf("aries: bbs verify: statements: %w", err)
	}
	if !bytes.HasSuffix(data, docPart) {
		return nil, errors.New("aries: bbs verify: statements: document part not found")
	}
	// The signed statements are sorted with their real blank node labels;
	// restored labels (_:...) sort after IRIs (<...>), so the document's
	// statements are sorted again. aries' verifier does not, and so fails
	// on any derived proof that reveals a blank node (see bbs_aries_test.go).
	msgs := statements(string(data[:len(data)-len(docPart)]), false)
	docMsgs := statements(string(docPart), true)
	slices.SortFunc(docMsgs, bytes.Compare)
	msgs = append(msgs, docMsgs...)
	if len(msgs) == 0 || len(msgs) > MaxBBSMessages {
		return nil, fmt.Errorf("aries: bbs verify: %d statements, want 1..%d", len(msgs), MaxBBSMessages)
	}
	return msgs, nil
}

// readDerivedProof extracts exactly one derived proof and checks its nonce.
func readDerivedProof(doc map[string]any, nonce []byte) (ProofOptions, []byte, error) {
	raw, ok := doc["proof"]
	if !ok {
		return ProofOptions{}, nil, errors.New("aries: document has no proof")
	}
	if list, isList := raw.([]any); isList {
		if len(list) != 1 {
			return ProofOptions{}, nil, fmt.Errorf("aries: document has %d proofs, want exactly 1", len(list))
		}
		raw = list[0]
	}
	p, ok := raw.(map[string]any)
	if !ok {
		return ProofOptions{}, nil, fmt.Errorf("%w: proof is not an object", ErrProofShape)
	}
	for k, v := range p {
		if !bbsDerivedMembers[k] {
			return ProofOptions{}, nil, fmt.Errorf("%w: proof member %q is not covered by the signature", ErrProofShape, k)
		}
		if _, isString := v.(string); !isString {
			return ProofOptions{}, nil, fmt.Errorf("%w: proof member %q is not a string", ErrProofShape, k)
		}
	}
	str := func(k string) string { s, _ := p[k].(string); return s }
	if t := str("type"); t != BBSDerivedProofType {
		return ProofOptions{}, nil, fmt.Errorf("aries: proof type %q is not accepted, only %s", t, BBSDerivedProofType)
	}
	created, err := time.Parse(time.RFC3339, str("created"))
	if err != nil {
		return ProofOptions{}, nil, fmt.Errorf("%w: proof created: %w", ErrProofShape, err)
	}
	opts := ProofOptions{VerificationMethod: str("verificationMethod"), Purpose: str("proofPurpose"), Created: created}
	if opts.VerificationMethod == "" {
		return ProofOptions{}, nil, fmt.Errorf("%w: proof lacks verificationMethod", ErrProofShape)
	}
	if len(nonce) == 0 || len(nonce) > MaxBBSNonce {
		return ProofOptions{}, nil, fmt.Errorf("aries: challenge nonce is %d bytes, want 1..%d", len(nonce), MaxBBSNonce)
	}
	got, err := base64.StdEncoding.Strict().DecodeString(str("nonce"))
	if err != nil || subtle.ConstantTimeCompare(got, nonce) != 1 {
		return ProofOptions{}, nil, ErrNonce
	}
	pv := str("proofValue")
	if len(pv) > base64.StdEncoding.EncodedLen(maxProofValue) {
		return ProofOptions{}, nil, fmt.Errorf("%w: proofValue is %d bytes, limit %d", ErrProofShape, len(pv),
			base64.StdEncoding.EncodedLen(maxProofValue))
	}
	value, err := base64.StdEncoding.Strict().DecodeString(pv)
	if err != nil {
		return ProofOptions{}, nil, fmt.Errorf("%w: proofValue: %w", ErrProofShape, err)
	}
	return opts, value, nil
}

// statements splits canonical N-Quads into messages; restore undoes aries'
// urn:bnid: relabelling of blank nodes in a revealed document.
func statements(nquads string, restore bool) [][]byte {
	var out [][]byte
	for _, row := range strings.Split(nquads, "\n") {
		if strings.TrimSpace(row) == "" {
			continue
		}
		if restore {
			row = restoreBlankNodes(row)
		}
		out = append(out, []byte(row))
	}
	return out
}

// restoreBlankNodes turns every <urn:bnid:_:c14nN> in a statement back into
// _:c14nN (aries' own verifier restores only the first one per statement).
func restoreBlankNodes(row string) string {
	const open = "<urn:bnid:_:c14n"
	var sb strings.Builder
	for {
		i := strings.Index(row, open)
		if i < 0 {
			sb.WriteString(row)
			return sb.String()
		}
		j := strings.IndexByte(row[i:], '>')
		if j < 0 {
			sb.WriteString(row)
			return sb.String()
		}
		sb.WriteString(row[:i])
		sb.WriteString(row[i+len("<urn:bnid:") : i+j])
		row = row[i+j+1:]
	}
}
