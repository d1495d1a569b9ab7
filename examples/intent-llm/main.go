// Command intent-llm is an external intent checker for Mandate that asks an
// OpenAI-compatible chat-completions endpoint for a verdict. It runs as a
// plugin started by the verifier (the socket comes in
// MANDATE_INTENT_PLUGIN_SOCKET) or, with --listen, on a unix socket of its
// own. See README.md.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/mandate-dev/mandate/examples/intent-llm/llm"
	"github.com/mandate-dev/mandate/intent/external"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "intent-llm:", err)
		os.Exit(1)
	}
}

type options struct {
	endpoint, model, apiKeyEnv, listen string
	timeout                            time.Duration
	verbose                            bool
}

func run(ctx context.Context, args []string, stderr io.Writer) error {
	var o options
	fl := flag.NewFlagSet("intent-llm", flag.ContinueOnError)
	fl.SetOutput(stderr)
	fl.StringVar(&o.endpoint, "endpoint", "", "base URL of an OpenAI-compatible API, e.g. http://127.0.0.1:8080/v1 (https, or http to loopback)")
	fl.StringVar(&o.model, "model", "", "model name sent with each request")
	fl.DurationVar(&o.timeout, "timeout", llm.DefaultTimeout, fmt.Sprintf("time-out of one question (at most %s)", llm.MaxTimeout))
	fl.StringVar(&o.apiKeyEnv, "api-key-env", "", "name of an environment variable holding a bearer key (optional)")
	fl.StringVar(&o.listen, "listen", "", "unix:///absolute/path to listen on (default: plugin mode, socket from "+external.SocketEnv+")")
	fl.BoolVar(&o.verbose, "v", false, "log each verdict")
	if err := fl.Parse(args); err != nil {
		return err
	}
	if fl.NArg() != 0 {
		return fmt.Errorf("unexpected arguments %q", fl.Args())
	}
	level := slog.LevelInfo
	if o.verbose {
		level = slog.LevelDebug
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	cfg := llm.Config{Endpoint: o.endpoint, Model: o.model, Timeout: o.timeout, Logger: log}
	if o.apiKeyEnv != "" {
		if cfg.APIKey = os.Getenv(o.apiKeyEnv); cfg.APIKey == "" {
			return fmt.Errorf("--api-key-env: $%s is empty or unset", o.apiKeyEnv)
		}
	}
	c, err := llm.New(cfg)
	if err != nil {
		return err
	}
	log.Info("intent-llm serving", "endpoint", o.endpoint, "model", o.model, "timeout", o.timeout, "key", o.apiKeyEnv != "")
	if o.listen == "" {
		return external.Serve(ctx, c)
	}
	lis, err := listen(o.listen)
	if err != nil {
		return err
	}
	return external.ServeListener(ctx, lis, c)
}

// listen opens a unix socket (mode 0600) at unix:///absolute/path.
func listen(address string) (net.Listener, error) {
	path, ok := strings.CutPrefix(address, "unix://")
	if !ok || !filepath.IsAbs(path) {
		return nil, errors.New("--listen: want unix:///absolute/path")
	}
	lis, err := net.Listen("unix", path)
	if err != nil {
		return nil, fmt.Errorf("--listen: %w", err)
	}
	if err := os.Chmod(path, 0o600); err != nil {
		lis.Close()
		return nil, fmt.Errorf("--listen: %w", err)
	}
	return lis, nil
}
