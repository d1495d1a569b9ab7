package wallet_test

import (
	"fmt"
	"path/filepath"
	"slices"
	"sync"
	"testing"

	"github.com/mandate-dev/mandate/wallet"
)

// TestLogConcurrent: appends from many goroutines (the wallet service logs
// every presentation it makes) all land, each with its own sequence number.
func TestLogConcurrent(t *testing.T) {
	w := create(t, filepath.Join(t.TempDir(), "w"))
	const n = 32
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Go(func() {
			_, err := w.Log(wallet.LogEntry{Verifier: "aud", Action: "email:read", Resource: fmt.Sprintf("mailbox:alice/%d", i), Decision: "PRESENTED"})
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	es, err := w.Entries()
	if err != nil {
		t.Fatal(err)
	}
	var seqs, boxes []string
	for _, e := range es {
		seqs = append(seqs, fmt.Sprint(e.Seq))
		boxes = append(boxes, e.Resource)
	}
	if len(es) != n || len(slices.Compact(slices.Sorted(slices.Values(seqs)))) != n || len(slices.Compact(slices.Sorted(slices.Values(boxes)))) != n {
		t.Fatalf("%d entries, seqs %v", len(es), seqs)
	}
}
