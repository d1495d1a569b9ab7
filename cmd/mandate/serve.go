package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"time"

	"github.com/dgraph-io/badger/v4"
	"github.com/spf13/cobra"

	"github.com/mandate-dev/mandate/credentials"
	"github.com/mandate-dev/mandate/credentials/status/statushttp"
	"github.com/mandate-dev/mandate/intent"
	"github.com/mandate-dev/mandate/presentation"
	"github.com/mandate-dev/mandate/presentation/audit"
	"github.com/mandate-dev/mandate/presentation/gatekeeper"
)

// serveVerifierOptions is `serve verifier`'s options.
type serveVerifierOptions struct {
	walletFlags
	addr                  string
	data                  string
	audience              string
	trustRoots            []string
	insecureTrustAnyRoot  bool
	insecurePlaintextWide bool
	statusMaxAge          time.Duration
	policyFile            string
	statusTimeout         time.Duration
	requireStatus         bool
	formats               []string
	intentCheckers        []string
	checkpointEvery       uint64
	checkpointInterval    time.Duration
	intentTimeout         time.Duration
	intentOnError         string
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
	o.register(v)
	fl := v.Flags()
	fl.StringVar(&o.addr, "addr", "127.0.0.1:7443", "listen address (loopback unless --insecure-plaintext-non-loopback)")
	fl.StringVar(&o.data, "data", "", "data directory for nonces (required)")
	fl.StringVar(&o.audience, "audience", "", "this verifier's audience, e.g. https://mail.example.com (required)")
	fl.StringArrayVar(&o.trustRoots, "trust-root", nil, "principal DID whose root credentials are trusted (repeatable)")
	fl.BoolVar(&o.insecureTrustAnyRoot, "insecure-trust-any-root", false, "UNSAFE: accept roots from any principal")
	fl.StringVar(&o.policyFile, "policy", "", "trust policy file (docs/POLICY.md); conflicts with --trust-root and --insecure-trust-any-root")
	fl.BoolVar(&o.insecurePlaintextWide, "insecure-plaintext-non-loopback", false, "UNSAFE: listen on a non-loopback address without TLS")
	fl.DurationVar(&o.statusMaxAge, "status-max-age", statushttp.DefaultMaxAge, "refetch a status list cached longer than this; unreachable then means DENY STATUS_UNAVAILABLE")
	fl.DurationVar(&o.statusTimeout, "status-timeout", statushttp.DefaultTimeout, "time limit of one status list fetch")
	fl.BoolVar(&o.requireStatus, "require-status", false, "deny credentials that carry no revocation entry")
	fl.StringArrayVar(&o.formats, "format", nil, "presentation format this verifier accepts: ldp, sd-jwt, bbs (repeatable; default ldp)")
	fl.Uint64Var(&o.checkpointEvery, "audit-checkpoint-every", audit.DefaultCheckpointEvery, "sign an audit checkpoint after this many records")
	fl.DurationVar(&o.checkpointInterval, "audit-checkpoint-interval", time.Minute, "also sign the audit log's head this often, and when the server stops (0: only by count)")
	fl.StringArrayVar(&o.intentCheckers, "intent-checker", nil, "intent checker asked for every request, NAME, NAME=JSON or NAME=@FILE (repeatable; cel, lexical, external)")
	fl.DurationVar(&o.intentTimeout, "intent-timeout", presentation.DefaultIntentTimeout, "time limit of one intent checker; no answer is a DENY INTENT_CHECK_FAILED")
	fl.StringVar(&o.intentOnError, "intent-on-error", "deny", "what a failed intent checker means: deny, or escalate (NEEDS_APPROVAL)")
	_ = v.MarkFlagRequired("data")
	_ = v.MarkFlagRequired("audience")
	cmd.AddCommand(v, newServeStatusCmd(io), newServeWalletCmd(io))
	return cmd
}

// checkListenAddr refuses a non-loopback address unless the unsafe flag is set.
func checkListenAddr(addr string, insecureWide bool) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("--addr: %w", err)
	}
	if ip := net.ParseIP(host); (ip == nil || !ip.IsLoopback()) && host != "localhost" && !insecureWide {
		return errors.New("--addr is not a loopback address; this server has no TLS yet, so this needs --insecure-plaintext-non-loopback")
	}
	return nil
}

// serveStatusOptions is `serve status`'s options.
type serveStatusOptions struct {
	addr                  string
	dir                   string
	path                  string
	insecurePlaintextWide bool
}

func newServeStatusCmd(io *streams) *cobra.Command {
	var o serveStatusOptions
	cmd := &cobra.Command{
		Use:   "status",
		Short: "Serve signed status lists from a directory over HTTP (GET with ETag and Cache-Control); holds no keys",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := checkListenAddr(o.addr, o.insecurePlaintextWide); err != nil {
				return err
			}
			h, err := statushttp.NewHandler(o.dir)
			if err != nil {
				return err
			}
			if o.path = "/" + strings.Trim(o.path, "/"); o.path != "/" {
				h = http.StripPrefix(o.path, h)
			}
			lis, err := net.Listen("tcp", o.addr)
			if err != nil {
				return err
			}
			srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second, ReadTimeout: 10 * time.Second,
				WriteTimeout: 10 * time.Second, IdleTimeout: time.Minute, MaxHeaderBytes: 16 << 10}
			go func() {
				<-cmd.Context().Done()
				_ = srv.Close()
			}()
			slog.New(slog.NewTextHandler(io.err, nil)).Info("status server listening", "addr", lis.Addr().String(), "dir", o.dir)
			if err := srv.Serve(lis); !errors.Is(err, http.ErrServerClosed) {
				return err
			}
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&o.addr, "addr", "127.0.0.1:8444", "listen address (loopback unless --insecure-plaintext-non-loopback)")
	fl.StringVar(&o.dir, "dir", "", "directory of signed lists, as written by `mandate status init --dir` (required)")
	fl.StringVar(&o.path, "path", "/", "URL path the lists are served under: the path of the issuer's --base-url (e.g. /lists)")
	fl.BoolVar(&o.insecurePlaintextWide, "insecure-plaintext-non-loopback", false, "UNSAFE: listen on a non-loopback address without TLS")
	_ = cmd.MarkFlagRequired("dir")
	return cmd
}

func (o *serveVerifierOptions) run(cmd *cobra.Command, io *streams) error {
	if err := checkListenAddr(o.addr, o.insecurePlaintextWide); err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(io.err, nil))
	db, err := badger.Open(badger.DefaultOptions(filepath.Join(o.data, "verifier")).WithLogger(nil).
		WithSyncWrites(true).WithMemTableSize(8 << 20).WithValueLogFileSize(16 << 20).WithBlockCacheSize(8 << 20))
	if err != nil {
		return fmt.Errorf("open data: %w", err)
	}
	defer db.Close()
	w, err := o.open()
	if err != nil {
		return fmt.Errorf("the verifier's own wallet (its DID signs the audit log): %w", err)
	}
	defer w.Close()
	trust, resolver, err := o.trustPolicy(cmd)
	if err != nil {
		return err
	}
	cv, err := credentials.NewVerifier(resolver)
	if err != nil {
		return err
	}
	fetcher := &statushttp.Fetcher{MaxAge: o.statusMaxAge, Timeout: o.statusTimeout, Verify: cv.VerifyStatusList}
	policy, closeCheckers, err := o.intentPolicy()
	if err != nil {
		return err
	}
	defer closeCheckers()
	v, err := presentation.New(presentation.Config{
		Audience: o.audience, Resolver: resolver, TrustedRoots: o.trustRoots, Policy: trust,
		InsecureTrustAnyRoot: o.insecureTrustAnyRoot, Store: db, Logger: log,
		Status: fetcher, RequireStatus: o.requireStatus, Signer: w, Intent: policy, Formats: o.formats,
		AuditCheckpointEvery: o.checkpointEvery,
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
	log.Info("verifier listening", "addr", lis.Addr().String(), "audience", o.audience, "did", w.DID(),
		"trusted_roots", len(o.trustRoots), "intent_checkers", len(policy.Checkers))
	ticking := signCheckpoints(cmd.Context(), v.AuditLog(), o.checkpointInterval, log)
	err = srv.Serve(lis)
	<-ticking
	// Serve returns once every call in flight has been answered and
	// recorded: sign the final head before the store closes.
	signCheckpoint(v.AuditLog(), log)
	return err
}

// signCheckpoints signs the audit log's head every interval until ctx
// ends, so that records after the last signed checkpoint, which verify
// cannot tell from rewritten ones, are at most interval old. The channel
// closes when it has stopped.
func signCheckpoints(ctx context.Context, l *audit.Log, interval time.Duration, log *slog.Logger) <-chan struct{} {
	done := make(chan struct{})
	go func() {
		defer close(done)
		if interval <= 0 {
			return
		}
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			select {
			case <-t.C:
				signCheckpoint(l, log)
			case <-ctx.Done():
				return
			}
		}
	}()
	return done
}

func signCheckpoint(l *audit.Log, log *slog.Logger) {
	if _, err := l.Checkpoint(); err != nil && !errors.Is(err, audit.ErrEmpty) {
		log.Error("audit checkpoint not signed", "err", err)
	}
}

// intentPolicy builds the intent stage from the flags.
func (o *serveVerifierOptions) intentPolicy() (presentation.IntentPolicy, func(), error) {
	p := presentation.IntentPolicy{Timeout: o.intentTimeout}
	switch o.intentOnError {
	case "deny":
	case "escalate":
		p.OnError = intent.Escalate
	default:
		return p, nil, fmt.Errorf("--intent-on-error %q: want deny or escalate", o.intentOnError)
	}
	checkers, closeAll, err := buildCheckers(o.intentCheckers)
	if err != nil {
		return p, nil, fmt.Errorf("--intent-checker: %w", err)
	}
	p.Checkers = checkers
	return p, closeAll, nil
}
