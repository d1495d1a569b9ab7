package gatekeeper_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dgraph-io/badger/v4"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/grpc/test/bufconn"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/mandate-dev/mandate/credentials"
	"github.com/mandate-dev/mandate/did"
	"github.com/mandate-dev/mandate/internal/testkeys"
	"github.com/mandate-dev/mandate/presentation"
	"github.com/mandate-dev/mandate/presentation/audit"
	"github.com/mandate-dev/mandate/presentation/gatekeeper"
	mandatev1 "github.com/mandate-dev/mandate/protos/mandate/v1"
)

// The protected test service, test.mail.v1.Mail, is written by hand over
// wrapperspb.StringValue (no .proto of its own).
const rpcService = "test.mail.v1.Mail"

func rpcMethod(name string) string { return "/" + rpcService + "/" + name }

const rpcAudience = "https://svc.example"

// mailMapper maps the Mail methods; Secret is registered on the server but
// deliberately left unmapped.
var rpcMapper = gatekeeper.MapMethods(map[string]gatekeeper.MethodMapper{
	rpcMethod("Read"): func(_ context.Context, _ string, req any) (presentation.Request, error) {
		in, ok := req.(*wrapperspb.StringValue)
		if !ok {
			return presentation.Request{}, fmt.Errorf("read takes a StringValue, not %T", req)
		}
		return presentation.Request{Action: "email:read", Resource: "mailbox:alice/" + in.GetValue()}, nil
	},
	rpcMethod("Send"): rpcFixed("email:send", "mailbox:alice/out", nil),
	rpcMethod("Pay"):  rpcFixed("pay:send", "account:alice/main", map[string]string{"payee": "bob"}),
	rpcMethod("Flag"): rpcFixed("email:flag", "mailbox:alice/inbox", nil),
	rpcMethod("List"): rpcFixed("email:list", "mailbox:alice/inbox", nil),
	rpcMethod("Put"):  rpcFixed("email:draft", "mailbox:alice/drafts", nil),
	rpcMethod("Chat"): rpcFixed("email:read", "mailbox:alice/chat", nil),
})

func rpcFixed(action, resource string, ctx map[string]string) gatekeeper.MethodMapper {
	return func(context.Context, string, any) (presentation.Request, error) {
		return presentation.Request{Action: action, Resource: resource, Context: ctx}, nil
	}
}

// ran is what a handler saw.
type rpcRan struct {
	method   string
	decision presentation.Decision
	decided  bool
	leaked   []string // mandate-* metadata keys that reached the handler
}

type rpcFixture struct {
	v      *presentation.Verifier
	root   *credentials.Credential
	holder gatekeeper.Holder
	lis    *bufconn.Listener
	calls  atomic.Int64 // calls the server saw, counted before the gatekeeper

	mu  sync.Mutex
	ran []rpcRan
}

type rpcOptions struct {
	remote bool                    // decide through a VerifierService (Remote) instead of Local
	mapper gatekeeper.MethodMapper // nil: rpcMapper
}

// newRPCVerifier is an in-memory verifier for rpcAudience trusting alice.
func newRPCVerifier(tb testing.TB) *presentation.Verifier {
	tb.Helper()
	db, err := badger.Open(badger.DefaultOptions("").WithInMemory(true).WithLogger(nil))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	v, err := presentation.New(presentation.Config{
		Audience: rpcAudience, Resolver: did.KeyResolver{}, TrustedRoots: []string{alice.DID()}, Store: db,
		Signer: testkeys.New("verifier"),
	})
	if err != nil {
		tb.Fatal(err)
	}
	return v
}

func newRPCFixture(t *testing.T, o rpcOptions) *rpcFixture {
	t.Helper()
	f := &rpcFixture{v: newRPCVerifier(t)}
	var err error
	f.root, err = credentials.Issue(alice, credentials.Template{
		Subject: agent.DID(), Purpose: "handle alice's mail",
		Grants: []credentials.Grant{
			{ID: "urn:mandate:grant:read", Action: "email:read", Resource: "mailbox:alice/*"},
			{ID: "urn:mandate:grant:list", Action: "email:list", Resource: "mailbox:alice/*"},
			{ID: "urn:mandate:grant:draft", Action: "email:draft", Resource: "mailbox:alice/*"},
			{ID: "urn:mandate:grant:flag", Action: "email:flag", Resource: "mailbox:alice/*",
				Constraints: credentials.Constraints{Rate: &credentials.Rate{Count: 1, Per: "PT1H"}}},
			{ID: "urn:mandate:grant:pay", Action: "pay:send", Resource: "account:alice/*",
				Constraints: credentials.Constraints{Approval: credentials.ApprovalRequired}},
		},
		Forbidden: []credentials.Forbidden{{Action: "email:send"}},
	}, credentials.IssueOptions{})
	if err != nil {
		t.Fatal(err)
	}
	f.holder = gatekeeper.Holder{Signer: agent, Held: presentation.Held{LDP: [][]*credentials.Credential{{f.root}}}}

	d := gatekeeper.Local(f.v)
	if o.remote {
		d = gatekeeper.Remote(mandatev1.NewVerifierServiceClient(rpcServeVerifier(t, f.v)))
	}
	m := rpcMapper
	if o.mapper != nil {
		m = o.mapper
	}
	f.lis = bufconn.Listen(4 << 20)
	srv := grpc.NewServer(
		// The bound the docs recommend: the metadata limits tests reach the interceptor through it.
		grpc.MaxHeaderListSize(gatekeeper.MaxMetadataBytes),
		grpc.ChainUnaryInterceptor(f.countUnary, gatekeeper.UnaryServerInterceptor(d, m, gatekeeper.ExemptMethods("/grpc.health.v1.Health/Check"))),
		grpc.ChainStreamInterceptor(f.countStream, gatekeeper.StreamServerInterceptor(d, m, gatekeeper.ExemptMethods("/grpc.health.v1.Health/Check"))),
	)
	srv.RegisterService(f.mailDesc(), nil)
	h := health.NewServer()
	healthpb.RegisterHealthServer(srv, h)
	go srv.Serve(f.lis)
	t.Cleanup(srv.Stop)
	return f
}

// serveVerifier serves v's VerifierService on its own bufconn.
func rpcServeVerifier(t *testing.T, v *presentation.Verifier) *grpc.ClientConn {
	t.Helper()
	lis := bufconn.Listen(4 << 20)
	srv := gatekeeper.NewGRPCServer(v)
	go srv.Serve(lis)
	t.Cleanup(srv.Stop)
	return rpcDial(t, lis)
}

func rpcDial(t *testing.T, lis *bufconn.Listener, opts ...grpc.DialOption) *grpc.ClientConn {
	t.Helper()
	opts = append(opts, grpc.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) { return lis.DialContext(ctx) }),
		grpc.WithTransportCredentials(insecure.NewCredentials()))
	conn, err := grpc.NewClient("passthrough:///bufnet", opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

// agentConn is the agent's conn: the client interceptors over p.
func (f *rpcFixture) agentConn(t *testing.T, p gatekeeper.Presenter, aud string) *grpc.ClientConn {
	return rpcDial(t, f.lis,
		grpc.WithChainUnaryInterceptor(gatekeeper.UnaryClientInterceptor(p, aud)),
		grpc.WithChainStreamInterceptor(gatekeeper.StreamClientInterceptor(p, aud)))
}

func (f *rpcFixture) countUnary(ctx context.Context, req any, _ *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
	f.calls.Add(1)
	return h(ctx, req)
}

func (f *rpcFixture) countStream(srv any, ss grpc.ServerStream, _ *grpc.StreamServerInfo, h grpc.StreamHandler) error {
	f.calls.Add(1)
	return h(srv, ss)
}

func (f *rpcFixture) saw(ctx context.Context, method string) {
	d, ok := gatekeeper.DecisionFrom(ctx)
	md, _ := metadata.FromIncomingContext(ctx)
	r := rpcRan{method: method, decision: d, decided: ok}
	for k := range md {
		if strings.HasPrefix(k, "mandate-") {
			r.leaked = append(r.leaked, k)
		}
	}
	f.mu.Lock()
	f.ran = append(f.ran, r)
	f.mu.Unlock()
}

func (f *rpcFixture) handled() []rpcRan {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.ran)
}

func (f *rpcFixture) mailDesc() *grpc.ServiceDesc {
	unary := func(name string) grpc.MethodDesc {
		return grpc.MethodDesc{MethodName: name, Handler: func(_ any, ctx context.Context, dec func(any) error, icpt grpc.UnaryServerInterceptor) (any, error) {
			in := new(wrapperspb.StringValue)
			if err := dec(in); err != nil {
				return nil, err
			}
			h := func(ctx context.Context, req any) (any, error) {
				f.saw(ctx, name)
				return wrapperspb.String(name + " " + req.(*wrapperspb.StringValue).GetValue()), nil
			}
			if icpt == nil {
				return h(ctx, in)
			}
			return icpt(ctx, in, &grpc.UnaryServerInfo{FullMethod: rpcMethod(name)}, h)
		}}
	}
	return &grpc.ServiceDesc{
		ServiceName: rpcService,
		HandlerType: (*any)(nil),
		Methods:     []grpc.MethodDesc{unary("Read"), unary("Send"), unary("Pay"), unary("Flag"), unary("Secret")},
		Streams: []grpc.StreamDesc{
			{StreamName: "List", ServerStreams: true, Handler: func(_ any, ss grpc.ServerStream) error {
				f.saw(ss.Context(), "List")
				in := new(wrapperspb.StringValue)
				if err := ss.RecvMsg(in); err != nil {
					return err
				}
				for i := range 3 {
					if err := ss.SendMsg(wrapperspb.String(fmt.Sprintf("%s %d", in.GetValue(), i))); err != nil {
						return err
					}
				}
				return nil
			}},
			{StreamName: "Chat", ClientStreams: true, ServerStreams: true, Handler: func(_ any, ss grpc.ServerStream) error {
				f.saw(ss.Context(), "Chat")
				for {
					in := new(wrapperspb.StringValue)
					err := ss.RecvMsg(in)
					if errors.Is(err, io.EOF) {
						return nil
					}
					if err != nil {
						return err
					}
					if err := ss.SendMsg(wrapperspb.String("re: " + in.GetValue())); err != nil {
						return err
					}
				}
			}},
			{StreamName: "Put", ClientStreams: true, Handler: func(_ any, ss grpc.ServerStream) error {
				f.saw(ss.Context(), "Put")
				var got []string
				for {
					in := new(wrapperspb.StringValue)
					err := ss.RecvMsg(in)
					if errors.Is(err, io.EOF) {
						return ss.SendMsg(wrapperspb.String(strings.Join(got, ",")))
					}
					if err != nil {
						return err
					}
					got = append(got, in.GetValue())
				}
			}},
		},
	}
}

func rpcCall(ctx context.Context, conn *grpc.ClientConn, method, value string, opts ...grpc.CallOption) (string, error) {
	out := new(wrapperspb.StringValue)
	err := conn.Invoke(ctx, rpcMethod(method), wrapperspb.String(value), out, opts...)
	return out.GetValue(), err
}

// list runs the server-streaming List and returns what it received.
func rpcList(ctx context.Context, conn *grpc.ClientConn, value string) ([]string, error) {
	s, err := conn.NewStream(ctx, &grpc.StreamDesc{ServerStreams: true}, rpcMethod("List"))
	if err != nil {
		return nil, err
	}
	if err := s.SendMsg(wrapperspb.String(value)); err != nil {
		return nil, err
	}
	if err := s.CloseSend(); err != nil {
		return nil, err
	}
	var got []string
	for {
		m := new(wrapperspb.StringValue)
		err := s.RecvMsg(m)
		if errors.Is(err, io.EOF) {
			return got, nil
		}
		if err != nil {
			return got, err
		}
		got = append(got, m.GetValue())
	}
}

// put runs the client-streaming Put.
func rpcPut(ctx context.Context, conn *grpc.ClientConn, values ...string) (string, error) {
	s, err := conn.NewStream(ctx, &grpc.StreamDesc{ClientStreams: true}, rpcMethod("Put"))
	if err != nil {
		return "", err
	}
	for _, v := range values {
		if err := s.SendMsg(wrapperspb.String(v)); err != nil {
			return "", err
		}
	}
	if err := s.CloseSend(); err != nil {
		return "", err
	}
	m := new(wrapperspb.StringValue)
	err = s.RecvMsg(m)
	return m.GetValue(), err
}

// wantRefused checks the code and the decision's reasons of a refused call.
func rpcRefused(t *testing.T, err error, code codes.Code, outcome presentation.Outcome, reasons ...presentation.Reason) presentation.Decision {
	t.Helper()
	if status.Code(err) != code {
		t.Fatalf("code %v (%v), want %v", status.Code(err), err, code)
	}
	d, ok := gatekeeper.ErrorDecision(err)
	if !ok || d.Outcome != outcome || !slices.Equal(d.Reasons, reasons) || d.Allowed() {
		t.Fatalf("decision %+v (%v), want %v %v", d, ok, outcome, reasons)
	}
	return d
}

func (f *rpcFixture) lastAudit(t *testing.T) audit.Record {
	t.Helper()
	recs, err := f.v.AuditLog().List(audit.Filter{})
	if err != nil || len(recs) == 0 {
		t.Fatalf("audit log: %d records, %v", len(recs), err)
	}
	return recs[len(recs)-1]
}

// TestInterceptorAllowsUnary: the agent's conn answers the challenge through
// the wallet; the handler runs once with the Decision, the intent is bound,
// no mandate-* metadata reaches the handler, and the ALLOW header names the
// audit record. Local and Remote deciders alike.
func TestInterceptorAllowsUnary(t *testing.T) {
	for _, remote := range []bool{false, true} {
		t.Run(fmt.Sprintf("remote=%v", remote), func(t *testing.T) {
			f := newRPCFixture(t, rpcOptions{remote: remote})
			conn := f.agentConn(t, f.holder, rpcAudience)
			ctx := gatekeeper.WithIntent(context.Background(), "triage the inbox")
			var header metadata.MD
			got, err := rpcCall(ctx, conn, "Read", "inbox", grpc.Header(&header))
			if err != nil || got != "Read inbox" {
				t.Fatalf("read: %q, %v", got, err)
			}
			if n := f.calls.Load(); n != 2 {
				t.Fatalf("server saw %d calls, want 2 (challenge, then the presentation)", n)
			}
			h := f.handled()
			if len(h) != 1 || h[0].method != "Read" || !h[0].decided || len(h[0].leaked) != 0 {
				t.Fatalf("handled: %+v", h)
			}
			d := h[0].decision
			if !d.Allowed() || d.Principal != alice.DID() || d.Actor != agent.DID() || d.Grant != "urn:mandate:grant:read" || d.AuditID == "" {
				t.Fatalf("decision in the handler: %+v", d)
			}
			if v := header.Get(gatekeeper.MetadataDecision); !slices.Equal(v, []string{"ALLOW"}) {
				t.Fatalf("decision header %v", v)
			}
			if v := header.Get(gatekeeper.MetadataAuditID); !slices.Equal(v, []string{d.AuditID}) {
				t.Fatalf("audit header %v, want %s", v, d.AuditID)
			}
			if r := f.lastAudit(t); r.Decision != "ALLOW" || r.Action != "email:read" || r.Resource != "mailbox:alice/inbox" || r.Intent != "triage the inbox" {
				t.Fatalf("audit record %+v", r)
			}
		})
	}
}

// TestInterceptorAllowsStreams: server-streaming, client-streaming and
// bidirectional calls are challenged, presented for and let through before
// the caller sends.
func TestInterceptorAllowsStreams(t *testing.T) {
	f := newRPCFixture(t, rpcOptions{})
	conn := f.agentConn(t, f.holder, rpcAudience)
	ctx := context.Background()
	got, err := rpcList(ctx, conn, "inbox")
	if err != nil || !slices.Equal(got, []string{"inbox 0", "inbox 1", "inbox 2"}) {
		t.Fatalf("list: %q, %v", got, err)
	}
	sum, err := rpcPut(ctx, conn, "draft 1", "draft 2")
	if err != nil || sum != "draft 1,draft 2" {
		t.Fatalf("put: %q, %v", sum, err)
	}
	// Bidirectional: the caller's first message goes out only once the call is admitted.
	s, err := conn.NewStream(ctx, &grpc.StreamDesc{ClientStreams: true, ServerStreams: true}, rpcMethod("Chat"))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.SendMsg(wrapperspb.String("hi")); err != nil {
		t.Fatal(err)
	}
	m := new(wrapperspb.StringValue)
	if err := s.RecvMsg(m); err != nil || m.GetValue() != "re: hi" {
		t.Fatalf("chat: %q, %v", m.GetValue(), err)
	}
	if err := s.CloseSend(); err != nil {
		t.Fatal(err)
	}
	if err := s.RecvMsg(m); !errors.Is(err, io.EOF) {
		t.Fatalf("chat end: %v", err)
	}
	if n := f.calls.Load(); n != 6 {
		t.Fatalf("server saw %d calls, want 6", n)
	}
	h := f.handled()
	if len(h) != 3 || h[0].method != "List" || h[1].method != "Put" || h[2].method != "Chat" {
		t.Fatalf("handled: %+v", h)
	}
	for i, grant := range []string{"urn:mandate:grant:list", "urn:mandate:grant:draft", "urn:mandate:grant:read"} {
		if !h[i].decided || !h[i].decision.Allowed() || h[i].decision.Grant != grant || len(h[i].leaked) != 0 {
			t.Fatalf("%s: %+v", h[i].method, h[i])
		}
	}
}

// challengeOf returns the challenge and request details of a refusal.
func rpcChallenge(t *testing.T, err error) (*mandatev1.ChallengeResponse, *mandatev1.Request) {
	t.Helper()
	st, _ := status.FromError(err)
	if st.Code() != codes.Unauthenticated {
		t.Fatalf("code %v (%v), want Unauthenticated", st.Code(), err)
	}
	var ch *mandatev1.ChallengeResponse
	var r *mandatev1.Request
	for _, d := range st.Details() {
		switch d := d.(type) {
		case *mandatev1.ChallengeResponse:
			ch = d
		case *mandatev1.Request:
			r = d
		default:
			t.Fatalf("unexpected detail %T", d)
		}
	}
	if ch == nil || r == nil || len(st.Details()) != 2 {
		t.Fatalf("details %v", st.Details())
	}
	return ch, r
}

// TestInterceptorChallenges: a call without a presentation is refused with
// Unauthenticated carrying a fresh challenge and exactly the mapped request;
// the handler never runs and nothing is decided.
func TestInterceptorChallenges(t *testing.T) {
	f := newRPCFixture(t, rpcOptions{})
	raw := rpcDial(t, f.lis)
	ctx := metadata.AppendToOutgoingContext(context.Background(), gatekeeper.MetadataIntent, "triage the inbox")
	before := time.Now()
	_, err := rpcCall(ctx, raw, "Read", "inbox")
	ch, r := rpcChallenge(t, err)
	if ch.GetNonce() == "" || ch.GetAudience() != rpcAudience || !slices.Equal(ch.GetFormats(), []string{"ldp"}) ||
		!ch.GetExpiresAt().AsTime().After(before) {
		t.Fatalf("challenge %v", ch)
	}
	if r.GetAction() != "email:read" || r.GetResource() != "mailbox:alice/inbox" || r.GetIntent() != "triage the inbox" || len(r.GetContext()) != 0 {
		t.Fatalf("request %v", r)
	}
	_, err = rpcCall(context.Background(), raw, "Pay", "10")
	if _, r := rpcChallenge(t, err); r.GetAction() != "pay:send" || r.GetResource() != "account:alice/main" || r.GetContext()["payee"] != "bob" || len(r.GetContext()) != 1 {
		t.Fatalf("pay request %v", r)
	}
	_, err = rpcList(context.Background(), raw, "inbox")
	if _, r := rpcChallenge(t, err); r.GetAction() != "email:list" || r.GetResource() != "mailbox:alice/inbox" {
		t.Fatalf("list request %v", r)
	}
	_, err = rpcPut(context.Background(), raw, "draft")
	if _, r := rpcChallenge(t, err); r.GetAction() != "email:draft" || r.GetResource() != "mailbox:alice/drafts" {
		t.Fatalf("put request %v", r)
	}
	if h := f.handled(); len(h) != 0 {
		t.Fatalf("handlers ran: %+v", h)
	}
	if recs, _ := f.v.AuditLog().List(audit.Filter{}); len(recs) != 0 {
		t.Fatalf("a challenge is no decision: %d audit records", len(recs))
	}
}

// presentFor asks for a challenge on raw with method and value, has the
// holder present for the request the server names, and returns the
// metadata of the presentation.
func (f *rpcFixture) presentFor(t *testing.T, raw *grpc.ClientConn, method, value string) []string {
	t.Helper()
	_, err := rpcCall(context.Background(), raw, method, value)
	ch, r := rpcChallenge(t, err)
	format, vp, err := f.holder.Present(context.Background(),
		presentation.Challenge{Nonce: ch.GetNonce(), Audience: ch.GetAudience(), ExpiresAt: ch.GetExpiresAt().AsTime(), Formats: ch.GetFormats()},
		presentation.Request{Action: r.GetAction(), Resource: r.GetResource(), Intent: r.GetIntent(), Context: r.GetContext()})
	if err != nil {
		t.Fatal(err)
	}
	return []string{gatekeeper.MetadataPresentation, string(vp), gatekeeper.MetadataFormat, format}
}

// TestInterceptorBindsTheRequest: a presentation made for one call is
// refused for another method, another resource and a stream (bound to
// another request digest), and for the same call a second time (REPLAY).
func TestInterceptorBindsTheRequest(t *testing.T) {
	f := newRPCFixture(t, rpcOptions{})
	raw := rpcDial(t, f.lis)
	with := func(kv []string) context.Context {
		return metadata.AppendToOutgoingContext(context.Background(), kv...)
	}

	_, err := rpcCall(with(f.presentFor(t, raw, "Read", "inbox")), raw, "Send", "hello")
	rpcRefused(t, err, codes.PermissionDenied, presentation.Deny, presentation.ReasonRequestMismatch)
	_, err = rpcCall(with(f.presentFor(t, raw, "Read", "inbox")), raw, "Read", "spam")
	rpcRefused(t, err, codes.PermissionDenied, presentation.Deny, presentation.ReasonRequestMismatch)
	_, err = rpcList(with(f.presentFor(t, raw, "Read", "inbox")), raw, "inbox")
	rpcRefused(t, err, codes.PermissionDenied, presentation.Deny, presentation.ReasonRequestMismatch)
	// The intent is part of the request: another one than presented is another request.
	ctx := metadata.AppendToOutgoingContext(with(f.presentFor(t, raw, "Read", "inbox")), gatekeeper.MetadataIntent, "something else")
	_, err = rpcCall(ctx, raw, "Read", "inbox")
	rpcRefused(t, err, codes.PermissionDenied, presentation.Deny, presentation.ReasonRequestMismatch)

	kv := f.presentFor(t, raw, "Read", "inbox")
	if got, err := rpcCall(with(kv), raw, "Read", "inbox"); err != nil || got != "Read inbox" {
		t.Fatalf("presented call: %q, %v", got, err)
	}
	_, err = rpcCall(with(kv), raw, "Read", "inbox")
	rpcRefused(t, err, codes.PermissionDenied, presentation.Deny, presentation.ReasonReplay)
	if h := f.handled(); len(h) != 1 {
		t.Fatalf("handlers ran %d times, want 1: %+v", len(h), h)
	}
}

// TestInterceptorRefusals: every outcome but ALLOW has its code and its
// decision in the details; the agent's interceptor retries exactly once.
func TestInterceptorRefusals(t *testing.T) {
	f := newRPCFixture(t, rpcOptions{})
	conn := f.agentConn(t, f.holder, rpcAudience)
	ctx := context.Background()

	_, err := rpcCall(ctx, conn, "Send", "hello")
	rpcRefused(t, err, codes.PermissionDenied, presentation.Deny, presentation.ReasonForbidden)
	if n := f.calls.Swap(0); n != 2 {
		t.Fatalf("forbidden: server saw %d calls, want 2", n)
	}

	_, err = rpcCall(ctx, conn, "Pay", "10")
	d := rpcRefused(t, err, codes.FailedPrecondition, presentation.NeedsApproval, presentation.ReasonApprovalRequired)
	pending, perr := f.v.PendingApprovals()
	if perr != nil || len(pending) != 1 || d.ApprovalID == "" || d.ApprovalID != pending[0].ID {
		t.Fatalf("approval id %q, pending %+v (%v)", d.ApprovalID, pending, perr)
	}
	// Alice approves; the call made again with her answer (WithApproval) goes through.
	token, err := presentation.SignAnswer(alice, pending[0], true, time.Minute, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.v.Answer(ctx, d.ApprovalID, token); err != nil {
		t.Fatal(err)
	}
	if got, err := rpcCall(gatekeeper.WithApproval(ctx, token), conn, "Pay", "10"); err != nil || got != "Pay 10" {
		t.Fatalf("approved pay: %q, %v", got, err)
	}
	f.calls.Store(0)

	if _, err := rpcCall(ctx, conn, "Flag", "1"); err != nil {
		t.Fatalf("first flag: %v", err)
	}
	_, err = rpcCall(ctx, conn, "Flag", "2")
	if d := rpcRefused(t, err, codes.ResourceExhausted, presentation.Deny, presentation.ReasonRateLimited); d.RetryAt.IsZero() {
		t.Fatalf("rate limited without RetryAt: %+v", d)
	}
	f.calls.Store(0)

	// Unmapped: refused at once (no challenge, no retry) and recorded.
	_, err = rpcCall(ctx, conn, "Secret", "x")
	rpcRefused(t, err, codes.PermissionDenied, presentation.Deny, presentation.ReasonUnmapped)
	if n := f.calls.Load(); n != 1 {
		t.Fatalf("unmapped: server saw %d calls, want 1", n)
	}
	if r := f.lastAudit(t); r.Decision != "DENY" || !slices.Equal(r.Reasons, []string{"UNMAPPED"}) || !strings.Contains(r.Message, rpcMethod("Secret")) {
		t.Fatalf("unmapped audit record %+v", r)
	}
	if h := f.handled(); len(h) != 2 || h[0].method != "Pay" || h[1].method != "Flag" {
		t.Fatalf("handlers: %+v", h)
	}
}

// TestInterceptorExempt: only the named method passes without a
// presentation; the rest of the same service is unmapped.
func TestInterceptorExempt(t *testing.T) {
	f := newRPCFixture(t, rpcOptions{})
	hc := healthpb.NewHealthClient(rpcDial(t, f.lis))
	if r, err := hc.Check(context.Background(), &healthpb.HealthCheckRequest{}); err != nil || r.GetStatus() != healthpb.HealthCheckResponse_SERVING {
		t.Fatalf("exempt check: %v, %v", r, err)
	}
	_, err := hc.List(context.Background(), &healthpb.HealthListRequest{})
	rpcRefused(t, err, codes.PermissionDenied, presentation.Deny, presentation.ReasonUnmapped)
}

// TestInterceptorMetadataLimits: malformed or oversized gatekeeper metadata
// is refused before any verification, recorded MALFORMED.
func TestInterceptorMetadataLimits(t *testing.T) {
	f := newRPCFixture(t, rpcOptions{})
	raw := rpcDial(t, f.lis)
	vp := f.presentFor(t, raw, "Read", "inbox")[1]
	cases := []struct {
		name string
		kv   []string
		code codes.Code
	}{
		{"presentation too large", []string{gatekeeper.MetadataPresentation, strings.Repeat("x", presentation.MaxPresentationBytes+1), gatekeeper.MetadataFormat, "ldp"}, codes.ResourceExhausted},
		{"intent too long", []string{gatekeeper.MetadataIntent, strings.Repeat("i", presentation.MaxIntentBytes+1)}, codes.ResourceExhausted},
		{"approval too large", []string{gatekeeper.MetadataPresentation, vp, gatekeeper.MetadataFormat, "ldp", gatekeeper.MetadataApproval, strings.Repeat("a", presentation.MaxAnswerBytes+1)}, codes.ResourceExhausted},
		{"format too long", []string{gatekeeper.MetadataPresentation, vp, gatekeeper.MetadataFormat, strings.Repeat("f", 17)}, codes.ResourceExhausted},
		{"two presentations", []string{gatekeeper.MetadataPresentation, vp, gatekeeper.MetadataPresentation, vp, gatekeeper.MetadataFormat, "ldp"}, codes.InvalidArgument},
		{"unknown format", []string{gatekeeper.MetadataPresentation, vp, gatekeeper.MetadataFormat, "jwt"}, codes.InvalidArgument},
		{"no format", []string{gatekeeper.MetadataPresentation, vp}, codes.InvalidArgument},
		{"intent not utf-8", []string{gatekeeper.MetadataIntent, "\xff\xfe"}, codes.InvalidArgument},
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := rpcCall(metadata.AppendToOutgoingContext(context.Background(), c.kv...), raw, "Read", "inbox")
			rpcRefused(t, err, c.code, presentation.Deny, presentation.ReasonMalformed)
			recs, _ := f.v.AuditLog().List(audit.Filter{})
			if len(recs) != i+1 || !slices.Equal(recs[i].Reasons, []string{"MALFORMED"}) || recs[i].Resource != "mailbox:alice/inbox" {
				t.Fatalf("audit records %+v", recs)
			}
		})
	}
	if h := f.handled(); len(h) != 0 {
		t.Fatalf("handlers ran: %+v", h)
	}
}

// TestInterceptorFailsClosed: a verifier that cannot be reached, or cannot
// decide, is Unavailable, never a call let through.
func TestInterceptorFailsClosed(t *testing.T) {
	f := newRPCFixture(t, rpcOptions{})
	raw := rpcDial(t, f.lis)
	// A known format this verifier does not accept: the call's own fault,
	// InvalidArgument MALFORMED and recorded (gatekeeper.ErrInvalidPresentation).
	kv := f.presentFor(t, raw, "Read", "inbox")
	kv[3] = presentation.FormatSDJWT
	_, err := rpcCall(metadata.AppendToOutgoingContext(context.Background(), kv...), raw, "Read", "inbox")
	rpcRefused(t, err, codes.InvalidArgument, presentation.Deny, presentation.ReasonMalformed)
	if recs, _ := f.v.AuditLog().List(audit.Filter{}); len(recs) != 1 || !slices.Equal(recs[0].Reasons, []string{"MALFORMED"}) {
		t.Fatalf("audit records %+v", recs)
	}

	// A Remote decider whose verifier is gone: no challenge, Unavailable.
	vconn := rpcServeVerifier(t, f.v)
	lis := bufconn.Listen(1 << 20)
	d := gatekeeper.Remote(mandatev1.NewVerifierServiceClient(vconn))
	srv := grpc.NewServer(grpc.UnaryInterceptor(gatekeeper.UnaryServerInterceptor(d, rpcMapper)))
	srv.RegisterService(f.mailDesc(), nil)
	go srv.Serve(lis)
	t.Cleanup(srv.Stop)
	vconn.Close()
	_, err = rpcCall(context.Background(), f.agentConnOn(t, lis), "Read", "inbox")
	if status.Code(err) != codes.Unavailable {
		t.Fatalf("verifier gone: %v, want Unavailable", err)
	}
	if h := f.handled(); len(h) != 0 {
		t.Fatalf("handlers ran: %+v", h)
	}
}

func (f *rpcFixture) agentConnOn(t *testing.T, lis *bufconn.Listener) *grpc.ClientConn {
	return rpcDial(t, lis, grpc.WithUnaryInterceptor(gatekeeper.UnaryClientInterceptor(f.holder, rpcAudience)))
}

// countingPresenter counts its calls and presents what it is given to.
type rpcCountingPresenter struct {
	p     gatekeeper.Presenter
	calls atomic.Int64
}

func (c *rpcCountingPresenter) Present(ctx context.Context, ch presentation.Challenge, r presentation.Request) (string, []byte, error) {
	c.calls.Add(1)
	if c.p == nil {
		return presentation.FormatLDP, nil, nil // an empty presentation: the server challenges again
	}
	return c.p.Present(ctx, ch, r)
}

// TestClientInterceptorRetriesOnce: a retry that is challenged again is not
// retried; a challenge for another audience is not presented to; a wallet
// error ends the call.
func TestClientInterceptorRetriesOnce(t *testing.T) {
	f := newRPCFixture(t, rpcOptions{})
	ctx := context.Background()

	empty := &rpcCountingPresenter{}
	_, err := rpcCall(ctx, f.agentConn(t, empty, rpcAudience), "Read", "inbox")
	rpcChallenge(t, err)
	if n, p := f.calls.Swap(0), empty.calls.Load(); n != 2 || p != 1 {
		t.Fatalf("unary: %d calls, %d presentations; want 2, 1", n, p)
	}
	empty.calls.Store(0)
	_, err = rpcList(ctx, f.agentConn(t, empty, rpcAudience), "inbox")
	rpcChallenge(t, err)
	if n, p := f.calls.Swap(0), empty.calls.Load(); n != 2 || p != 1 {
		t.Fatalf("stream: %d calls, %d presentations; want 2, 1", n, p)
	}

	other := &rpcCountingPresenter{p: f.holder}
	_, err = rpcCall(ctx, f.agentConn(t, other, "https://other.example"), "Read", "inbox")
	if status.Code(err) != codes.Unauthenticated || !strings.Contains(err.Error(), `challenge is for audience "https://svc.example"`) {
		t.Fatalf("other audience: %v", err)
	}
	if n, p := f.calls.Swap(0), other.calls.Load(); n != 1 || p != 0 {
		t.Fatalf("other audience: %d calls, %d presentations; want 1, 0", n, p)
	}
	_, err = rpcCall(ctx, f.agentConn(t, other, ""), "Read", "inbox")
	if status.Code(err) != codes.Unauthenticated || !strings.Contains(err.Error(), "no audience") {
		t.Fatalf("no audience: %v", err)
	}

	broken := gatekeeper.Holder{Signer: agent} // holds no chain at all
	_, err = rpcCall(ctx, f.agentConn(t, broken, rpcAudience), "Read", "inbox")
	if status.Code(err) != codes.Unauthenticated || !strings.Contains(err.Error(), "the wallet presents nothing for email:read on mailbox:alice/inbox") {
		t.Fatalf("empty wallet: %v", err)
	}
}

// TestInterceptorMapperPanics: a mapper that panics (here on a stream's nil
// request) maps nothing: UNMAPPED, and the server lives on.
func TestInterceptorMapperPanics(t *testing.T) {
	v := newRPCVerifier(t)
	mapper := func(_ context.Context, _ string, req any) (presentation.Request, error) {
		return presentation.Request{Action: "email:read", Resource: "mailbox:alice/" + req.(*wrapperspb.StringValue).GetValue()}, nil
	}
	f := &rpcFixture{v: v}
	lis := bufconn.Listen(1 << 20)
	srv := grpc.NewServer(grpc.StreamInterceptor(gatekeeper.StreamServerInterceptor(gatekeeper.Local(v), mapper)))
	srv.RegisterService(f.mailDesc(), nil)
	go srv.Serve(lis)
	t.Cleanup(srv.Stop)
	raw := rpcDial(t, lis)
	for range 2 {
		_, err := rpcList(context.Background(), raw, "inbox")
		rpcRefused(t, err, codes.PermissionDenied, presentation.Deny, presentation.ReasonUnmapped)
		if !strings.Contains(status.Convert(err).Message(), "the method mapper panicked") {
			t.Fatalf("message: %v", err)
		}
	}
	if h := f.handled(); len(h) != 0 {
		t.Fatalf("handlers ran: %+v", h)
	}
}
