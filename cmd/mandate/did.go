package main

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/mandate-dev/mandate/did"
)

func newDIDCmd(io *streams) *cobra.Command {
	cmd := &cobra.Command{Use: "did", Short: "Create and resolve DIDs"}
	var f walletFlags
	var method, domain, path, out, key string
	create := &cobra.Command{
		Use:   "create",
		Short: "Create another DID in a wallet's key manager: an Ed25519 did:key or did:web (prints the document to publish), or a BLS12-381 G2 did:key (--key bls12381g2, for BBS+)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if method != "key" && method != "web" {
				return fmt.Errorf("--method %q: want key or web", method)
			}
			if key != "ed25519" && key != "bls12381g2" {
				return fmt.Errorf("--key %.32q: want ed25519 or bls12381g2", key)
			}
			if key == "bls12381g2" && method != "key" {
				return errors.New("--key bls12381g2 makes a did:key; it takes no --method web")
			}
			if method == "web" && domain == "" {
				return errNoDomain
			}
			w, err := f.open()
			if err != nil {
				return err
			}
			defer w.Close()
			if method == "web" {
				id, err := did.WebDID(domain, path)
				if err != nil {
					return err
				}
				doc, err := w.CreateWebDID(id)
				if err != nil {
					return err
				}
				u, _ := did.WebURL(id)
				b, err := json.MarshalIndent(doc, "", "  ")
				if err != nil {
					return err
				}
				fmt.Fprintf(io.err, "%s: publish the document at %s\n", id, u)
				return writeOut(out, b, io)
			}
			create := w.CreateDID
			if key == "bls12381g2" {
				create = w.CreateBLSDID
			}
			d, err := create()
			if err != nil {
				return err
			}
			fmt.Fprintln(io.out, d)
			return nil
		},
	}
	f.register(create)
	create.Flags().StringVar(&method, "method", "key", "DID method: key, or web (an organisation's domain)")
	create.Flags().StringVar(&key, "key", "ed25519", "key type: ed25519, or bls12381g2 (a did:key that signs and receives BBS+ credentials)")
	create.Flags().StringVar(&domain, "domain", "", "did:web: the domain, with :PORT if not 443")
	create.Flags().StringVar(&path, "path", "", "did:web: an optional path, e.g. org/legal (the document goes to /org/legal/did.json)")
	create.Flags().StringVar(&out, "out", "", "did:web: write the DID document here (default stdout)")
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
