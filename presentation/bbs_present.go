package presentation

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"time"

	"github.com/mandate-dev/mandate/credentials"
)

// BBSSelection is a BBS+ chain chosen for one request: the links (root
// first, each whole as signed) and, per link, the grants its derived proof
// reveals.
type BBSSelection struct {
	Chain []*credentials.Credential
	// Grants[i] are the ids of the grants link i reveals: at the leaf the
	// one grant that covers the request, above it the grant that covers the
	// one revealed below.
	Grants [][]string
	// Held[i] is how many grants link i holds.
	Held []int
}

// SelectBBS picks, among the BBS+ chains a holder has, the first whose
// leaf is granted to holder and has a grant that covers action on resource
// inside its window, and chooses what each link reveals, as SelectSDJWT
// does. Each chain must pass the chain rules (credentials.CheckChain) as
// held; its signatures are checked by the verifier.
func SelectBBS(chains [][]*credentials.Credential, holder, action, resource string, now time.Time) (*BBSSelection, error) {
	for _, chain := range chains {
		if len(chain) == 0 || chain[len(chain)-1].Subject.ID != holder || credentials.CheckChain(chain) != nil {
			continue
		}
		grants, ok := revealPath(chain, action, resource, now)
		if !ok {
			continue
		}
		sel := &BBSSelection{Chain: chain, Grants: grants, Held: make([]int, len(chain))}
		for i, c := range chain {
			sel.Held[i] = len(c.Subject.Grants)
		}
		return sel, nil
	}
	return nil, fmt.Errorf("%w: %s on %s", ErrNoChain, action, resource)
}

// revealPath chooses, from the leaf up, the least burdened usable grant
// that covers the request (leaf) or the grant chosen below (parents).
func revealPath(chain []*credentials.Credential, action, resource string, now time.Time) ([][]string, bool) {
	leaf := usable(chain[len(chain)-1].Subject.Grants, now, func(g credentials.Grant) bool { return g.Allows(action, resource) })
	if len(leaf) == 0 {
		return nil, false
	}
	out := make([][]string, len(chain))
	below := leaf[0]
	out[len(chain)-1] = []string{below.ID}
	for i := len(chain) - 2; i >= 0; i-- {
		cover := usable(chain[i].Subject.Grants, now, func(g credentials.Grant) bool { return g.Covers(below) == nil })
		if len(cover) == 0 {
			return nil, false
		}
		below = cover[0]
		out[i] = []string{below.ID}
	}
	return out, true
}

// PresentBBS builds a BBS+ presentation (SPEC §16.3) of sel for req: every
// link's derived proof, revealing only its selected grants and bound to the
// challenge's nonce, and a binding signed by holder (the leaf's subject)
// over the nonce, the audience, the request digest and the derived links.
// A BLS12-381 G2 holder signs through BBSHolder.
func PresentBBS(holder credentials.Signer, sel *BBSSelection, ch Challenge, req Request) ([]byte, error) {
	if sel == nil || len(sel.Chain) == 0 || len(sel.Grants) != len(sel.Chain) {
		return nil, ErrNoChain
	}
	digest, err := req.Digest()
	if err != nil {
		return nil, err
	}
	links := make([]map[string]any, len(sel.Chain))
	raw := make([]json.RawMessage, len(sel.Chain))
	for i, c := range sel.Chain {
		d, err := credentials.DeriveBBS(c, sel.Grants[i], []byte(ch.Nonce))
		if err != nil {
			return nil, fmt.Errorf("presentation: link %d: %w", i, err)
		}
		if links[i], err = credentials.Decode(d); err != nil {
			return nil, fmt.Errorf("presentation: link %d: %w", i, err)
		}
		raw[i] = d
	}
	b := BBSBinding{
		Type: BBSBindingType, Holder: holder.DID(), VerificationMethod: holder.VerificationMethod(),
		Nonce: ch.Nonce, Audience: ch.Audience, RequestDigest: digest,
	}
	msg, err := bbsSigningInput(b, links)
	if err != nil {
		return nil, err
	}
	sig, err := holder.Sign(msg)
	if err != nil {
		return nil, fmt.Errorf("presentation: bbs binding: %w", err)
	}
	b.ProofValue = base64.RawURLEncoding.EncodeToString(sig)
	out, err := json.Marshal(bbsPresentation{Links: raw, Binding: b})
	if err != nil {
		return nil, fmt.Errorf("presentation: encode: %w", err)
	}
	return out, nil
}

// BBSHolder makes a BBS+ key a holder's Signer: Sign is a BBS+ signature
// over the one message, which the verifier checks with the did:key's G2
// key (a BBS+ presentation's binding).
func BBSHolder(s credentials.BBSSigner) credentials.Signer { return bbsHolder{s} }

type bbsHolder struct{ credentials.BBSSigner }

func (h bbsHolder) Sign(msg []byte) ([]byte, error) { return h.SignMessages([][]byte{msg}) }
