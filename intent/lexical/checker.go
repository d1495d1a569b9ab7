package lexical

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/mandate-dev/mandate/intent"
)

// Name is the checker's registry name.
const Name = "lexical"

// Defaults and limits.
const (
	DefaultAllowAt   = 0.5
	DefaultDenyBelow = 0.25
	MaxDenyPhrases   = 256
	maxPhraseBytes   = 256
	maxListed        = 8 // words named in a reason
)

// Config is the lexical checker's configuration (JSON).
type Config struct {
	// AllowAt and DenyBelow are coverage thresholds (0..1, DenyBelow <=
	// AllowAt); zero values take the defaults.
	AllowAt   float64 `json:"allowAt,omitempty"`
	DenyBelow float64 `json:"denyBelow,omitempty"`
	// DenyPhrases are added to the built-in list.
	DenyPhrases []string `json:"denyPhrases,omitempty"`
	// OnEmpty is the verdict for a request with no stated intent: "deny"
	// (default) or "escalate".
	OnEmpty string `json:"onEmpty,omitempty"`
}

// Checker is the lexical checker. It is safe for concurrent use.
type Checker struct {
	allowAt, denyBelow float64
	phrases            []string
	onEmpty            intent.Verdict
}

// New builds the checker from cfg.
func New(cfg Config) (*Checker, error) {
	c := &Checker{allowAt: DefaultAllowAt, denyBelow: DefaultDenyBelow, onEmpty: intent.Deny}
	if cfg.AllowAt != 0 {
		c.allowAt = cfg.AllowAt
	}
	if cfg.DenyBelow != 0 {
		c.denyBelow = cfg.DenyBelow
	}
	switch {
	case !(c.allowAt > 0 && c.allowAt <= 1) || !(c.denyBelow >= 0 && c.denyBelow <= c.allowAt):
		return nil, fmt.Errorf("lexical: thresholds must satisfy 0 <= denyBelow <= allowAt <= 1 (got %v, %v)", c.denyBelow, c.allowAt)
	case len(cfg.DenyPhrases) > MaxDenyPhrases:
		return nil, fmt.Errorf("lexical: at most %d deny phrases", MaxDenyPhrases)
	}
	switch cfg.OnEmpty {
	case "", "deny":
	case "escalate":
		c.onEmpty = intent.Escalate
	default:
		return nil, fmt.Errorf("lexical: onEmpty %q is not deny or escalate", cfg.OnEmpty)
	}
	c.phrases = append([]string(nil), denyPhrases...)
	for _, p := range cfg.DenyPhrases {
		n := normalise(p)
		if n == "" || len(p) > maxPhraseBytes {
			return nil, fmt.Errorf("lexical: a deny phrase must be 1..%d bytes of text", maxPhraseBytes)
		}
		c.phrases = append(c.phrases, n)
	}
	return c, nil
}

// Factory builds a checker from a JSON Config, for an intent.Registry.
var Factory = intent.Decoded(New)

// Name implements intent.Checker.
func (c *Checker) Name() string { return Name }

// Check implements intent.Checker; it never fails for a well-formed request.
func (c *Checker) Check(_ context.Context, r intent.Request) (intent.Answer, error) {
	if len(r.Purposes) == 0 {
		return intent.Answer{}, errors.New("lexical: the chain declares no purpose")
	}
	if why := hidden(r.Intent); why != "" {
		return deny("the intent hides what it says: "+why, 1), nil
	}
	text := normalise(r.Intent)
	for _, p := range c.phrases {
		if strings.Contains(text, p) {
			return deny(fmt.Sprintf("the intent contains %q, an instruction aimed at the checker", p), 1), nil
		}
	}
	said := content(text)
	if len(said) == 0 {
		return intent.Answer{Verdict: c.onEmpty, Reason: "no stated intent", Confidence: 1}, nil
	}
	grantWords := content(strings.Join([]string{r.Action, r.Resource, r.Grant.Action, r.Grant.Resource}, " "))
	worst, worstLink := 2.0, 0
	var missed []string
	for i, p := range r.Purposes {
		cov, miss := coverage(said, append(content(normalise(p)), grantWords...))
		if cov < worst {
			worst, worstLink, missed = cov, i, miss
		}
	}
	why := fmt.Sprintf("%.0f%% of the intent's words are in purpose %d or the grant (missed: %s)",
		100*worst, worstLink+1, list(missed))
	switch {
	case worst < c.denyBelow:
		return deny(why, confidence(c.denyBelow-worst, c.denyBelow)), nil
	case worst < c.allowAt:
		return intent.Answer{Verdict: intent.Escalate, Reason: why, Confidence: 0.5}, nil
	}
	var banned []string
	for _, p := range r.Purposes {
		banned = append(banned, ruledOut(p)...)
	}
	if w := usesRuledOut(text, banned); w != "" {
		return intent.Answer{Verdict: intent.Escalate, Reason: fmt.Sprintf("the intent says %q, which a purpose rules out", w), Confidence: 0.5}, nil
	}
	return intent.Answer{Verdict: intent.Allow, Reason: why, Confidence: confidence(worst-c.allowAt, 1-c.allowAt)}, nil
}

// coverage is the share of said found in vocab, and the words missed.
func coverage(said, vocab []string) (float64, []string) {
	in := map[string]bool{}
	for _, v := range vocab {
		in[v] = true
	}
	hit := 0
	var missed []string
	for _, w := range said {
		if in[w] {
			hit++
		} else if !slices.Contains(missed, w) {
			missed = append(missed, w)
		}
	}
	return float64(hit) / float64(len(said)), missed
}

func deny(reason string, conf float64) intent.Answer {
	return intent.Answer{Verdict: intent.Deny, Reason: reason, Confidence: conf}
}

// confidence grows from 0.5 at a threshold to 1 at the far end of its range.
func confidence(margin, span float64) float64 {
	if span <= 0 {
		return 1
	}
	return math.Round((0.5+0.5*math.Min(1, margin/span))*100) / 100
}

func list(ws []string) string {
	if len(ws) == 0 {
		return "none"
	}
	if len(ws) > maxListed {
		return strings.Join(ws[:maxListed], ", ") + fmt.Sprintf(" and %d more", len(ws)-maxListed)
	}
	return strings.Join(ws, ", ")
}
