package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/mandate-dev/mandate/credentials"
	"github.com/mandate-dev/mandate/internal/load"
)

// benchOptions is `bench`'s options.
type benchOptions struct {
	agents          int
	duration        time.Duration
	requests        int
	chainDepth      int
	addr            string
	serverPID       int
	principalWallet walletFlags
	sampleEvery     time.Duration
	asJSON          bool
}

func newBenchCmd(io *streams) *cobra.Command {
	var o benchOptions
	cmd := &cobra.Command{
		Use:   "bench",
		Short: "Drive a gRPC verifier on loopback with concurrent agents; report throughput, latency, errors and the verifier's memory",
		Long: "Each agent loops Challenge → Present → Authorize with its own key and chain; every answer but ALLOW is an error.\n" +
			"Without --addr, bench starts its own `mandate serve verifier` process on 127.0.0.1 (temporary data, its own\n" +
			"principal and wallet) and samples its VmRSS and VmHWM. The run stops at --duration or --requests, whichever\n" +
			"comes first. Exit 0 only when every request was ALLOWed, 3 otherwise.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return o.run(cmd, io) },
	}
	fl := cmd.Flags()
	fl.IntVar(&o.agents, "agents", 4, fmt.Sprintf("concurrent agents (1..%d)", load.MaxAgents))
	fl.DurationVar(&o.duration, "duration", 10*time.Second, fmt.Sprintf("time bound, at most %s (0: --requests alone)", load.MaxDuration))
	fl.IntVar(&o.requests, "requests", 0, fmt.Sprintf("count bound over all agents, at most %d (0: --duration alone)", load.MaxRequests))
	fl.IntVar(&o.chainDepth, "chain-depth", 1, fmt.Sprintf("links in each agent's chain (1..%d)", load.MaxChainDepth))
	fl.StringVar(&o.addr, "addr", "", "address of a running verifier, a loopback IP (default: start one)")
	fl.IntVar(&o.serverPID, "server-pid", 0, "with --addr: the verifier's process id, to sample its memory")
	fl.StringVar(&o.principalWallet.dir, "principal-wallet", "", "with --addr: wallet of a principal the verifier trusts (default: a fresh key)")
	fl.StringVar(&o.principalWallet.passphraseFile, "passphrase-file", "", "file holding the principal wallet's passphrase (default: $MANDATE_PASSPHRASE)")
	fl.DurationVar(&o.sampleEvery, "sample-every", time.Second, "how often the verifier's memory is read")
	fl.BoolVar(&o.asJSON, "json", false, "print the report as JSON")
	return cmd
}

func (o *benchOptions) run(cmd *cobra.Command, io *streams) error {
	log := slog.New(slog.NewTextHandler(io.err, nil))
	cfg := load.Config{
		Addr: o.addr, Agents: o.agents, Duration: o.duration, Requests: o.requests, ChainDepth: o.chainDepth,
		PID: o.serverPID, SampleEvery: o.sampleEvery, Logger: log,
	}
	own := o.addr == ""
	switch {
	case own && o.serverPID != 0:
		return errors.New("--server-pid needs --addr: bench knows the pid of the verifier it starts")
	case own:
		cfg.Addr = "127.0.0.1:0" // checked now, replaced by the started verifier's address
	}
	principal, closePrincipal, err := o.principal()
	if err != nil {
		return err
	}
	defer closePrincipal()
	cfg.Principal = principal
	if err := cfg.Validate(); err != nil {
		return err
	}
	if own {
		exe, err := os.Executable()
		if err != nil {
			return fmt.Errorf("bench: the mandate binary to run the verifier: %w", err)
		}
		dir, err := os.MkdirTemp("", "mandate-bench-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		srv, err := load.StartServer(cmd.Context(), load.ServerConfig{Executable: exe, Dir: dir, TrustRoot: principal.DID(), Logger: log})
		if err != nil {
			return err
		}
		defer srv.Stop()
		log.Info("verifier started", "pid", srv.PID, "addr", srv.Addr)
		cfg.Addr, cfg.PID = srv.Addr, srv.PID
	}
	rep, err := load.Run(cmd.Context(), cfg)
	if err != nil {
		return err
	}
	if o.asJSON {
		err = json.NewEncoder(io.out).Encode(rep)
	} else {
		err = rep.WriteText(io.out)
	}
	if err != nil {
		return err
	}
	if rep.Errors > 0 || rep.Interrupted {
		return exitCode(3)
	}
	return nil
}

// principal is the root issuer of every agent's chain: a wallet the
// verifier already trusts, or a fresh key that only this run knows.
func (o *benchOptions) principal() (credentials.Signer, func(), error) {
	if o.principalWallet.dir == "" {
		k, err := load.NewKey(nil)
		return k, func() {}, err
	}
	w, err := o.principalWallet.open()
	if err != nil {
		return nil, nil, fmt.Errorf("--principal-wallet: %w", err)
	}
	return w, func() { w.Close() }, nil
}
