// Package scope defines the action and resource patterns of PoA grants: how
// a concrete request matches a pattern, and when one pattern is a subset of
// another (the attenuation rule of delegation).
//
// An action is "namespace:verb"; either segment may be the wildcard "*".
// A resource is a string of segments separated by "/" (for example
// "mailbox:alice/inbox"); "*" as a whole segment matches exactly one
// segment, and as the last segment it matches one or more. A wildcard is
// always a whole segment: "ali*" is not a pattern, it is an error.
package scope
