// Package cel evaluates conditions written in CEL (cel.dev/cel-go) over a
// request, its grant and its chain, and offers them as an intent checker.
//
// A condition is compiled once, type-checked to a bool, and cached; each
// evaluation is bounded by a cost limit and a deadline. Anything but a true
// result is a refusal: false, an error, a missing context key, a cost limit
// reached. Conditions see these variables:
//
//	action, resource, intent   string
//	context                    map(string, string)   the request's facts
//	grant                      map(string, string)   id, action, resource
//	principal, actor           string                DIDs
//	purposes, chain            list(string)          root first
//	now                        timestamp             the verifier's clock
//
// and CEL's standard functions plus the strings extension.
package cel
