//go:build linux

package external

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Plugin starts the checker program at path, an absolute path to a regular
// file that only its owner (this user or root) may write, whose SHA-256 is
// sha256hex. The file is opened once, hashed through the open descriptor,
// and that same descriptor is executed (/proc/self/fd/3): the bytes that
// run are the bytes that were checked, whatever happens to the path
// meanwhile. The plugin gets a socket path in SocketEnv, inside a private
// 0700 directory, and must listen there within the start timeout. It sees
// no other environment than the variables named by WithEnv.
func Plugin(path, sha256hex string, opts ...Option) (*Checker, error) {
	o, err := buildOptions(opts)
	if err != nil {
		return nil, err
	}
	want, err := parseDigest(sha256hex)
	if err != nil {
		return nil, err
	}
	f, err := openPlugin(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return nil, fmt.Errorf("external: plugin %s: %w", path, err)
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != want {
		return nil, fmt.Errorf("external: plugin %s: sha256 is %s, configured %s", path, got, want)
	}
	p, err := start(path, f, o)
	if err != nil {
		return nil, err
	}
	c, err := newChecker("passthrough:///"+p.sock, func(ctx context.Context, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, "unix", p.sock)
	}, o, p)
	if err != nil {
		p.stop()
		return nil, err
	}
	return c, nil
}

func parseDigest(s string) (string, error) {
	s = strings.ToLower(s)
	if b, err := hex.DecodeString(s); err != nil || len(b) != sha256.Size {
		return "", fmt.Errorf("external: sha256 %q is not 64 hex digits", s)
	}
	return s, nil
}

// openPlugin opens path and checks the file it opened, not the name.
func openPlugin(path string) (*os.File, error) {
	if !filepath.IsAbs(path) {
		return nil, fmt.Errorf("external: plugin path %q is not absolute", path)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("external: plugin: %w", err)
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("external: plugin: %w", err)
	}
	st, _ := fi.Sys().(*syscall.Stat_t)
	switch {
	case !fi.Mode().IsRegular():
		err = fmt.Errorf("external: plugin %s is not a regular file", path)
	case fi.Mode().Perm()&0o022 != 0:
		err = fmt.Errorf("external: plugin %s is writable by group or others (mode %s)", path, fi.Mode().Perm())
	case st == nil || (int(st.Uid) != os.Geteuid() && st.Uid != 0):
		err = fmt.Errorf("external: plugin %s is owned by neither this user nor root", path)
	}
	if err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

// process is a running plugin.
type process struct {
	path, dir, sock string
	cmd             *exec.Cmd
	done            chan struct{} // closed once the process is reaped
	stopOnce        sync.Once
	stopErr         error
}

func start(path string, f *os.File, o options) (*process, error) {
	dir, err := os.MkdirTemp("", "mandate-intent-")
	if err != nil {
		return nil, fmt.Errorf("external: plugin: %w", err)
	}
	p := &process{path: path, dir: dir, sock: filepath.Join(dir, "plugin.sock"), done: make(chan struct{})}
	if len(p.sock) > 100 { // sun_path holds 108 bytes
		os.RemoveAll(dir)
		return nil, fmt.Errorf("external: plugin socket path %s is too long; set TMPDIR to a shorter directory", p.sock)
	}
	env := []string{SocketEnv + "=" + p.sock}
	for _, name := range o.env {
		if name == "" || strings.ContainsAny(name, "=\x00") || name == SocketEnv {
			os.RemoveAll(dir)
			return nil, fmt.Errorf("external: %q cannot be passed to a plugin", name)
		}
		if v, ok := os.LookupEnv(name); ok {
			env = append(env, name+"="+v)
		}
	}
	p.cmd = &exec.Cmd{
		Path:        "/proc/self/fd/3", // the child's fd 3 is f
		Args:        append([]string{path}, o.args...),
		Env:         env,
		Dir:         dir,
		ExtraFiles:  []*os.File{f},
		Stderr:      &lineLog{log: o.log, plugin: path},
		WaitDelay:   time.Second,
		SysProcAttr: &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL},
	}
	if err := p.cmd.Start(); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("external: plugin %s: %w", path, err)
	}
	go func() {
		p.cmd.Wait()
		close(p.done)
	}()
	if err := p.awaitListening(o.startTimeout); err != nil {
		p.stop()
		return nil, err
	}
	o.log.Info("intent plugin started", "plugin", path, "pid", p.cmd.Process.Pid)
	return p, nil
}

// awaitListening polls the socket until it accepts, the plugin exits, or
// the start timeout passes.
func (p *process) awaitListening(timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		if c, err := net.DialTimeout("unix", p.sock, 100*time.Millisecond); err == nil {
			c.Close()
			return nil
		}
		select {
		case <-p.done:
			return fmt.Errorf("external: plugin %s exited before listening: %s", p.path, p.cmd.ProcessState)
		case <-time.After(10 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("external: plugin %s did not listen within %s", p.path, timeout)
		}
	}
}

// exited is nil while the plugin runs, and names how it ended after.
func (p *process) exited() error {
	select {
	case <-p.done:
		return fmt.Errorf("external: plugin %s exited: %s", p.path, p.cmd.ProcessState)
	default:
		return nil
	}
}

// exitedWithin waits up to d for the plugin to be reaped: a call that
// failed because the plugin died fails a little before its exit is seen.
func (p *process) exitedWithin(d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-p.done:
	case <-t.C:
	}
	return p.exited()
}

func (p *process) stop() error {
	p.stopOnce.Do(func() {
		p.cmd.Process.Kill()
		<-p.done
		p.stopErr = os.RemoveAll(p.dir)
	})
	return p.stopErr
}

// lineLog writes a plugin's stderr to the logger, a line at a time, each
// cut to MaxReasonBytes.
type lineLog struct {
	log    *slog.Logger
	plugin string
	buf    []byte
}

func (l *lineLog) Write(b []byte) (int, error) {
	n := len(b)
	for len(b) > 0 {
		i := bytes.IndexByte(b, '\n')
		if i < 0 {
			l.buf = append(l.buf, b[:min(len(b), MaxReasonBytes-len(l.buf))]...)
			break
		}
		line := append(l.buf, b[:min(i, MaxReasonBytes-len(l.buf))]...)
		l.log.Info("intent plugin output", "plugin", l.plugin, "line", string(line))
		l.buf, b = l.buf[:0], b[i+1:]
	}
	return n, nil
}
