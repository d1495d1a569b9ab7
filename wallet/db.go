package wallet

import (
	"fmt"
	"log/slog"
	"strings"

	badger "github.com/dgraph-io/badger/v4"
)

// dbOptions tunes badger for a wallet: a few keys, a few credential chains, idle most of the time,
// and every reported write durable.
//
// Measured on linux/amd64, Go 1.26, ext4: a new process opens a freshly created encrypted DB
// holding one KMS key and one chain, then idles 30 s.
//
//	                      VmRSS growth   Go heap in use   disk while open         disk closed
//	these options         +2.0-2.3 MiB   +3.5 MiB         36 KiB (21 MiB ls)      24 KiB (1 MiB ls)
//	badger defaults (*)   +2.1-2.5 MiB   +86 MiB          36 KiB (2.1 GiB ls)     24 KiB (1 MiB ls)
//
// (*) DefaultOptions plus the encryption key and the index cache that encryption requires (100 MiB,
// badger's documented example; without one badger panics on the first table). The defaults' RSS
// looks as small only while idle: their heap holds a 64 MiB memtable arena (up to 5 of them) that
// writes then touch; ours are 2 MiB (2 of them). Badger preallocates the memtable WAL at
// 2×MemTableSize and the value log at 2×ValueLogFileSize as sparse files, hence the "ls" sizes
// (du shows the allocated ones); the 1 MiB closed is the sparse DISCARD stats file.
// Open's Argon2id derivation costs far more than badger: see Open.
func dbOptions(dir string, key []byte, log *slog.Logger) badger.Options {
	return badger.DefaultOptions(dir).
		// AES-256 with the Argon2id-derived key; badger needs both caches when encrypting, and
		// the index cache keeps decrypted table indexes bounded instead of all in memory.
		WithEncryptionKey(key).
		WithBlockCacheSize(1 << 20).
		WithIndexCacheSize(1 << 20).
		// Every commit is fsynced before it returns: a write reported stored survives kill -9
		// (which the mmapped WAL alone would) and also a power cut or kernel crash.
		WithSyncWrites(true).
		// Small memtables and tables: a wallet holds kilobytes to a few megabytes.
		WithMemTableSize(2 << 20).
		WithNumMemtables(2).
		WithBaseTableSize(512 << 10).
		WithBaseLevelSize(2 << 20).
		WithNumLevelZeroTables(2).
		WithNumLevelZeroTablesStall(4).
		// Values over 64 KiB (large chains) go to the value log; the threshold must stay under 15%
		// of the memtable, and a file must hold a MaxChainSize chain.
		WithValueThreshold(64 << 10).
		WithValueLogFileSize(8 << 20).
		// Two compactors is badger's minimum short of disabling compaction.
		WithNumCompactors(2).
		WithNumGoroutines(1).
		WithMetricsEnabled(false).
		WithLoggingLevel(badger.WARNING).
		WithLogger(badgerLogger{log})
}

// badgerLogger routes badger's warnings and errors to slog and drops its chatter.
type badgerLogger struct{ log *slog.Logger }

func (l badgerLogger) Errorf(format string, args ...any) {
	l.log.Error(badgerMessage(format, args), "component", "badger")
}

func (l badgerLogger) Warningf(format string, args ...any) {
	l.log.Warn(badgerMessage(format, args), "component", "badger")
}

func (badgerLogger) Infof(string, ...any)  {}
func (badgerLogger) Debugf(string, ...any) {}

func badgerMessage(format string, args []any) string {
	return strings.TrimSpace(fmt.Sprintf(format, args...))
}
