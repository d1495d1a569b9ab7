package holder

import (
	"encoding/json"
	"fmt"

	"github.com/mandate-dev/mandate/credentials"
	"github.com/mandate-dev/mandate/credentials/sdpoa"
	"github.com/mandate-dev/mandate/presentation"
	"github.com/mandate-dev/mandate/wallet"
)

// HeldChains decodes every chain w holds, in each format, with the signer
// of the BBS+ chains' binding when they are granted to one of w's
// BLS12-381 G2 did:keys.
func HeldChains(w *wallet.Wallet) (presentation.Held, error) {
	c, err := loadChains(w)
	return c.held, err
}

// ChainFormat tells how a stored or imported chain file is secured:
// presentation.FormatSDJWT, FormatBBS, or FormatLDP for anything else
// (which the LDP decoder then accepts or refuses).
func ChainFormat(data []byte) string {
	if sdpoa.IsChain(data) {
		return presentation.FormatSDJWT
	}
	if isBBSChain(data) {
		return presentation.FormatBBS
	}
	return presentation.FormatLDP
}

// isBBSChain reports whether the chain file's first link has the BBS+
// @context; DecodeBBSChain then checks every link.
func isBBSChain(data []byte) bool {
	var v any
	if json.Unmarshal(data, &v) != nil {
		return false
	}
	if a, ok := v.([]any); ok && len(a) > 0 {
		v = a[0]
	}
	m, ok := v.(map[string]any)
	return ok && credentials.IsBBS(m)
}

// chains is what a wallet holds with the wallet's id of each chain: ids.ldp[i]
// names held.LDP[i], and so on.
type chains struct {
	held presentation.Held
	ids  map[string][]string // format → wallet chain ids, parallel to held's slices
}

func loadChains(w *wallet.Wallet) (chains, error) {
	c := chains{ids: map[string][]string{}}
	stored, err := w.Chains()
	if err != nil {
		return c, err
	}
	for _, s := range stored {
		f := ChainFormat(s.Chain)
		switch f {
		case presentation.FormatSDJWT:
			d, err := sdpoa.DecodeChain(s.Chain)
			if err != nil {
				return c, fmt.Errorf("holder: chain %.64q: %w", s.ID, err)
			}
			c.held.SDJWT = append(c.held.SDJWT, d)
		case presentation.FormatBBS:
			d, err := credentials.DecodeBBSChain(s.Chain)
			if err != nil {
				return c, fmt.Errorf("holder: chain %.64q: %w", s.ID, err)
			}
			c.held.BBS = append(c.held.BBS, d)
		default:
			d, err := credentials.DecodeChain(s.Chain)
			if err != nil {
				return c, fmt.Errorf("holder: chain %.64q: %w", s.ID, err)
			}
			c.held.LDP = append(c.held.LDP, d)
		}
		c.ids[f] = append(c.ids[f], s.ID)
	}
	c.held.BBSHolder = bbsHolder(w, c.held.BBS)
	return c, nil
}

// bbsHolder is the signer of the held BBS+ chains' binding when they are
// granted to one of the wallet's BLS12-381 G2 did:keys (the first such
// leaf); nil: the wallet's own DID signs.
func bbsHolder(w *wallet.Wallet, chains [][]*credentials.Credential) credentials.Signer {
	for _, c := range chains {
		if len(c) == 0 {
			continue
		}
		if s, err := w.BBSSigner(c[len(c)-1].Subject.ID); err == nil {
			return presentation.BBSHolder(s)
		}
	}
	return nil
}

// id is the wallet's id of the chain at index i of format f ("" if none).
func (c chains) id(f string, i int) string {
	if ids := c.ids[f]; i >= 0 && i < len(ids) {
		return ids[i]
	}
	return ""
}
