package load

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	"github.com/mandate-dev/mandate/wallet"
)

// Audience is the audience of the verifier StartServer runs.
const Audience = "https://bench.mandate.invalid"

// startTimeout bounds how long the verifier process may take to listen and
// report healthy.
const startTimeout = 30 * time.Second

// ServerConfig is a verifier process to run for a load.
type ServerConfig struct {
	// Executable is the mandate binary; it is run as `serve verifier`.
	Executable string
	// Dir holds the verifier's data and wallet; it must exist and be empty
	// or new. The caller removes it.
	Dir string
	// TrustRoot is the one principal DID the verifier trusts.
	TrustRoot string
	// Logger receives the verifier's stderr at debug level (nil: discard).
	Logger *slog.Logger
}

// Server is a running `mandate serve verifier` process on 127.0.0.1.
type Server struct {
	Addr string
	PID  int
	DID  string // the verifier's own DID (it signs the audit log)

	cmd     *exec.Cmd
	exited  chan struct{}
	drained chan struct{} // closed when stderr has been read to its end
	mu      sync.Mutex
	tail    []string // the process's last lines of stderr, for errors
}

var listeningAddr = regexp.MustCompile(`msg="verifier listening" addr=(\S+)`)

// StartServer creates the verifier's wallet in cfg.Dir, starts the verifier
// on 127.0.0.1 with a port of the system's choosing, and returns once it
// answers gRPC health checks. Stop it with Stop.
func StartServer(ctx context.Context, cfg ServerConfig) (*Server, error) {
	if cfg.Executable == "" || cfg.Dir == "" || cfg.TrustRoot == "" {
		return nil, errors.New("load: server: executable, directory and trust root are all required")
	}
	pass := []byte("load test verifier: a throwaway wallet")
	passFile := filepath.Join(cfg.Dir, "passphrase")
	if err := os.WriteFile(passFile, pass, 0o600); err != nil {
		return nil, fmt.Errorf("load: server: %w", err)
	}
	// A cheap KDF: the default Argon2id pass takes 64 MiB, which the
	// verifier's peak memory would otherwise show instead of the load's.
	w, err := wallet.Create(filepath.Join(cfg.Dir, "verifier-id"), pass, wallet.WithKDFParams(1, 1<<10, 1))
	if err != nil {
		return nil, fmt.Errorf("load: server: wallet: %w", err)
	}
	id := w.DID()
	if err := w.Close(); err != nil {
		return nil, fmt.Errorf("load: server: wallet: %w", err)
	}
	cmd := exec.Command(cfg.Executable, "serve", "verifier", "--addr", "127.0.0.1:0",
		"--data", filepath.Join(cfg.Dir, "data"), "--audience", Audience, "--trust-root", cfg.TrustRoot,
		"--wallet", filepath.Join(cfg.Dir, "verifier-id"), "--passphrase-file", passFile)
	cmd.Stdout = io.Discard
	// An io.Pipe rather than StderrPipe: Wait then returns only after every
	// line was handed to the reader, so the last lines are never lost.
	pr, pw := io.Pipe()
	cmd.Stderr = pw
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("load: server: start %s: %w", cfg.Executable, err)
	}
	s := &Server{PID: cmd.Process.Pid, DID: id, cmd: cmd, exited: make(chan struct{}), drained: make(chan struct{})}
	addr := make(chan string, 1)
	go s.readStderr(pr, addr, cfg.Logger)
	go func() {
		_ = cmd.Wait()
		pw.Close()
		close(s.exited)
	}()
	if err := s.await(ctx, addr); err != nil {
		s.Stop()
		return nil, err
	}
	return s, nil
}

// readStderr drains the process's log (it writes a line per decision),
// finds the address it listens on, and keeps the last lines.
func (s *Server) readStderr(r io.Reader, addr chan<- string, log *slog.Logger) {
	defer close(s.drained)
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	found := false
	for sc.Scan() {
		line := sc.Text()
		if !found {
			if m := listeningAddr.FindStringSubmatch(line); m != nil {
				found = true
				addr <- m[1]
			}
		}
		if log != nil {
			log.Debug("verifier", "line", line)
		}
		s.mu.Lock()
		s.tail = append(s.tail, line)
		if len(s.tail) > 5 {
			s.tail = s.tail[1:]
		}
		s.mu.Unlock()
	}
	_, _ = io.Copy(io.Discard, r) // a line over the buffer ends Scan: keep draining
}

func (s *Server) lastLines() string {
	<-s.drained
	s.mu.Lock()
	defer s.mu.Unlock()
	return strings.Join(s.tail, "\n")
}

func (s *Server) await(ctx context.Context, addr <-chan string) error {
	ctx, cancel := context.WithTimeout(ctx, startTimeout)
	defer cancel()
	select {
	case a := <-addr:
		if err := CheckLoopback(a); err != nil {
			return err
		}
		s.Addr = a
	case <-s.exited:
		return fmt.Errorf("load: server exited before listening: %s", s.lastLines())
	case <-ctx.Done():
		return fmt.Errorf("load: server did not listen within %s", startTimeout)
	}
	conn, err := grpc.NewClient(s.Addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		return fmt.Errorf("load: server: %w", err)
	}
	defer conn.Close()
	health := healthpb.NewHealthClient(conn)
	for {
		r, err := health.Check(ctx, &healthpb.HealthCheckRequest{})
		if err == nil && r.GetStatus() == healthpb.HealthCheckResponse_SERVING {
			return nil
		}
		select {
		case <-s.exited:
			return fmt.Errorf("load: server exited before serving: %s", s.lastLines())
		case <-ctx.Done():
			return fmt.Errorf("load: server not healthy within %s", startTimeout)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// Stop asks the verifier to finish (SIGTERM: a graceful stop that closes its
// store), and kills it if it has not exited within ten seconds.
func (s *Server) Stop() error {
	select {
	case <-s.exited:
		return nil
	default:
	}
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.exited:
		return nil
	case <-time.After(10 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.exited
		return errors.New("load: server did not stop within 10s and was killed")
	}
}
