package presentation_test

import (
	"context"
	"crypto/ed25519"
	"fmt"
	"net"
	"runtime"
	"testing"
	"time"

	"github.com/dgraph-io/badger/v4"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/mandate-dev/mandate/credentials"
	"github.com/mandate-dev/mandate/did"
	"github.com/mandate-dev/mandate/internal/testkeys"
	"github.com/mandate-dev/mandate/presentation"
	"github.com/mandate-dev/mandate/presentation/gatekeeper"
	mandatev1 "github.com/mandate-dev/mandate/protos/mandate/v1"
)

// The benchmarks keep their own keys, clock and chain so that they do not
// depend on the unit tests' fixture.
var (
	benchPrincipal = testkeys.New("bench principal")
	benchAgent     = testkeys.New("bench agent")
	benchSubAgent  = testkeys.New("bench sub-agent")
	benchWorker    = testkeys.New("bench worker")
	benchIssued    = time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)
	// benchNow is the verifier's fixed clock: challenges never expire
	// however long a run takes.
	benchNow = benchIssued.Add(time.Hour)
)

// benchLinks are the chain lengths measured: a root alone, and root → child → grandchild.
var benchLinks = []int{1, 3}

func benchRequest() presentation.Request {
	return presentation.Request{Action: "email:read", Resource: "mailbox:alice/inbox", Intent: "summarise today's mail"}
}

// benchChain is principal → agent (maxDepth 2) → sub-agent (maxDepth 1) →
// worker (no delegation); holders[i] is the subject of links[i].
type benchChain struct {
	links   []*credentials.Credential
	holders []*testkeys.Key
}

// prefix returns the first n links and the key of their leaf's subject.
func (c benchChain) prefix(n int) ([]*credentials.Credential, *testkeys.Key) {
	return c.links[:n], c.holders[n-1]
}

func newBenchChain(b *testing.B) benchChain {
	b.Helper()
	opts := credentials.IssueOptions{Now: func() time.Time { return benchIssued }}
	read := []credentials.Grant{{ID: "urn:mandate:grant:email-read", Action: "email:read", Resource: "mailbox:alice/*"}}
	forbidden := []credentials.Forbidden{{Action: "email:send"}}
	root, err := credentials.Issue(benchPrincipal, credentials.Template{
		Subject: benchAgent.DID(), Purpose: "Keep Alice's inbox organised", Grants: read, Forbidden: forbidden,
		Delegation: credentials.Delegation{Allowed: true, MaxDepth: 2},
	}, opts)
	if err != nil {
		b.Fatal(err)
	}
	child, err := credentials.Delegate(benchAgent, []*credentials.Credential{root}, credentials.Template{
		Subject: benchSubAgent.DID(), Purpose: "Summarise Alice's inbox", Grants: read,
		Delegation: credentials.Delegation{Allowed: true, MaxDepth: 1},
	}, opts)
	if err != nil {
		b.Fatal(err)
	}
	grandchild, err := credentials.Delegate(benchSubAgent, []*credentials.Credential{root, child}, credentials.Template{
		Subject: benchWorker.DID(), Purpose: "Read the inbox",
		Grants: []credentials.Grant{{ID: "urn:mandate:grant:inbox-read", Action: "email:read", Resource: "mailbox:alice/inbox"}},
	}, opts)
	if err != nil {
		b.Fatal(err)
	}
	return benchChain{
		links:   []*credentials.Credential{root, child, grandchild},
		holders: []*testkeys.Key{benchAgent, benchSubAgent, benchWorker},
	}
}

// newBenchVerifier is a verifier on an in-memory store with a fixed clock
// and the longest challenge lifetime allowed, trusting benchPrincipal; with
// changes its Config (formats, trusted roots, intent checkers).
func newBenchVerifier(b *testing.B, with ...func(*presentation.Config)) *presentation.Verifier {
	b.Helper()
	db, err := badger.Open(badger.DefaultOptions("").WithInMemory(true).WithLogger(nil))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	cfg := presentation.Config{
		Audience: "https://mail.example", Resolver: did.KeyResolver{}, TrustedRoots: []string{benchPrincipal.DID()},
		Store: db, ChallengeTTL: presentation.MaxChallengeTTL, Now: func() time.Time { return benchNow }, Signer: testkeys.New("bench verifier"),
	}
	for _, w := range with {
		w(&cfg)
	}
	v, err := presentation.New(cfg)
	if err != nil {
		b.Fatal(err)
	}
	return v
}

// benchPresentations builds n presentations of the chain's first links
// links, each bound to its own challenge, since a nonce is single-use.
func benchPresentations(b *testing.B, challenge func(context.Context) (presentation.Challenge, error), c benchChain, links, n int) [][]byte {
	b.Helper()
	chain, holder := c.prefix(links)
	vps := make([][]byte, n)
	for i := range vps {
		ch, err := challenge(context.Background())
		if err != nil {
			b.Fatal(err)
		}
		if vps[i], err = presentation.Present(holder, chain, ch, benchRequest(), benchNow); err != nil {
			b.Fatal(err)
		}
	}
	return vps
}

// startBenchTimer resets the timer after set-up, collecting the set-up's
// garbage first so that the timed loop does not pay for it.
func startBenchTimer(b *testing.B) {
	runtime.GC()
	b.ReportAllocs()
	b.ResetTimer()
}

func reportSigchecks(b *testing.B, links int) {
	b.ReportMetric(float64(links+1), "sigchecks/op") // one proof per link, plus the holder's
}

// BenchmarkFloorEd25519Verify is the floor: one Ed25519 verification of a
// 64-byte message, the cost a signature check cannot go below.
func BenchmarkFloorEd25519Verify(b *testing.B) {
	msg := make([]byte, 64)
	sig, _ := benchAgent.Sign(msg)
	pub := benchAgent.PublicKey()
	for b.Loop() {
		if !ed25519.Verify(pub, msg, sig) {
			b.Fatal("signature does not verify")
		}
	}
}

func BenchmarkAuthorizeInProcess(b *testing.B) {
	chain := newBenchChain(b)
	v := newBenchVerifier(b)
	ctx := context.Background()
	for _, links := range benchLinks {
		b.Run(fmt.Sprintf("links=%d", links), func(b *testing.B) {
			vps := benchPresentations(b, v.Challenge, chain, links, b.N)
			startBenchTimer(b)
			for i := range b.N {
				if d := v.Authorize(ctx, vps[i], benchRequest()); !d.Allowed() {
					b.Fatalf("decision = %s %v: %s", d.Outcome, d.Reasons, d.Message)
				}
			}
			b.StopTimer()
			reportSigchecks(b, links)
		})
	}
}

// BenchmarkAuthorizeGRPC measures the same decision through a real gRPC
// server on a loopback socket, as an agent's gatekeeper.Client sees it.
func BenchmarkAuthorizeGRPC(b *testing.B) {
	chain := newBenchChain(b)
	client := newBenchGRPCClient(b, newBenchVerifier(b))
	ctx := context.Background()
	for _, links := range benchLinks {
		b.Run(fmt.Sprintf("links=%d", links), func(b *testing.B) {
			vps := benchPresentations(b, client.Challenge, chain, links, b.N)
			startBenchTimer(b)
			for i := range b.N {
				d, err := client.Send(ctx, vps[i], benchRequest())
				if err != nil {
					b.Fatal(err)
				}
				if !d.Allowed() {
					b.Fatalf("decision = %s %v: %s", d.Outcome, d.Reasons, d.Message)
				}
			}
			b.StopTimer()
			reportSigchecks(b, links)
		})
	}
}

func newBenchGRPCClient(b *testing.B, v *presentation.Verifier) *gatekeeper.Client {
	b.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	srv := gatekeeper.NewGRPCServer(v)
	go srv.Serve(lis)
	b.Cleanup(srv.Stop)
	conn, err := grpc.NewClient(lis.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithDefaultCallOptions(grpc.MaxCallSendMsgSize(gatekeeper.MaxMessageBytes)))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { conn.Close() })
	return gatekeeper.NewClient(mandatev1.NewVerifierServiceClient(conn), func() time.Time { return benchNow })
}

// BenchmarkPresent is the holder's side: building and signing a
// presentation of a three-link chain. Present does not spend the nonce,
// so one challenge serves every iteration.
func BenchmarkPresent(b *testing.B) {
	chain, holder := newBenchChain(b).prefix(3)
	ch, err := newBenchVerifier(b).Challenge(context.Background())
	if err != nil {
		b.Fatal(err)
	}
	b.Run("links=3", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := presentation.Present(holder, chain, ch, benchRequest(), benchNow); err != nil {
				b.Fatal(err)
			}
		}
	})
}
