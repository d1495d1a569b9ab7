package holder

import (
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"time"
)

// MaxSocketPath bounds a socket path: sun_path holds 108 bytes on Linux,
// the last a NUL.
const MaxSocketPath = 107

// staleProbe bounds the dial that tells a live socket from a stale one. A
// live server on a local socket accepts at once; a stale file refuses at
// once. Only a server too busy to accept within this is taken as live.
const staleProbe = 2 * time.Second

// Listen listens on a Unix socket at path, with file mode 0600: the mode is
// the wallet service's only access control (anyone who can connect can have
// the wallet present). The parent directory is created with mode 0700 if
// it is missing. A path that exists and is not a socket is refused and left
// alone; a socket nobody answers on (left by a crashed server) is replaced;
// a socket a server answers on is refused. Closing the listener removes the
// socket file.
func Listen(path string) (net.Listener, error) {
	if len(path) > MaxSocketPath {
		return nil, fmt.Errorf("holder: socket path is %d bytes, limit %d", len(path), MaxSocketPath)
	}
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("holder: socket directory: %w", err)
	}
	if err := clearStale(path); err != nil {
		return nil, err
	}
	// bind(2) creates the socket file with mode 0777 &^ umask, and a chmod
	// after it leaves a window in which another user may connect. Setting
	// the umask would close it for the whole process (every goroutine's
	// files, not only ours). Instead the socket is bound inside a fresh
	// 0700 directory, which no one else can enter, made 0600 there, and
	// only then hard-linked to path: a link never replaces what is at path
	// (a server that started meanwhile keeps its socket), and the file
	// appears at path with its final mode.
	tmp, err := os.MkdirTemp(dir, ".s")
	if err != nil {
		return nil, fmt.Errorf("holder: socket: %w", err)
	}
	defer os.RemoveAll(tmp)
	bound := filepath.Join(tmp, "s")
	if len(bound) > MaxSocketPath {
		return nil, fmt.Errorf("holder: socket directory %s is too long for a socket path (%d bytes with the temporary name, limit %d)", dir, len(bound), MaxSocketPath)
	}
	l, err := net.ListenUnix("unix", &net.UnixAddr{Name: bound, Net: "unix"})
	if err != nil {
		return nil, fmt.Errorf("holder: listen: %w", err)
	}
	l.SetUnlinkOnClose(false) // the name to remove is path, not bound
	if err := os.Chmod(bound, 0o600); err != nil {
		l.Close()
		return nil, fmt.Errorf("holder: socket mode: %w", err)
	}
	if err := os.Link(bound, path); err != nil {
		l.Close()
		if errors.Is(err, fs.ErrExist) {
			return nil, fmt.Errorf("holder: %s appeared while listening: another wallet service started", path)
		}
		return nil, fmt.Errorf("holder: socket: %w", err)
	}
	fi, err := os.Lstat(path)
	if err != nil {
		l.Close()
		return nil, fmt.Errorf("holder: socket: %w", err)
	}
	return &listener{UnixListener: l, path: path, file: fi}, nil
}

// clearStale refuses a path that is not a socket or is a live one, and
// removes a stale socket.
func clearStale(path string) error {
	fi, err := os.Lstat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("holder: socket: %w", err)
	}
	if fi.Mode().Type() != fs.ModeSocket {
		return fmt.Errorf("holder: %s exists and is not a socket (%s); not replacing it", path, fi.Mode())
	}
	c, err := net.DialTimeout("unix", path, staleProbe)
	if err == nil {
		c.Close()
		return fmt.Errorf("holder: %s is in use: another wallet service answers on it", path)
	}
	if !errors.Is(err, syscall.ECONNREFUSED) {
		return fmt.Errorf("holder: %s: cannot tell whether it is in use: %w", path, err)
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("holder: remove stale socket: %w", err)
	}
	return nil
}

// listener removes its socket file on Close, if the file is still the one
// it made.
type listener struct {
	*net.UnixListener
	path string
	file fs.FileInfo
	once sync.Once
}

func (l *listener) Close() error {
	err := l.UnixListener.Close()
	l.once.Do(func() {
		if fi, statErr := os.Lstat(l.path); statErr == nil && os.SameFile(fi, l.file) {
			_ = os.Remove(l.path)
		}
	})
	return err
}
