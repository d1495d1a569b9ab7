package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"path/filepath"
	"strings"

	"github.com/dgraph-io/badger/v4"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/mandate-dev/mandate/credentials"
	"github.com/mandate-dev/mandate/did"
	"github.com/mandate-dev/mandate/internal/testkeys"
	"github.com/mandate-dev/mandate/presentation"
	"github.com/mandate-dev/mandate/presentation/gatekeeper"
	mandatev1 "github.com/mandate-dev/mandate/protos/mandate/v1"
	"github.com/mandate-dev/mandate/wallet"
	"github.com/mandate-dev/mandate/wallet/holder"
)

// audience is the mail service's verifier; the agent presents to no other.
const audience = "https://mail.example"

// passphrase of the example's throw-away wallets.
var passphrase = []byte("correct horse battery staple")

// Step is one call of the story and its outcome.
type Step struct {
	Name     string
	Method   string
	Expected string // "ALLOW" or "DENY <REASON>"
	Got      string
	Detail   string
}

// OK reports whether the call ended as expected.
func (s Step) OK() bool { return s.Got == s.Expected }

// Story is what Run saw: the calls, and the agent wallet's own log of what
// it presented.
type Story struct {
	Steps     []Step
	WalletLog []wallet.LogEntry
}

// Run plays the example in dir: the principal's and the agent's wallets, the
// wallet service on a Unix socket, the mail service on loopback, and the
// agent, which reaches both only by their addresses.
func Run(ctx context.Context, dir string) (Story, error) {
	agentWallet, err := setUpWallets(dir)
	if err != nil {
		return Story{}, err
	}
	defer agentWallet.Close()

	// `mandate serve wallet`: the only process that holds the agent's keys.
	socket := filepath.Join(dir, "run", "wallet.sock")
	wlis, err := holder.Listen(socket)
	if err != nil {
		return Story{}, err
	}
	wsrv := holder.NewGRPCServer(agentWallet, nil, nil)
	go wsrv.Serve(wlis)
	defer wsrv.Stop()

	principal, err := principalDID(dir)
	if err != nil {
		return Story{}, err
	}
	addr, stop, err := serveMailbox(filepath.Join(dir, "verifier"), principal)
	if err != nil {
		return Story{}, err
	}
	defer stop()

	steps, err := runAgent(ctx, socket, addr)
	if err != nil {
		return Story{}, err
	}
	log, err := agentWallet.Entries()
	return Story{Steps: steps, WalletLog: log}, err
}

// setUpWallets creates the principal's wallet, which issues the agent a
// Power of Attorney, and the agent's wallet, which stores it.
func setUpWallets(dir string) (*wallet.Wallet, error) {
	fast := wallet.WithKDFParams(1, 64, 1) // a quick Argon2id for a demo; real wallets keep the default
	alice, err := wallet.Create(filepath.Join(dir, "alice"), passphrase, fast)
	if err != nil {
		return nil, err
	}
	defer alice.Close()
	agent, err := wallet.Create(filepath.Join(dir, "agent"), passphrase, fast)
	if err != nil {
		return nil, err
	}
	root, err := credentials.Issue(alice, credentials.Template{
		Subject: agent.DID(), Purpose: "keep alice's inbox in order",
		Grants: []credentials.Grant{
			{ID: "urn:mandate:grant:read", Action: "email:read", Resource: "mailbox:alice/*"},
			{ID: "urn:mandate:grant:list", Action: "email:list", Resource: "mailbox:alice/*"},
		},
		Forbidden: []credentials.Forbidden{{Action: "email:send"}},
	}, credentials.IssueOptions{})
	if err == nil {
		var chain []byte
		if chain, err = credentials.EncodeChain([]*credentials.Credential{root}); err == nil {
			err = agent.PutChain("mail", chain) // `mandate wallet import`
		}
	}
	if err != nil {
		agent.Close()
		return nil, err
	}
	return agent, nil
}

// principalDID reads alice's DID back from her wallet (closed again: the
// service needs only her DID, as a trusted root).
func principalDID(dir string) (string, error) {
	w, err := wallet.Open(filepath.Join(dir, "alice"), passphrase)
	if err != nil {
		return "", err
	}
	defer w.Close()
	return w.DID(), nil
}

// serveMailbox starts the mail service on loopback, protected by the
// interceptors over an in-process verifier that trusts principal's roots.
func serveMailbox(dbDir, principal string) (addr string, stop func(), err error) {
	db, err := badger.Open(badger.DefaultOptions(dbDir).WithLogger(nil))
	if err != nil {
		return "", nil, err
	}
	v, err := presentation.New(presentation.Config{
		Audience: audience, Resolver: did.KeyResolver{}, TrustedRoots: []string{principal}, Store: db,
		Signer: testkeys.New("mail verifier"), // signs the audit log; a real service keeps this key in its own wallet
	})
	if err != nil {
		db.Close()
		return "", nil, err
	}
	d := gatekeeper.Local(v)
	srv := grpc.NewServer(
		grpc.ChainUnaryInterceptor(gatekeeper.UnaryServerInterceptor(d, mapper)),
		grpc.ChainStreamInterceptor(gatekeeper.StreamServerInterceptor(d, mapper)),
	)
	srv.RegisterService(mailboxDesc(), nil)
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		db.Close()
		return "", nil, err
	}
	go srv.Serve(lis)
	return lis.Addr().String(), func() { srv.Stop(); db.Close() }, nil
}

// runAgent is the agent's process: it knows the wallet's socket and the
// service's address, and never opens the wallet or holds a key.
func runAgent(ctx context.Context, socket, addr string) ([]Step, error) {
	w, err := holder.Dial(socket)
	if err != nil {
		return nil, err
	}
	defer w.Close()
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithChainUnaryInterceptor(gatekeeper.UnaryClientInterceptor(w, audience)),
		grpc.WithChainStreamInterceptor(gatekeeper.StreamClientInterceptor(w, audience)))
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	// A conn without the interceptors, for the agent that misuses a presentation.
	raw, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		return nil, err
	}
	defer raw.Close()
	ctx = gatekeeper.WithIntent(ctx, "find the invoice alice asked about")

	var steps []Step
	var header metadata.MD
	reply, err := call(ctx, conn, "Read", "inbox", grpc.Header(&header))
	steps = append(steps, Step{Name: "read the inbox", Method: "Read", Expected: "ALLOW", Got: outcome(err),
		Detail: detail(reply+", audit record "+strings.Join(header.Get(gatekeeper.MetadataAuditID), ""), err)})

	subjects, err := list(ctx, conn, "inbox")
	steps = append(steps, Step{Name: "list the inbox (a server stream)", Method: "List", Expected: "ALLOW", Got: outcome(err),
		Detail: detail(strings.Join(subjects, "; "), err)})

	_, err = call(ctx, conn, "Send", "the invoice is paid")
	steps = append(steps, Step{Name: "send a mail", Method: "Send", Expected: "DENY FORBIDDEN", Got: outcome(err), Detail: detail("", err)})

	// Misuse: a presentation the wallet made for Read, sent with Send.
	kv, err := presentFor(ctx, raw, w, "Read", "inbox")
	if err != nil {
		return nil, err
	}
	_, err = call(metadata.AppendToOutgoingContext(ctx, kv...), raw, "Send", "the invoice is paid")
	steps = append(steps, Step{Name: "a presentation for Read, used to Send", Method: "Send", Expected: "DENY REQUEST_MISMATCH", Got: outcome(err), Detail: detail("", err)})

	// Misuse: one presentation, two calls.
	if kv, err = presentFor(ctx, raw, w, "Read", "inbox"); err != nil {
		return nil, err
	}
	first, err := call(metadata.AppendToOutgoingContext(ctx, kv...), raw, "Read", "inbox")
	if err != nil {
		return nil, fmt.Errorf("the first use of a presentation: %w", err)
	}
	_, err = call(metadata.AppendToOutgoingContext(ctx, kv...), raw, "Read", "inbox")
	steps = append(steps, Step{Name: "the same presentation twice", Method: "Read", Expected: "DENY REPLAY", Got: outcome(err),
		Detail: detail("", err) + " (the first use: " + first + ")"})
	return steps, nil
}

// presentFor does by hand what the client interceptor does: a call with no
// presentation, the challenge it is refused with, the wallet's presentation
// for the request the server named. It returns the presentation's metadata.
func presentFor(ctx context.Context, raw *grpc.ClientConn, w gatekeeper.Presenter, name, arg string) ([]string, error) {
	_, err := call(metadata.AppendToOutgoingContext(ctx, gatekeeper.MetadataIntent, gatekeeper.IntentFrom(ctx)), raw, name, arg)
	st, _ := status.FromError(err)
	var ch presentation.Challenge
	var req presentation.Request
	for _, d := range st.Details() {
		switch d := d.(type) {
		case *mandatev1.ChallengeResponse:
			ch = presentation.Challenge{Nonce: d.GetNonce(), Audience: d.GetAudience(), ExpiresAt: d.GetExpiresAt().AsTime(), Formats: d.GetFormats()}
		case *mandatev1.Request:
			req = presentation.Request{Action: d.GetAction(), Resource: d.GetResource(), Intent: d.GetIntent(), Context: d.GetContext()}
		}
	}
	if ch.Nonce == "" || req.Action == "" {
		return nil, fmt.Errorf("no challenge for %s: %w", name, err)
	}
	format, vp, err := w.Present(ctx, ch, req)
	if err != nil {
		return nil, err
	}
	return []string{gatekeeper.MetadataPresentation, string(vp), gatekeeper.MetadataFormat, format,
		gatekeeper.MetadataIntent, req.Intent}, nil
}

func call(ctx context.Context, conn *grpc.ClientConn, name, arg string, opts ...grpc.CallOption) (string, error) {
	out := new(wrapperspb.StringValue)
	err := conn.Invoke(ctx, method(name), wrapperspb.String(arg), out, opts...)
	return out.GetValue(), err
}

func list(ctx context.Context, conn *grpc.ClientConn, folder string) ([]string, error) {
	s, err := conn.NewStream(ctx, &grpc.StreamDesc{ServerStreams: true}, method("List"))
	if err != nil {
		return nil, err
	}
	if err := s.SendMsg(wrapperspb.String(folder)); err != nil {
		return nil, err
	}
	if err := s.CloseSend(); err != nil {
		return nil, err
	}
	var got []string
	for {
		m := new(wrapperspb.StringValue)
		if err := s.RecvMsg(m); errors.Is(err, io.EOF) {
			return got, nil
		} else if err != nil {
			return got, err
		}
		got = append(got, m.GetValue())
	}
}

// outcome is "ALLOW" for a call that went through, "DENY <REASONS>" for a
// refusal with its decision, and the gRPC code otherwise.
func outcome(err error) string {
	if err == nil {
		return "ALLOW"
	}
	if d, ok := gatekeeper.ErrorDecision(err); ok {
		s := d.Outcome.String()
		for _, r := range d.Reasons {
			s += " " + string(r)
		}
		return s
	}
	return "ERROR " + status.Code(err).String()
}

func detail(ok string, err error) string {
	if err == nil {
		return ok
	}
	if d, found := gatekeeper.ErrorDecision(err); found {
		return fmt.Sprintf("%s (audit record %s)", d.Message, d.AuditID)
	}
	return status.Convert(err).Message()
}
