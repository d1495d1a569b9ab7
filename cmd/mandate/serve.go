package main

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"path/filepath"

	"github.com/dgraph-io/badger/v4"
	"github.com/spf13/cobra"

	"github.com/mandate-dev/mandate/did"
	"github.com/mandate-dev/mandate/presentation"
	"github.com/mandate-dev/mandate/presentation/gatekeeper"
)

// serveVerifierOptions is `serve verifier`'s options.
type serveVerifierOptions struct {
	addr                  string
	data                  string
	audience              string
	trustRoots            []string
	insecureTrustAnyRoot  bool
	insecurePlaintextWide bool
}

func newServeCmd(io *streams) *cobra.Command {
	cmd := &cobra.Command{Use: "serve", Short: "Run Mandate services"}
	var o serveVerifierOptions
	v := &cobra.Command{
		Use:   "verifier",
		Short: "Serve the gRPC verifier (VerifierService and gRPC health)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return o.run(cmd, io)
		},
	}
	fl := v.Flags()
	fl.StringVar(&o.addr, "addr", "127.0.0.1:7443", "listen address (loopback unless --insecure-plaintext-non-loopback)")
	fl.StringVar(&o.data, "data", "", "data directory for nonces (required)")
	fl.StringVar(&o.audience, "audience", "", "this verifier's audience, e.g. https://mail.example.com (required)")
	fl.StringArrayVar(&o.trustRoots, "trust-root", nil, "principal DID whose root credentials are trusted (repeatable)")
	fl.BoolVar(&o.insecureTrustAnyRoot, "insecure-trust-any-root", false, "UNSAFE: accept roots from any principal")
	fl.BoolVar(&o.insecurePlaintextWide, "insecure-plaintext-non-loopback", false, "UNSAFE: listen on a non-loopback address without TLS")
	_ = v.MarkFlagRequired("data")
	_ = v.MarkFlagRequired("audience")
	cmd.AddCommand(v)
	return cmd
}

func (o *serveVerifierOptions) run(cmd *cobra.Command, io *streams) error {
	host, _, err := net.SplitHostPort(o.addr)
	if err != nil {
		return fmt.Errorf("--addr: %w", err)
	}
	if ip := net.ParseIP(host); (ip == nil || !ip.IsLoopback()) && host != "localhost" && !o.insecurePlaintextWide {
		return errors.New("--addr is not a loopback address; the verifier has no TLS yet, so this needs --insecure-plaintext-non-loopback")
	}
	log := slog.New(slog.NewTextHandler(io.err, nil))
	db, err := badger.Open(badger.DefaultOptions(filepath.Join(o.data, "verifier")).WithLogger(nil).
		WithSyncWrites(true).WithMemTableSize(8 << 20).WithValueLogFileSize(16 << 20).WithBlockCacheSize(8 << 20))
	if err != nil {
		return fmt.Errorf("open data: %w", err)
	}
	defer db.Close()
	v, err := presentation.New(presentation.Config{
		Audience: o.audience, Resolver: did.KeyResolver{}, TrustedRoots: o.trustRoots,
		InsecureTrustAnyRoot: o.insecureTrustAnyRoot, Store: db, Logger: log,
	})
	if err != nil {
		return err
	}
	lis, err := net.Listen("tcp", o.addr)
	if err != nil {
		return err
	}
	srv := gatekeeper.NewGRPCServer(v)
	go func() {
		<-cmd.Context().Done()
		srv.GracefulStop()
	}()
	log.Info("verifier listening", "addr", lis.Addr().String(), "audience", o.audience, "trusted_roots", len(o.trustRoots))
	return srv.Serve(lis)
}
