package wallet

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	badger "github.com/dgraph-io/badger/v4"

	"github.com/mandate-dev/mandate/internal/aries"
)

func vmRSS() string {
	b, _ := os.ReadFile("/proc/self/status")
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, "VmRSS:") {
			return strings.TrimSpace(strings.TrimPrefix(l, "VmRSS:"))
		}
	}
	return "?"
}

func memLine(tag string) {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	fmt.Printf("%s VmRSS=%s HeapInuse=%.1fMiB HeapSys=%.1fMiB Sys=%.1fMiB\n", tag, vmRSS(), float64(m.HeapInuse)/(1<<20), float64(m.HeapSys)/(1<<20), float64(m.Sys)/(1<<20))
}

var key = []byte("0123456789abcdef0123456789abcdef")

func measureOpts(mode, dir string) badger.Options {
	if mode == "defaults" {
		return badger.DefaultOptions(dir).WithEncryptionKey(key).WithIndexCacheSize(100 << 20).WithLogger(nil)
	}
	return dbOptions(dir, key, nil)
}

func du(dir string) string {
	a, _ := exec.Command("du", "-sk", dir).Output()
	b, _ := exec.Command("du", "-sk", "--apparent-size", dir).Output()
	return "allocated=" + strings.Fields(string(a))[0] + "KiB apparent=" + strings.Fields(string(b))[0] + "KiB"
}

func TestMeasure(t *testing.T) {
	mode, dir := os.Getenv("MEASURE_MODE"), os.Getenv("MEASURE_DIR")
	if mode == "" {
		return
	}
	switch os.Getenv("MEASURE_STEP") {
	case "create":
		if mode == "wallet" {
			w, err := Create(dir, []byte("pass"))
			if err != nil {
				t.Fatal(err)
			}
			w.PutChain("c", []byte(`{"a":1}`))
			w.Close()
			fmt.Println("closed disk", du(dir))
			return
		}
		db, err := badger.Open(measureOpts(mode, dir))
		if err != nil {
			t.Fatal(err)
		}
		km, _ := aries.NewKeyManager(db, "kms/")
		km.CreateEd25519()
		db.Update(func(txn *badger.Txn) error { return txn.Set([]byte("wallet/chain/c"), []byte(`{"a":1}`)) })
		db.Close()
		fmt.Println("closed disk", du(dir))
	case "open":
		memLine("before")
		if mode == "wallet" {
			w, err := Open(dir, []byte("pass"))
			if err != nil {
				t.Fatal(err)
			}
			memLine("opened")
			time.Sleep(30 * time.Second)
			memLine("idle30s")
			fmt.Println("open disk", du(dir))
			w.Close()
			return
		}
		db, err := badger.Open(measureOpts(mode, dir))
		if err != nil {
			t.Fatal(err)
		}
		km, _ := aries.NewKeyManager(db, "kms/")
		_ = km
		memLine("opened")
		time.Sleep(30 * time.Second)
		memLine("idle30s")
		fmt.Println("open disk", du(filepath.Clean(dir)))
		db.Close()
	}
}
