package credentials

import (
	"encoding/json"
	"fmt"

	"github.com/mandate-dev/mandate/internal/strictjson"
)

// MaxChainBytes bounds a serialised chain.
const MaxChainBytes = MaxChainLinks * MaxCredentialBytes

// EncodeChain serialises a chain (root first) as a JSON array of the signed
// credentials: the form `mandate issue` and `mandate delegate` write and a
// wallet stores.
func EncodeChain(chain []*Credential) ([]byte, error) {
	list := make([]map[string]any, len(chain))
	for i, c := range chain {
		list[i] = c.Raw
	}
	b, err := json.MarshalIndent(list, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("credentials: encode chain: %w", err)
	}
	return b, nil
}

// DecodeChain reads a chain file (a JSON array of credentials, root first)
// or a single credential, and parses every link. It checks no signature;
// use Verifier for that.
func DecodeChain(data []byte) ([]*Credential, error) { return decodeChain(data, Parse) }

// decodeChain reads a chain file and parses each link with parse.
func decodeChain(data []byte, parse func(map[string]any) (*Credential, error)) ([]*Credential, error) {
	var v any
	if err := strictjson.Decode(data, MaxChainBytes, &v); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	var objs []any
	switch t := v.(type) {
	case map[string]any:
		objs = []any{t}
	case []any:
		objs = t
	default:
		return nil, fmt.Errorf("%w: a chain is a credential or an array of credentials", ErrMalformed)
	}
	if len(objs) == 0 || len(objs) > MaxChainLinks {
		return nil, fmt.Errorf("%w: a chain has 1..%d links, this one %d", ErrMalformed, MaxChainLinks, len(objs))
	}
	chain := make([]*Credential, len(objs))
	for i, o := range objs {
		m, ok := o.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("%w: link %d is not an object", ErrMalformed, i)
		}
		c, err := parse(m)
		if err != nil {
			return nil, fmt.Errorf("link %d: %w", i, err)
		}
		chain[i] = c
	}
	return chain, nil
}
