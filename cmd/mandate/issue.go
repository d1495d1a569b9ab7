package main

import (
	"errors"
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/mandate-dev/mandate/credentials"
	"github.com/mandate-dev/mandate/credentials/sdjwt"
	"github.com/mandate-dev/mandate/credentials/sdpoa"
	"github.com/mandate-dev/mandate/did"
	"github.com/mandate-dev/mandate/presentation"
	"github.com/mandate-dev/mandate/wallet"
)

// issueOptions is `issue`'s and `delegate`'s options.
type issueOptions struct {
	walletFlags
	grants string
	to     string
	parent string
	out    string
	format string
	decoys int
	// issue --format bbs: the wallet's BLS12-381 G2 did:key that signs.
	issuer string
	// delegate only: the intent checkers that judge the child's purpose.
	purposeCheckers []string
	skipPurpose     bool
}

func newIssueCmd(io *streams) *cobra.Command {
	var o issueOptions
	cmd := &cobra.Command{
		Use:   "issue",
		Short: "Issue a root PoA credential, signed by the wallet's DID as principal",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := o.checkFormat(); err != nil {
				return err
			}
			t, err := o.template()
			if err != nil {
				return err
			}
			w, err := o.open()
			if err != nil {
				return err
			}
			defer w.Close()
			alloc, err := statusAllocator(w)
			if err != nil {
				return err
			}
			if o.format == presentation.FormatBBS {
				return o.issueBBS(w, t, alloc, io)
			}
			if o.format == presentation.FormatSDJWT {
				s, err := sdpoa.Issue(w, t, sdpoa.Options{IssueOptions: credentials.IssueOptions{Status: alloc}, Decoys: o.decoys})
				if err != nil {
					return err
				}
				if err := o.writeSDJWT([]*sdjwt.SDJWT{s}, io); err != nil {
					return err
				}
				return o.publish(w, alloc)
			}
			c, err := credentials.Issue(w, t, credentials.IssueOptions{Status: alloc})
			if err != nil {
				return err
			}
			if err := o.write([]*credentials.Credential{c}, io); err != nil {
				return err
			}
			return o.publish(w, alloc)
		},
	}
	o.register(cmd)
	cmd.Flags().StringVar(&o.grants, "grants", "", "grant file, YAML or JSON (see examples/grants)")
	cmd.Flags().StringVar(&o.to, "to", "", "the agent's DID (overrides the file's subject)")
	cmd.Flags().StringVar(&o.out, "out", "", "write the chain here (default stdout)")
	cmd.Flags().StringVar(&o.issuer, "issuer", "", "bbs: the wallet's BLS12-381 G2 did:key that signs (default: its only one)")
	o.formatFlags(cmd)
	_ = cmd.MarkFlagRequired("grants")
	return cmd
}

func (o *issueOptions) formatFlags(cmd *cobra.Command) {
	cmd.Flags().StringVar(&o.format, "format", presentation.FormatLDP, "how the credential is secured: ldp (JSON-LD proof), sd-jwt (one Disclosure per grant) or bbs (BBS+, signed by a BLS12-381 G2 did:key)")
	cmd.Flags().IntVar(&o.decoys, "decoys", 2, "sd-jwt: decoy grant digests, so that a verifier cannot count hidden grants (0..64)")
}

func newDelegateCmd(io *streams) *cobra.Command {
	var o issueOptions
	cmd := &cobra.Command{
		Use:   "delegate",
		Short: "Delegate part of a held chain to a sub-agent (refused if wider than the parent)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			w, err := o.open()
			if err != nil {
				return err
			}
			defer w.Close()
			raw, err := w.Chain(o.parent)
			if err != nil {
				return fmt.Errorf("parent chain %s: %w", o.parent, err)
			}
			if !cmd.Flags().Changed("format") {
				o.format = chainFormat(raw) // a child is secured as its parent
			}
			if err := o.checkFormat(); err != nil {
				return err
			}
			t, err := o.template()
			if err != nil {
				return err
			}
			if f := chainFormat(raw); f != o.format {
				return fmt.Errorf("--format %s: the parent chain %s is %s; a child is secured as its parent", o.format, o.parent, f)
			}
			switch o.format {
			case presentation.FormatSDJWT:
				return o.delegateSDJWT(w, raw, t, io)
			case presentation.FormatBBS:
				return o.delegateBBS(w, raw, t, io)
			}
			chain, err := credentials.DecodeChain(raw)
			if err != nil {
				return err
			}
			opts, closeCheckers, err := o.delegateOptions(w)
			if err != nil {
				return err
			}
			defer closeCheckers()
			child, err := credentials.Delegate(w, chain, t, opts)
			if err != nil {
				return err
			}
			if err := o.write(append(chain, child), io); err != nil {
				return err
			}
			return o.publish(w, opts.Status)
		},
	}
	o.register(cmd)
	cmd.Flags().StringVar(&o.grants, "grants", "", "grant file for the child, YAML or JSON")
	cmd.Flags().StringVar(&o.to, "to", "", "the sub-agent's DID (overrides the file's subject)")
	cmd.Flags().StringVar(&o.parent, "parent", "", "id of the held chain to delegate from (see `mandate wallet list`)")
	cmd.Flags().StringArrayVar(&o.purposeCheckers, "intent-checker", []string{"lexical"}, "intent checker that must find the child's purpose within the parent's, NAME, NAME=JSON or NAME=@FILE (repeatable)")
	cmd.Flags().BoolVar(&o.skipPurpose, "insecure-skip-purpose-check", false, "UNSAFE: sign the child without checking its purpose against the parent's")
	cmd.Flags().StringVar(&o.out, "out", "", "write the chain here (default stdout)")
	o.formatFlags(cmd)
	cmd.Flags().Lookup("format").Usage = "how the child is secured: the parent's format (the default, and the only one accepted: ldp, sd-jwt or bbs)"
	_ = cmd.MarkFlagRequired("grants")
	_ = cmd.MarkFlagRequired("parent")
	return cmd
}

// delegateOptions are a child's issue options: the wallet's status
// registry (nil without one) and the purpose check; the func closes the
// checkers.
func (o *issueOptions) delegateOptions(w *wallet.Wallet) (credentials.IssueOptions, func(), error) {
	alloc, err := statusAllocator(w)
	if err != nil {
		return credentials.IssueOptions{}, nil, err
	}
	check, closeCheckers, err := o.purposeCheck()
	if err != nil {
		return credentials.IssueOptions{}, nil, err
	}
	return credentials.IssueOptions{Status: alloc, CheckPurpose: check}, closeCheckers, nil
}

// purposeCheck is the delegation-time intent check from the flags.
func (o *issueOptions) purposeCheck() (func([]*credentials.Credential, credentials.Subject) error, func(), error) {
	if o.skipPurpose {
		return nil, func() {}, nil
	}
	checkers, closeAll, err := buildCheckers(o.purposeCheckers)
	if err != nil {
		return nil, nil, fmt.Errorf("--intent-checker: %w", err)
	}
	if len(checkers) == 0 {
		return nil, nil, errors.New("no --intent-checker: name one, or pass --insecure-skip-purpose-check")
	}
	return presentation.PurposeCheck(presentation.IntentPolicy{Checkers: checkers}, nil), closeAll, nil
}

func (o *issueOptions) template() (credentials.Template, error) {
	data, err := os.ReadFile(o.grants)
	if err != nil {
		return credentials.Template{}, err
	}
	if o.to != "" {
		if err := o.checkSubject(o.to); err != nil {
			return credentials.Template{}, fmt.Errorf("--to: %w", err)
		}
	}
	f, err := credentials.ParseGrantFile(data)
	if err != nil {
		return credentials.Template{}, fmt.Errorf("%s: %w", o.grants, err)
	}
	t, err := f.Template(o.to)
	if err != nil {
		return t, err
	}
	// The subject must be a DID this verifier set can resolve: a credential to
	// an unusable DID would verify and never be presentable.
	if err := o.checkSubject(t.Subject); err != nil {
		return t, fmt.Errorf("subject %q: %w", t.Subject, err)
	}
	return t, nil
}

// checkSubject: an Ed25519 did:key; with --format bbs also a BLS12-381 G2
// did:key.
func (o *issueOptions) checkSubject(id string) error {
	if o.format == presentation.FormatBBS {
		return checkBBSSubject(id)
	}
	_, err := did.ParseKey(id)
	return err
}

// publish writes the issuer's lists after an issuance that used them, so
// that a verifier finds the new entries' lists.
func (o *issueOptions) publish(w *wallet.Wallet, alloc credentials.StatusAllocator) error {
	if alloc == nil {
		return nil
	}
	if _, err := publish(w); err != nil {
		return fmt.Errorf("issued, but publishing the status lists failed (run `mandate status publish`): %w", err)
	}
	return nil
}

// delegateSDJWT signs an SD-JWT child under the SD-JWT chain raw.
func (o *issueOptions) delegateSDJWT(w *wallet.Wallet, raw []byte, t credentials.Template, io *streams) error {
	chain, err := sdpoa.DecodeChain(raw)
	if err != nil {
		return err
	}
	opts, closeCheckers, err := o.delegateOptions(w)
	if err != nil {
		return err
	}
	defer closeCheckers()
	child, err := sdpoa.Delegate(w, chain, t, sdpoa.Options{IssueOptions: opts, Decoys: o.decoys})
	if err != nil {
		return err
	}
	if err := o.writeSDJWT(append(chain, child), io); err != nil {
		return err
	}
	return o.publish(w, opts.Status)
}

func (o *issueOptions) checkFormat() error {
	if o.issuer != "" && o.format != presentation.FormatBBS {
		return errors.New("--issuer names a BLS12-381 G2 did:key: give it with --format bbs")
	}
	if o.decoys < 0 || o.decoys > credentials.MaxGrants {
		return fmt.Errorf("--decoys %d: want 0..%d", o.decoys, credentials.MaxGrants)
	}
	return checkFormat(o.format)
}

func (o *issueOptions) writeSDJWT(chain []*sdjwt.SDJWT, io *streams) error {
	b, err := sdpoa.EncodeChain(chain)
	if err != nil {
		return err
	}
	if err := writeOut(o.out, b, io); err != nil {
		return err
	}
	if o.out != "" {
		leaf, err := sdpoa.VerifyLink(chain[len(chain)-1].String())
		if err != nil {
			return err
		}
		fmt.Fprintln(io.err, "issued", leaf.Credential.ID, "(sd-jwt)")
	}
	return nil
}

func (o *issueOptions) write(chain []*credentials.Credential, io *streams) error {
	b, err := credentials.EncodeChain(chain)
	if err != nil {
		return err
	}
	if err := writeOut(o.out, b, io); err != nil {
		return err
	}
	if o.out != "" {
		fmt.Fprintln(io.err, "issued", chain[len(chain)-1].ID)
	}
	return nil
}
