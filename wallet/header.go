package wallet

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"golang.org/x/crypto/argon2"
)

const (
	headerFile    = "wallet.json"
	headerFormat  = "mandate-wallet"
	headerVersion = 1
	maxHeaderSize = 4 << 10

	kdfName   = "argon2id"
	saltSize  = 16
	keySize   = 32 // AES-256 for badger
	checkText = "mandate-wallet-check"
)

// KDF bounds. The lower ones keep a test-only setting from being absurd; the upper ones stop a
// tampered header from making Open burn unbounded time or memory before the passphrase is checked.
const (
	minKDFTime      = 1
	maxKDFTime      = 64
	minKDFMemoryKiB = 64
	maxKDFMemoryKiB = 1 << 20 // 1 GiB
	minKDFThreads   = 1
	maxKDFThreads   = 64
)

// Default Argon2id cost: 3 passes over 64 MiB with 2 lanes (about 0.1 s on a laptop core).
var defaultKDF = kdfParams{Time: 3, MemoryKiB: 64 << 10, Threads: 2}

type kdfParams struct {
	Time      uint32 `json:"time"`
	MemoryKiB uint32 `json:"memoryKiB"`
	Threads   uint8  `json:"threads"`
}

func (p kdfParams) check() error {
	switch {
	case p.Time < minKDFTime || p.Time > maxKDFTime:
		return fmt.Errorf("wallet: kdf time %d outside [%d, %d]", p.Time, minKDFTime, maxKDFTime)
	case p.Threads < minKDFThreads || p.Threads > maxKDFThreads:
		return fmt.Errorf("wallet: kdf threads %d outside [%d, %d]", p.Threads, minKDFThreads, maxKDFThreads)
	case p.MemoryKiB < minKDFMemoryKiB || p.MemoryKiB > maxKDFMemoryKiB:
		return fmt.Errorf("wallet: kdf memory %d KiB outside [%d, %d]", p.MemoryKiB, minKDFMemoryKiB, maxKDFMemoryKiB)
	case p.MemoryKiB < 8*uint32(p.Threads):
		return fmt.Errorf("wallet: kdf memory %d KiB is below 8 KiB per thread (%d threads)", p.MemoryKiB, p.Threads)
	}
	return nil
}

// header is dir/wallet.json: everything needed to turn the passphrase into the DB key, and a check
// value that tells a wrong passphrase apart before badger is touched. None of it is secret.
type header struct {
	Format  string    `json:"format"`
	Version int       `json:"version"`
	KDF     kdfHeader `json:"kdf"`
	Check   []byte    `json:"check"` // HMAC-SHA256(key, checkText)
}

type kdfHeader struct {
	Name string `json:"name"`
	kdfParams
	Salt []byte `json:"salt"`
}

func newHeader(kdf kdfHeader, key []byte) header {
	return header{Format: headerFormat, Version: headerVersion, KDF: kdf, Check: checkValue(key)}
}

func (h header) check() error {
	switch {
	case h.Format != headerFormat:
		return fmt.Errorf("wallet: header format %q, want %q", h.Format, headerFormat)
	case h.Version != headerVersion:
		return fmt.Errorf("wallet: header version %d is not supported (want %d)", h.Version, headerVersion)
	case h.KDF.Name != kdfName:
		return fmt.Errorf("wallet: kdf %q is not supported (want %q)", h.KDF.Name, kdfName)
	case len(h.KDF.Salt) != saltSize:
		return fmt.Errorf("wallet: kdf salt is %d bytes, want %d", len(h.KDF.Salt), saltSize)
	case len(h.Check) != sha256.Size:
		return fmt.Errorf("wallet: key check value is %d bytes, want %d", len(h.Check), sha256.Size)
	}
	return h.KDF.check()
}

func deriveKey(passphrase []byte, k kdfHeader) []byte {
	return argon2.IDKey(passphrase, k.Salt, k.Time, k.MemoryKiB, k.Threads, keySize)
}

func checkValue(key []byte) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(checkText))
	return m.Sum(nil)
}

// unlock derives the DB key from passphrase, or returns ErrWrongPassphrase.
func (h header) unlock(passphrase []byte) ([]byte, error) {
	key := deriveKey(passphrase, h.KDF)
	if !hmac.Equal(checkValue(key), h.Check) {
		return nil, ErrWrongPassphrase
	}
	return key, nil
}

func readHeader(dir string) (header, error) {
	var h header
	f, err := os.Open(filepath.Join(dir, headerFile))
	if errors.Is(err, fs.ErrNotExist) {
		return h, fmt.Errorf("wallet: no wallet in %s: %w", dir, ErrNotFound)
	}
	if err != nil {
		return h, fmt.Errorf("wallet: open header: %w", err)
	}
	defer f.Close()
	raw, err := io.ReadAll(io.LimitReader(f, maxHeaderSize+1))
	if err != nil {
		return h, fmt.Errorf("wallet: read header: %w", err)
	}
	if len(raw) > maxHeaderSize {
		return h, fmt.Errorf("wallet: header is larger than %d bytes", maxHeaderSize)
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&h); err != nil {
		return h, fmt.Errorf("wallet: parse header: %w", err)
	}
	if dec.More() {
		return h, errors.New("wallet: parse header: data after the JSON object")
	}
	return h, h.check()
}

// writeHeader replaces dir/wallet.json atomically: a crash leaves the old file or the new one.
func writeHeader(dir string, h header) error {
	raw, err := json.MarshalIndent(h, "", "  ")
	if err != nil {
		return fmt.Errorf("wallet: encode header: %w", err)
	}
	tmp, err := os.CreateTemp(dir, ".wallet.json-*")
	if err != nil {
		return fmt.Errorf("wallet: write header: %w", err)
	}
	defer os.Remove(tmp.Name()) // fails harmlessly once renamed
	if err := writeSynced(tmp, append(raw, '\n')); err != nil {
		return fmt.Errorf("wallet: write header: %w", err)
	}
	if err := os.Rename(tmp.Name(), filepath.Join(dir, headerFile)); err != nil {
		return fmt.Errorf("wallet: write header: %w", err)
	}
	return syncDir(dir)
}

func writeSynced(f *os.File, data []byte) error {
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// syncDir makes a rename in dir durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("wallet: sync %s: %w", dir, err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("wallet: sync %s: %w", dir, err)
	}
	return nil
}
