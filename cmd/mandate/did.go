package main

import (
	"encoding/json"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/mandate-dev/mandate/did"
)

func newDIDCmd(io *streams) *cobra.Command {
	cmd := &cobra.Command{Use: "did", Short: "Create and resolve DIDs"}
	var f walletFlags
	create := &cobra.Command{
		Use:   "create",
		Short: "Create another Ed25519 did:key in a wallet's key manager",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			w, err := f.open()
			if err != nil {
				return err
			}
			defer w.Close()
			d, err := w.CreateDID()
			if err != nil {
				return err
			}
			fmt.Fprintln(io.out, d)
			return nil
		},
	}
	f.register(create)
	resolve := &cobra.Command{
		Use:   "resolve DID",
		Short: "Resolve a did:key offline and print its DID document",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			doc, err := did.KeyResolver{}.Resolve(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			enc := json.NewEncoder(io.out)
			enc.SetIndent("", "  ")
			return enc.Encode(doc)
		},
	}
	cmd.AddCommand(create, resolve)
	return cmd
}
