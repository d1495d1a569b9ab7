package main

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/mandate-dev/mandate/presentation"
	"github.com/mandate-dev/mandate/wallet"
	"github.com/mandate-dev/mandate/wallet/holder"
)

// walletFlags name a wallet and how to unlock it.
type walletFlags struct {
	dir            string
	passphraseFile string
}

func (f *walletFlags) register(cmd *cobra.Command) {
	cmd.Flags().StringVar(&f.dir, "wallet", "", "wallet directory (required)")
	cmd.Flags().StringVar(&f.passphraseFile, "passphrase-file", "", "file holding the wallet passphrase (default: $MANDATE_PASSPHRASE)")
	_ = cmd.MarkFlagRequired("wallet")
}

func (f *walletFlags) passphrase() ([]byte, error) {
	if f.passphraseFile != "" {
		b, err := os.ReadFile(f.passphraseFile)
		if err != nil {
			return nil, fmt.Errorf("read passphrase: %w", err)
		}
		return []byte(strings.TrimRight(string(b), "\r\n")), nil
	}
	if p := os.Getenv("MANDATE_PASSPHRASE"); p != "" {
		return []byte(p), nil
	}
	return nil, errors.New("no passphrase: use --passphrase-file or set MANDATE_PASSPHRASE")
}

func (f *walletFlags) open() (*wallet.Wallet, error) {
	pass, err := f.passphrase()
	if err != nil {
		return nil, err
	}
	return wallet.Open(f.dir, pass)
}

// heldChains decodes every chain a wallet holds (holder.HeldChains).
func heldChains(w *wallet.Wallet) (presentation.Held, error) { return holder.HeldChains(w) }

func writeOut(path string, data []byte, io *streams) error {
	if path == "" || path == "-" {
		_, err := io.out.Write(append(data, '\n'))
		return err
	}
	return os.WriteFile(path, append(data, '\n'), 0o600)
}
