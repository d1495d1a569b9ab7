package main

import (
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/mandate-dev/mandate/credentials"
	"github.com/mandate-dev/mandate/did"
)

type witnessOptions struct {
	walletFlags
	as, out string
}

func newWitnessCmd(io *streams) *cobra.Command {
	var o witnessOptions
	cmd := &cobra.Command{
		Use:   "witness FILE",
		Short: "Add the wallet's witness proof to a root credential (a chain file of one link); witness before delegating",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			b, err := readLimited(args[0], credentials.MaxChainBytes)
			if err != nil {
				return err
			}
			chain, err := credentials.DecodeChain(b)
			if err != nil {
				return fmt.Errorf("%s: %w", args[0], err)
			}
			if len(chain) != 1 {
				return fmt.Errorf("%s: a witness signs a root alone; the file holds %d links (witness before delegating)", args[0], len(chain))
			}
			// The witness checks the principal's signature before adding its own.
			res, err := did.NewMethods(map[string]did.Resolver{"key": did.KeyResolver{}, "web": did.NewWebResolver(did.WebOptions{})})
			if err != nil {
				return err
			}
			cv, err := credentials.NewVerifier(res)
			if err != nil {
				return err
			}
			raw, err := chain[0].Marshal()
			if err != nil {
				return err
			}
			root, err := cv.Verify(cmd.Context(), raw)
			if err != nil {
				return fmt.Errorf("%s: %w", args[0], err)
			}
			w, err := o.open()
			if err != nil {
				return err
			}
			defer w.Close()
			var signer credentials.Signer = w
			if o.as != "" {
				if signer, err = w.Signer(o.as); err != nil {
					return err
				}
			}
			out, err := credentials.Witness(signer, root, time.Now)
			if err != nil {
				return err
			}
			enc, err := credentials.EncodeChain([]*credentials.Credential{out})
			if err != nil {
				return err
			}
			return writeOut(o.out, enc, io)
		},
	}
	o.register(cmd)
	cmd.Flags().StringVar(&o.as, "as", "", "witness as this DID of the wallet (default: its primary DID)")
	cmd.Flags().StringVar(&o.out, "out", "", "write the witnessed chain here (default stdout)")
	return cmd
}

var errNoDomain = errors.New("did create --method web needs --domain")
