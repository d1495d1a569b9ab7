package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"syscall"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/spf13/cobra"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/mandate-dev/mandate/presentation/gatekeeper"
	"github.com/mandate-dev/mandate/presentation/mcpgate"
	mandatev1 "github.com/mandate-dev/mandate/protos/mandate/v1"
	"github.com/mandate-dev/mandate/wallet/holder"
)

// mcpGatewayOptions is `mcp-gateway`'s options.
type mcpGatewayOptions struct {
	config                string
	listen                string
	tokenFile             string
	insecurePlaintextWide bool
}

func newMCPGatewayCmd(io *streams) *cobra.Command {
	var o mcpGatewayOptions
	cmd := &cobra.Command{
		Use:   "mcp-gateway",
		Short: "Serve MCP to an agent and forward to an upstream MCP server only the tool calls its Power of Attorney allows",
		Long: "Serve MCP (stdio, or streamable HTTP with --listen) to an agent and forward its tool calls to the upstream MCP\n" +
			"server of the configuration file. Each call is presented by the agent's wallet service and decided by the\n" +
			"verifier; a blocked call is a tool error naming the reason code. docs/MCP.md describes the file.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return o.run(cmd, io) },
	}
	fl := cmd.Flags()
	fl.StringVar(&o.config, "config", "", "gateway configuration file (required; docs/MCP.md)")
	fl.StringVar(&o.listen, "listen", "", "serve MCP's streamable HTTP at http://ADDR/mcp on this loopback address instead of stdio, e.g. 127.0.0.1:8765")
	fl.StringVar(&o.tokenFile, "token-file", "", "with --listen (required): the bearer token the agent's MCP client must send (Authorization: Bearer …); created with a fresh token, mode 0600, when it does not exist")
	fl.BoolVar(&o.insecurePlaintextWide, "insecure-plaintext-non-loopback", false, "UNSAFE: listen on, or reach the verifier at, a non-loopback address without TLS")
	_ = cmd.MarkFlagRequired("config")
	return cmd
}

func (o *mcpGatewayOptions) run(cmd *cobra.Command, io *streams) error {
	data, err := readLimited(o.config, mcpgate.MaxConfigBytes)
	if err != nil {
		return err
	}
	cfg, err := mcpgate.ParseConfig(data)
	if err != nil {
		return fmt.Errorf("%s: %w", o.config, err)
	}
	if err := checkLoopback("verifier.address", cfg.VerifierAddress, o.insecurePlaintextWide); err != nil {
		return err
	}
	var token string
	switch {
	case o.listen != "" && o.tokenFile == "":
		return errors.New("--listen needs --token-file: whoever reaches the address would act with the agent's powers")
	case o.listen == "" && o.tokenFile != "":
		return errors.New("--token-file is for --listen (on stdio the agent's process is the only client)")
	case o.listen != "":
		if err := checkLoopback("--listen", o.listen, o.insecurePlaintextWide); err != nil {
			return err
		}
		if token, err = gatewayToken(o.tokenFile); err != nil {
			return err
		}
	}
	// stdout is the MCP stream in stdio mode: logs go to stderr only.
	log := slog.New(slog.NewTextHandler(io.err, nil))
	ctx := cmd.Context()
	conn, err := grpc.NewClient(cfg.VerifierAddress, grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(gatekeeper.MaxMessageBytes)))
	if err != nil {
		return fmt.Errorf("verifier %s: %w", cfg.VerifierAddress, err)
	}
	defer conn.Close()
	w, err := holder.Dial(cfg.WalletSocket)
	if err != nil {
		return err
	}
	defer w.Close()
	// Fail at start, not at the agent's first call, when the wallet service is not there.
	pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	_, err = w.Powers(pctx)
	cancel()
	if err != nil {
		return fmt.Errorf("wallet.socket %s: %w (is `mandate serve wallet` running?)", cfg.WalletSocket, err)
	}
	up, err := mcpgate.Connect(ctx, cfg.Upstream, io.err)
	if err != nil {
		return err
	}
	defer up.Close()
	gw, err := mcpgate.New(ctx, mcpgate.Options{
		Upstream: up, Tools: cfg.Tools, Wallet: w, Justification: cfg.Justification, Logger: log,
		Decider:     gatekeeper.Remote(mandatev1.NewVerifierServiceClient(conn)),
		Approvals:   gatekeeper.NewApprovalClient(mandatev1.NewApprovalServiceClient(conn)),
		ApproveHint: "mandate approve %s --verifier " + cfg.VerifierAddress + " --wallet <the principal's wallet>",
	})
	if err != nil {
		return err
	}
	if o.listen == "" {
		log.Info("mcp gateway serving on stdio", "tools", len(cfg.Tools), "verifier", cfg.VerifierAddress)
		err := gw.Server().Run(ctx, &mcp.StdioTransport{})
		if errors.Is(err, mcp.ErrConnectionClosed) || ctx.Err() != nil {
			return nil
		}
		return err
	}
	h, err := gw.Handler(token)
	if err != nil {
		return fmt.Errorf("%s: %w", o.tokenFile, err)
	}
	mux := http.NewServeMux()
	mux.Handle("/mcp", h)
	lis, err := net.Listen("tcp", o.listen)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second, IdleTimeout: time.Minute, MaxHeaderBytes: 16 << 10}
	go func() {
		<-ctx.Done()
		_ = srv.Close()
	}()
	log.Info("mcp gateway listening", "url", "http://"+lis.Addr().String()+"/mcp", "token-file", o.tokenFile, "tools", len(cfg.Tools), "verifier", cfg.VerifierAddress)
	if err := srv.Serve(lis); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// gatewayToken reads the bearer token of --token-file, or writes a fresh one
// there (mode 0600) when the file does not exist. A file that others may
// read, or that is not a regular file, is refused: the token is the agent's
// powers.
func gatewayToken(path string) (string, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err == nil {
		token := mcpgate.NewToken()
		_, werr := f.WriteString(token + "\n")
		if err := errors.Join(werr, f.Sync(), f.Close()); err != nil {
			return "", fmt.Errorf("--token-file %s: %w", path, err)
		}
		return token, nil
	}
	if !errors.Is(err, os.ErrExist) {
		return "", fmt.Errorf("--token-file: %w", err)
	}
	// The checks are made on the file opened, not on the path, so that it
	// cannot be swapped between them; a symbolic link is not followed.
	f, err = os.OpenFile(path, os.O_RDONLY|syscall.O_NOFOLLOW|syscall.O_NONBLOCK, 0)
	if errors.Is(err, syscall.ELOOP) {
		return "", fmt.Errorf("--token-file %s is a symbolic link; name the file itself", path)
	}
	if err != nil {
		return "", fmt.Errorf("--token-file: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return "", fmt.Errorf("--token-file: %w", err)
	}
	if !fi.Mode().IsRegular() {
		return "", fmt.Errorf("--token-file %s is not a regular file (%s)", path, fi.Mode())
	}
	if fi.Mode().Perm()&0o077 != 0 {
		return "", fmt.Errorf("--token-file %s has mode %04o: others may read the token; chmod 600 it", path, fi.Mode().Perm())
	}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok && int(st.Uid) != os.Geteuid() {
		return "", fmt.Errorf("--token-file %s belongs to user %d, not to this one (%d)", path, st.Uid, os.Geteuid())
	}
	data, err := io.ReadAll(io.LimitReader(f, mcpgate.MaxTokenBytes+3))
	if err != nil {
		return "", fmt.Errorf("--token-file: %w", err)
	}
	token := strings.TrimSpace(string(data))
	if err := mcpgate.CheckToken(token); err != nil {
		return "", fmt.Errorf("--token-file %s: %w", path, err)
	}
	return token, nil
}

// checkLoopback refuses a non-loopback address unless the unsafe flag is set:
// the gateway speaks plaintext both ways.
func checkLoopback(what, addr string, insecureWide bool) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	if ip := net.ParseIP(host); (ip == nil || !ip.IsLoopback()) && host != "localhost" && !insecureWide {
		return fmt.Errorf("%s %s is not a loopback address; without TLS this needs --insecure-plaintext-non-loopback", what, addr)
	}
	return nil
}
