package gatekeeper_test

import (
	"context"
	"net"
	"testing"
	"time"

	"github.com/dgraph-io/badger/v4"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"
	"google.golang.org/grpc/test/bufconn"

	"github.com/mandate-dev/mandate/credentials"
	"github.com/mandate-dev/mandate/did"
	"github.com/mandate-dev/mandate/internal/testkeys"
	"github.com/mandate-dev/mandate/presentation"
	"github.com/mandate-dev/mandate/presentation/gatekeeper"
	mandatev1 "github.com/mandate-dev/mandate/protos/mandate/v1"
)

var (
	alice = testkeys.New("alice")
	agent = testkeys.New("agent")
)

func dial(t *testing.T, with ...func(*presentation.Config)) *grpc.ClientConn {
	t.Helper()
	db, err := badger.Open(badger.DefaultOptions("").WithInMemory(true).WithLogger(nil))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	cfg := presentation.Config{
		Audience: "https://svc.example", Resolver: did.KeyResolver{}, TrustedRoots: []string{alice.DID()}, Store: db,
		Signer: testkeys.New("verifier"),
	}
	for _, w := range with {
		w(&cfg)
	}
	v, err := presentation.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	lis := bufconn.Listen(1 << 20)
	srv := gatekeeper.NewGRPCServer(v)
	go srv.Serve(lis)
	t.Cleanup(srv.Stop)
	conn, err := grpc.NewClient("passthrough:///bufnet",
		grpc.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) { return lis.DialContext(ctx) }),
		grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

func TestAuthorizeOverGRPC(t *testing.T) {
	conn := dial(t)
	ctx := context.Background()
	root, err := credentials.Issue(alice, credentials.Template{
		Subject: agent.DID(), Purpose: "read mail",
		Grants:    []credentials.Grant{{ID: "urn:mandate:grant:read", Action: "email:read", Resource: "mailbox:alice/*"}},
		Forbidden: []credentials.Forbidden{{Action: "email:send"}},
	}, credentials.IssueOptions{})
	if err != nil {
		t.Fatal(err)
	}
	client := gatekeeper.NewClient(mandatev1.NewVerifierServiceClient(conn), nil)
	chains := [][]*credentials.Credential{{root}}

	d, err := client.Authorize(ctx, agent, chains, presentation.Request{Action: "email:read", Resource: "mailbox:alice/inbox"})
	if err != nil || !d.Allowed() || d.Principal != alice.DID() || d.Actor != agent.DID() || d.Grant != "urn:mandate:grant:read" {
		t.Fatalf("read: %+v, %v", d, err)
	}
	// A denial is a normal response with its reason, not a gRPC error.
	ch, _ := client.Challenge(ctx)
	req := presentation.Request{Action: "email:send", Resource: "mailbox:alice/out"}
	vp, _ := presentation.Present(agent, []*credentials.Credential{root}, ch, req, time.Now())
	d, err = client.Send(ctx, vp, req)
	if err != nil || d.Outcome != presentation.Deny || len(d.Reasons) != 1 || d.Reasons[0] != presentation.ReasonForbidden {
		t.Fatalf("send: %+v, %v", d, err)
	}
}

func TestInputErrorsAreGRPCCodes(t *testing.T) {
	rpc := mandatev1.NewVerifierServiceClient(dial(t))
	ctx := context.Background()
	cases := []struct {
		name string
		in   *mandatev1.AuthorizeRequest
		code codes.Code
	}{
		{"no request", &mandatev1.AuthorizeRequest{Presentation: []byte("{}")}, codes.InvalidArgument},
		{"no presentation", &mandatev1.AuthorizeRequest{Request: &mandatev1.Request{Action: "a:b", Resource: "r"}}, codes.InvalidArgument},
		{"unknown format", &mandatev1.AuthorizeRequest{Presentation: []byte("{}"), Format: "jwt", Request: &mandatev1.Request{Action: "a:b", Resource: "r"}}, codes.InvalidArgument},
		{"too large", &mandatev1.AuthorizeRequest{Presentation: make([]byte, gatekeeper.MaxMessageBytes+1), Request: &mandatev1.Request{}}, codes.ResourceExhausted},
	}
	for _, c := range cases {
		_, err := rpc.Authorize(ctx, c.in)
		if status.Code(err) != c.code {
			t.Errorf("%s: code %v (%v), want %v", c.name, status.Code(err), err, c.code)
		}
	}
	// Garbage that gets past input checks is a DENY MALFORMED, not an error.
	r, err := rpc.Authorize(ctx, &mandatev1.AuthorizeRequest{Presentation: []byte("{"), Request: &mandatev1.Request{Action: "a:b", Resource: "r"}})
	if err != nil || r.GetDecision() != mandatev1.Decision_DECISION_DENY || len(r.GetReasons()) != 1 || r.GetReasons()[0] != "MALFORMED" {
		t.Fatalf("garbage: %v, %v", r, err)
	}
}

func TestHealth(t *testing.T) {
	r, err := healthpb.NewHealthClient(dial(t)).Check(context.Background(), &healthpb.HealthCheckRequest{Service: "mandate.v1.VerifierService"})
	if err != nil || r.GetStatus() != healthpb.HealthCheckResponse_SERVING {
		t.Fatalf("health: %v, %v", r, err)
	}
}

func TestFromProtoFailsClosed(t *testing.T) {
	cases := []*mandatev1.AuthorizeResponse{
		{},
		{Decision: mandatev1.Decision_DECISION_UNSPECIFIED},
		{Decision: mandatev1.Decision_DECISION_ALLOW, Reasons: []string{"FORBIDDEN"}},
		{Decision: mandatev1.Decision(99)},
	}
	for i, c := range cases {
		if d := gatekeeper.FromProto(c); d.Allowed() {
			t.Errorf("case %d: %v read as allowed", i, c)
		}
	}
}
