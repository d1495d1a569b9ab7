package presentation

import (
	"errors"
	"fmt"
	"slices"
	"time"
	"unicode/utf8"

	"github.com/mandate-dev/mandate/credentials"
	"github.com/mandate-dev/mandate/credentials/scope"
)

// Limits on a request.
const (
	MaxIntentBytes     = 4096
	MaxContextEntries  = 32
	MaxContextKeyBytes = 128
	MaxContextValBytes = 1024
)

// Request is what an agent asks to do, as the service states it.
type Request struct {
	Action   string
	Resource string
	Intent   string            // the agent's stated reason, free text
	Context  map[string]string // structured request context (amount, recipient, ...)
}

// Validate checks the request's form and size. Intent and context must be
// valid UTF-8: the digest is taken over their JSON form, which reads an
// invalid byte as U+FFFD, so a service acting on "bob\xff" would hold a
// decision made for "bob\uFFFD".
func (r Request) Validate() error {
	if err := scope.ValidateConcrete(r.Action, r.Resource); err != nil {
		return fmt.Errorf("presentation: request: %w", err)
	}
	if len(r.Intent) > MaxIntentBytes {
		return fmt.Errorf("presentation: request intent is longer than %d bytes", MaxIntentBytes)
	}
	if !utf8.ValidString(r.Intent) {
		return errors.New("presentation: request intent is not valid UTF-8")
	}
	if len(r.Context) > MaxContextEntries {
		return fmt.Errorf("presentation: request context has more than %d entries", MaxContextEntries)
	}
	for k, v := range r.Context {
		if k == "" || len(k) > MaxContextKeyBytes || len(v) > MaxContextValBytes {
			return fmt.Errorf("presentation: request context entry %.32q is too long or empty", k)
		}
		if !utf8.ValidString(k) || !utf8.ValidString(v) {
			return fmt.Errorf("presentation: request context entry %.32q is not valid UTF-8", k)
		}
	}
	return nil
}

// Digest binds a presentation to this exact request: the multibase sha2-256
// multihash of the JCS form of {"action","resource","intent","context"}.
func (r Request) Digest() (string, error) {
	ctx := map[string]any{}
	for k, v := range r.Context {
		ctx[k] = v
	}
	return credentials.Digest(map[string]any{
		"action": r.Action, "resource": r.Resource, "intent": r.Intent, "context": ctx,
	})
}

// Challenge is what a verifier hands out before a presentation.
type Challenge struct {
	Nonce     string
	Audience  string
	ExpiresAt time.Time
	Formats   []string
}

// Presentation formats (Config.Formats, Challenge.Formats, the wire's
// format).
const (
	// FormatLDP is the JSON-LD presentation with Ed25519Signature2020 proofs.
	FormatLDP = "ldp"
	// FormatSDJWT is a chain of SD-JWT links, the leaf with key binding
	// (SPEC §15).
	FormatSDJWT = "sd-jwt"
	// FormatBBS is a chain of BBS+ derived proofs with a holder binding
	// (SPEC §16).
	FormatBBS = "bbs"
)

// validateFormats refuses an unknown or repeated format.
func validateFormats(formats []string) error {
	for i, f := range formats {
		switch {
		case f != FormatLDP && f != FormatSDJWT && f != FormatBBS:
			return fmt.Errorf("presentation: config: unknown format %.32q (accepted: %s, %s, %s)", f, FormatLDP, FormatSDJWT, FormatBBS)
		case slices.Contains(formats[:i], f):
			return fmt.Errorf("presentation: config: format %s listed twice", f)
		}
	}
	return nil
}

// PickFormat is the wallet's side of negotiation: the first of the formats
// it holds (in its order of preference) that the verifier accepts.
func PickFormat(accepted, held []string) (string, error) {
	for _, f := range held {
		if slices.Contains(accepted, f) {
			return f, nil
		}
	}
	return "", fmt.Errorf("presentation: no common format: the verifier accepts %v, the wallet holds %v", accepted, held)
}
