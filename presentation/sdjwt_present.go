package presentation

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/mandate-dev/mandate/credentials"
	"github.com/mandate-dev/mandate/credentials/sdjwt"
	"github.com/mandate-dev/mandate/credentials/sdpoa"
)

// SDJWTSelection is an SD-JWT chain chosen for one request: the links
// (root first, each whole as held) and, per link, the grants to disclose.
type SDJWTSelection struct {
	Chain []*sdjwt.SDJWT
	// Grants[i] are the ids of the grants link i shows: at the leaf the one
	// grant that covers the request, above it the grants that cover the
	// one shown below.
	Grants [][]string
	// Held[i] is how many grants link i holds.
	Held []int
}

// SelectSDJWT picks, among the SD-JWT chains a holder has, the first whose
// leaf is granted to holder and has a grant that covers action on resource
// inside its window, and chooses what each link discloses. Each chain is
// verified first (sdpoa.VerifyChain): a holder presents nothing it could
// not check itself.
func SelectSDJWT(chains [][]*sdjwt.SDJWT, holder, action, resource string, now time.Time) (*SDJWTSelection, error) {
	for _, chain := range chains {
		if len(chain) == 0 {
			continue
		}
		creds, err := sdpoa.VerifyChain(chain)
		if err != nil || creds[len(creds)-1].Subject.ID != holder {
			continue
		}
		leaf := usable(creds[len(creds)-1].Subject.Grants, now, func(g credentials.Grant) bool { return g.Allows(action, resource) })
		if len(leaf) == 0 {
			continue
		}
		sel := &SDJWTSelection{Chain: chain, Grants: make([][]string, len(chain)), Held: make([]int, len(chain))}
		below := leaf[0]
		sel.Grants[len(chain)-1] = []string{below.ID}
		complete := true
		for i := len(chain) - 2; i >= 0 && complete; i-- {
			cover := usable(creds[i].Subject.Grants, now, func(g credentials.Grant) bool { return g.Covers(below) == nil })
			if len(cover) == 0 {
				complete = false
				break
			}
			below = cover[0]
			sel.Grants[i] = []string{below.ID}
		}
		if !complete {
			continue
		}
		for i, c := range creds {
			sel.Held[i] = len(c.Subject.Grants)
		}
		return sel, nil
	}
	return nil, fmt.Errorf("%w: %s on %s", ErrNoChain, action, resource)
}

// usable returns the grants that pass keep and are inside their window,
// least burdened first (as the verifier orders candidates).
func usable(grants []credentials.Grant, now time.Time, keep func(credentials.Grant) bool) []credentials.Grant {
	var out []credentials.Grant
	for _, g := range grants {
		if keep(g) && inWindow(g.Constraints, now) {
			out = append(out, g)
		}
	}
	slices.SortStableFunc(out, func(a, b credentials.Grant) int { return burden(a) - burden(b) })
	return out
}

// PresentSDJWT builds an SD-JWT presentation (SPEC §15.3) of sel for req:
// each parent link with only its selected Disclosures and no key binding,
// the leaf with its selected Disclosures and a key binding JWT signed by
// holder (the leaf's subject) carrying the challenge's nonce and audience,
// now as iat, sd_hash and the request digest.
func PresentSDJWT(holder credentials.Signer, sel *SDJWTSelection, ch Challenge, req Request, now time.Time) ([]byte, error) {
	if sel == nil || len(sel.Chain) == 0 || len(sel.Grants) != len(sel.Chain) {
		return nil, ErrNoChain
	}
	digest, err := req.Digest()
	if err != nil {
		return nil, err
	}
	key, err := sdpoa.KeySigner(holder)
	if err != nil {
		return nil, err
	}
	h, err := sdjwt.NewHolder(key, jose.EdDSA)
	if err != nil {
		return nil, err
	}
	last := len(sel.Chain) - 1
	links := make([]string, len(sel.Chain))
	for i, l := range sel.Chain[:last] {
		shown, err := sdpoa.Select(l, sel.Grants[i]...)
		if err != nil {
			return nil, fmt.Errorf("presentation: link %d: %w", i, err)
		}
		links[i] = shown.String()
	}
	links[last], err = sdpoa.Present(h, sel.Chain[last], sel.Grants[last],
		sdjwt.KeyBindingClaims{Nonce: ch.Nonce, Audience: ch.Audience, IssuedAt: now}, digest)
	if err != nil {
		return nil, fmt.Errorf("presentation: leaf: %w", err)
	}
	b, err := json.Marshal(links)
	if err != nil {
		return nil, fmt.Errorf("presentation: encode: %w", err)
	}
	return b, nil
}

// Held is what a wallet can present: its chains in each format.
type Held struct {
	LDP   [][]*credentials.Credential
	SDJWT [][]*sdjwt.SDJWT
	BBS   [][]*credentials.Credential
	// BBSHolder signs the binding of BBS+ presentations when the wallet's
	// BBS+ chains are granted to another of its DIDs (its BLS12-381 G2
	// did:key, through BBSHolder); nil: the holder given to Present.
	BBSHolder credentials.Signer
}

// Formats lists the formats h holds chains in, the most private first
// (BBS+ derived proofs are also unlinkable).
func (h Held) Formats() []string {
	var out []string
	if len(h.BBS) > 0 {
		out = append(out, FormatBBS)
	}
	if len(h.SDJWT) > 0 {
		out = append(out, FormatSDJWT)
	}
	if len(h.LDP) > 0 {
		out = append(out, FormatLDP)
	}
	return out
}

// Present negotiates and presents: in the order of Formats, the first
// format the challenge lists (the verifier's policy) in which a held chain
// covers req. It returns that format and the presentation.
func (h Held) Present(holder credentials.Signer, ch Challenge, req Request, now time.Time) (string, []byte, error) {
	tried := false
	for _, f := range h.Formats() {
		if !slices.Contains(ch.Formats, f) {
			continue
		}
		tried = true
		var vp []byte
		var err error
		switch f {
		case FormatBBS:
			signer := holder
			if h.BBSHolder != nil {
				signer = h.BBSHolder
			}
			var sel *BBSSelection
			if sel, err = SelectBBS(h.BBS, signer.DID(), req.Action, req.Resource, now); err == nil {
				vp, err = PresentBBS(signer, sel, ch, req)
			}
		case FormatSDJWT:
			var sel *SDJWTSelection
			if sel, err = SelectSDJWT(h.SDJWT, holder.DID(), req.Action, req.Resource, now); err == nil {
				vp, err = PresentSDJWT(holder, sel, ch, req, now)
			}
		default:
			var chain []*credentials.Credential
			if chain, err = Select(h.LDP, holder.DID(), req.Action, req.Resource, now); err == nil {
				vp, err = Present(holder, chain, ch, req, now)
			}
		}
		if errors.Is(err, ErrNoChain) {
			continue
		}
		return f, vp, err
	}
	if !tried {
		return "", nil, fmt.Errorf("presentation: no common format: the verifier accepts %v, the wallet holds %v", ch.Formats, h.Formats())
	}
	return "", nil, fmt.Errorf("%w: %s on %s", ErrNoChain, req.Action, req.Resource)
}
