package gatekeeper

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/mandate-dev/mandate/internal/strictjson"
	"github.com/mandate-dev/mandate/presentation"
)

// The HTTP wire (docs/HTTP.md). A challenge is one WWW-Authenticate field
// of scheme Mandate; the answer is Authorization: Mandate <token68>, the
// unpadded base64url of the presentation bytes, with the side headers below.
const (
	// HTTPScheme is the authentication scheme of the challenge and answer.
	HTTPScheme = "Mandate"
	// HeaderFormat names the presentation's format (absent: ldp).
	HeaderFormat = "Mandate-Format"
	// HeaderIntent carries the agent's stated intent, unpadded base64url of
	// its UTF-8 text (it is part of the request digest).
	HeaderIntent = "Mandate-Intent"
	// HeaderApproval carries a principal's signed approval (compact JWS).
	HeaderApproval = "Mandate-Approval"
	// HeaderApprovalID names the approval request of a NEEDS_APPROVAL answer.
	HeaderApprovalID = "Mandate-Approval-Id"
)

// Wire limits. Every header the gatekeeper reads is bounded before it is
// decoded.
const (
	// MaxAuthorizationBytes bounds the Authorization field: the scheme, a
	// space and presentation.MaxPresentationBytes in base64url. The
	// service's http.Server must allow it (the default MaxHeaderBytes, 1 MiB,
	// does).
	MaxAuthorizationBytes = len(HTTPScheme) + 1 + (presentation.MaxPresentationBytes*8+5)/6
	// MaxIntentHeaderBytes bounds Mandate-Intent: presentation.MaxIntentBytes
	// in base64url.
	MaxIntentHeaderBytes = (presentation.MaxIntentBytes*8 + 5) / 6
	// MaxChallengeBytes bounds a WWW-Authenticate field the client reads: the
	// largest request context in JSON, in base64url, and the other fields.
	MaxChallengeBytes = 512 << 10
	// maxFormats bounds the formats a challenge may list.
	maxFormats = 8
)

var b64 = base64.RawURLEncoding.Strict()

// decodeB64 decodes unpadded base64url and refuses any byte outside its
// alphabet: Go's decoder skips CR and LF, so "Mandate \r" would otherwise
// carry an empty presentation and two spellings would decode alike.
func decodeB64(s string) ([]byte, error) {
	for i := 0; i < len(s); i++ {
		if c := s[i]; !(c == '-' || c == '_' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
			return nil, fmt.Errorf("byte %#x at %d is not base64url", c, i)
		}
	}
	return b64.DecodeString(s)
}

// ParseMandateAuthorization reads an Authorization field value of scheme
// Mandate and returns the presentation bytes. The scheme is matched without
// regard to case; the credentials are one token68, unpadded base64url.
func ParseMandateAuthorization(h string) ([]byte, error) {
	if len(h) > MaxAuthorizationBytes {
		return nil, fmt.Errorf("gatekeeper: authorization is longer than %d bytes", MaxAuthorizationBytes)
	}
	scheme, token, _ := strings.Cut(h, " ")
	if !strings.EqualFold(scheme, HTTPScheme) {
		return nil, fmt.Errorf("gatekeeper: authorization scheme %.32q is not %s", scheme, HTTPScheme)
	}
	token = strings.TrimLeft(token, " ")
	if token == "" {
		return nil, errors.New("gatekeeper: authorization carries no presentation")
	}
	vp, err := decodeB64(token)
	if err != nil {
		return nil, fmt.Errorf("gatekeeper: authorization is not unpadded base64url: %w", err)
	}
	return vp, nil
}

// MandateAuthorization is the Authorization field value for a presentation.
func MandateAuthorization(vp []byte) string { return HTTPScheme + " " + b64.EncodeToString(vp) }

// MandateChallenge is the WWW-Authenticate field value that asks for a
// presentation for req (its action, resource and context; the intent is the
// agent's to state) bound to ch.
func MandateChallenge(ch presentation.Challenge, req presentation.Request) (string, error) {
	params := []struct{ name, value string }{
		{"nonce", ch.Nonce}, {"aud", ch.Audience}, {"formats", strings.Join(ch.Formats, " ")},
		{"expires", ch.ExpiresAt.UTC().Format(time.RFC3339)},
		{"action", req.Action}, {"resource", req.Resource},
	}
	if len(req.Context) > 0 {
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(req.Context); err != nil {
			return "", fmt.Errorf("gatekeeper: challenge context: %w", err)
		}
		params = append(params, struct{ name, value string }{"context", b64.EncodeToString(bytes.TrimSpace(buf.Bytes()))})
	}
	var b strings.Builder
	b.WriteString(HTTPScheme)
	for i, p := range params {
		if p.value == "" {
			return "", fmt.Errorf("gatekeeper: challenge %s is empty", p.name)
		}
		q, err := quote(p.value)
		if err != nil {
			return "", fmt.Errorf("gatekeeper: challenge %s: %w", p.name, err)
		}
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, " %s=%s", p.name, q)
	}
	if b.Len() > MaxChallengeBytes {
		return "", fmt.Errorf("gatekeeper: challenge is longer than %d bytes", MaxChallengeBytes)
	}
	return b.String(), nil
}

// ParseMandateChallenge reads a WWW-Authenticate field value of scheme
// Mandate (the whole value is one challenge) and returns the challenge and
// the request it asks a presentation for. Unknown parameters are ignored; a
// repeated one, or a missing nonce, aud, formats, expires, action or
// resource, is an error, and so is a request that does not validate.
func ParseMandateChallenge(h string) (presentation.Challenge, presentation.Request, error) {
	var ch presentation.Challenge
	var req presentation.Request
	if len(h) > MaxChallengeBytes {
		return ch, req, fmt.Errorf("gatekeeper: challenge is longer than %d bytes", MaxChallengeBytes)
	}
	scheme, rest, _ := strings.Cut(h, " ")
	if !strings.EqualFold(scheme, HTTPScheme) {
		return ch, req, fmt.Errorf("gatekeeper: challenge scheme %.32q is not %s", scheme, HTTPScheme)
	}
	params, err := parseParams(rest)
	if err != nil {
		return ch, req, err
	}
	for _, name := range []string{"nonce", "aud", "formats", "expires", "action", "resource"} {
		if _, ok := params[name]; !ok {
			return ch, req, fmt.Errorf("gatekeeper: challenge has no %s", name)
		}
	}
	ch.Nonce, ch.Audience = params["nonce"], params["aud"]
	if ch.ExpiresAt, err = time.Parse(time.RFC3339, params["expires"]); err != nil {
		return ch, req, fmt.Errorf("gatekeeper: challenge expires %.40q is not RFC 3339", params["expires"])
	}
	ch.Formats = strings.Fields(params["formats"])
	if len(ch.Formats) > maxFormats {
		return ch, req, fmt.Errorf("gatekeeper: challenge lists more than %d formats", maxFormats)
	}
	req.Action, req.Resource = params["action"], params["resource"]
	if c, ok := params["context"]; ok {
		raw, err := decodeB64(c)
		if err != nil {
			return ch, req, fmt.Errorf("gatekeeper: challenge context is not unpadded base64url: %w", err)
		}
		if err := strictjson.Decode(raw, MaxChallengeBytes, &req.Context); err != nil {
			return ch, req, fmt.Errorf("gatekeeper: challenge context: %w", err)
		}
	}
	if err := req.Validate(); err != nil {
		return ch, req, fmt.Errorf("gatekeeper: challenge: %w", err)
	}
	return ch, req, nil
}

// quote writes v as an RFC 9110 quoted-string; a control character cannot
// be carried and is an error.
func quote(v string) (string, error) {
	var b strings.Builder
	b.WriteByte('"')
	for i := 0; i < len(v); i++ {
		c := v[i]
		switch {
		case c < 0x20 && c != '\t' || c == 0x7f:
			return "", fmt.Errorf("control character %#x at %d", c, i)
		case c == '"' || c == '\\':
			b.WriteByte('\\')
		}
		b.WriteByte(c)
	}
	b.WriteByte('"')
	return b.String(), nil
}

// parseParams reads a list of auth-params, name=token or
// name=quoted-string, separated by commas (RFC 9110 §11.2).
func parseParams(s string) (map[string]string, error) {
	out := map[string]string{}
	for {
		s = strings.TrimLeft(s, " \t")
		if s == "" {
			return out, nil
		}
		i := strings.IndexFunc(s, func(r rune) bool { return !isTokenChar(r) })
		if i <= 0 {
			return nil, fmt.Errorf("gatekeeper: challenge parameter name expected at %.16q", s)
		}
		name := strings.ToLower(s[:i])
		s = strings.TrimLeft(s[i:], " \t")
		if !strings.HasPrefix(s, "=") {
			return nil, fmt.Errorf("gatekeeper: challenge parameter %.32q has no value", name)
		}
		s = strings.TrimLeft(s[1:], " \t")
		var value string
		var err error
		if value, s, err = paramValue(s); err != nil {
			return nil, fmt.Errorf("gatekeeper: challenge parameter %.32q: %w", name, err)
		}
		if _, dup := out[name]; dup {
			return nil, fmt.Errorf("gatekeeper: challenge parameter %.32q is repeated", name)
		}
		out[name] = value
		s = strings.TrimLeft(s, " \t")
		if s == "" {
			return out, nil
		}
		if s[0] != ',' {
			return nil, fmt.Errorf("gatekeeper: challenge parameter %.32q is followed by %.16q, not a comma", name, s)
		}
		s = s[1:]
	}
}

// paramValue reads a token or a quoted-string at the start of s and returns
// it and the rest of s.
func paramValue(s string) (string, string, error) {
	if !strings.HasPrefix(s, `"`) {
		i := strings.IndexFunc(s, func(r rune) bool { return !isTokenChar(r) })
		if i < 0 {
			i = len(s)
		}
		if i == 0 {
			return "", s, errors.New("empty value")
		}
		return s[:i], s[i:], nil
	}
	var b strings.Builder
	for i := 1; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"':
			if !utf8.ValidString(b.String()) {
				return "", s, errors.New("value is not UTF-8")
			}
			return b.String(), s[i+1:], nil
		case c == '\\':
			i++
			if i == len(s) {
				return "", s, errors.New("unterminated escape")
			}
			c = s[i]
		}
		if c < 0x20 && c != '\t' || c == 0x7f {
			return "", s, fmt.Errorf("control character %#x", c)
		}
		b.WriteByte(c)
	}
	return "", s, errors.New("unterminated quoted string")
}

// isTokenChar reports whether r is a tchar of RFC 9110 §5.6.2.
func isTokenChar(r rune) bool {
	switch {
	case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
		return true
	}
	return r < 0x80 && strings.ContainsRune("!#$%&'*+-.^_`|~", r)
}

// encodeIntent and decodeIntent are the Mandate-Intent header's form.
func encodeIntent(intent string) string { return b64.EncodeToString([]byte(intent)) }

func decodeIntent(h string) (string, error) {
	if len(h) > MaxIntentHeaderBytes {
		return "", fmt.Errorf("gatekeeper: %s is longer than %d bytes", HeaderIntent, MaxIntentHeaderBytes)
	}
	raw, err := decodeB64(h)
	if err != nil {
		return "", fmt.Errorf("gatekeeper: %s is not unpadded base64url: %w", HeaderIntent, err)
	}
	if !utf8.Valid(raw) {
		return "", fmt.Errorf("gatekeeper: %s is not UTF-8 text", HeaderIntent)
	}
	return string(raw), nil
}

// checkApprovalHeader bounds a Mandate-Approval value and checks it has the
// characters of a compact JWS; the verifier checks the rest.
func checkApprovalHeader(h string) error {
	if len(h) > presentation.MaxAnswerBytes {
		return fmt.Errorf("gatekeeper: %s is longer than %d bytes", HeaderApproval, presentation.MaxAnswerBytes)
	}
	for i := 0; i < len(h); i++ {
		if c := h[i]; !(c == '.' || c == '-' || c == '_' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
			return fmt.Errorf("gatekeeper: %s is not a compact JWS (byte %#x at %d)", HeaderApproval, c, i)
		}
	}
	return nil
}
