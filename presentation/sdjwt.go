package presentation

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/mandate-dev/mandate/credentials"
	"github.com/mandate-dev/mandate/credentials/sdjwt"
	"github.com/mandate-dev/mandate/credentials/sdpoa"
	"github.com/mandate-dev/mandate/did"
	"github.com/mandate-dev/mandate/internal/strictjson"
)

// SDJWTSkew is how far ahead of the verifier's clock a key binding JWT's
// iat may be.
const SDJWTSkew = 30 * time.Second

// checkSDJWT verifies an SD-JWT presentation (SPEC §15.5, steps S1-S5):
// every link's issuer signature and Disclosures, the leaf's key binding,
// the links' validity, then the binding to this verifier, one use, one
// request. It leaves st.chain holding only what the links disclose.
func (v *Verifier) checkSDJWT(_ context.Context, data []byte, st *state) error {
	links, err := parseSDJWTChain(data)
	if err != nil {
		return err
	}
	verified := make([]*sdpoa.Verified, len(links))
	for i, l := range links {
		var vl *sdpoa.Verified
		if i < len(links)-1 {
			vl, err = sdpoa.VerifyLink(l)
		} else {
			vl, err = sdpoa.Verify(l)
		}
		if err != nil {
			return sdjwtDenial(fmt.Errorf("link %d: %w", i, err))
		}
		verified[i] = vl
		st.chain = append(st.chain, vl.Credential)
	}
	leaf := verified[len(verified)-1]
	// The key binding JWT verified with cnf, the key of the leaf's subject.
	st.holder = leaf.Credential.Subject.ID
	if err := checkWindows(st.chain, st.now); err != nil {
		return err
	}
	for i, vl := range verified[:len(verified)-1] {
		if err := vl.SD.Validate(st.now, sdjwt.Validation{}); err != nil {
			return sdjwtDenial(fmt.Errorf("link %d: %w", i, err))
		}
	}
	kb := leaf.SD.KeyBinding
	if err := leaf.SD.Validate(st.now, sdjwt.Validation{Nonce: kb.Nonce, Audience: v.cfg.Audience, MaxAge: v.cfg.ChallengeTTL, Skew: SDJWTSkew}); err != nil {
		return sdjwtDenial(fmt.Errorf("leaf: %w", err))
	}
	if err := v.consumeNonce(kb.Nonce, st.now); err != nil {
		return err
	}
	if leaf.RequestDigest == "" {
		return deny(ReasonMalformed, "the key binding JWT carries no %s", sdpoa.RequestDigestClaim)
	}
	want, err := st.req.Digest()
	if err != nil {
		return err
	}
	if leaf.RequestDigest != want {
		return deny(ReasonRequestMismatch, "presentation is bound to another request")
	}
	return nil
}

// parseSDJWTChain reads the presentation: a JSON array of 1..9 compact
// SD-JWTs, root first, each at most sdpoa.MaxLinkBytes.
func parseSDJWTChain(data []byte) ([]string, error) {
	var links []string
	if err := strictjson.Decode(data, MaxPresentationBytes, &links); err != nil {
		return nil, deny(ReasonMalformed, "sd-jwt presentation: %w", err)
	}
	if len(links) == 0 || len(links) > credentials.MaxChainLinks {
		return nil, deny(ReasonMalformed, "an sd-jwt presentation holds 1..%d links", credentials.MaxChainLinks)
	}
	for i, l := range links {
		if len(l) > sdpoa.MaxLinkBytes {
			return nil, deny(ReasonMalformed, "link %d is %d bytes, limit %d", i, len(l), sdpoa.MaxLinkBytes)
		}
	}
	return links, nil
}

// consumeNonce spends a challenge's nonce, once, for this audience.
func (v *Verifier) consumeNonce(nonce string, now time.Time) error {
	aud, err := v.nonces.Consume(nonce, now)
	switch {
	case errors.Is(err, ErrChallengeUnknown):
		return deny(ReasonChallengeUnknown, "%w", err)
	case errors.Is(err, ErrChallengeExpired):
		return deny(ReasonChallengeExpired, "%w", err)
	case errors.Is(err, ErrReplay):
		return deny(ReasonReplay, "%w", err)
	case err != nil:
		return err
	case aud != v.cfg.Audience:
		return deny(ReasonAudienceMismatch, "nonce was issued for %q", aud)
	}
	return nil
}

// sdjwtDenial maps an sdjwt or sdpoa error to its reason code; a chain
// rule's error is left to credentialDenial.
func sdjwtDenial(err error) error {
	table := []struct {
		err    error
		reason Reason
	}{
		{sdjwt.ErrMalformed, ReasonMalformed},
		{sdjwt.ErrTooLarge, ReasonMalformed},
		{sdpoa.ErrHidden, ReasonMalformed},
		{sdjwt.ErrAlgorithm, ReasonSignatureInvalid},
		{sdjwt.ErrSignature, ReasonSignatureInvalid},
		{sdjwt.ErrDisclosure, ReasonSignatureInvalid},
		{sdjwt.ErrKeyBindingMissing, ReasonHolderMismatch},
		{sdjwt.ErrKeyBinding, ReasonHolderMismatch},
		{sdjwt.ErrSDHash, ReasonHolderMismatch},
		{sdjwt.ErrNonce, ReasonChallengeUnknown},
		{sdjwt.ErrAudience, ReasonAudienceMismatch},
		{sdjwt.ErrExpired, ReasonExpired},
		{did.ErrMethodNotSupported, ReasonUnsupportedDIDMethod},
		{did.ErrInvalidDID, ReasonMalformed},
		{did.ErrInvalidPublicKeyLength, ReasonSignatureInvalid},
		{did.ErrUnsupportedPublicKeyType, ReasonSignatureInvalid},
		{did.ErrInvalidPublicKeyType, ReasonSignatureInvalid},
	}
	for _, t := range table {
		if errors.Is(err, t.err) {
			return &denial{reason: t.reason, err: err}
		}
	}
	return credentialDenial(err)
}

// SDJWTReason is the reason code the verifier gives an sdjwt, sdpoa or
// chain error (INTERNAL_ERROR for any other), for tools that check an
// SD-JWT outside a presentation.
func SDJWTReason(err error) Reason {
	var dn *denial
	if errors.As(sdjwtDenial(err), &dn) {
		return dn.reason
	}
	return ReasonInternalError
}
