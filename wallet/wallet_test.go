package wallet_test

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/mandate-dev/mandate/did"
	"github.com/mandate-dev/mandate/wallet"
)

var passphrase = []byte("correct horse battery staple")

// fastKDF keeps Argon2id cheap in tests; the default costs 64 MiB per derivation.
var fastKDF = wallet.WithKDFParams(1, 64, 1)

func create(t *testing.T, dir string) *wallet.Wallet {
	t.Helper()
	w, err := wallet.Create(dir, passphrase, fastKDF)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = w.Close() })
	return w
}

func open(t *testing.T, dir string) *wallet.Wallet {
	t.Helper()
	w, err := wallet.Open(dir, passphrase)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = w.Close() })
	return w
}

func mustClose(t *testing.T, w *wallet.Wallet) {
	t.Helper()
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
}

// hashDir maps every file under dir to the SHA-256 of its bytes.
func hashDir(t *testing.T, dir string) map[string][32]byte {
	t.Helper()
	sums := map[string][32]byte{}
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		sums[path] = sha256.Sum256(b)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return sums
}

func TestCreateOpenRoundTrip(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "w")
	w := create(t, dir)
	primary, vm, pub := w.DID(), w.VerificationMethod(), w.PublicKey()
	if !strings.HasPrefix(primary, "did:key:z6Mk") || vm != primary+"#"+strings.TrimPrefix(primary, "did:key:") {
		t.Fatalf("DID %q, verification method %q", primary, vm)
	}
	second, err := w.CreateDID()
	if err != nil {
		t.Fatal(err)
	}
	if err := w.PutChain("urn:uuid:leaf", []byte(`[{"id":"urn:uuid:leaf"}]`)); err != nil {
		t.Fatal(err)
	}
	mustClose(t, w)

	w = open(t, dir)
	if w.DID() != primary || w.VerificationMethod() != vm || !w.PublicKey().Equal(pub) {
		t.Fatalf("reopened wallet is %s / %s / %x", w.DID(), w.VerificationMethod(), w.PublicKey())
	}
	dids, err := w.DIDs()
	if want := slices.Sorted(slices.Values([]string{primary, second})); err != nil || !slices.Equal(dids, want) {
		t.Fatalf("DIDs = %q, %v; want %q", dids, err, want)
	}
	chain, err := w.Chain("urn:uuid:leaf")
	if err != nil || string(chain) != `[{"id":"urn:uuid:leaf"}]` {
		t.Fatalf("Chain = %q, %v", chain, err)
	}
	sig, err := w.Sign([]byte("m"))
	if err != nil || !ed25519.Verify(pub, []byte("m"), sig) {
		t.Fatalf("Sign after reopen: %v", err)
	}
}

func TestOpenWrongPassphraseChangesNothing(t *testing.T) {
	dir := t.TempDir()
	w := create(t, dir)
	if err := w.PutChain("c", []byte(`{}`)); err != nil {
		t.Fatal(err)
	}
	mustClose(t, w)
	before := hashDir(t, dir)
	for _, p := range []string{"Correct horse battery staple", "x"} {
		if _, err := wallet.Open(dir, []byte(p)); !errors.Is(err, wallet.ErrWrongPassphrase) {
			t.Fatalf("Open(%q) = %v, want ErrWrongPassphrase", p, err)
		}
	}
	after := hashDir(t, dir)
	if !maps.Equal(before, after) {
		t.Fatalf("a wrong passphrase changed the directory:\nbefore %v\nafter  %v", before, after)
	}
	open(t, dir)
}

func TestOpenNotFound(t *testing.T) {
	for _, dir := range []string{t.TempDir(), filepath.Join(t.TempDir(), "missing")} {
		if _, err := wallet.Open(dir, passphrase); !errors.Is(err, wallet.ErrNotFound) {
			t.Errorf("Open(%s) = %v, want ErrNotFound", dir, err)
		}
	}
}

func TestOpenMissingDatabase(t *testing.T) {
	dir := t.TempDir()
	mustClose(t, create(t, dir))
	if err := os.RemoveAll(filepath.Join(dir, "db")); err != nil {
		t.Fatal(err)
	}
	_, err := wallet.Open(dir, passphrase)
	if err == nil || !strings.HasPrefix(err.Error(), "wallet: database of "+dir+" is missing or damaged") {
		t.Fatalf("err = %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "db")); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("Open recreated the database: %v", err)
	}
}

func TestCreateRefusesExisting(t *testing.T) {
	dir := t.TempDir()
	w := create(t, dir)
	primary := w.DID()
	mustClose(t, w)
	if _, err := wallet.Create(dir, []byte("other"), fastKDF); !errors.Is(err, wallet.ErrExists) {
		t.Fatalf("Create over a wallet = %v, want ErrExists", err)
	}
	if got := open(t, dir).DID(); got != primary {
		t.Fatalf("refused Create changed the wallet: %s", got)
	}

	// A database without a header is an interrupted Create: refused, and left alone.
	half := t.TempDir()
	if err := os.Mkdir(filepath.Join(half, "db"), 0o700); err != nil {
		t.Fatal(err)
	}
	if _, err := wallet.Create(half, passphrase, fastKDF); !errors.Is(err, wallet.ErrExists) {
		t.Fatalf("Create over a half-made wallet = %v, want ErrExists", err)
	}
	if _, err := os.Stat(filepath.Join(half, "db")); err != nil {
		t.Fatalf("refused Create removed the database: %v", err)
	}
}

func TestOpenTwiceRefused(t *testing.T) {
	dir := t.TempDir()
	w := create(t, dir)
	_, err := wallet.Open(dir, passphrase)
	if !errors.Is(err, wallet.ErrInUse) || !strings.HasPrefix(err.Error(), "wallet: the wallet is open in another process (a running `mandate serve wallet`? stop it first): Cannot acquire directory lock") {
		t.Fatalf("second Open = %v, want a lock error", err)
	}
	mustClose(t, w)
	open(t, dir)
}

func TestOptionsAndPassphraseRefused(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name string
		pass []byte
		opt  wallet.Option
		want string
	}{
		{"empty passphrase", nil, fastKDF, "wallet: passphrase is empty"},
		{"long passphrase", bytes.Repeat([]byte("p"), 1025), fastKDF, "wallet: passphrase is 1025 bytes, limit 1024"},
		{"zero time", passphrase, wallet.WithKDFParams(0, 64, 1), "wallet: kdf time 0 outside [1, 64]"},
		{"zero threads", passphrase, wallet.WithKDFParams(1, 64, 0), "wallet: kdf threads 0 outside [1, 64]"},
		{"tiny memory", passphrase, wallet.WithKDFParams(1, 8, 1), "wallet: kdf memory 8 KiB outside [64, 1048576]"},
		{"huge memory", passphrase, wallet.WithKDFParams(1, 2<<20, 1), "wallet: kdf memory 2097152 KiB outside [64, 1048576]"},
		{"memory per thread", passphrase, wallet.WithKDFParams(1, 64, 16), "wallet: kdf memory 64 KiB is below 8 KiB per thread (16 threads)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := wallet.Create(dir, tt.pass, tt.opt)
			if err == nil || err.Error() != tt.want {
				t.Fatalf("err = %v, want %q", err, tt.want)
			}
		})
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Fatalf("refused Create left %d entries", len(entries))
	}
	if _, err := wallet.Open(dir, nil); err == nil || err.Error() != "wallet: passphrase is empty" {
		t.Fatalf("Open with empty passphrase: %v", err)
	}
}

func TestDamagedHeaderRefused(t *testing.T) {
	dir := t.TempDir()
	mustClose(t, create(t, dir))
	path := filepath.Join(dir, "wallet.json")
	orig, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	edit := func(f func(h map[string]any)) []byte {
		var h map[string]any
		if err := json.Unmarshal(orig, &h); err != nil {
			t.Fatal(err)
		}
		f(h)
		b, _ := json.Marshal(h)
		return b
	}
	kdf := func(h map[string]any) map[string]any { return h["kdf"].(map[string]any) }
	tests := []struct {
		name   string
		header []byte
		want   string
	}{
		{"not json", []byte("{"), "wallet: parse header: unexpected EOF"},
		{"trailing data", append(slices.Clone(orig), []byte(" {}")...), "wallet: parse header: data after the JSON object"},
		{"unknown field", edit(func(h map[string]any) { h["extra"] = 1 }), `wallet: parse header: json: unknown field "extra"`},
		{"version", edit(func(h map[string]any) { h["version"] = 2 }), "wallet: header version 2 is not supported (want 1)"},
		{"kdf", edit(func(h map[string]any) { kdf(h)["name"] = "scrypt" }), `wallet: kdf "scrypt" is not supported (want "argon2id")`},
		{"salt", edit(func(h map[string]any) { kdf(h)["salt"] = "AAAA" }), "wallet: kdf salt is 3 bytes, want 16"},
		{"check", edit(func(h map[string]any) { h["check"] = "AAAA" }), "wallet: key check value is 3 bytes, want 32"},
		{"memory bomb", edit(func(h map[string]any) { kdf(h)["memoryKiB"] = 4 << 20 }),
			"wallet: kdf memory 4194304 KiB outside [64, 1048576]"},
		{"too big", append(slices.Clone(orig), bytes.Repeat([]byte(" "), 4<<10)...), "wallet: header is larger than 4096 bytes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := os.WriteFile(path, tt.header, 0o600); err != nil {
				t.Fatal(err)
			}
			_, err := wallet.Open(dir, passphrase)
			if err == nil || err.Error() != tt.want {
				t.Fatalf("err = %v, want %q", err, tt.want)
			}
		})
	}
}

func TestSignVerifies(t *testing.T) {
	w := create(t, t.TempDir())
	msg := []byte("proof hash")
	sig, err := w.Sign(msg)
	if err != nil {
		t.Fatal(err)
	}
	fromDID, err := did.ParseKey(w.DID())
	if err != nil {
		t.Fatal(err)
	}
	fromVM, err := did.ParseKey(w.VerificationMethod())
	if err != nil {
		t.Fatal(err)
	}
	for name, pub := range map[string]ed25519.PublicKey{"PublicKey": w.PublicKey(), "DID": fromDID, "VM": fromVM} {
		if !ed25519.Verify(pub, msg, sig) {
			t.Errorf("signature does not verify against the key from %s", name)
		}
	}

	second, err := w.CreateDID()
	if err != nil {
		t.Fatal(err)
	}
	s, err := w.Signer(second)
	if err != nil {
		t.Fatal(err)
	}
	sig2, err := s.Sign(msg)
	if err != nil {
		t.Fatal(err)
	}
	pub2, err := did.ParseKey(s.VerificationMethod())
	if err != nil || s.DID() != second || !ed25519.Verify(pub2, msg, sig2) || ed25519.Verify(fromDID, msg, sig2) {
		t.Fatalf("second DID signer: %v", err)
	}
	if _, err := w.Signer("did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK"); !errors.Is(err, wallet.ErrNotFound) {
		t.Fatalf("Signer(unknown) = %v, want ErrNotFound", err)
	}
	if _, err := w.Signer(""); err == nil || err.Error() != "wallet: DID must be 1 to 256 bytes, got 0" {
		t.Fatalf("Signer(\"\") = %v", err)
	}
	var _ wallet.Signer = w
}

func TestChains(t *testing.T) {
	w := create(t, t.TempDir())
	maxID := strings.Repeat("i", wallet.MaxChainIDSize)
	maxChain := append(append([]byte(`"`), bytes.Repeat([]byte("x"), wallet.MaxChainSize-2)...), '"')
	for id, chain := range map[string][]byte{"b": []byte(`[2]`), "a": []byte(`[1]`), maxID: maxChain} {
		if err := w.PutChain(id, chain); err != nil {
			t.Fatalf("PutChain(%.10s): %v", id, err)
		}
	}
	tests := []struct {
		name  string
		id    string
		chain []byte
		want  string
	}{
		{"empty id", "", []byte(`[]`), "wallet: chain id is empty"},
		{"long id", maxID + "i", []byte(`[]`), "wallet: chain id is 513 bytes, limit 512"},
		{"empty chain", "c", nil, "wallet: chain is empty"},
		{"big chain", "c", append(maxChain, ' '), "wallet: chain is 1048577 bytes, limit 1048576"},
		{"not json", "c", []byte(`[1`), `wallet: chain "c" is not valid JSON`},
		{"exists", "a", []byte(`[9]`), `wallet: put chain "a": wallet: already exists`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := w.PutChain(tt.id, tt.chain)
			if err == nil || err.Error() != tt.want {
				t.Fatalf("err = %v, want %q", err, tt.want)
			}
		})
	}
	if err := w.PutChain("a", []byte(`[9]`)); !errors.Is(err, wallet.ErrExists) {
		t.Fatalf("overwrite = %v, want ErrExists", err)
	}
	chains, err := w.Chains()
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, c := range chains {
		ids = append(ids, c.ID)
	}
	if !slices.Equal(ids, []string{"a", "b", maxID}) || string(chains[0].Chain) != `[1]` || !bytes.Equal(chains[2].Chain, maxChain) {
		t.Fatalf("Chains = %q", ids)
	}
	if err := w.DeleteChain("a"); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Chain("a"); !errors.Is(err, wallet.ErrNotFound) {
		t.Fatalf("Chain after delete = %v, want ErrNotFound", err)
	}
	if err := w.DeleteChain("a"); !errors.Is(err, wallet.ErrNotFound) {
		t.Fatalf("second DeleteChain = %v, want ErrNotFound", err)
	}
	if err := w.PutChain("a", []byte(`[3]`)); err != nil {
		t.Fatalf("PutChain after delete: %v", err)
	}
}

func TestClosedWallet(t *testing.T) {
	w := create(t, t.TempDir())
	primary := w.DID()
	mustClose(t, w)
	if err := w.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if _, err := w.Sign([]byte("m")); err == nil {
		t.Fatal("Sign after Close succeeded")
	}
	if err := w.PutChain("c", []byte(`[]`)); err == nil {
		t.Fatal("PutChain after Close succeeded")
	}
	if _, err := w.CreateDID(); err == nil {
		t.Fatal("CreateDID after Close succeeded")
	}
	if w.DID() != primary {
		t.Fatal("DID changed after Close")
	}
}

// TestNoPlaintextOnDisk writes recognisable data and looks for it in every file of the wallet,
// while it is open (write-ahead log, value log) and after it was closed and reopened (tables).
func TestNoPlaintextOnDisk(t *testing.T) {
	dir := t.TempDir()
	w := create(t, dir)
	const marker = "MANDATE-PLAINTEXT-MARKER-7f3a"
	small := []byte(`{"secret":"` + marker + `"}`)
	large := []byte(`{"secret":"` + strings.Repeat(marker, 4096) + `"}`) // above the value-log threshold
	if err := w.PutChain("id-"+marker, small); err != nil {
		t.Fatal(err)
	}
	if err := w.PutChain("large", large); err != nil {
		t.Fatal(err)
	}
	primary := w.DID()
	needles := []string{marker, primary, strings.TrimPrefix(primary, "did:key:"), "wallet/chain/", "kmsdb", "Ed25519PrivateKey"}
	assertNoPlaintext(t, dir, needles)
	mustClose(t, w)
	open(t, dir)
	assertNoPlaintext(t, dir, needles)
}

func assertNoPlaintext(t *testing.T, dir string, needles []string) {
	t.Helper()
	err := filepath.WalkDir(filepath.Join(dir, "db"), func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, n := range needles {
			if bytes.Contains(b, []byte(n)) {
				t.Errorf("%s contains %q in plaintext", path, n)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestPutChainConcurrentSameID(t *testing.T) {
	w := create(t, t.TempDir())
	const n = 8
	errs := make(chan error, n)
	for i := range n {
		go func() { errs <- w.PutChain("same", []byte(fmt.Sprintf(`[%d]`, i))) }()
	}
	var stored, exists int
	for range n {
		switch err := <-errs; {
		case err == nil:
			stored++
		case errors.Is(err, wallet.ErrExists):
			exists++
		default:
			t.Errorf("PutChain: %v", err)
		}
	}
	if stored != 1 || exists != n-1 {
		t.Fatalf("%d stored, %d ErrExists; want 1 and %d", stored, exists, n-1)
	}
}
