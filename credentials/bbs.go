package credentials

import (
	"context"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/mandate-dev/mandate/did"
	"github.com/mandate-dev/mandate/internal/aries"
	"github.com/mandate-dev/mandate/internal/strictjson"
)

// BBS+ (BbsBlsSignature2020) contexts, embedded beside the PoA ones. They are
// the published W3C CCG documents byte for byte (shared/vectors/jsonld-contexts,
// SHA-256 in its context-map.json).
const (
	ContextBBSV1      = "https://w3id.org/security/bbs/v1"
	contextSecurityV1 = "https://w3id.org/security/v1"
	contextSecurityV2 = "https://w3id.org/security/v2"
)

//go:embed contexts/bbs/*.jsonld
var bbsContextFiles embed.FS

// bbsContext is the @context of a PoA credential secured with BBS+: the
// Ed25519 suite's context is replaced by the BBS one.
var bbsContext = []string{ContextCredentialsV1, ContextBBSV1, ContextStatusV1, ContextPoAV1}

// constraintsSuffix names a grant's constraints node in a BBS+ credential.
const constraintsSuffix = "#constraints"

// MaxNonceBytes bounds a BBS+ presentation nonce (the verifier's challenge).
const MaxNonceBytes = aries.MaxBBSNonce

// ErrNonce: a BBS+ derived proof was made for another challenge.
var ErrNonce = errors.New("credentials: proof nonce does not match the challenge")

var bbsEngine = sync.OnceValues(func() (*aries.BBS, error) {
	ctx := Contexts()
	for url, file := range map[string]string{
		ContextBBSV1: "contexts/bbs/bbs-v1.jsonld", contextSecurityV1: "contexts/bbs/security-v1.jsonld",
		contextSecurityV2: "contexts/bbs/security-v2.jsonld",
	} {
		b, err := bbsContextFiles.ReadFile(file)
		if err != nil {
			return nil, fmt.Errorf("credentials: embedded context %s: %w", file, err)
		}
		ctx[url] = b
	}
	return aries.NewBBS(ctx, 0)
})

// BBSSigner signs BBS+ messages with one BLS12-381 G2 did:key's key.
type BBSSigner interface {
	DID() string
	VerificationMethod() string
	SignMessages(msgs [][]byte) ([]byte, error)
}

// IssueBBS signs a root PoA credential with a BbsBlsSignature2020 proof. The
// credential is the one Issue makes, with the BBS context and two kinds of
// digest the holder cannot leave out of a derived proof: the subject's
// "digest" covers every always-visible field, each grant's "digest" covers
// the grant whole (see docs/BBS.md).
func IssueBBS(s BBSSigner, t Template, o IssueOptions) (*Credential, error) {
	sub := Subject{
		ID: t.Subject, Principal: s.DID(), Purpose: t.Purpose, Grants: slices.Clone(t.Grants),
		Forbidden: t.Forbidden, Delegation: t.Delegation, Approvers: t.Approvers,
	}
	return signBBS(s, sub, t, o)
}

// signBBS issues sub, root or child, with a BbsBlsSignature2020 proof by s.
func signBBS(s BBSSigner, sub Subject, t Template, o IssueOptions) (*Credential, error) {
	if _, err := did.ParseBLS12381G2Key(s.DID()); err != nil {
		return nil, fmt.Errorf("credentials: bbs issuer: %w", err)
	}
	env, err := NewEnvelope(sub, t, o)
	if err != nil {
		return nil, err
	}
	now, id, credStatus, from, sub := env.Now, env.ID, env.Status, env.From, env.Subject
	c := &Credential{ID: id, Issuer: s.DID(), IssuanceDate: from.UTC().Truncate(time.Second), Status: credStatus, Subject: sub}
	if t.ValidUntil != nil {
		exp := t.ValidUntil.UTC().Truncate(time.Second)
		c.ExpirationDate = &exp
	}
	doc, err := bbsDocument(c)
	if err != nil {
		return nil, err
	}
	unsigned, err := json.Marshal(doc)
	if err != nil {
		return nil, fmt.Errorf("credentials: encode: %w", err)
	}
	eng, err := bbsEngine()
	if err != nil {
		return nil, err
	}
	signed, err := eng.Sign(unsigned, aries.ProofOptions{
		VerificationMethod: s.VerificationMethod(), Purpose: "assertionMethod", Created: now(),
	}, s.SignMessages)
	if err != nil {
		return nil, fmt.Errorf("credentials: sign: %w", err)
	}
	m, err := Decode(signed)
	if err != nil {
		return nil, err
	}
	return parseBBS(m)
}

// bbsDocument is the unsigned JSON of a BBS+ credential, digests included.
func bbsDocument(c *Credential) (map[string]any, error) {
	subject, err := toJSONValue(c.Subject)
	if err != nil {
		return nil, err
	}
	sm := subject.(map[string]any)
	vd, err := visibleDigest(c)
	if err != nil {
		return nil, err
	}
	sm["digest"] = vd
	grants := sm["grants"].([]any)
	for i, g := range c.Subject.Grants {
		gd, err := grantDigest(g)
		if err != nil {
			return nil, err
		}
		gm := grants[i].(map[string]any)
		gm["digest"] = gd
		// A named constraints node: aries relabels only the first blank node
		// of a statement when it derives, so constraints -> rate, two blank
		// nodes in one statement, would lose the rate (docs/BBS.md).
		if cm, ok := gm["constraints"].(map[string]any); ok {
			cm["id"] = g.ID + constraintsSuffix
		}
	}
	doc := map[string]any{
		"@context": bbsContext, "id": c.ID, "type": wantType, "issuer": c.Issuer,
		"issuanceDate": c.IssuanceDate.Format(time.RFC3339), "credentialSubject": sm,
	}
	if c.ExpirationDate != nil {
		doc["expirationDate"] = c.ExpirationDate.Format(time.RFC3339)
	}
	if c.Status != nil {
		doc["credentialStatus"] = c.Status
	}
	return doc, nil
}

// visibleDigest covers what selective disclosure must never hide: the
// envelope, the credential's status entries and the subject but its grants.
func visibleDigest(c *Credential) (string, error) {
	sub := c.Subject
	sub.Grants = nil
	// JSON-LD sets carry no order: a derived document may list them in
	// another order, so the digests sort them.
	sub.Forbidden = slices.Clone(sub.Forbidden)
	slices.SortFunc(sub.Forbidden, func(a, b Forbidden) int {
		return strings.Compare(a.Action+"\x00"+a.Resource, b.Action+"\x00"+b.Resource)
	})
	sub.Approvers = slices.Sorted(slices.Values(sub.Approvers))
	v, err := toJSONValue(struct {
		ID, Issuer, IssuanceDate string
		ExpirationDate           *time.Time
		Status                   []StatusEntry
		Subject                  Subject
	}{c.ID, c.Issuer, c.IssuanceDate.UTC().Format(time.RFC3339), c.ExpirationDate, sortedStatus(c.Status), sub})
	if err != nil {
		return "", err
	}
	return Digest(v)
}

// grantDigest covers one grant whole: action, resource, constraints, status.
func grantDigest(g Grant) (string, error) {
	g.Status = sortedStatus(g.Status)
	g.Constraints.Conditions = slices.Sorted(slices.Values(g.Constraints.Conditions))
	v, err := toJSONValue(g)
	if err != nil {
		return "", err
	}
	return Digest(v)
}

func sortedStatus(s []StatusEntry) []StatusEntry {
	out := slices.Clone(s)
	slices.SortFunc(out, func(a, b StatusEntry) int { return strings.Compare(a.ID, b.ID) })
	return out
}

func toJSONValue(v any) (any, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("credentials: encode: %w", err)
	}
	var out any
	if err := json.Unmarshal(b, &out); err != nil {
		return nil, fmt.Errorf("credentials: encode: %w", err)
	}
	return out, nil
}

// DeriveBBS makes the holder's derived proof of a BBS+ credential: it reveals
// the grants named by grantIDs (each whole) and every always-visible field,
// bound to the verifier's nonce. The frame is built here from the ids; no
// caller-supplied frame is ever used. It returns the derived document's JSON.
func DeriveBBS(c *Credential, grantIDs []string, nonce []byte) ([]byte, error) {
	if c == nil || c.Raw == nil {
		return nil, errors.New("credentials: derive: no credential")
	}
	if len(grantIDs) == 0 || len(grantIDs) > MaxGrants {
		return nil, fmt.Errorf("credentials: derive: need 1..%d grant ids, have %d", MaxGrants, len(grantIDs))
	}
	if len(nonce) == 0 || len(nonce) > MaxNonceBytes {
		return nil, fmt.Errorf("credentials: derive: nonce is %d bytes, want 1..%d", len(nonce), MaxNonceBytes)
	}
	ids := make([]any, 0, len(grantIDs))
	for _, id := range grantIDs {
		if _, ok := c.Grant(id); !ok {
			return nil, fmt.Errorf("credentials: derive: the credential has no grant %q", id)
		}
		if slices.Contains(ids, any(id)) {
			return nil, fmt.Errorf("credentials: derive: grant %q named twice", id)
		}
		ids = append(ids, id)
	}
	pub, err := did.ParseBLS12381G2Key(c.Issuer)
	if err != nil {
		return nil, fmt.Errorf("credentials: derive: %w", err)
	}
	eng, err := bbsEngine()
	if err != nil {
		return nil, err
	}
	out, err := eng.Derive(c.Raw, bbsFrame(ids), nonce, pub)
	if err != nil {
		return nil, fmt.Errorf("credentials: derive: %w", err)
	}
	b, err := json.Marshal(out)
	if err != nil {
		return nil, fmt.Errorf("credentials: derive: encode: %w", err)
	}
	return b, nil
}

// bbsFrame selects the credential whole except for the grants, of which only
// those with the given ids are kept (each with all its members).
func bbsFrame(ids []any) map[string]any {
	return map[string]any{
		"@context":     toAnySlice(bbsContext),
		"type":         toAnySlice(wantType),
		"@omitDefault": true,
		"credentialSubject": map[string]any{
			"@omitDefault": true,
			"grants":       map[string]any{"@id": ids, "@omitDefault": true},
		},
	}
}

func toAnySlice(s []string) []any {
	out := make([]any, len(s))
	for i, v := range s {
		out[i] = v
	}
	return out
}

// BBSVerifier verifies BBS+ derived proofs of PoA credentials. The issuer's
// key comes from its did:key (BLS12-381 G2): only did:key issuers are
// accepted, and which of them are trusted is the caller's trust policy.
type BBSVerifier struct {
	eng *aries.BBS
}

// NewBBSVerifier returns a BBS+ verifier sharing one generator cache.
func NewBBSVerifier() (*BBSVerifier, error) {
	eng, err := bbsEngine()
	if err != nil {
		return nil, err
	}
	return &BBSVerifier{eng: eng}, nil
}

// Verify checks a derived document against the verifier's challenge nonce
// and returns the credential it reveals (only the disclosed grants). Errors:
// ErrMalformed (shape, strict JSON-LD, a withheld always-visible field or a
// partial grant), ErrNonce, ErrUnsupportedDIDMethod, ErrSignature.
func (v *BBSVerifier) Verify(ctx context.Context, data, nonce []byte) (*Credential, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("credentials: verify: %w", err)
	}
	m, err := Decode(data)
	if err != nil {
		return nil, err
	}
	if !strictjson.EqualStrings(m["@context"], bbsContext) {
		return nil, fmt.Errorf("%w: @context must be exactly %q", ErrMalformed, bbsContext)
	}
	issuer, _ := m["issuer"].(string)
	opts, err := v.eng.VerifyDerived(m, nonce, func(vm string) ([]byte, error) {
		owner, _, _ := strings.Cut(vm, "#")
		if owner != issuer {
			return nil, fmt.Errorf("credentials: proof key %s does not belong to issuer %s", vm, issuer)
		}
		pub, err := did.ParseBLS12381G2Key(vm)
		if errors.Is(err, did.ErrMethodNotSupported) {
			return nil, fmt.Errorf("%w: %w", ErrUnsupportedDIDMethod, err)
		}
		return pub, err
	})
	switch {
	case err == nil:
	case errors.Is(err, aries.ErrNonce):
		return nil, fmt.Errorf("%w: %w", ErrNonce, err)
	case errors.Is(err, ErrUnsupportedDIDMethod):
		return nil, err
	case errors.Is(err, aries.ErrProofShape):
		return nil, fmt.Errorf("%w: %w", ErrMalformed, err)
	default:
		return nil, fmt.Errorf("%w: %w", ErrSignature, err)
	}
	if opts.Purpose != "assertionMethod" {
		return nil, fmt.Errorf("%w: proofPurpose %q, want assertionMethod", ErrSignature, opts.Purpose)
	}
	if err := v.eng.Strict(m); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	return parseBBS(m)
}

// parseBBS reads a BBS+ credential, signed or derived, and checks that its
// digests match what it shows: a withheld always-visible field or a partly
// shown grant is MALFORMED.
func parseBBS(m map[string]any) (*Credential, error) {
	if !strictjson.EqualStrings(m["@context"], bbsContext) {
		return nil, fmt.Errorf("%w: @context must be exactly %q", ErrMalformed, bbsContext)
	}
	view, subDigest, grantDigests, err := bbsView(m)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	c, err := Parse(view)
	if err != nil {
		return nil, err
	}
	c.Raw = m
	want, err := visibleDigest(c)
	if err != nil {
		return nil, err
	}
	if subDigest != want {
		return nil, fmt.Errorf("%w: %s: always-visible fields were withheld or changed (subject digest mismatch)", ErrMalformed, c.ID)
	}
	if c.SignedDigest, err = BBSLinkDigest(c.ID, c.Issuer, subDigest); err != nil {
		return nil, err
	}
	for i, g := range c.Subject.Grants {
		want, err := grantDigest(g)
		if err != nil {
			return nil, err
		}
		if grantDigests[i] != want {
			return nil, fmt.Errorf("%w: %s: grant %q is not shown whole (grant digest mismatch)", ErrMalformed, c.ID, g.ID)
		}
	}
	return c, nil
}

// bbsView returns a copy of m in the form Parse reads: the Ed25519 context
// list, the proof and the digests taken out, JSON-LD's one-element arrays
// and aries' urn:bnid: blank-node ids undone.
func bbsView(m map[string]any) (map[string]any, string, []string, error) {
	b, err := json.Marshal(m)
	if err != nil {
		return nil, "", nil, err
	}
	var v map[string]any
	if err := json.Unmarshal(b, &v); err != nil {
		return nil, "", nil, err
	}
	v["@context"] = toAnySlice(wantContext)
	delete(v, "proof")
	if t, ok := v["type"].([]any); ok && len(t) == 2 && t[0] == wantType[1] && t[1] == wantType[0] {
		v["type"] = toAnySlice(wantType) // JSON-LD framing sorts types
	}
	if st, ok := v["credentialStatus"].(map[string]any); ok {
		v["credentialStatus"] = []any{st}
	}
	sub, ok := v["credentialSubject"].(map[string]any)
	if !ok {
		return nil, "", nil, errors.New("credentialSubject must be one object")
	}
	subDigest, ok := sub["digest"].(string)
	if !ok {
		return nil, "", nil, errors.New("credentialSubject has no digest: always-visible fields were withheld")
	}
	delete(sub, "digest")
	grants, _ := sub["grants"].([]any)
	digests := make([]string, len(grants))
	for i, g := range grants {
		gm, ok := g.(map[string]any)
		if !ok {
			return nil, "", nil, errors.New("a grant is not an object")
		}
		if digests[i], ok = gm["digest"].(string); !ok {
			return nil, "", nil, fmt.Errorf("grant %v has no digest: it is not shown whole", gm["id"])
		}
		delete(gm, "digest")
		if cm, ok := gm["constraints"].(map[string]any); ok {
			if id, _ := gm["id"].(string); cm["id"] != id+constraintsSuffix {
				return nil, "", nil, fmt.Errorf("grant %q: constraints node is not %q", id, id+constraintsSuffix)
			}
			delete(cm, "id")
		}
	}
	dropBlankIDs(sub)
	if err := nativeValues(sub); err != nil {
		return nil, "", nil, err
	}
	return v, subDigest, digests, nil
}

// nativeValues turns the typed literals that framing gives back for JSON
// booleans and integers ({"@value": "1", "type": "xsd:integer"}) into JSON
// values again; any other value object is refused.
func nativeValues(v any) error {
	switch t := v.(type) {
	case map[string]any:
		for k, e := range t {
			obj, ok := e.(map[string]any)
			if !ok {
				if err := nativeValues(e); err != nil {
					return err
				}
				continue
			}
			val, isValue := obj["@value"].(string)
			if !isValue {
				if err := nativeValues(obj); err != nil {
					return err
				}
				continue
			}
			if len(obj) != 2 {
				return fmt.Errorf("%s: value object has extra members", k)
			}
			switch obj["type"] {
			case "xsd:boolean":
				if val != "true" && val != "false" {
					return fmt.Errorf("%s: %q is not a boolean", k, val)
				}
				t[k] = val == "true"
			case "xsd:integer":
				n, err := strconv.ParseInt(val, 10, 64)
				if err != nil || n < -(1<<53) || n > 1<<53 {
					return fmt.Errorf("%s: %q is not an integer in range", k, val)
				}
				t[k] = float64(n)
			default:
				return fmt.Errorf("%s: value of type %v is not accepted", k, obj["type"])
			}
		}
	case []any:
		for _, e := range t {
			if err := nativeValues(e); err != nil {
				return err
			}
		}
	}
	return nil
}

// dropBlankIDs removes the "urn:bnid:_:c14nN" ids aries gives blank nodes
// in a derived document; they are not part of the PoA model.
func dropBlankIDs(v any) {
	switch t := v.(type) {
	case map[string]any:
		if id, ok := t["id"].(string); ok && strings.HasPrefix(id, "urn:bnid:") {
			delete(t, "id")
		}
		for _, e := range t {
			dropBlankIDs(e)
		}
	case []any:
		for _, e := range t {
			dropBlankIDs(e)
		}
	}
}

func parseBLSKey(d string) ([]byte, error) { return did.ParseBLS12381G2Key(d) }
