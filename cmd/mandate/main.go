// Command mandate is the Mandate CLI: agent wallets, PoA credentials,
// delegation, presentations, the gRPC verifier, and the demo.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

// run executes the CLI and returns the process exit code.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	root := newRootCmd(stdout, stderr)
	root.SetArgs(args)
	if err := root.ExecuteContext(ctx); err != nil {
		if code, ok := err.(exitCode); ok {
			return int(code)
		}
		fmt.Fprintln(stderr, "mandate:", err)
		return 1
	}
	return 0
}

// exitCode ends the command with a code after its output was already written.
type exitCode int

func (e exitCode) Error() string { return fmt.Sprintf("exit %d", int(e)) }

// streams are where commands write; tests pass buffers.
type streams struct {
	out, err io.Writer
}

func newRootCmd(stdout, stderr io.Writer) *cobra.Command {
	io := &streams{out: stdout, err: stderr}
	root := &cobra.Command{
		Use:           "mandate",
		Short:         "Power-of-Attorney delegation for AI agents",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.AddCommand(
		newWalletCmd(io), newDIDCmd(io), newIssueCmd(io), newDelegateCmd(io), newPresentCmd(io),
		newServeCmd(io), newVCCmd(io), newDemoCmd(io), newStatusCmd(io), newSDJWTCmd(io),
	)
	root.AddCommand(newRevokeCmds(io)...)
	root.AddCommand(newAnswerCmds(io)...)
	root.AddCommand(newApprovalsCmd(io), newAuditCmd(io))
	root.AddCommand(newBenchCmd(io))
	root.AddCommand(newIntentCmd(io))
	root.AddCommand(newPolicyCmd(io), newWitnessCmd(io))
	root.AddCommand(newMCPGatewayCmd(io))
	return root
}
