package holder_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/dgraph-io/badger/v4"

	"github.com/mandate-dev/mandate/credentials"
	"github.com/mandate-dev/mandate/did"
	"github.com/mandate-dev/mandate/internal/testkeys"
	"github.com/mandate-dev/mandate/presentation"
	"github.com/mandate-dev/mandate/presentation/gatekeeper"
	"github.com/mandate-dev/mandate/wallet"
	"github.com/mandate-dev/mandate/wallet/holder"
)

// An agent's wallet served on a Unix socket; the agent's process asks it
// to present and never holds a key.
func Example() {
	dir, err := os.MkdirTemp("", "holder-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)

	// The wallet side (`mandate serve wallet` does this): open the wallet,
	// listen on a 0600 socket, serve.
	w, err := wallet.Create(filepath.Join(dir, "agent"), []byte("correct horse battery staple"), wallet.WithKDFParams(1, 64, 1))
	if err != nil {
		log.Fatal(err)
	}
	defer w.Close()
	alice := testkeys.New("alice") // the principal, in its own wallet in real life
	root, err := credentials.Issue(alice, credentials.Template{
		Subject: w.DID(), Purpose: "read mail",
		Grants: []credentials.Grant{{ID: "urn:mandate:grant:read", Action: "email:read", Resource: "mailbox:alice/*"}},
	}, credentials.IssueOptions{})
	if err != nil {
		log.Fatal(err)
	}
	chain, err := credentials.EncodeChain([]*credentials.Credential{root})
	if err != nil {
		log.Fatal(err)
	}
	if err := w.PutChain("mail", chain); err != nil { // `mandate wallet import`
		log.Fatal(err)
	}
	socket := filepath.Join(dir, "run", "wallet.sock")
	lis, err := holder.Listen(socket)
	if err != nil {
		log.Fatal(err)
	}
	srv := holder.NewGRPCServer(w, nil, nil)
	go srv.Serve(lis)
	defer srv.Stop()

	// The agent's side: dial the socket and present for a verifier's challenge.
	wal, err := holder.Dial(socket)
	if err != nil {
		log.Fatal(err)
	}
	defer wal.Close()
	ctx := context.Background()
	verifier := exampleVerifier(alice)
	ch, err := verifier.Challenge(ctx)
	if err != nil {
		log.Fatal(err)
	}
	req := presentation.Request{Action: "email:read", Resource: "mailbox:alice/inbox", Intent: "summarise the inbox"}
	format, vp, err := wal.Present(ctx, ch, req)
	if err != nil {
		log.Fatal(err)
	}
	d, err := verifier.Decide(ctx, format, vp, req, "")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(format, d.Outcome, d.Grant)

	powers, err := wal.Powers(ctx)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(powers.Covers("email:read"), powers.Covers("email:send"))
	// Output:
	// ldp ALLOW urn:mandate:grant:read
	// true false
}

// exampleVerifier is an in-process verifier that trusts alice's roots.
func exampleVerifier(alice *testkeys.Key) gatekeeper.Decider {
	db, err := badger.Open(badger.DefaultOptions("").WithInMemory(true).WithLogger(nil))
	if err != nil {
		log.Fatal(err)
	}
	v, err := presentation.New(presentation.Config{
		Audience: "https://mail.example.com", Resolver: did.KeyResolver{}, TrustedRoots: []string{alice.DID()},
		Store: db, Signer: testkeys.New("verifier"),
	})
	if err != nil {
		log.Fatal(err)
	}
	return gatekeeper.Local(v)
}
