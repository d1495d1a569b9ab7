package did

import (
	"context"
	"fmt"
	"slices"
	"strings"
)

// Methods resolves DIDs of an explicit list of methods, each through its own resolver; any other method gives
// ErrMethodNotSupported before anything is fetched.
type Methods struct {
	byMethod map[string]Resolver
}

var _ Resolver = (*Methods)(nil)

// NewMethods returns a resolver over byMethod (method name, as in "key" or "web", to its resolver).
func NewMethods(byMethod map[string]Resolver) (*Methods, error) {
	if len(byMethod) == 0 {
		return nil, fmt.Errorf("did: methods: no DID method given")
	}
	m := &Methods{byMethod: make(map[string]Resolver, len(byMethod))}
	for name, r := range byMethod {
		if !validMethodName(name) || r == nil {
			return nil, fmt.Errorf("did: methods: %s is not a method name with a resolver", quote(name))
		}
		m.byMethod[name] = r
	}
	return m, nil
}

// Names lists the accepted methods, sorted.
func (m *Methods) Names() []string {
	out := make([]string, 0, len(m.byMethod))
	for name := range m.byMethod {
		out = append(out, name)
	}
	slices.Sort(out)
	return out
}

// Resolve resolves did through its method's resolver.
func (m *Methods) Resolve(ctx context.Context, did string) (*Document, error) {
	r, ok := m.byMethod[Method(did)]
	if !ok {
		return nil, fmt.Errorf("%w: %s: accepted methods are %v", ErrMethodNotSupported, quote(did), m.Names())
	}
	return r.Resolve(ctx, did)
}

// Only narrows a resolver to a list of methods: a DID of any other method gives ErrMethodNotSupported before r
// is asked.
func Only(r Resolver, methods []string) Resolver {
	return only{r: r, methods: slices.Clone(methods)}
}

type only struct {
	r       Resolver
	methods []string
}

func (o only) Resolve(ctx context.Context, did string) (*Document, error) {
	if !slices.Contains(o.methods, Method(did)) {
		return nil, fmt.Errorf("%w: %s: accepted methods are %v", ErrMethodNotSupported, quote(did), o.methods)
	}
	return o.r.Resolve(ctx, did)
}

// Method returns the method name of a DID or DID URL ("key" for did:key:z...), or "" when it is not one.
func Method(did string) string {
	rest, ok := strings.CutPrefix(did, "did:")
	if !ok {
		return ""
	}
	name, _, ok := strings.Cut(rest, ":")
	if !ok || !validMethodName(name) {
		return ""
	}
	return name
}
