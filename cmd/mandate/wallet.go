package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/mandate-dev/mandate/credentials"
	"github.com/mandate-dev/mandate/credentials/sdpoa"
	"github.com/mandate-dev/mandate/did"
	"github.com/mandate-dev/mandate/presentation"
	"github.com/mandate-dev/mandate/wallet"
)

func newWalletCmd(io *streams) *cobra.Command {
	cmd := &cobra.Command{Use: "wallet", Short: "Create and inspect agent wallets"}
	cmd.AddCommand(newWalletInitCmd(io), newWalletImportCmd(io), newWalletListCmd(io), newWalletLogCmd(io))
	return cmd
}

// walletLogOptions is `wallet log`'s options.
type walletLogOptions struct {
	walletFlags
	asJSON bool
}

func newWalletLogCmd(io *streams) *cobra.Command {
	var o walletLogOptions
	cmd := &cobra.Command{
		Use:   "log",
		Short: "What this wallet presented: to whom, when, why, and the answer",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			w, err := o.open()
			if err != nil {
				return err
			}
			defer w.Close()
			entries, err := w.Entries()
			if err != nil {
				return err
			}
			if o.asJSON {
				enc := json.NewEncoder(io.out)
				for _, e := range entries {
					if err := enc.Encode(e); err != nil {
						return err
					}
				}
				return nil
			}
			for _, e := range entries {
				fmt.Fprintf(io.out, "%d  %s  %s %s  to %s  %s %v  intent %q  audit %s\n", e.Seq, e.Time.Format("2006-01-02T15:04:05Z"),
					e.Action, e.Resource, e.Verifier, e.Decision, e.Reasons, e.Intent, e.AuditID)
			}
			return nil
		},
	}
	o.register(cmd)
	cmd.Flags().BoolVar(&o.asJSON, "json", false, "print one JSON object per line")
	return cmd
}

func newWalletInitCmd(io *streams) *cobra.Command {
	var f walletFlags
	cmd := &cobra.Command{
		Use:   "init",
		Short: "Create an encrypted wallet with a new did:key",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			pass, err := f.passphrase()
			if err != nil {
				return err
			}
			w, err := wallet.Create(f.dir, pass)
			if err != nil {
				return err
			}
			defer w.Close()
			fmt.Fprintln(io.out, w.DID())
			return nil
		},
	}
	f.register(cmd)
	return cmd
}

// importOptions is `wallet import`'s options.
type importOptions struct {
	walletFlags
}

func newWalletImportCmd(io *streams) *cobra.Command {
	var o importOptions
	cmd := &cobra.Command{
		Use:   "import CHAIN.json",
		Short: "Verify a credential chain granted to this wallet and store it",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return importChain(cmd.Context(), o, args[0], io)
		},
	}
	o.register(cmd)
	return cmd
}

func importChain(ctx context.Context, o importOptions, path string, io *streams) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	switch chainFormat(data) {
	case presentation.FormatSDJWT:
		return importSDJWTChain(o, data, io)
	case presentation.FormatBBS:
		return importBBSChain(ctx, o, data, io)
	}
	chain, err := verifyChain(ctx, data)
	if err != nil {
		return err
	}
	return storeChain(o, io, chain[len(chain)-1], func() ([]byte, error) { return credentials.EncodeChain(chain) })
}

// storeChain keeps a verified chain under its leaf's id, in a wallet that
// holds the leaf's subject DID (its own, or one of its BLS12-381 G2
// did:keys), and prints the id. encode gives the bytes to keep.
func storeChain(o importOptions, io *streams, leaf *credentials.Credential, encode func() ([]byte, error)) error {
	w, err := o.open()
	if err != nil {
		return err
	}
	defer w.Close()
	if !ownsDID(w, leaf.Subject.ID) {
		return fmt.Errorf("the chain is granted to %s, not to this wallet (%s or one of its BLS12-381 G2 did:keys)", leaf.Subject.ID, w.DID())
	}
	enc, err := encode()
	if err != nil {
		return err
	}
	if err := w.PutChain(leaf.ID, enc); err != nil {
		return err
	}
	fmt.Fprintln(io.out, leaf.ID)
	return nil
}

// verifyChain checks every link's signature and the links between them.
func verifyChain(ctx context.Context, data []byte) ([]*credentials.Credential, error) {
	parsed, err := credentials.DecodeChain(data)
	if err != nil {
		return nil, err
	}
	v, err := credentials.NewVerifier(did.KeyResolver{})
	if err != nil {
		return nil, err
	}
	for i, c := range parsed {
		if _, err := v.VerifyMap(ctx, c.Raw); err != nil {
			return nil, fmt.Errorf("link %d: %w", i, err)
		}
	}
	if err := credentials.CheckChain(parsed); err != nil {
		return nil, err
	}
	return parsed, nil
}

func newWalletListCmd(io *streams) *cobra.Command {
	var f walletFlags
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List the wallet's DIDs and the credential chains it holds",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			w, err := f.open()
			if err != nil {
				return err
			}
			defer w.Close()
			held, err := heldChains(w)
			if err != nil {
				return err
			}
			sd, err := sdjwtCredentials(held.SDJWT)
			if err != nil {
				return err
			}
			type row struct {
				ID, Principal, Purpose string
				Links                  int
				Grants                 []string
				Format                 string
			}
			var rows []row
			for _, set := range []struct {
				format string
				chains [][]*credentials.Credential
			}{{presentation.FormatLDP, held.LDP}, {presentation.FormatSDJWT, sd}, {presentation.FormatBBS, held.BBS}} {
				for _, c := range set.chains {
					leaf := c[len(c)-1]
					r := row{ID: leaf.ID, Principal: leaf.Subject.Principal, Purpose: leaf.Subject.Purpose, Links: len(c), Format: set.format}
					for _, g := range leaf.Subject.Grants {
						r.Grants = append(r.Grants, g.Action+" "+g.Resource)
					}
					rows = append(rows, r)
				}
			}
			bls, err := w.BLSDIDs()
			if err != nil {
				return err
			}
			if asJSON {
				return json.NewEncoder(io.out).Encode(map[string]any{"did": w.DID(), "blsDids": bls, "chains": rows})
			}
			fmt.Fprintf(io.out, "DID %s\n", w.DID())
			for _, d := range bls {
				fmt.Fprintf(io.out, "BLS12-381 G2 DID %s\n", d)
			}
			for _, r := range rows {
				fmt.Fprintf(io.out, "%s  %d link(s)  %s  principal %s\n  purpose: %s\n", r.ID, r.Links, r.Format, r.Principal, r.Purpose)
				for _, g := range r.Grants {
					fmt.Fprintf(io.out, "  grant: %s\n", g)
				}
			}
			return nil
		},
	}
	f.register(cmd)
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

// importSDJWTChain verifies an SD-JWT chain file (sdpoa.VerifyChain) and
// stores it whole under its leaf's id.
func importSDJWTChain(o importOptions, data []byte, io *streams) error {
	links, err := sdpoa.DecodeChain(data)
	if err != nil {
		return err
	}
	chain, err := sdpoa.VerifyChain(links)
	if err != nil {
		return err
	}
	return storeChain(o, io, chain[len(chain)-1], func() ([]byte, error) { return sdpoa.EncodeChain(links) })
}
