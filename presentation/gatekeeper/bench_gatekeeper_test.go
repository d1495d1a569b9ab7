package gatekeeper_test

import (
	"context"
	"crypto/ed25519"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/dgraph-io/badger/v4"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/mandate-dev/mandate/credentials"
	"github.com/mandate-dev/mandate/did"
	"github.com/mandate-dev/mandate/internal/testkeys"
	"github.com/mandate-dev/mandate/presentation"
	"github.com/mandate-dev/mandate/presentation/gatekeeper"
	"github.com/mandate-dev/mandate/wallet"
	"github.com/mandate-dev/mandate/wallet/holder"
)

// What the gatekeepers add to a decision (docs/BENCHMARKS.md, "Gatekeepers"):
// every sub-benchmark of BenchmarkGatekeeper is one protected call that is
// ALLOWed, beside the floors measured in the same process so that the
// figures can be read as ratios on a noisy machine. The keys, the verifier
// and the wallet are the benchmark's own, not the tests' fixtures.
var (
	benchGKPrincipal = testkeys.New("gatekeeper bench principal")
	benchGKAgent     = testkeys.New("gatekeeper bench agent")
)

const benchGKAudience = "https://mail.example"

// benchGKRequest is what every protected call asks: the HTTP route and the
// gRPC method below both map to it.
var benchGKRequest = presentation.Request{Action: "email:read", Resource: "mailbox:alice/inbox"}

// benchGKEnv is one verifier, the agent's chain held in process, and the
// same power held by a real wallet served on a Unix socket.
type benchGKEnv struct {
	v      *presentation.Verifier
	chain  []*credentials.Credential
	holder gatekeeper.Holder
	wallet *holder.Client
}

func newBenchGKEnv(b *testing.B) *benchGKEnv {
	b.Helper()
	db, err := badger.Open(badger.DefaultOptions("").WithInMemory(true).WithLogger(nil))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	// The real clock: the wallet service checks a challenge's expiry
	// against its own; the longest lifetime keeps every challenge valid.
	v, err := presentation.New(presentation.Config{
		Audience: benchGKAudience, Resolver: did.KeyResolver{}, TrustedRoots: []string{benchGKPrincipal.DID()},
		Store: db, ChallengeTTL: presentation.MaxChallengeTTL, Signer: testkeys.New("gatekeeper bench verifier"),
	})
	if err != nil {
		b.Fatal(err)
	}
	e := &benchGKEnv{v: v}
	root := benchGKRoot(b, benchGKAgent.DID())
	e.chain = []*credentials.Credential{root}
	e.holder = gatekeeper.Holder{Signer: benchGKAgent, Held: presentation.Held{LDP: [][]*credentials.Credential{e.chain}}}
	e.wallet = benchGKWallet(b)
	return e
}

// benchGKRoot is the principal's one-link chain to subject: email:read on
// Alice's mailboxes, email:send forbidden.
func benchGKRoot(b *testing.B, subject string) *credentials.Credential {
	b.Helper()
	root, err := credentials.Issue(benchGKPrincipal, credentials.Template{
		Subject: subject, Purpose: "read Alice's mail",
		Grants:    []credentials.Grant{{ID: "urn:mandate:grant:read", Action: "email:read", Resource: "mailbox:alice/*"}},
		Forbidden: []credentials.Forbidden{{Action: "email:send"}},
	}, credentials.IssueOptions{})
	if err != nil {
		b.Fatal(err)
	}
	return root
}

// benchGKWallet is a wallet in b.TempDir() holding the same power for its
// own DID, served by wallet/holder on a Unix socket, and the agent's
// client of it. The wallet fsyncs its log of every presentation, as
// `mandate serve wallet` does.
func benchGKWallet(b *testing.B) *holder.Client {
	b.Helper()
	dir := b.TempDir()
	w, err := wallet.Create(filepath.Join(dir, "w"), []byte("correct horse battery staple"), wallet.WithKDFParams(1, 64, 1))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { w.Close() })
	enc, err := credentials.EncodeChain([]*credentials.Credential{benchGKRoot(b, w.DID())})
	if err != nil {
		b.Fatal(err)
	}
	if err := w.PutChain("mail", enc); err != nil {
		b.Fatal(err)
	}
	socket := filepath.Join(dir, "wallet.sock")
	lis, err := holder.Listen(socket)
	if err != nil {
		b.Fatal(err)
	}
	srv := holder.NewGRPCServer(w, nil, nil)
	go srv.Serve(lis)
	b.Cleanup(srv.Stop)
	c, err := holder.Dial(socket)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { c.Close() })
	return c
}

// BenchmarkGatekeeper measures one ALLOWed call through each gatekeeper
// against the floors of the same run:
//
//	floor/ed25519               one ed25519.Verify of 64 bytes
//	floor/authorize             Challenge + presentation.Present + Verifier.Authorize, in process
//	http/ungated                the same GET with no gatekeeper: one loopback round trip
//	http/holder                 Transport → HTTP → Local: 401 challenge, then the presented retry
//	http/wallet-socket          the same, presenting through the wallet service's socket
//	grpc/ungated                the same unary call with no interceptors
//	grpc/holder                 client interceptor → server interceptor → Local, both legs
//	grpc/wallet-socket          the same, presenting through the wallet service's socket
func BenchmarkGatekeeper(b *testing.B) {
	e := newBenchGKEnv(b)
	ctx := context.Background()
	b.Run("floor/ed25519", func(b *testing.B) {
		msg := make([]byte, 64)
		sig, err := benchGKAgent.Sign(msg)
		if err != nil {
			b.Fatal(err)
		}
		pub := benchGKAgent.PublicKey()
		b.ReportAllocs()
		for b.Loop() {
			if !ed25519.Verify(pub, msg, sig) {
				b.Fatal("signature does not verify")
			}
		}
	})
	b.Run("floor/authorize", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			ch, err := e.v.Challenge(ctx)
			if err != nil {
				b.Fatal(err)
			}
			vp, err := presentation.Present(benchGKAgent, e.chain, ch, benchGKRequest, time.Now())
			if err != nil {
				b.Fatal(err)
			}
			if d := e.v.Authorize(ctx, vp, benchGKRequest); !d.Allowed() {
				b.Fatalf("decision = %s %v: %s", d.Outcome, d.Reasons, d.Message)
			}
		}
	})

	gate, err := gatekeeper.HTTP(gatekeeper.Local(e.v), benchGKMapHTTP)
	if err != nil {
		b.Fatal(err)
	}
	srv := benchGKHTTPServer(b, gate)
	b.Run("http/ungated", func(b *testing.B) {
		benchGKGet(b, &http.Client{Transport: benchGKBase(b)}, srv.URL+"/open/inbox", "ungated")
	})
	for _, p := range []struct {
		name string
		p    gatekeeper.Presenter
	}{{"holder", e.holder}, {"wallet-socket", e.wallet}} {
		b.Run("http/"+p.name, func(b *testing.B) {
			client := &http.Client{Transport: &gatekeeper.Transport{
				Base: benchGKBase(b), Presenter: p.p, Allow: gatekeeper.AllowAudience(benchGKAudience),
			}}
			benchGKGet(b, client, srv.URL+"/mail/inbox", "urn:mandate:grant:read")
		})
	}

	addr := benchGKGRPCServer(b, gatekeeper.Local(e.v))
	b.Run("grpc/ungated", func(b *testing.B) {
		benchGKInvoke(b, benchGKDial(b, addr), "Open", "Open inbox")
	})
	for _, p := range []struct {
		name string
		p    gatekeeper.Presenter
	}{{"holder", e.holder}, {"wallet-socket", e.wallet}} {
		b.Run("grpc/"+p.name, func(b *testing.B) {
			conn := benchGKDial(b, addr, grpc.WithUnaryInterceptor(gatekeeper.UnaryClientInterceptor(p.p, benchGKAudience)))
			benchGKInvoke(b, conn, "Read", "Read inbox urn:mandate:grant:read")
		})
	}
}

// benchGKMapHTTP maps the protected route; the open one never reaches it.
func benchGKMapHTTP(r *http.Request) (presentation.Request, error) {
	if r.Pattern != "GET /mail/{box}" {
		return presentation.Request{}, errors.New("unmapped route")
	}
	return presentation.Request{Action: "email:read", Resource: "mailbox:alice/" + r.PathValue("box")}, nil
}

// benchGKHTTPServer serves GET /mail/{box} behind gate and GET /open/{box}
// without it, on an httptest server on loopback.
func benchGKHTTPServer(b *testing.B, gate func(http.Handler) http.Handler) *httptest.Server {
	b.Helper()
	grant := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		d, ok := gatekeeper.DecisionFrom(r.Context())
		if !ok {
			io.WriteString(w, "ungated")
			return
		}
		io.WriteString(w, d.Grant)
	})
	mux := http.NewServeMux()
	mux.Handle("GET /mail/{box}", gate(grant))
	mux.Handle("GET /open/{box}", grant)
	srv := httptest.NewServer(mux)
	b.Cleanup(srv.Close)
	return srv
}

// benchGKBase is a keep-alive transport of the sub-benchmark's own, so that
// no connection is shared between sub-benchmarks.
func benchGKBase(b *testing.B) *http.Transport {
	t := &http.Transport{MaxIdleConnsPerHost: 4}
	b.Cleanup(t.CloseIdleConnections)
	return t
}

// benchGKGet times GET url and checks every answer is 200 with body want.
func benchGKGet(b *testing.B, c *http.Client, url, want string) {
	b.Helper()
	b.ReportAllocs()
	for b.Loop() {
		resp, err := c.Get(url)
		if err != nil {
			b.Fatal(err)
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			b.Fatal(err)
		}
		if resp.StatusCode != http.StatusOK || string(body) != want {
			b.Fatalf("GET %s: %d %q, want 200 %q", url, resp.StatusCode, body, want)
		}
	}
}

const benchGKService = "bench.mail.v1.Mail"

// benchGKGRPCServer serves bench.mail.v1.Mail on 127.0.0.1:0 behind the
// unary server interceptor: Read is mapped to benchGKRequest, Open is
// exempt. Handlers answer "<method> <value>[ <grant>]".
func benchGKGRPCServer(b *testing.B, d gatekeeper.Decider) string {
	b.Helper()
	mapper := gatekeeper.MapMethods(map[string]gatekeeper.MethodMapper{
		"/" + benchGKService + "/Read": func(_ context.Context, _ string, req any) (presentation.Request, error) {
			in, ok := req.(*wrapperspb.StringValue)
			if !ok {
				return presentation.Request{}, errors.New("read takes a StringValue")
			}
			return presentation.Request{Action: "email:read", Resource: "mailbox:alice/" + in.GetValue()}, nil
		},
	})
	unary := func(name string) grpc.MethodDesc {
		return grpc.MethodDesc{MethodName: name, Handler: func(_ any, ctx context.Context, dec func(any) error, icpt grpc.UnaryServerInterceptor) (any, error) {
			in := new(wrapperspb.StringValue)
			if err := dec(in); err != nil {
				return nil, err
			}
			h := func(ctx context.Context, req any) (any, error) {
				out := name + " " + req.(*wrapperspb.StringValue).GetValue()
				if d, ok := gatekeeper.DecisionFrom(ctx); ok {
					out += " " + d.Grant
				}
				return wrapperspb.String(out), nil
			}
			if icpt == nil {
				return h(ctx, in)
			}
			return icpt(ctx, in, &grpc.UnaryServerInfo{FullMethod: "/" + benchGKService + "/" + name}, h)
		}}
	}
	srv := grpc.NewServer(
		grpc.MaxHeaderListSize(gatekeeper.MaxMetadataBytes),
		grpc.UnaryInterceptor(gatekeeper.UnaryServerInterceptor(d, mapper, gatekeeper.ExemptMethods("/"+benchGKService+"/Open"))),
	)
	srv.RegisterService(&grpc.ServiceDesc{
		ServiceName: benchGKService, HandlerType: (*any)(nil),
		Methods: []grpc.MethodDesc{unary("Read"), unary("Open")},
	}, nil)
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	go srv.Serve(lis)
	b.Cleanup(srv.Stop)
	return lis.Addr().String()
}

func benchGKDial(b *testing.B, addr string, opts ...grpc.DialOption) *grpc.ClientConn {
	b.Helper()
	conn, err := grpc.NewClient(addr, append(opts, grpc.WithTransportCredentials(insecure.NewCredentials()))...)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { conn.Close() })
	return conn
}

// benchGKInvoke times one unary call of method on "inbox" and checks every
// answer is want.
func benchGKInvoke(b *testing.B, conn *grpc.ClientConn, method, want string) {
	b.Helper()
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		out := new(wrapperspb.StringValue)
		if err := conn.Invoke(ctx, "/"+benchGKService+"/"+method, wrapperspb.String("inbox"), out); err != nil {
			b.Fatal(err)
		}
		if out.GetValue() != want {
			b.Fatalf("%s: %q, want %q", method, out.GetValue(), want)
		}
	}
}
