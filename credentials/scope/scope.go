package scope

import (
	"errors"
	"fmt"
	"strings"
)

// Limits on pattern size.
const (
	MaxActionLen     = 128
	MaxResourceLen   = 512
	MaxResourceParts = 32
)

// Wildcard is the whole-segment wildcard.
const Wildcard = "*"

// ErrInvalid is returned (wrapped) for a malformed action or resource.
var ErrInvalid = errors.New("scope: invalid pattern")

// ParseAction splits and validates an action pattern.
func ParseAction(a string) ([]string, error) {
	if len(a) == 0 || len(a) > MaxActionLen {
		return nil, fmt.Errorf("%w: action %q must be 1..%d bytes", ErrInvalid, a, MaxActionLen)
	}
	parts := strings.Split(a, ":")
	if len(parts) != 2 {
		return nil, fmt.Errorf("%w: action %q must be namespace:verb", ErrInvalid, a)
	}
	for _, p := range parts {
		if !validSegment(p, false) {
			return nil, fmt.Errorf("%w: action %q has a bad segment %q", ErrInvalid, a, p)
		}
	}
	return parts, nil
}

// ParseResource splits and validates a resource pattern.
func ParseResource(r string) ([]string, error) {
	if len(r) == 0 || len(r) > MaxResourceLen {
		return nil, fmt.Errorf("%w: resource %q must be 1..%d bytes", ErrInvalid, r, MaxResourceLen)
	}
	parts := strings.Split(r, "/")
	if len(parts) > MaxResourceParts {
		return nil, fmt.Errorf("%w: resource %q has more than %d segments", ErrInvalid, r, MaxResourceParts)
	}
	for _, p := range parts {
		if !validSegment(p, true) {
			return nil, fmt.Errorf("%w: resource %q has a bad segment %q", ErrInvalid, r, p)
		}
	}
	return parts, nil
}

// ValidateConcrete checks that an action and resource of a request are well
// formed and contain no wildcard.
func ValidateConcrete(action, resource string) error {
	a, err := ParseAction(action)
	if err != nil {
		return err
	}
	r, err := ParseResource(resource)
	if err != nil {
		return err
	}
	for _, s := range append(a, r...) {
		if s == Wildcard {
			return fmt.Errorf("%w: a request names one action and one resource, not a pattern", ErrInvalid)
		}
	}
	return nil
}

// ActionSubset reports whether every action matched by child is matched by
// parent. Malformed patterns are never a subset.
func ActionSubset(child, parent string) bool {
	c, err := ParseAction(child)
	if err != nil {
		return false
	}
	p, err := ParseAction(parent)
	if err != nil {
		return false
	}
	return covers(p[0], c[0]) && covers(p[1], c[1])
}

// ResourceSubset reports whether every resource matched by child is matched
// by parent. Malformed patterns are never a subset.
func ResourceSubset(child, parent string) bool {
	c, err := ParseResource(child)
	if err != nil {
		return false
	}
	p, err := ParseResource(parent)
	if err != nil {
		return false
	}
	last := len(p) - 1
	if p[last] != Wildcard {
		if len(c) != len(p) {
			return false
		}
		for i := range p {
			if !covers(p[i], c[i]) {
				return false
			}
		}
		return true
	}
	// A trailing wildcard covers one or more segments of anything.
	if len(c) < len(p) {
		return false
	}
	for i := 0; i < last; i++ {
		if !covers(p[i], c[i]) {
			return false
		}
	}
	return true
}

// MatchAction reports whether a concrete action matches pattern.
func MatchAction(pattern, action string) bool { return ActionSubset(action, pattern) }

// MatchResource reports whether a concrete resource matches pattern.
func MatchResource(pattern, resource string) bool { return ResourceSubset(resource, pattern) }

// covers reports whether parent segment p covers child segment c: a child
// wildcard is covered only by a parent wildcard.
func covers(p, c string) bool { return p == Wildcard || p == c }

// validSegment accepts a non-empty segment of safe characters, or the
// wildcard alone. Resources may also use ':', '@' and '~' inside a segment.
// "." and ".." are refused: a service that resolves paths would read
// "mailbox:alice/public/../private" as a resource no pattern here names,
// and past every forbidden entry and trust rule written for it.
func validSegment(s string, resource bool) bool {
	if s == Wildcard {
		return true
	}
	if s == "" || s == "." || s == ".." {
		return false
	}
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '-', r == '_', r == '.':
		case r >= 'A' && r <= 'Z' && resource:
		case (r == ':' || r == '@' || r == '~' || r == '+' || r == '=') && resource:
		default:
			return false
		}
	}
	return true
}
