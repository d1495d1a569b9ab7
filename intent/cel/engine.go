package cel

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"sync"
	"time"

	celgo "cel.dev/cel-go/cel"
	"cel.dev/cel-go/common/types"
	"cel.dev/cel-go/ext"

	"github.com/mandate-dev/mandate/intent"
)

// Limits on one condition.
const (
	MaxConditionBytes = 1024    // as credentials.MaxConditionBytes
	MaxRecursion      = 32      // parser nesting
	DefaultCostLimit  = 100_000 // CEL cost units per evaluation
	DefaultTimeout    = 50 * time.Millisecond
	maxCached         = 1024
)

// ErrFalse is the refusal of a condition that evaluated to false.
var ErrFalse = errors.New("cel: condition is false")

// Engine compiles, caches and evaluates conditions. It is safe for
// concurrent use; the zero value is not ready, use NewEngine.
type Engine struct {
	env       *celgo.Env
	costLimit uint64
	timeout   time.Duration

	mu    sync.Mutex
	progs map[string]celgo.Program
}

// EngineOptions bound evaluation; zero values take the defaults.
type EngineOptions struct {
	CostLimit uint64
	Timeout   time.Duration
}

// NewEngine builds the CEL environment conditions are checked in.
func NewEngine(o EngineOptions) (*Engine, error) {
	if o.CostLimit == 0 {
		o.CostLimit = DefaultCostLimit
	}
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	env, err := celgo.NewEnv(
		celgo.Variable("action", celgo.StringType),
		celgo.Variable("resource", celgo.StringType),
		celgo.Variable("intent", celgo.StringType),
		celgo.Variable("context", celgo.MapType(celgo.StringType, celgo.StringType)),
		celgo.Variable("grant", celgo.MapType(celgo.StringType, celgo.StringType)),
		celgo.Variable("principal", celgo.StringType),
		celgo.Variable("actor", celgo.StringType),
		celgo.Variable("purposes", celgo.ListType(celgo.StringType)),
		celgo.Variable("chain", celgo.ListType(celgo.StringType)),
		celgo.Variable("now", celgo.TimestampType),
		ext.Strings(),
		celgo.ParserRecursionLimit(MaxRecursion),
		celgo.ParserExpressionSizeLimit(MaxConditionBytes),
	)
	if err != nil {
		return nil, fmt.Errorf("cel: environment: %w", err)
	}
	return &Engine{env: env, costLimit: o.CostLimit, timeout: o.Timeout, progs: map[string]celgo.Program{}}, nil
}

// Compile checks that expr is a well-typed boolean condition within the
// limits. Issuance calls it so that a credential never carries a condition
// no verifier could evaluate.
func (e *Engine) Compile(expr string) error {
	_, err := e.program(expr)
	return err
}

func (e *Engine) program(expr string) (celgo.Program, error) {
	e.mu.Lock()
	p, ok := e.progs[expr]
	e.mu.Unlock()
	if ok {
		return p, nil
	}
	if len(expr) > MaxConditionBytes {
		return nil, fmt.Errorf("cel: condition is %d bytes, limit %d", len(expr), MaxConditionBytes)
	}
	ast, iss := e.env.Compile(expr)
	if iss.Err() != nil {
		return nil, fmt.Errorf("cel: condition %q does not compile: %w", expr, iss.Err())
	}
	if ast.OutputType() != celgo.BoolType {
		return nil, fmt.Errorf("cel: condition %q is of type %s, not bool", expr, ast.OutputType())
	}
	p, err := e.env.Program(ast, celgo.CostLimit(e.costLimit), celgo.InterruptCheckFrequency(64),
		celgo.EvalOptions(celgo.OptOptimize))
	if err != nil {
		return nil, fmt.Errorf("cel: condition %q: %w", expr, err)
	}
	e.mu.Lock()
	if len(e.progs) >= maxCached {
		clear(e.progs) // bounded memory; recompiling is only slower
	}
	e.progs[expr] = p
	e.mu.Unlock()
	return p, nil
}

// Eval evaluates expr for r: nil when it is true, ErrFalse (wrapped) when
// it is false, another error when it cannot be evaluated. Every error is a
// refusal; none is a pass.
func (e *Engine) Eval(ctx context.Context, expr string, r intent.Request) error {
	p, err := e.program(expr)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, e.timeout)
	defer cancel()
	out, _, err := p.ContextEval(ctx, vars(r))
	if err != nil {
		return fmt.Errorf("cel: condition %q cannot be evaluated: %w", expr, err)
	}
	b, ok := out.(types.Bool)
	if !ok {
		return fmt.Errorf("cel: condition %q gave %s, not a bool", expr, out.Type())
	}
	if !b {
		return fmt.Errorf("%w: %s", ErrFalse, expr)
	}
	return nil
}

// vars is the activation: copies, so a condition cannot see later changes.
func vars(r intent.Request) map[string]any {
	ctx := maps.Clone(r.Context)
	if ctx == nil {
		ctx = map[string]string{}
	}
	return map[string]any{
		"action": r.Action, "resource": r.Resource, "intent": r.Intent, "context": ctx,
		"grant":     map[string]string{"id": r.Grant.ID, "action": r.Grant.Action, "resource": r.Grant.Resource},
		"principal": r.Principal, "actor": r.Actor,
		"purposes": nonNil(r.Purposes), "chain": nonNil(r.Chain), "now": r.Time.UTC(),
	}
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func msDuration(ms int) time.Duration { return time.Duration(ms) * time.Millisecond }
