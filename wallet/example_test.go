package wallet_test

import (
	"crypto/ed25519"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/mandate-dev/mandate/wallet"
)

func Example() {
	dir, err := os.MkdirTemp("", "wallet-example")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer os.RemoveAll(dir)

	// WithKDFParams makes the example fast; real wallets keep the default Argon2id cost.
	w, err := wallet.Create(dir, []byte("correct horse battery staple"), wallet.WithKDFParams(1, 64, 1))
	if err != nil {
		fmt.Println(err)
		return
	}
	msg := []byte("hello")
	sig, err := w.Sign(msg)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(strings.HasPrefix(w.DID(), "did:key:z6Mk"), ed25519.Verify(w.PublicKey(), msg, sig))

	if err := w.PutChain("urn:uuid:leaf", []byte(`[{"id":"urn:uuid:root"},{"id":"urn:uuid:leaf"}]`)); err != nil {
		fmt.Println(err)
		return
	}
	if err := w.Close(); err != nil {
		fmt.Println(err)
		return
	}

	_, err = wallet.Open(dir, []byte("wrong"))
	fmt.Println(errors.Is(err, wallet.ErrWrongPassphrase))

	w, err = wallet.Open(dir, []byte("correct horse battery staple"))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer w.Close()
	chain, err := w.Chain("urn:uuid:leaf")
	fmt.Println(string(chain), err)
	// Output:
	// true true
	// true
	// [{"id":"urn:uuid:root"},{"id":"urn:uuid:leaf"}] <nil>
}
