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
		Short: "Play the whole story on loopback: wallets, delegation, a gRPC verifier, a status server, approvals, limits, the audit trail",
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
	cmd.Flags().BoolVar(&asJSON, "json", false, `print {"ok":…,"steps":[…],"audit":[…]}`)
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
		name := s.Name
		if d := s.Disclosure(); d != "" {
			name += " [" + d + "]"
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", i+1, name, s.Agent, s.Action, s.Resource, s.Outcome(), s.Expected, mark)
	}
	tw.Flush()
	if len(rep.Audit) > 0 {
		fmt.Fprintf(io.out, "\naudit trail (as recorded by the verifier, %s):\n", rep.Audit[0].Verifier)
		tw = tabwriter.NewWriter(io.out, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "SEQ\tKIND\tDECISION\tREASONS\tACTOR\tACTION\tRESOURCE\tGRANT\tAPPROVAL\tLIABLE\t")
		for _, r := range rep.Audit {
			fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t\n", r.Seq, r.Kind, r.Decision, strings.Join(r.Reasons, ","),
				short(r.Actor), r.Action, r.Resource, strings.TrimPrefix(r.Grant, "urn:mandate:grant:"), r.ApprovalID, short(r.Liable))
		}
		tw.Flush()
	}
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

// short abbreviates a did:key for a table.
func short(id string) string {
	if len(id) > 24 {
		return id[:16] + "…" + id[len(id)-6:]
	}
	return id
}
