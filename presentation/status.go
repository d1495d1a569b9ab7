package presentation

import (
	"context"
	"errors"
	"fmt"

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

// MaxStatusLists bounds the distinct status lists one decision may fetch:
// every URL is named by a credential, and a delegating agent chooses its
// children's.
const MaxStatusLists = 8

// checkStatus checks every status entry that bears on the request:
// each link's own entries (so a revoked or suspended parent denies every
// child below it), then, at each link, the grants that allow the request:
// one of them must be in good standing. It returns the leaf grant used, the
// first candidate in good standing.
func (v *Verifier) checkStatus(ctx context.Context, chain []*credentials.Credential, candidates []credentials.Grant, req Request) (credentials.Grant, error) {
	sc := &statusCheck{v: v, lists: map[string]*status.ListCredential{}}
	for _, c := range chain {
		if v.cfg.RequireStatus && !hasPurpose(c.Status, status.Revocation) {
			return credentials.Grant{}, deny(ReasonStatusMissing, "%s carries no revocation entry", c.ID)
		}
		if err := sc.entries(ctx, c, c.Status); err != nil {
			return credentials.Grant{}, err
		}
	}
	leaf := chain[len(chain)-1]
	for _, c := range chain[:len(chain)-1] {
		var allowing []credentials.Grant
		for _, g := range c.Subject.Grants {
			if g.Allows(req.Action, req.Resource) {
				allowing = append(allowing, g)
			}
		}
		if _, err := sc.firstGood(ctx, c, allowing); err != nil {
			return credentials.Grant{}, err
		}
	}
	return sc.firstGood(ctx, leaf, candidates)
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
	var first error = deny(ReasonNotGranted, "%s has no grant for the request", c.ID)
	for i, g := range grants {
		err := sc.entries(ctx, c, g.Status)
		if err == nil {
			return g, nil
		}
		var dn *denial
		if !errors.As(err, &dn) || (dn.reason != ReasonRevoked && dn.reason != ReasonSuspended) {
			return credentials.Grant{}, err // a list that cannot be read denies outright
		}
		if i == 0 {
			first = err
		}
	}
	return credentials.Grant{}, first
}

// entries checks status entries of credential c; a set bit denies.
func (sc *statusCheck) entries(ctx context.Context, c *credentials.Credential, entries []credentials.StatusEntry) error {
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
		if se.ID != "" {
			what = fmt.Sprintf("%s (entry %s)", c.ID, se.ID)
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
	if len(sc.lists) >= MaxStatusLists {
		return nil, deny(ReasonStatusInvalid, "the chain names more than %d status lists", MaxStatusLists)
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
