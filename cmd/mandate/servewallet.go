package main

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/mandate-dev/mandate/wallet/holder"
)

// serveWalletOptions is `serve wallet`'s options.
type serveWalletOptions struct {
	walletFlags
	socket string
}

func newServeWalletCmd(io *streams) *cobra.Command {
	var o serveWalletOptions
	cmd := &cobra.Command{
		Use:   "wallet",
		Short: "Serve the wallet's WalletService on a Unix socket (mode 0600), so that agents get presentations without holding keys",
		Long: `Serve the wallet's WalletService (Identity, Present, ListPowers) and gRPC health
on a Unix socket with file mode 0600. Whoever can open the socket can have the
wallet present for any request its chains cover (docs/WALLET-SERVICE.md).
The socket is removed when the server stops (SIGINT, SIGTERM).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return o.run(cmd, io)
		},
	}
	o.register(cmd)
	cmd.Flags().StringVar(&o.socket, "socket", "", "socket path (default: $XDG_RUNTIME_DIR/mandate/wallet.sock, or <wallet dir>/wallet.sock without XDG_RUNTIME_DIR; its directory is created 0700 and must be yours and closed to others)")
	return cmd
}

// socketPath is --socket, or the default: in the user's runtime directory
// (private to the user, on tmpfs, cleared at logout), else in the wallet's
// own directory (0700 since wallet init).
func (o *serveWalletOptions) socketPath() (path string, chosen bool) {
	if o.socket != "" {
		return o.socket, false
	}
	if rt := os.Getenv("XDG_RUNTIME_DIR"); rt != "" {
		return filepath.Join(rt, "mandate", "wallet.sock"), true
	}
	return filepath.Join(o.dir, "wallet.sock"), true
}

// checkPrivateDir refuses a socket directory that another user owns or
// that others may write to or enter: they could replace the socket, or (with
// a wider socket mode) connect. Only for the default path, which we chose;
// an explicit --socket is the user's choice, still made 0600.
func checkPrivateDir(dir string) error {
	fi, err := os.Stat(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil // Listen creates it 0700
	}
	if err != nil {
		return err
	}
	if fi.Mode().Perm()&0o077 != 0 {
		return fmt.Errorf("socket directory %s has mode %s: it must be closed to group and others (chmod 700, or give --socket)", dir, fi.Mode().Perm())
	}
	if uid, ok := fileOwner(fi); ok && uid != os.Getuid() {
		return fmt.Errorf("socket directory %s is owned by uid %d, not by you (uid %d); give --socket", dir, uid, os.Getuid())
	}
	return nil
}

func (o *serveWalletOptions) run(cmd *cobra.Command, io *streams) error {
	path, chosen := o.socketPath()
	if chosen {
		if err := checkPrivateDir(filepath.Dir(path)); err != nil {
			return err
		}
	}
	log := slog.New(slog.NewTextHandler(io.err, nil))
	w, err := o.open()
	if err != nil {
		return err
	}
	defer w.Close()
	lis, err := holder.Listen(path)
	if err != nil {
		return err
	}
	srv := holder.NewGRPCServer(w, log, nil)
	go func() {
		<-cmd.Context().Done()
		srv.GracefulStop() // closes lis, which removes the socket
	}()
	log.Info("wallet service listening", "socket", path, "did", w.DID())
	err = srv.Serve(lis)
	_ = lis.Close() // Serve may have returned before closing it
	return err
}

// fileOwner is fi's owner uid, where the system says (the project targets
// Linux; elsewhere only the mode is checked).
func fileOwner(fi fs.FileInfo) (int, bool) {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return int(st.Uid), true
	}
	return 0, false
}
