package statushttp

import "strings"

// maxETagLen bounds an ETag the Fetcher keeps and sends back.
const maxETagLen = 256

// noneMatch reports whether the If-None-Match field values match etag, a
// strong tag, by RFC 9110 section 13.1.2: "*" matches any current
// representation, and each entity-tag of a list is compared weakly, so
// W/"x" matches "x". Parsing stops at the first malformed element, which then
// matches nothing: the client gets the full response, never a wrong 304.
func noneMatch(fields []string, etag string) bool {
	for _, field := range fields {
		if strings.TrimSpace(field) == "*" {
			return true
		}
		for s := field; ; {
			s = strings.TrimLeft(s, " \t,")
			if s == "" {
				break
			}
			opaque, rest, ok := cutETag(s)
			if !ok {
				break
			}
			if opaque == etag {
				return true
			}
			s = rest
		}
	}
	return false
}

// cutETag reads the entity-tag at the start of s,
//
//	entity-tag = [ "W/" ] DQUOTE *etagc DQUOTE
//	etagc      = %x21 / %x23-7E / obs-text
//
// and returns its opaque-tag (quotes included, weakness dropped) and what
// follows it, which must be empty or begin with a separator.
func cutETag(s string) (opaque, rest string, ok bool) {
	s = strings.TrimPrefix(s, "W/")
	if len(s) < 2 || s[0] != '"' {
		return "", "", false
	}
	for i := 1; i < len(s); i++ {
		switch c := s[i]; {
		case c == '"':
			rest = s[i+1:]
			if rest != "" && rest[0] != ',' && rest[0] != ' ' && rest[0] != '\t' {
				return "", "", false
			}
			return s[:i+1], rest, true
		case c < 0x21 || c == 0x7f:
			return "", "", false
		}
	}
	return "", "", false
}

// validETag reports whether s is one well-formed entity-tag that the Fetcher
// can store and send back in If-None-Match.
func validETag(s string) bool {
	if len(s) > maxETagLen {
		return false
	}
	_, rest, ok := cutETag(s)
	return ok && rest == ""
}
