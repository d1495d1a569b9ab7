package sdpoa

import (
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/multiformats/go-multibase"

	"github.com/mandate-dev/mandate/credentials"
	"github.com/mandate-dev/mandate/credentials/sdjwt"
	"github.com/mandate-dev/mandate/internal/strictjson"
)

// Limits of an SD-JWT chain (SPEC §15.4).
const (
	// MaxLinkBytes bounds one compact link, Disclosures and key binding
	// JWT included: a 64 KiB credential grows by a third in base64url.
	MaxLinkBytes = 128 << 10
	// MaxChainBytes bounds a chain file or presentation of SD-JWT links.
	MaxChainBytes = credentials.MaxChainLinks*MaxLinkBytes + 4<<10
)

// linkLimits are sdjwt's limits for one link of a chain.
var linkLimits = sdjwt.Limits{MaxBytes: MaxLinkBytes, MaxDisclosures: 2 * credentials.MaxGrants, MaxDisclosureBytes: 16 << 10, MaxDepth: 32}

// ParentDigest is the digest a child names in its parent link when the
// parent is an SD-JWT: the multibase (base58btc) sha2-256 multihash of the
// parent's issuer-signed JWT, its compact ASCII bytes. It covers the
// signature and every digest the issuer signed, and none of the
// Disclosures nor a key binding JWT, so it is the same whichever grants
// are shown.
func ParentDigest(issuerJWT string) (string, error) {
	sum := sha256.Sum256([]byte(issuerJWT))
	s, err := multibase.Encode(multibase.Base58BTC, append([]byte{0x12, 0x20}, sum[:]...))
	if err != nil {
		return "", fmt.Errorf("sdpoa: parent digest: %w", err)
	}
	return s, nil
}

// VerifyLink verifies a link above the leaf of a chain: an SD-JWT without
// key binding (it is bound by the chain rule: its subject issued the link
// below). A link that carries a key binding JWT is refused.
func VerifyLink(compact string) (*Verified, error) {
	s, err := sdjwt.Parse(compact, linkLimits)
	if err != nil {
		return nil, err
	}
	if s.KeyBinding != "" {
		return nil, fmt.Errorf("%w: a parent link carries a key binding JWT", sdjwt.ErrMalformed)
	}
	return Verify(compact, sdjwt.InsecureSkipKeyBinding())
}

// EncodeChain writes a chain (root first) as a JSON array of compact
// SD-JWTs: the form `mandate issue --format sd-jwt` writes and a wallet
// stores. Each link keeps every Disclosure its holder received.
func EncodeChain(chain []*sdjwt.SDJWT) ([]byte, error) {
	list := make([]string, len(chain))
	for i, l := range chain {
		list[i] = l.String()
	}
	b, err := json.MarshalIndent(list, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("sdpoa: encode chain: %w", err)
	}
	return b, nil
}

// IsChain tells an SD-JWT chain file (a JSON array of strings) from an
// LDP one (a JSON array of objects, or one object) by its first bytes.
func IsChain(data []byte) bool {
	t := strings.TrimLeft(string(data[:min(len(data), 64)]), " \t\r\n")
	rest, ok := strings.CutPrefix(t, "[")
	return ok && strings.HasPrefix(strings.TrimLeft(rest, " \t\r\n"), `"`)
}

// DecodeChain reads a JSON array of 1..9 compact SD-JWTs (root first) and
// splits each; it verifies nothing (VerifyChain does).
func DecodeChain(data []byte) ([]*sdjwt.SDJWT, error) {
	var list []string
	if err := strictjson.Decode(data, MaxChainBytes, &list); err != nil {
		return nil, fmt.Errorf("%w: sdpoa: chain: %w", credentials.ErrMalformed, err)
	}
	if len(list) == 0 || len(list) > credentials.MaxChainLinks {
		return nil, fmt.Errorf("%w: sdpoa: a chain has 1..%d links, this one %d", credentials.ErrMalformed, credentials.MaxChainLinks, len(list))
	}
	out := make([]*sdjwt.SDJWT, len(list))
	for i, c := range list {
		s, err := sdjwt.Parse(c, linkLimits)
		if err != nil {
			return nil, fmt.Errorf("link %d: %w", i, err)
		}
		out[i] = s
	}
	return out, nil
}

// VerifyChain verifies every link as its holder keeps it (no key binding,
// VerifyLink) and the chain rules (credentials.CheckChain) over what the
// links disclose. Whether the root is trusted is the caller's policy.
func VerifyChain(chain []*sdjwt.SDJWT) ([]*credentials.Credential, error) {
	creds := make([]*credentials.Credential, len(chain))
	for i, l := range chain {
		v, err := VerifyLink(l.String())
		if err != nil {
			return nil, fmt.Errorf("link %d: %w", i, err)
		}
		creds[i] = v.Credential
	}
	if err := credentials.CheckChain(creds); err != nil {
		return nil, err
	}
	return creds, nil
}

// Delegate signs a child credential as an SD-JWT under the SD-JWT chain
// the signer holds (root first, the signer the subject of its last link).
// The child names its parent by id and ParentDigest, and is refused when
// it would be wider than its parent, by the same CheckChain the verifier
// runs. The parent's Disclosures the child needs are handed on with the
// chain: the holder of the child keeps every link whole.
func Delegate(s credentials.Signer, chain []*sdjwt.SDJWT, t credentials.Template, o Options) (*sdjwt.SDJWT, error) {
	if len(chain) == 0 {
		return nil, fmt.Errorf("%w: delegation needs the parent chain", credentials.ErrChainBroken)
	}
	parents, err := VerifyChain(chain)
	if err != nil {
		return nil, fmt.Errorf("sdpoa: parent chain: %w", err)
	}
	parent := parents[len(parents)-1]
	if parent.Subject.ID != s.DID() {
		return nil, fmt.Errorf("%w: the parent was granted to %s, not to the signer %s", credentials.ErrChainBroken, parent.Subject.ID, s.DID())
	}
	if !parent.Subject.Delegation.Allowed {
		return nil, credentials.ErrDelegationNotAllowed
	}
	sub := credentials.Subject{
		ID: t.Subject, Principal: parent.Subject.Principal, Purpose: t.Purpose, Grants: slices.Clone(t.Grants),
		Forbidden:  mergeForbidden(parent.Subject.Forbidden, t.Forbidden),
		Delegation: t.Delegation, Parent: &credentials.Parent{ID: parent.ID, Digest: parent.SignedDigest}, Approvers: t.Approvers,
	}
	if t.ValidUntil == nil && parent.ExpirationDate != nil {
		t.ValidUntil = parent.ExpirationDate
	}
	if o.CheckPurpose != nil {
		if err := o.CheckPurpose(parents, sub); err != nil {
			return nil, fmt.Errorf("sdpoa: refused at issuance: %w", err)
		}
	}
	child, err := issue(s, sub, t, o)
	if err != nil {
		return nil, err
	}
	v, err := VerifyLink(child.String())
	if err != nil {
		return nil, fmt.Errorf("sdpoa: refused at issuance: %w", err)
	}
	if err := credentials.CheckChain(append(parents, v.Credential)); err != nil {
		return nil, fmt.Errorf("sdpoa: refused at issuance: %w", err)
	}
	return child, nil
}

// mergeForbidden keeps every inherited entry first, then adds the new ones.
func mergeForbidden(inherited, added []credentials.Forbidden) []credentials.Forbidden {
	out := slices.Clone(inherited)
	for _, f := range added {
		if !slices.Contains(out, f) {
			out = append(out, f)
		}
	}
	return out
}
