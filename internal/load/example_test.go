package load_test

import (
	"context"
	"fmt"
	"net"

	"github.com/dgraph-io/badger/v4"

	"github.com/mandate-dev/mandate/did"
	"github.com/mandate-dev/mandate/internal/load"
	"github.com/mandate-dev/mandate/presentation"
	"github.com/mandate-dev/mandate/presentation/gatekeeper"
)

// A count-bounded run against a verifier in this process that trusts the
// run's principal. `mandate bench` runs the verifier as a process of its own
// (StartServer) and sets Config.PID to read its memory.
func Example() {
	principal, _ := load.NewKey(nil)
	verifierID, _ := load.NewKey(nil)
	db, _ := badger.Open(badger.DefaultOptions("").WithInMemory(true).WithLogger(nil))
	defer db.Close()
	v, err := presentation.New(presentation.Config{
		Audience: load.Audience, Resolver: did.KeyResolver{}, TrustedRoots: []string{principal.DID()}, Store: db, Signer: verifierID,
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	lis, _ := net.Listen("tcp", "127.0.0.1:0")
	srv := gatekeeper.NewGRPCServer(v)
	go srv.Serve(lis)
	defer srv.Stop()

	rep, err := load.Run(context.Background(), load.Config{
		Addr: lis.Addr().String(), Principal: principal, Agents: 2, Requests: 20, ChainDepth: 2,
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("%d requests: %d ALLOW, %d errors, round trip p50 <= p99: %t\n",
		rep.Requests, rep.Allow, rep.Errors, rep.RoundTrip.P50 <= rep.RoundTrip.P99)
	// Output: 20 requests: 20 ALLOW, 0 errors, round trip p50 <= p99: true
}
