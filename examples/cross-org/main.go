// Command cross-org plays Mandate's cross-organisation story on loopback. Acme (did:web) grants a
// partner's procurement agent (did:key) invoice:read on its ERP invoices, witnessed by Acme's legal
// department (did:web); the agent delegates a narrower part to a reconciliation bot, which presents the
// chain to Acme's ERP verifier. The verifier runs the trust policy in policy.yaml (docs/POLICY.md).
//
// Everything is real but the network: the did:web documents are served over HTTPS by internal/webhost
// (a loopback host with a certificate authority made in memory, whose client dials only loopback), Acme's
// status lists by a plain HTTP server on 127.0.0.1, and the verifier keeps its store in memory.
//
//	go run ./examples/cross-org
//
// prints one line per step and exits 1 if any step's outcome is not the expected one.
package main

import (
	"context"
	_ "embed"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"text/tabwriter"
	"time"
)

//go:embed policy.yaml
var policyTemplate string

// timeout bounds the whole story: every fetch is on loopback, and a run takes well under a second.
const timeout = 30 * time.Second

func main() {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	steps, err := run(ctx)
	if err != nil {
		fmt.Fprintln(os.Stderr, "cross-org:", err)
		os.Exit(2)
	}
	if !report(os.Stdout, steps) {
		os.Exit(1)
	}
}

// Step is one request of the story, what the verifier answered and what it should have.
type Step struct {
	Name     string
	Request  string // "action resource"
	Expected string // "ALLOW", or the outcome and its first reason: "DENY UNTRUSTED_ROOT"
	Got      string
	Detail   string // the decision's message, or the error that kept the step from running
	// Principal and Actor are the decision's: the root principal and the presenting agent.
	Principal, Actor string
}

// OK reports whether the step got its expected outcome.
func (s Step) OK() bool { return s.Got == s.Expected }

// run plays the story and returns its steps. An error means the story could not be set up.
func run(ctx context.Context) ([]Step, error) {
	w, closeAll, err := setUp()
	if err != nil {
		return nil, err
	}
	defer closeAll()
	var steps []Step
	for _, play := range w.story() {
		if err := ctx.Err(); err != nil {
			return steps, fmt.Errorf("cross-org: %w", err)
		}
		steps = append(steps, play(ctx))
	}
	return steps, nil
}

// report prints the steps as a table and says whether every one was as expected.
func report(out io.Writer, steps []Step) bool {
	tw := tabwriter.NewWriter(out, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "#\tstep\trequest\texpected\tgot\t")
	good := 0
	for i, s := range steps {
		mark := "ok"
		if s.OK() {
			good++
		} else {
			mark = "UNEXPECTED"
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\n", i+1, s.Name, s.Request, s.Expected, s.Got, mark)
	}
	tw.Flush()
	for i, s := range steps {
		if s.Detail != "" {
			fmt.Fprintf(out, "%d: %s\n", i+1, s.Detail)
		}
	}
	fmt.Fprintf(out, "%d of %d steps as expected\n", good, len(steps))
	return good == len(steps) && len(steps) > 0
}

// renderPolicy fills policy.yaml's ${NAME} placeholders; a name without a value is an error, so the
// template and the program cannot drift apart silently.
func renderPolicy(values map[string]string) ([]byte, error) {
	var missing []string
	out := os.Expand(policyTemplate, func(name string) string {
		v, ok := values[name]
		if !ok && !slices.Contains(missing, name) {
			missing = append(missing, name)
		}
		return v
	})
	if len(missing) > 0 {
		return nil, fmt.Errorf("cross-org: policy.yaml: no value for %s", strings.Join(missing, ", "))
	}
	return []byte(out), nil
}

// errStep is a step that could not be played.
func errStep(s Step, err error) Step {
	s.Got, s.Detail = "ERROR", err.Error()
	return s
}

var errNoChain = errors.New("cross-org: the first step made no chain to revoke")
