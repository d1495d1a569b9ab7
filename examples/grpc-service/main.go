// Command grpc-service runs a gRPC service protected by Mandate's
// interceptors and an agent that calls it through its wallet, on loopback
// and in a temporary directory:
//
//   - alice (the principal) and the agent each have a wallet; alice issues the
//     agent a Power of Attorney (read and list her mailbox, never send), which
//     the agent's wallet stores;
//
//   - the agent's wallet is served on a Unix socket by the WalletService
//     (wallet/holder, what `mandate serve wallet` runs);
//
//   - the mail service (example.mail.v1.Mailbox) runs on 127.0.0.1 behind
//     gatekeeper.UnaryServerInterceptor and StreamServerInterceptor, over an
//     in-process verifier that trusts alice;
//
//   - the agent dials the socket and the service with the client
//     interceptors: it never opens the wallet nor holds a key.
//
//     go run ./examples/grpc-service
//
// prints each call and its decision, and exits 1 if any call's outcome is not
// the expected one.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"text/tabwriter"
	"time"
)

// timeout bounds the whole story (a run takes well under a second).
const timeout = 30 * time.Second

func main() {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	dir, err := os.MkdirTemp("", "mandate-grpc-service")
	if err != nil {
		fmt.Fprintln(os.Stderr, "grpc-service:", err)
		os.Exit(2)
	}
	story, err := Run(ctx, dir)
	os.RemoveAll(dir)
	if err != nil {
		fmt.Fprintln(os.Stderr, "grpc-service:", err)
		os.Exit(2)
	}
	if !report(os.Stdout, story) {
		os.Exit(1)
	}
}

// report prints the calls as a table, then the wallet's log, and says
// whether every call ended as expected.
func report(out io.Writer, s Story) bool {
	tw := tabwriter.NewWriter(out, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "#\tcall\tmethod\texpected\tgot\t")
	good := 0
	for i, st := range s.Steps {
		mark := "ok"
		if st.OK() {
			good++
		} else {
			mark = "UNEXPECTED"
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\n", i+1, st.Name, st.Method, st.Expected, st.Got, mark)
	}
	tw.Flush()
	for i, st := range s.Steps {
		if st.Detail != "" {
			fmt.Fprintf(out, "%d: %s\n", i+1, st.Detail)
		}
	}
	fmt.Fprintf(out, "the agent's wallet presented %d times:\n", len(s.WalletLog))
	for _, e := range s.WalletLog {
		fmt.Fprintf(out, "  %s %s on %s to %s\n", e.Decision, e.Action, e.Resource, e.Audience)
	}
	fmt.Fprintf(out, "%d of %d calls as expected\n", good, len(s.Steps))
	return good == len(s.Steps) && len(s.Steps) > 0
}
