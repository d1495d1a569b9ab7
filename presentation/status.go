package presentation

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/mandate-dev/mandate/credentials"
	"github.com/mandate-dev/mandate/credentials/status"
	"github.com/mandate-dev/mandate/credentials/status/statushttp"
)

// StatusSource gives verified status list credentials by URL.
// *statushttp.Fetcher is one; its errors ErrUnavailable and ErrInsecureURL
// mean STATUS_UNAVAILABLE, any other error STATUS_INVALID.
type StatusSource interface {
	Get(ctx context.Context, url string) (*status.ListCredential, error)
}

// DefaultMaxStatusLists bounds the distinct status lists one decision may
// fetch (Config.MaxStatusLists): every URL is named by a credential, and a
// delegating agent chooses its children's. A Mandate issuer's entries sit
// in two lists (four across a list rollover), so 9 links stay under it.
const DefaultMaxStatusLists = 4 * credentials.MaxChainLinks

// checkStatus checks every status entry that bears on the request: each
// link's own entries (so a revoked or suspended parent denies every child
// below it), then the grants the use rests on. A use rests on a path of
// grants, one per link: the leaf's candidate, then at each link above the
// first grant (least burden first) that covers the grant below it, is
// inside its time window and is in good standing. The first leaf candidate
// with such a path wins; it and its path (root first, the grants whose
// budgets a use is charged to) are returned. With no path, the first
// candidate's failure is the answer.
func (v *Verifier) checkStatus(ctx context.Context, chain []*credentials.Credential, candidates []credentials.Grant, now time.Time) (credentials.Grant, []credentials.Grant, error) {
	sc := &statusCheck{v: v, lists: map[string]*status.ListCredential{}}
	for _, c := range chain {
		if v.cfg.RequireStatus && !hasPurpose(c.Status, status.Revocation) {
			return credentials.Grant{}, nil, deny(ReasonStatusMissing, "%s carries no revocation entry", c.ID)
		}
		if err := sc.entries(ctx, c, "", c.Status); err != nil {
			return credentials.Grant{}, nil, err
		}
	}
	var first error
	for _, g := range candidates {
		path, err := sc.path(ctx, chain, g, now)
		if err == nil {
			return g, path, nil
		}
		if !isStanding(err) {
			return credentials.Grant{}, nil, err // a list that cannot be read denies outright
		}
		if first == nil {
			first = err
		}
	}
	return credentials.Grant{}, nil, first
}

// path finds the grants, root first, that a use of leaf grant g rests on.
func (sc *statusCheck) path(ctx context.Context, chain []*credentials.Credential, g credentials.Grant, now time.Time) ([]credentials.Grant, error) {
	n := len(chain)
	if err := sc.entries(ctx, chain[n-1], g.ID, g.Status); err != nil {
		return nil, err
	}
	path := make([]credentials.Grant, n)
	path[n-1] = g
	for i := n - 2; i >= 0; i-- {
		var covering []credentials.Grant
		var outside error
		for _, p := range chain[i].Subject.Grants {
			if p.Covers(path[i+1]) != nil {
				continue
			}
			if err := grantWindow(p, now); err != nil {
				outside = err
				continue
			}
			covering = append(covering, p)
		}
		if len(covering) == 0 && outside != nil {
			return nil, outside
		}
		slices.SortStableFunc(covering, func(a, b credentials.Grant) int { return burden(a) - burden(b) })
		p, err := sc.firstGood(ctx, chain[i], covering)
		if err != nil {
			return nil, err
		}
		path[i] = p
	}
	return path, nil
}

// isStanding reports whether err is about a grant's standing (revoked,
// suspended, outside its window, not covered), so that another candidate
// may still serve.
func isStanding(err error) bool {
	var dn *denial
	if !errors.As(err, &dn) {
		return false
	}
	switch dn.reason {
	case ReasonRevoked, ReasonSuspended, ReasonExpired, ReasonNotYetValid, ReasonNotGranted:
		return true
	}
	return false
}

// statusCheck is one decision's status work: the lists it has fetched.
type statusCheck struct {
	v     *Verifier
	lists map[string]*status.ListCredential
}

// firstGood returns the first grant whose entries are all clear, or the
// first grant's denial. A link with no grant allowing the request cannot
// occur in a chain that passed CheckChain; it is denied all the same.
func (sc *statusCheck) firstGood(ctx context.Context, c *credentials.Credential, grants []credentials.Grant) (credentials.Grant, error) {
	var first error = deny(ReasonNotGranted, "%s has no grant in force covering the one below it", c.ID)
	for i, g := range grants {
		err := sc.entries(ctx, c, g.ID, g.Status)
		if err == nil {
			return g, nil
		}
		if !isStanding(err) {
			return credentials.Grant{}, err
		}
		if i == 0 {
			first = err
		}
	}
	return credentials.Grant{}, first
}

// entries checks status entries of credential c (of its grant grantID, when
// not ""); a set bit denies.
func (sc *statusCheck) entries(ctx context.Context, c *credentials.Credential, grantID string, entries []credentials.StatusEntry) error {
	for _, se := range entries {
		e, err := se.Parse()
		if err != nil {
			return deny(ReasonMalformed, "%s: %w", c.ID, err)
		}
		lc, err := sc.list(ctx, e.ListURL)
		if err != nil {
			return err
		}
		if lc.Issuer != c.Issuer {
			return deny(ReasonStatusInvalid, "status list %s is issued by %s, not by %s's issuer %s", e.ListURL, lc.Issuer, c.ID, c.Issuer)
		}
		val, err := lc.Status(e)
		if err != nil {
			return deny(ReasonStatusInvalid, "%s: %w", c.ID, err)
		}
		if val == 0 {
			continue
		}
		what := c.ID
		if grantID != "" {
			what = fmt.Sprintf("grant %s of %s", grantID, c.ID)
		}
		if e.Purpose == status.Revocation {
			return deny(ReasonRevoked, "%s is revoked", what)
		}
		return deny(ReasonSuspended, "%s is suspended", what)
	}
	return nil
}

func (sc *statusCheck) list(ctx context.Context, url string) (*status.ListCredential, error) {
	if lc, ok := sc.lists[url]; ok {
		return lc, nil
	}
	if sc.v.cfg.Status == nil {
		return nil, deny(ReasonStatusUnavailable, "no status source is configured, and %s is needed", url)
	}
	if max := sc.v.cfg.MaxStatusLists; len(sc.lists) >= max {
		return nil, deny(ReasonStatusInvalid, "the chain names more than %d status lists", max)
	}
	lc, err := sc.v.cfg.Status.Get(ctx, url)
	switch {
	case errors.Is(err, statushttp.ErrUnavailable), errors.Is(err, statushttp.ErrInsecureURL):
		return nil, deny(ReasonStatusUnavailable, "%w", err)
	case err != nil:
		return nil, deny(ReasonStatusInvalid, "%w", err)
	}
	sc.lists[url] = lc
	return lc, nil
}

func hasPurpose(entries []credentials.StatusEntry, p status.Purpose) bool {
	for _, e := range entries {
		if e.Purpose == string(p) {
			return true
		}
	}
	return false
}
