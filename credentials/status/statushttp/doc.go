// Package statushttp carries W3C Bitstring Status List credentials over HTTP:
// NewHandler publishes signed status list credentials from a directory, and a
// Fetcher retrieves, verifies and caches them on the verifier's side.
//
// # Publishing
//
// An issuer signs a status list credential and publishes it with WriteFile,
// which replaces dir/{name}.json atomically and durably. The handler made by
// NewHandler serves GET and HEAD of /{name}, where name matches
// ^[a-z0-9][a-z0-9-]{0,63}$, reading the file at request time so that a
// re-published list is served at once. Responses carry a strong ETag (so a
// verifier revalidates with If-None-Match and gets 304 Not Modified),
// Cache-Control max-age taken from the list's ttl, and nosniff. Nothing else
// is served: other names are 404, other methods 405, and the directory is
// never listed.
//
// # Fetching
//
// A Fetcher is the verifier's side. Its Verify function (required) checks the
// credential's proof and shape; the Fetcher adds what HTTP needs: https only
// (plain http only to loopback hosts unless InsecureAllowHTTP), no redirects,
// a size limit and a timeout, the list's id must be the URL it was fetched
// from, no list older than the one already cached (rollback), none expired or
// not yet valid, and a cache that honours a maximum age and the list's ttl.
//
// It fails closed: when a list that is no longer fresh cannot be fetched, Get
// returns ErrUnavailable and never the stale copy, and the caller denies with
// STATUS_UNAVAILABLE. A list that fails verification gives ErrInvalid.
package statushttp
