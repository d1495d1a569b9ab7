// Command cross-org plays Mandate's cross-organisation story on loopback (package crossorg, which
// `mandate demo` plays too): Acme (did:web) grants a partner's procurement agent (did:key) invoice:read on
// its ERP invoices, witnessed by Acme's legal department (did:web); the agent delegates a narrower part to
// a reconciliation bot; Acme's ERP verifier decides under the trust policy in crossorg/policy.yaml.
//
//	go run ./examples/cross-org
//
// prints one line per step and exits 1 if any step's outcome is not the expected one.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"text/tabwriter"
	"time"

	"github.com/mandate-dev/mandate/examples/cross-org/crossorg"
)

// timeout bounds the whole story: every fetch is on loopback, and a run takes well under a second.
const timeout = 30 * time.Second

func main() {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	steps, err := crossorg.Run(ctx)
	if err != nil {
		fmt.Fprintln(os.Stderr, "cross-org:", err)
		os.Exit(2)
	}
	if !report(os.Stdout, steps) {
		os.Exit(1)
	}
}

// report prints the steps as a table and says whether every one was as expected.
func report(out io.Writer, steps []crossorg.Step) bool {
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
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\n", i+1, s.Name, s.Request(), s.Expected, s.Got, mark)
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
