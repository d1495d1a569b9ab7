package presentation

import (
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/mandate-dev/mandate/credentials"
	"github.com/mandate-dev/mandate/did"
	"github.com/mandate-dev/mandate/internal/aries"
	"github.com/mandate-dev/mandate/internal/strictjson"
)

// BBSBindingType is the type of a BBS+ presentation's holder binding.
const BBSBindingType = "MandateBBSBinding2026"

// bbsBindingDomain separates the binding's signing input from any other
// message a holder's key signs.
const bbsBindingDomain = "mandate:bbs-binding:v1\n"

// maxBindingSig bounds the binding's proofValue: an Ed25519 signature is 64
// bytes, a BBS+ signature 112.
const maxBindingSig = 256

// BBSBinding is the holder binding of a BBS+ presentation (SPEC §16.3).
// A derived proof binds only its nonce; the binding, signed by the leaf's
// subject, ties the presentation to the audience and the request digest as
// well, and to exactly the derived links it carries.
type BBSBinding struct {
	Type               string `json:"type"`
	Holder             string `json:"holder"`
	VerificationMethod string `json:"verificationMethod"`
	Nonce              string `json:"nonce"`
	Audience           string `json:"audience"`
	RequestDigest      string `json:"requestDigest"`
	ProofValue         string `json:"proofValue"`
}

// bbsPresentation is the wire form: the derived links, root first, and the
// binding.
type bbsPresentation struct {
	Links   []json.RawMessage `json:"links"`
	Binding BBSBinding        `json:"binding"`
}

// bbsSigningInput is what the binding signs: the domain, then the JCS of
// the binding without proofValue, plus the Digest of every derived link.
func bbsSigningInput(b BBSBinding, links []map[string]any) ([]byte, error) {
	digests := make([]any, len(links))
	for i, l := range links {
		d, err := credentials.Digest(l)
		if err != nil {
			return nil, err
		}
		digests[i] = d
	}
	canon, err := credentials.CanonicalJSON(map[string]any{
		"type": b.Type, "holder": b.Holder, "verificationMethod": b.VerificationMethod,
		"nonce": b.Nonce, "audience": b.Audience, "requestDigest": b.RequestDigest, "links": digests,
	})
	if err != nil {
		return nil, err
	}
	return append([]byte(bbsBindingDomain), canon...), nil
}

// checkBBS verifies a BBS+ presentation (SPEC §16.4, steps B1-B5): every
// derived link against the challenge nonce the binding names, the holder's
// binding signature, then the binding to this verifier, one use, one
// request. st.chain holds only what the links reveal.
func (v *Verifier) checkBBS(ctx context.Context, data []byte, st *state) error {
	p, links, err := parseBBSPresentation(data)
	if err != nil {
		return err
	}
	b := p.Binding
	for i, l := range p.Links {
		c, err := v.bbs.Verify(ctx, l, []byte(b.Nonce))
		if err != nil {
			return bbsDenial(fmt.Errorf("link %d: %w", i, err))
		}
		st.chain = append(st.chain, c)
	}
	leaf := st.chain[len(st.chain)-1]
	if b.Holder != leaf.Subject.ID {
		return deny(ReasonHolderMismatch, "presented by %s, but the leaf credential was granted to %s", b.Holder, leaf.Subject.ID)
	}
	if err := v.checkBBSBinding(ctx, b, links); err != nil {
		return err
	}
	st.holder = b.Holder // named as actor only once the binding verified
	if b.Audience != v.cfg.Audience {
		return deny(ReasonAudienceMismatch, "presentation is for %q, this verifier is %q", b.Audience, v.cfg.Audience)
	}
	if err := v.consumeNonce(b.Nonce, st.now); err != nil {
		return err
	}
	want, err := st.req.Digest()
	if err != nil {
		return err
	}
	if b.RequestDigest != want {
		return deny(ReasonRequestMismatch, "presentation is bound to another request")
	}
	return nil
}

// checkBBSBinding verifies the binding's signature by the holder's key: a
// BLS12-381 G2 did:key signs with BBS+ (one message), any other DID with
// Ed25519 through the verifier's resolver (authentication).
func (v *Verifier) checkBBSBinding(ctx context.Context, b BBSBinding, links []map[string]any) error {
	owner, _, _ := strings.Cut(b.VerificationMethod, "#")
	if owner != b.Holder {
		return deny(ReasonSignatureInvalid, "binding key %s does not belong to holder %s", b.VerificationMethod, b.Holder)
	}
	sig, err := base64.RawURLEncoding.DecodeString(b.ProofValue)
	if err != nil || len(sig) == 0 || len(sig) > maxBindingSig {
		return deny(ReasonMalformed, "binding proofValue is not 1..%d bytes of base64url", maxBindingSig)
	}
	msg, err := bbsSigningInput(b, links)
	if err != nil {
		return deny(ReasonMalformed, "binding: %w", err)
	}
	if pub, err := did.ParseBLS12381G2Key(b.VerificationMethod); err == nil {
		if err := aries.VerifyBLSSignature(pub, msg, sig); err != nil {
			return deny(ReasonSignatureInvalid, "binding: %w", err)
		}
		return nil
	}
	pub, err := did.PublicKey(ctx, v.cfg.Resolver, b.VerificationMethod, "authentication")
	switch {
	case errors.Is(err, did.ErrMethodNotSupported):
		return deny(ReasonUnsupportedDIDMethod, "holder: %w", err)
	case errors.Is(err, did.ErrResolution):
		return deny(ReasonDIDResolutionFailed, "holder: %w", err)
	case err != nil:
		return deny(ReasonSignatureInvalid, "holder: %w", err)
	}
	if !ed25519.Verify(pub, msg, sig) {
		return deny(ReasonSignatureInvalid, "binding signature does not verify with %s", b.VerificationMethod)
	}
	return nil
}

// parseBBSPresentation reads the presentation (SPEC §16.3): exactly
// {links, binding}, 1..9 links each a JSON object within
// MaxCredentialBytes, the binding's members all present and bounded.
func parseBBSPresentation(data []byte) (*bbsPresentation, []map[string]any, error) {
	var p bbsPresentation
	if err := strictjson.Decode(data, MaxPresentationBytes, &p); err != nil {
		return nil, nil, deny(ReasonMalformed, "bbs presentation: %w", err)
	}
	if len(p.Links) == 0 || len(p.Links) > credentials.MaxChainLinks {
		return nil, nil, deny(ReasonMalformed, "a bbs presentation holds 1..%d links", credentials.MaxChainLinks)
	}
	b := p.Binding
	switch {
	case b.Type != BBSBindingType:
		return nil, nil, deny(ReasonMalformed, "binding type must be %s", BBSBindingType)
	case !strings.HasPrefix(b.Holder, "did:") || b.VerificationMethod == "":
		return nil, nil, deny(ReasonMalformed, "binding needs a holder DID and a verificationMethod")
	case b.Nonce == "" || len(b.Nonce) > credentials.MaxNonceBytes:
		return nil, nil, deny(ReasonMalformed, "binding nonce must be 1..%d bytes", credentials.MaxNonceBytes)
	case b.Audience == "" || b.RequestDigest == "" || b.ProofValue == "":
		return nil, nil, deny(ReasonMalformed, "binding needs an audience, a requestDigest and a proofValue")
	case len(b.Holder)+len(b.VerificationMethod)+len(b.Audience)+len(b.RequestDigest)+len(b.ProofValue) > 8<<10:
		return nil, nil, deny(ReasonMalformed, "binding is larger than 8 KiB")
	}
	links := make([]map[string]any, len(p.Links))
	for i, l := range p.Links {
		if len(l) > credentials.MaxCredentialBytes {
			return nil, nil, deny(ReasonMalformed, "link %d is %d bytes, limit %d", i, len(l), credentials.MaxCredentialBytes)
		}
		m, err := credentials.Decode(l)
		if err != nil {
			return nil, nil, deny(ReasonMalformed, "link %d: %w", i, err)
		}
		links[i] = m
	}
	return &p, links, nil
}

// bbsDenial maps a BBS+ verification error to its reason code
// (docs/BBS.md): a proof made for another challenge is REPLAY; the rest as
// for any credential.
func bbsDenial(err error) error {
	if errors.Is(err, credentials.ErrNonce) {
		return &denial{reason: ReasonReplay, err: err}
	}
	return credentialDenial(err)
}
