package main

import (
	"encoding/json"
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/mandate-dev/mandate/credentials"
)

// vcResult is `vc verify --json`'s output.
type vcResult struct {
	Valid   bool     `json:"valid"`
	Issuer  string   `json:"issuer"`
	Reasons []string `json:"reasons"`
}

func newVCCmd(io *streams) *cobra.Command {
	cmd := &cobra.Command{Use: "vc", Short: "Work with verifiable credentials"}
	var asJSON bool
	verify := &cobra.Command{
		Use:   "verify FILE",
		Short: "Check a credential or chain file offline (signatures, strict JSON-LD, links)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			res := vcResult{Reasons: []string{}}
			data, err := os.ReadFile(args[0])
			if err == nil {
				var chain []*credentials.Credential
				chain, err = verifyChain(cmd.Context(), data)
				if err == nil {
					res.Valid, res.Issuer = true, chain[len(chain)-1].Issuer
				} else if parsed, perr := credentials.DecodeChain(data); perr == nil {
					res.Issuer = parsed[len(parsed)-1].Issuer
				}
			}
			if err != nil {
				res.Reasons = append(res.Reasons, err.Error())
			}
			if asJSON {
				if err := json.NewEncoder(io.out).Encode(res); err != nil {
					return err
				}
			} else if res.Valid {
				fmt.Fprintf(io.out, "valid: issued by %s\n", res.Issuer)
			} else {
				fmt.Fprintf(io.out, "INVALID: %s\n", res.Reasons[0])
			}
			if !res.Valid {
				return exitCode(1)
			}
			return nil
		},
	}
	verify.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	cmd.AddCommand(verify)
	return cmd
}
