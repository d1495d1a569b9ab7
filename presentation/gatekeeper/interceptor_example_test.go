package gatekeeper_test

import (
	"context"
	"fmt"
	"log"
	"net"

	"github.com/dgraph-io/badger/v4"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"
	"google.golang.org/grpc/test/bufconn"

	"github.com/mandate-dev/mandate/credentials"
	"github.com/mandate-dev/mandate/did"
	"github.com/mandate-dev/mandate/internal/testkeys"
	"github.com/mandate-dev/mandate/presentation"
	"github.com/mandate-dev/mandate/presentation/gatekeeper"
)

// A gRPC server protected by the interceptors (here the standard health
// service: Check is health:check on the service named), and an agent whose
// conn answers the challenges through its wallet.
func ExampleUnaryServerInterceptor() {
	alice, agent := testkeys.New("alice"), testkeys.New("agent")
	verifier := exampleGRPCVerifier(alice)

	// The service's side.
	mapper := gatekeeper.MapMethods(map[string]gatekeeper.MethodMapper{
		healthpb.Health_Check_FullMethodName: func(_ context.Context, _ string, req any) (presentation.Request, error) {
			in, ok := req.(*healthpb.HealthCheckRequest)
			if !ok {
				return presentation.Request{}, fmt.Errorf("unexpected request %T", req)
			}
			return presentation.Request{Action: "health:check", Resource: "service:" + in.GetService()}, nil
		},
	})
	d := gatekeeper.Local(verifier) // or gatekeeper.Remote(a VerifierService client)
	srv := grpc.NewServer(
		grpc.ChainUnaryInterceptor(gatekeeper.UnaryServerInterceptor(d, mapper)),
		grpc.ChainStreamInterceptor(gatekeeper.StreamServerInterceptor(d, mapper)),
	)
	h := health.NewServer()
	h.SetServingStatus("mail", healthpb.HealthCheckResponse_SERVING)
	healthpb.RegisterHealthServer(srv, h)
	lis := bufconn.Listen(1 << 20)
	go srv.Serve(lis)
	defer srv.Stop()

	// The agent's side: its wallet (holder.Dial(socket) in real life)
	// presents for the request the server names in its challenge.
	root, err := credentials.Issue(alice, credentials.Template{
		Subject: agent.DID(), Purpose: "watch the mail service",
		Grants:    []credentials.Grant{{ID: "urn:mandate:grant:health", Action: "health:check", Resource: "service:mail"}},
		Forbidden: []credentials.Forbidden{{Action: "health:check", Resource: "service:billing"}},
	}, credentials.IssueOptions{})
	if err != nil {
		log.Fatal(err)
	}
	var wallet gatekeeper.Presenter = gatekeeper.Holder{Signer: agent, Held: presentation.Held{LDP: [][]*credentials.Credential{{root}}}}
	conn, err := grpc.NewClient("passthrough:///bufnet",
		grpc.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) { return lis.DialContext(ctx) }),
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithChainUnaryInterceptor(gatekeeper.UnaryClientInterceptor(wallet, "https://svc.example")),
		grpc.WithChainStreamInterceptor(gatekeeper.StreamClientInterceptor(wallet, "https://svc.example")),
	)
	if err != nil {
		log.Fatal(err)
	}
	defer conn.Close()

	ctx := gatekeeper.WithIntent(context.Background(), "is the mail service up?")
	health := healthpb.NewHealthClient(conn)
	r, err := health.Check(ctx, &healthpb.HealthCheckRequest{Service: "mail"})
	fmt.Println(r.GetStatus(), status.Code(err), decisionOf(err))
	_, err = health.Check(ctx, &healthpb.HealthCheckRequest{Service: "billing"})
	fmt.Println(status.Code(err), decisionOf(err))
	_, err = health.Check(ctx, &healthpb.HealthCheckRequest{Service: "payroll"})
	fmt.Println(status.Code(err), decisionOf(err)) // the wallet holds nothing to present
	_, err = health.List(ctx, &healthpb.HealthListRequest{})
	fmt.Println(status.Code(err), decisionOf(err))
	// Output:
	// SERVING OK -
	// PermissionDenied DENY [FORBIDDEN]
	// Unauthenticated -
	// PermissionDenied DENY [UNMAPPED]
}

func decisionOf(err error) string {
	d, ok := gatekeeper.ErrorDecision(err)
	if !ok {
		return "-"
	}
	return fmt.Sprint(d.Outcome, " ", d.Reasons)
}

// exampleGRPCVerifier is an in-process verifier for https://svc.example
// that trusts alice's roots.
func exampleGRPCVerifier(alice *testkeys.Key) *presentation.Verifier {
	db, err := badger.Open(badger.DefaultOptions("").WithInMemory(true).WithLogger(nil))
	if err != nil {
		log.Fatal(err)
	}
	v, err := presentation.New(presentation.Config{
		Audience: "https://svc.example", Resolver: did.KeyResolver{}, TrustedRoots: []string{alice.DID()},
		Store: db, Signer: testkeys.New("verifier"),
	})
	if err != nil {
		log.Fatal(err)
	}
	return v
}
