package cel

import (
	"context"
	"errors"
	"fmt"

	"github.com/mandate-dev/mandate/intent"
)

// Name is the checker's registry name.
const Name = "cel"

// MaxPolicyConditions bounds a checker's own conditions.
const MaxPolicyConditions = 32

// Config is the cel checker's configuration (JSON).
type Config struct {
	// Conditions are the verifier's own, checked for every request in
	// addition to the grant's conditions. All must be true.
	Conditions []string `json:"conditions"`
	// OnFalse is the verdict when a condition is false: "deny" (default)
	// or "escalate" (a human decides). An error is always a deny.
	OnFalse string `json:"onFalse,omitempty"`
	// CostLimit and TimeoutMillis bound each evaluation (0: defaults).
	CostLimit     uint64 `json:"costLimit,omitempty"`
	TimeoutMillis int    `json:"timeoutMillis,omitempty"`
}

// Checker checks the verifier's conditions and the grant's conditions.
type Checker struct {
	engine     *Engine
	conditions []string
	onFalse    intent.Verdict
}

// New builds the checker, compiling every condition up front: a policy
// that cannot be evaluated is refused before it is ever used.
func New(cfg Config) (*Checker, error) {
	if len(cfg.Conditions) > MaxPolicyConditions {
		return nil, fmt.Errorf("cel: at most %d conditions", MaxPolicyConditions)
	}
	if cfg.TimeoutMillis < 0 || cfg.TimeoutMillis > 10_000 {
		return nil, errors.New("cel: timeoutMillis must be 0..10000")
	}
	c := &Checker{conditions: cfg.Conditions, onFalse: intent.Deny}
	switch cfg.OnFalse {
	case "", "deny":
	case "escalate":
		c.onFalse = intent.Escalate
	default:
		return nil, fmt.Errorf("cel: onFalse %q is not deny or escalate", cfg.OnFalse)
	}
	e, err := NewEngine(EngineOptions{CostLimit: cfg.CostLimit, Timeout: msDuration(cfg.TimeoutMillis)})
	if err != nil {
		return nil, err
	}
	for _, expr := range cfg.Conditions {
		if err := e.Compile(expr); err != nil {
			return nil, err
		}
	}
	c.engine = e
	return c, nil
}

// Factory builds a checker from a JSON Config, for an intent.Registry.
var Factory = intent.Decoded(New)

// Name implements intent.Checker.
func (c *Checker) Name() string { return Name }

// Check evaluates the grant's conditions, then the checker's own. Every
// condition must be true; one that cannot be evaluated is an error (deny).
func (c *Checker) Check(ctx context.Context, r intent.Request) (intent.Answer, error) {
	for _, expr := range append(append([]string(nil), r.Grant.Conditions...), c.conditions...) {
		err := c.engine.Eval(ctx, expr, r)
		switch {
		case errors.Is(err, ErrFalse):
			return intent.Answer{Verdict: c.onFalse, Reason: "condition is false: " + expr, Confidence: 1}, nil
		case err != nil:
			return intent.Answer{}, err
		}
	}
	return intent.Answer{Verdict: intent.Allow, Reason: fmt.Sprintf("%d conditions hold", len(r.Grant.Conditions)+len(c.conditions)), Confidence: 1}, nil
}
