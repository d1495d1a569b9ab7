// Package wallet is an agent's wallet: its did:key identities, their Ed25519 keys, and the
// Power-of-Attorney credential chains it has been given, in one encrypted directory.
//
// On disk a wallet is
//
//	dir/wallet.json   plain header: format version, Argon2id parameters and salt, and a key
//	                  check value, HMAC-SHA256(key, "mandate-wallet-check")
//	dir/db/           a badger v4 database, AES-256 encrypted with the Argon2id-derived key
//
// The check value lets Open reject a wrong passphrase (ErrWrongPassphrase) without touching the
// database. Keys live in aries' local KMS inside the same database (under "kms/"), so the private
// keys are encrypted at rest by the database encryption; signing goes through aries' tinkcrypto.
// Writes are synced before they are reported: a chain PutChain has stored survives a kill -9.
//
// A chain is opaque JSON to the wallet (root credential to leaf), stored under the leaf credential's
// id and never overwritten. Only one process may open a wallet at a time.
package wallet
