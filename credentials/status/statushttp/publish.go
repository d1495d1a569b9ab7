package statushttp

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// MaxListCredentialBytes bounds a status list credential, published or
// fetched. A list of status.MaxBits bits compresses to far less when few bits
// are set; 256 KiB leaves room for the proof and the envelope.
const MaxListCredentialBytes = 256 << 10

// maxNameLen is the longest list name: ^[a-z0-9][a-z0-9-]{0,63}$.
const maxNameLen = 64

// validName reports whether name matches ^[a-z0-9][a-z0-9-]{0,63}$. The
// pattern leaves no room for a separator, a dot or an escape, so a valid name
// cannot leave the directory or name anything but a {name}.json file.
func validName(name string) bool {
	if len(name) == 0 || len(name) > maxNameLen || name[0] == '-' {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if (c < 'a' || c > 'z') && (c < '0' || c > '9') && c != '-' {
			return false
		}
	}
	return true
}

// WriteFile publishes data as dir/{name}.json, durably and atomically: the
// bytes go to a temporary file in dir, which is synced and renamed over the
// old file, and then dir itself is synced. A reader (or the handler) sees the
// old list or the new one, never a mix, and after a crash the rename has
// either happened completely or not at all. The file is world-readable: a
// status list is public. data is not checked to be a credential; the caller
// signs it first.
func WriteFile(dir, name string, data []byte) error {
	if !validName(name) {
		return fmt.Errorf("statushttp: invalid list name %q: want ^[a-z0-9][a-z0-9-]{0,63}$", name)
	}
	if len(data) == 0 {
		return errors.New("statushttp: empty status list credential")
	}
	if len(data) > MaxListCredentialBytes {
		return fmt.Errorf("statushttp: status list credential of %d bytes exceeds %d", len(data), MaxListCredentialBytes)
	}
	// The temporary name starts with a dot, so it never matches validName.
	tmp, err := os.CreateTemp(dir, "."+name+".json.tmp-*")
	if err != nil {
		return fmt.Errorf("statushttp: publish %s: %w", name, err)
	}
	if err := writeSynced(tmp, data); err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("statushttp: publish %s: %w", name, err)
	}
	if err := os.Rename(tmp.Name(), filepath.Join(dir, name+".json")); err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("statushttp: publish %s: %w", name, err)
	}
	if err := syncDir(dir); err != nil {
		return fmt.Errorf("statushttp: publish %s: sync directory: %w", name, err)
	}
	return nil
}

// writeSynced writes data to f, makes it world-readable, flushes it to stable
// storage and closes f.
func writeSynced(f *os.File, data []byte) error {
	_, err := f.Write(data)
	if err == nil {
		err = f.Chmod(0o644)
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// syncDir flushes dir's entries, so that the rename survives a crash.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}
