package main

import (
	"encoding/json"
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/mandate-dev/mandate/internal/demo"
)

func newDemoCmd(io *streams) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Play the whole story on loopback: wallets, delegation, a gRPC verifier, and every denial",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			rep, err := demo.Run(cmd.Context(), demo.Options{})
			if err != nil {
				return err
			}
			if asJSON {
				if err := json.NewEncoder(io.out).Encode(rep); err != nil {
					return err
				}
			} else {
				printReport(io, rep)
			}
			if !rep.OK {
				return exitCode(1)
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, `print {"ok":…,"steps":[…]}`)
	return cmd
}

func printReport(io *streams, rep demo.Report) {
	tw := tabwriter.NewWriter(io.out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "#\tSTEP\tAGENT\tACTION\tRESOURCE\tRESULT\tEXPECTED\t")
	for i, s := range rep.Steps {
		mark := "ok"
		if !s.OK() {
			mark = "MISMATCH"
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", i+1, s.Name, s.Agent, s.Action, s.Resource, s.Outcome(), s.Expected, mark)
	}
	tw.Flush()
	if rep.OK {
		fmt.Fprintf(io.out, "\nall %d steps got their expected decision\n", len(rep.Steps))
	} else {
		var bad []string
		for _, s := range rep.Steps {
			if !s.OK() {
				bad = append(bad, s.Name+": "+s.Detail)
			}
		}
		fmt.Fprintf(io.out, "\nFAILED:\n  %s\n", strings.Join(bad, "\n  "))
	}
}
