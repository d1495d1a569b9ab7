package wallet

import (
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"

	badger "github.com/dgraph-io/badger/v4"

	"github.com/mandate-dev/mandate/credentials/status"
	"github.com/mandate-dev/mandate/internal/aries"
)

var (
	// ErrWrongPassphrase means the passphrase does not unlock the wallet; nothing was changed.
	ErrWrongPassphrase = errors.New("wallet: wrong passphrase")
	// ErrNotFound means there is no wallet, DID or chain by that name.
	ErrNotFound = errors.New("wallet: not found")
	// ErrExists means a wallet or a chain by that name already exists.
	ErrExists = errors.New("wallet: already exists")
	// ErrInUse means another process has the wallet open (badger locks its
	// directory): a running `mandate serve wallet` holds it for as long as
	// it serves.
	ErrInUse = errors.New("wallet: the wallet is open in another process (a running `mandate serve wallet`? stop it first)")
)

const (
	dbDir         = "db"
	kmsPrefix     = "kms/"
	maxPassphrase = 1024
)

// Option configures Create and Open.
type Option func(*options)

type options struct {
	log *slog.Logger
	kdf kdfParams
}

// WithLogger sets where the wallet logs: wallets and DIDs created (never a secret), and badger's
// warnings and errors. nil, the default, discards.
func WithLogger(log *slog.Logger) Option {
	return func(o *options) { o.log = log }
}

// WithKDFParams sets the Argon2id cost of a new wallet, for tests that cannot afford the default
// (3 passes, 64 MiB, 2 threads). Bounds: time 1..64, memory 64 KiB..1 GiB and at least 8 KiB per
// thread, threads 1..64. Open checks but does not use it: a wallet's cost is in its header.
func WithKDFParams(time, memoryKiB uint32, threads uint8) Option {
	return func(o *options) { o.kdf = kdfParams{Time: time, MemoryKiB: memoryKiB, Threads: threads} }
}

func collectOptions(opts []Option) (options, error) {
	o := options{kdf: defaultKDF}
	for _, opt := range opts {
		if opt != nil {
			opt(&o)
		}
	}
	if o.log == nil {
		o.log = slog.New(slog.DiscardHandler)
	}
	return o, o.kdf.check()
}

func checkPassphrase(p []byte) error {
	if len(p) == 0 {
		return errors.New("wallet: passphrase is empty")
	}
	if len(p) > maxPassphrase {
		return fmt.Errorf("wallet: passphrase is %d bytes, limit %d", len(p), maxPassphrase)
	}
	return nil
}

// Wallet is an agent's encrypted store of DID keys and credential chains. Its methods are safe
// for concurrent use. Only one process may have a wallet open at a time.
type Wallet struct {
	db      *badger.DB
	keys    *aries.KeyManager
	log     *slog.Logger
	primary *signer
	status  *status.Registry
	// logMu serialises Log: an append reads and moves the log head, and two
	// at once in one transaction each would conflict (badger.ErrConflict).
	logMu sync.Mutex

	closeOnce sync.Once
	closeErr  error
}

var _ Signer = (*Wallet)(nil)

// Create makes a new wallet in dir (created if missing) protected by passphrase, with a first
// did:key as its primary DID. It refuses a dir that already holds a wallet.
func Create(dir string, passphrase []byte, opts ...Option) (*Wallet, error) {
	o, err := collectOptions(opts)
	if err != nil {
		return nil, err
	}
	if err := checkPassphrase(passphrase); err != nil {
		return nil, err
	}
	salt := make([]byte, saltSize)
	if _, err := rand.Read(salt); err != nil {
		return nil, fmt.Errorf("wallet: salt: %w", err)
	}
	if err := prepareDir(dir); err != nil {
		return nil, err
	}
	kdf := kdfHeader{Name: kdfName, kdfParams: o.kdf, Salt: salt}
	key := deriveKey(passphrase, kdf)
	w, err := create(dir, kdf, key, o)
	if err != nil {
		// prepareDir made dir/db for this call alone, and without the header it cannot be
		// opened: drop it so that Create can be retried.
		_ = os.RemoveAll(filepath.Join(dir, dbDir))
		return nil, err
	}
	o.log.Info("wallet created", "dir", dir, "did", w.DID())
	return w, nil
}

// prepareDir makes dir and claims dir/db by creating it, which fails if any wallet, whole, half-made
// or being made by another process, is there.
func prepareDir(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("wallet: create %s: %w", dir, err)
	}
	if _, err := os.Lstat(filepath.Join(dir, headerFile)); err == nil {
		return fmt.Errorf("wallet: %s already holds a wallet: %w", dir, ErrExists)
	} else if !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("wallet: check %s: %w", dir, err)
	}
	err := os.Mkdir(filepath.Join(dir, dbDir), 0o700)
	if errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("wallet: %s holds a database but no %s (an interrupted Create?); remove it first: %w",
			dir, headerFile, ErrExists)
	}
	if err != nil {
		return fmt.Errorf("wallet: create %s: %w", dir, err)
	}
	return nil
}

// create opens a new DB, makes the primary DID and writes the header last, so that a wallet.json
// only ever exists next to a complete DB.
func create(dir string, kdf kdfHeader, key []byte, o options) (*Wallet, error) {
	w, err := openDB(dir, key, o)
	if err != nil {
		return nil, err
	}
	id, err := w.CreateDID()
	if err == nil {
		err = w.setPrimary(id)
	}
	if err == nil {
		err = writeHeader(dir, newHeader(kdf, key))
	}
	if err != nil {
		_ = w.Close()
		return nil, err
	}
	return w, nil
}

// Open unlocks the wallet in dir. A wrong passphrase gives ErrWrongPassphrase before the DB is
// opened, so nothing on disk changes; a dir without a wallet gives ErrNotFound.
//
// Deriving the key allocates the Argon2id memory (64 MiB by default), which the Go runtime hands
// back to the OS only slowly: measured, an idle process is +66 MiB VmRSS right after Open and
// +2.3 MiB once debug.FreeOSMemory has run. A long-running process that cares may call it.
func Open(dir string, passphrase []byte, opts ...Option) (*Wallet, error) {
	o, err := collectOptions(opts)
	if err != nil {
		return nil, err
	}
	if err := checkPassphrase(passphrase); err != nil {
		return nil, err
	}
	h, err := readHeader(dir)
	if err != nil {
		return nil, err
	}
	key, err := h.unlock(passphrase)
	if err != nil {
		return nil, err
	}
	// Badger would make an empty DB where one is missing; a wallet with a header but no DB is
	// damaged, not new.
	if _, err := os.Stat(filepath.Join(dir, dbDir, "MANIFEST")); err != nil {
		return nil, fmt.Errorf("wallet: database of %s is missing or damaged: %w", dir, err)
	}
	w, err := openDB(dir, key, o)
	if err != nil {
		return nil, err
	}
	if err := w.loadPrimary(); err != nil {
		_ = w.Close()
		return nil, err
	}
	return w, nil
}

func openDB(dir string, key []byte, o options) (*Wallet, error) {
	db, err := badger.Open(dbOptions(filepath.Join(dir, dbDir), key, o.log))
	if err != nil && strings.Contains(err.Error(), "Cannot acquire directory lock") {
		// badger formats its lock error with %v: there is nothing to match but the text.
		return nil, fmt.Errorf("%w: %v", ErrInUse, err)
	}
	if err != nil {
		return nil, fmt.Errorf("wallet: open database: %w", err)
	}
	keys, err := aries.NewKeyManager(db, kmsPrefix)
	if err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("wallet: open key manager: %w", err)
	}
	return &Wallet{db: db, keys: keys, log: o.log, status: status.NewRegistry(db, nil, nil)}, nil
}

// Close closes the wallet; its DID and public key stay readable, everything else fails after.
func (w *Wallet) Close() error {
	w.closeOnce.Do(func() {
		kerr := w.keys.Close()
		derr := w.db.Close()
		if err := errors.Join(kerr, derr); err != nil {
			w.closeErr = fmt.Errorf("wallet: close: %w", err)
		}
	})
	return w.closeErr
}

// DID returns the wallet's primary did:key.
func (w *Wallet) DID() string { return w.primary.DID() }

// VerificationMethod returns the primary key's verification method, "<did>#<fragment>".
func (w *Wallet) VerificationMethod() string { return w.primary.VerificationMethod() }

// PublicKey returns the primary Ed25519 public key.
func (w *Wallet) PublicKey() ed25519.PublicKey { return w.primary.PublicKey() }

// Sign signs msg with the primary key (Ed25519, through the KMS).
func (w *Wallet) Sign(msg []byte) ([]byte, error) { return w.primary.Sign(msg) }
