package holder_test

import (
	"context"
	"errors"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dgraph-io/badger/v4"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/mandate-dev/mandate/credentials"
	"github.com/mandate-dev/mandate/did"
	"github.com/mandate-dev/mandate/internal/testkeys"
	"github.com/mandate-dev/mandate/presentation"
	"github.com/mandate-dev/mandate/presentation/gatekeeper"
	mandatev1 "github.com/mandate-dev/mandate/protos/mandate/v1"
	"github.com/mandate-dev/mandate/wallet"
	"github.com/mandate-dev/mandate/wallet/holder"
)

var _ gatekeeper.Presenter = (*holder.Client)(nil)

var (
	alice    = testkeys.New("alice")
	blsAlice = testkeys.NewBLS("alice")
)

var (
	read = presentation.Request{Action: "email:read", Resource: "mailbox:alice/inbox", Intent: "summarise the inbox"}
	send = presentation.Request{Action: "email:send", Resource: "mailbox:alice/out"}
	cal  = presentation.Request{Action: "calendar:read", Resource: "calendar:alice/work"}
)

// newWallet is a wallet in a temp dir holding Alice's LDP mail chain under
// the id "mail" (email:read on mailbox:alice/*, email:send forbidden).
func newWallet(t testing.TB) *wallet.Wallet {
	t.Helper()
	w, err := wallet.Create(filepath.Join(t.TempDir(), "w"), []byte("correct horse battery staple"), wallet.WithKDFParams(1, 64, 1))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Close() })
	root, err := credentials.Issue(alice, credentials.Template{
		Subject: w.DID(), Purpose: "read mail",
		Grants:    []credentials.Grant{{ID: "urn:mandate:grant:read", Action: "email:read", Resource: "mailbox:alice/*"}},
		Forbidden: []credentials.Forbidden{{Action: "email:send"}},
	}, credentials.IssueOptions{})
	if err != nil {
		t.Fatal(err)
	}
	putChain(t, w, "mail", []*credentials.Credential{root})
	return w
}

func putChain(t testing.TB, w *wallet.Wallet, id string, chain []*credentials.Credential) {
	t.Helper()
	enc, err := credentials.EncodeChain(chain)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.PutChain(id, enc); err != nil {
		t.Fatal(err)
	}
}

// serve runs the wallet service for w on a socket in a temp dir.
func serve(t testing.TB, w *wallet.Wallet) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "wallet.sock")
	lis, err := holder.Listen(path)
	if err != nil {
		t.Fatal(err)
	}
	srv := holder.NewGRPCServer(w, nil, nil)
	go srv.Serve(lis)
	t.Cleanup(srv.Stop)
	return path
}

func dial(t *testing.T, path string) *holder.Client {
	t.Helper()
	c, err := holder.Dial(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// verifier is a real verifier trusting Alice's keys, accepting formats.
func verifier(t *testing.T, formats ...string) *presentation.Verifier {
	t.Helper()
	db, err := badger.Open(badger.DefaultOptions("").WithInMemory(true).WithLogger(nil))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	v, err := presentation.New(presentation.Config{
		Audience: "https://mail.example.com", Resolver: did.KeyResolver{}, TrustedRoots: []string{alice.DID(), blsAlice.DID()},
		Store: db, Signer: testkeys.New("verifier"), Formats: formats,
	})
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// decide has the wallet present req for a fresh challenge of v and has v decide.
func decide(t *testing.T, c *holder.Client, v *presentation.Verifier, req presentation.Request) (presentation.Decision, string) {
	t.Helper()
	ctx := context.Background()
	d := gatekeeper.Local(v)
	ch, err := d.Challenge(ctx)
	if err != nil {
		t.Fatal(err)
	}
	format, vp, err := c.Present(ctx, ch, req)
	if err != nil {
		t.Fatalf("present %s: %v", req.Action, err)
	}
	dec, err := d.Decide(ctx, format, vp, req, "")
	if err != nil {
		t.Fatal(err)
	}
	return dec, format
}

func TestPresentIsDecidedByAVerifier(t *testing.T) {
	w := newWallet(t)
	c := dial(t, serve(t, w))
	v := verifier(t)

	// Uncovered and not forbidden: nothing to present.
	ch, err := v.Challenge(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	_, _, err = c.Present(context.Background(), ch, cal)
	if want := "holder: present: presentation: no credential chain covers the request: calendar:read on calendar:alice/work"; !errors.Is(err, presentation.ErrNoChain) || err.Error() != want {
		t.Fatalf("uncovered: %v, want %q", err, want)
	}
	// No format in common: also ErrNoChain.
	ch.Formats = []string{presentation.FormatSDJWT}
	_, _, err = c.Present(context.Background(), ch, read)
	if want := "holder: present: presentation: no credential chain covers the request: presentation: no common format: the verifier accepts [sd-jwt], the wallet holds [ldp]"; !errors.Is(err, presentation.ErrNoChain) || err.Error() != want {
		t.Fatalf("no common format: %v, want %q", err, want)
	}
	// Forbidden: the chain that forbids it is presented, and the verifier says so.
	d, format := decide(t, c, v, send)
	if d.Outcome != presentation.Deny || !slices.Equal(d.Reasons, []presentation.Reason{presentation.ReasonForbidden}) || format != presentation.FormatLDP {
		t.Fatalf("send: %+v %s", d, format)
	}
	d, format = decide(t, c, v, read)
	if !d.Allowed() || d.Actor != w.DID() || d.Principal != alice.DID() || d.Grant != "urn:mandate:grant:read" || format != presentation.FormatLDP {
		t.Fatalf("read: %+v %s", d, format)
	}

	// The wallet's log has both presentations, nothing for the refusals.
	entries, err := w.Entries()
	if err != nil {
		t.Fatal(err)
	}
	got := make([]string, len(entries))
	for i, e := range entries {
		got[i] = strings.Join([]string{e.Verifier, e.Audience, e.Chain, e.Action, e.Resource, e.Intent, e.Decision}, "|")
	}
	want := []string{
		"https://mail.example.com|https://mail.example.com|mail|email:send|mailbox:alice/out||PRESENTED_FORBIDDING",
		"https://mail.example.com|https://mail.example.com|mail|email:read|mailbox:alice/inbox|summarise the inbox|PRESENTED",
	}
	if !slices.Equal(got, want) {
		t.Fatalf("log:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestPresentReportsChainID(t *testing.T) {
	w := newWallet(t)
	path := serve(t, w)
	rpc := rawClient(t, path)
	v := verifier(t)
	ch, err := v.Challenge(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	r, err := rpc.Present(context.Background(), &mandatev1.PresentRequest{Challenge: toProto(ch), Request: &mandatev1.Request{Action: read.Action, Resource: read.Resource}})
	if err != nil || r.GetChainId() != "mail" || r.GetFormat() != presentation.FormatLDP {
		t.Fatalf("present: %v, %v", r, err)
	}
}

// A chain imported while the service runs is presented by the next call.
func TestPresentSeesImports(t *testing.T) {
	w := newWallet(t)
	c := dial(t, serve(t, w))
	v := verifier(t)
	ch, err := v.Challenge(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := c.Present(context.Background(), ch, cal); !errors.Is(err, presentation.ErrNoChain) {
		t.Fatalf("before import: %v", err)
	}
	root, err := credentials.Issue(alice, credentials.Template{
		Subject: w.DID(), Purpose: "read the calendar",
		Grants: []credentials.Grant{{ID: "urn:mandate:grant:cal", Action: "calendar:read", Resource: "calendar:alice/*"}},
	}, credentials.IssueOptions{})
	if err != nil {
		t.Fatal(err)
	}
	putChain(t, w, "calendar", []*credentials.Credential{root})
	if d, _ := decide(t, c, v, cal); !d.Allowed() || d.Grant != "urn:mandate:grant:cal" {
		t.Fatalf("after import: %+v", d)
	}
	if err := w.DeleteChain("calendar"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := c.Present(context.Background(), ch, cal); !errors.Is(err, presentation.ErrNoChain) {
		t.Fatalf("after delete: %v", err)
	}
}

func rawClient(t *testing.T, path string) mandatev1.WalletServiceClient {
	t.Helper()
	conn, err := grpc.NewClient("unix://"+path, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return mandatev1.NewWalletServiceClient(conn)
}

func toProto(ch presentation.Challenge) *mandatev1.ChallengeResponse {
	return &mandatev1.ChallengeResponse{Nonce: ch.Nonce, Audience: ch.Audience, ExpiresAt: timestamppb.New(ch.ExpiresAt), Formats: ch.Formats}
}

func TestPresentInputErrors(t *testing.T) {
	w := newWallet(t)
	rpc := rawClient(t, serve(t, w))
	expired := time.Now().Add(-time.Minute).Truncate(time.Second)
	good := func() *mandatev1.PresentRequest {
		return &mandatev1.PresentRequest{
			Challenge: &mandatev1.ChallengeResponse{Nonce: "n1", Audience: "https://mail.example.com", ExpiresAt: timestamppb.New(time.Now().Add(time.Hour)), Formats: []string{"ldp"}},
			Request:   &mandatev1.Request{Action: read.Action, Resource: read.Resource},
		}
	}
	with := func(f func(*mandatev1.PresentRequest)) *mandatev1.PresentRequest { r := good(); f(r); return r }
	cases := []struct {
		name string
		in   *mandatev1.PresentRequest
		code codes.Code
		msg  string
	}{
		{"no challenge", with(func(r *mandatev1.PresentRequest) { r.Challenge = nil }), codes.InvalidArgument, "holder: invalid request: challenge is missing"},
		{"empty nonce", with(func(r *mandatev1.PresentRequest) { r.Challenge.Nonce = "" }), codes.InvalidArgument, "holder: invalid request: challenge nonce is empty"},
		{"long nonce", with(func(r *mandatev1.PresentRequest) { r.Challenge.Nonce = strings.Repeat("n", holder.MaxNonceBytes+1) }), codes.InvalidArgument, "holder: invalid request: challenge nonce is longer than 512 bytes"},
		{"empty audience", with(func(r *mandatev1.PresentRequest) { r.Challenge.Audience = "" }), codes.InvalidArgument, "holder: invalid request: challenge audience is empty"},
		{"long audience", with(func(r *mandatev1.PresentRequest) {
			r.Challenge.Audience = strings.Repeat("a", holder.MaxAudienceBytes+1)
		}), codes.InvalidArgument, "holder: invalid request: challenge audience is longer than 2048 bytes"},
		{"no expiry", with(func(r *mandatev1.PresentRequest) { r.Challenge.ExpiresAt = nil }), codes.InvalidArgument, "holder: invalid request: challenge has no expiry"},
		{"no formats", with(func(r *mandatev1.PresentRequest) { r.Challenge.Formats = nil }), codes.InvalidArgument, "holder: invalid request: challenge lists no formats"},
		{"unknown format", with(func(r *mandatev1.PresentRequest) { r.Challenge.Formats = []string{"ldp", "jwt"} }), codes.InvalidArgument, `holder: invalid request: challenge format "jwt" is unknown (known: bbs, sd-jwt, ldp)`},
		{"format twice", with(func(r *mandatev1.PresentRequest) { r.Challenge.Formats = []string{"ldp", "ldp"} }), codes.InvalidArgument, "holder: invalid request: challenge format ldp is listed twice"},
		{"too many formats", with(func(r *mandatev1.PresentRequest) { r.Challenge.Formats = []string{"ldp", "bbs", "sd-jwt", "ldp"} }), codes.InvalidArgument, "holder: invalid request: challenge lists 4 formats, at most 3"},
		{"no request", with(func(r *mandatev1.PresentRequest) { r.Request = nil }), codes.InvalidArgument, "holder: invalid request: request is missing"},
		{"pattern action", with(func(r *mandatev1.PresentRequest) { r.Request.Action = "email:*" }), codes.InvalidArgument, "holder: invalid request: presentation: request: scope: invalid pattern: a request names one action and one resource, not a pattern"},
		{"oversized intent", with(func(r *mandatev1.PresentRequest) {
			r.Request.Intent = strings.Repeat("x", presentation.MaxIntentBytes+1)
		}), codes.InvalidArgument, "holder: invalid request: presentation: request intent is longer than 4096 bytes"},
		{"expired", with(func(r *mandatev1.PresentRequest) { r.Challenge.ExpiresAt = timestamppb.New(expired) }), codes.FailedPrecondition, "holder: challenge expired at " + expired.UTC().Format(time.RFC3339)},
		{"too large", with(func(r *mandatev1.PresentRequest) { r.Request.Intent = strings.Repeat("x", holder.MaxRequestBytes) }), codes.ResourceExhausted, ""},
	}
	for _, c := range cases {
		_, err := rpc.Present(context.Background(), c.in)
		s := status.Convert(err)
		if s.Code() != c.code || (c.msg != "" && s.Message() != c.msg) {
			t.Errorf("%s: %v %q, want %v %q", c.name, s.Code(), s.Message(), c.code, c.msg)
		}
	}
	// None of them was presented or logged.
	if entries, err := w.Entries(); err != nil || len(entries) != 0 {
		t.Fatalf("log: %v, %v", entries, err)
	}
}

// TestListPowersAtTheServersClock: ListPowers leaves out, at the server's
// clock, a chain that has expired (its forbidden entries too) and a grant
// past its notAfter: the verifier could only deny them.
func TestListPowersAtTheServersClock(t *testing.T) {
	w := newWallet(t) // "mail": email:read, email:send forbidden, no expiry
	now := time.Now().Add(24 * time.Hour)
	until, ended := now.Add(-time.Hour), now.Add(-time.Minute)
	old, err := credentials.Issue(alice, credentials.Template{
		Subject: w.DID(), Purpose: "plan", ValidUntil: &until,
		Grants:    []credentials.Grant{{ID: "urn:mandate:grant:cal", Action: "calendar:read", Resource: "calendar:alice/*"}},
		Forbidden: []credentials.Forbidden{{Action: "email:read", Resource: "*"}},
	}, credentials.IssueOptions{})
	if err != nil {
		t.Fatal(err)
	}
	putChain(t, w, "old", []*credentials.Credential{old})
	ending, err := credentials.Issue(alice, credentials.Template{
		Subject: w.DID(), Purpose: "file mail",
		Grants: []credentials.Grant{
			{ID: "urn:mandate:grant:file", Action: "email:file", Resource: "mailbox:alice/*", Constraints: credentials.Constraints{NotAfter: &ended}},
			{ID: "urn:mandate:grant:flag", Action: "email:flag", Resource: "mailbox:alice/*"},
		},
	}, credentials.IssueOptions{})
	if err != nil {
		t.Fatal(err)
	}
	putChain(t, w, "ending", []*credentials.Credential{ending})
	path := filepath.Join(t.TempDir(), "wallet.sock")
	lis, err := holder.Listen(path)
	if err != nil {
		t.Fatal(err)
	}
	srv := holder.NewGRPCServer(w, nil, func() time.Time { return now })
	go srv.Serve(lis)
	t.Cleanup(srv.Stop)

	p, err := dial(t, path).Powers(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	wantGrants := []gatekeeper.Power{
		{Action: "email:flag", Resource: "mailbox:alice/*", Grant: "urn:mandate:grant:flag", Chain: "ending", Format: presentation.FormatLDP},
		{Action: "email:read", Resource: "mailbox:alice/*", Grant: "urn:mandate:grant:read", Chain: "mail", Format: presentation.FormatLDP},
	}
	wantForbidden := []gatekeeper.Power{{Action: "email:send", Chain: "mail", Format: presentation.FormatLDP}}
	slices.SortFunc(p.Grants, func(a, b gatekeeper.Power) int { return strings.Compare(a.Chain, b.Chain) })
	if !slices.Equal(p.Grants, wantGrants) || !slices.Equal(p.Forbidden, wantForbidden) {
		t.Fatalf("powers: %+v", p)
	}
	if !p.Covers("email:read") || p.Covers("calendar:read") || p.Covers("email:file") || !p.Covers("email:flag") {
		t.Fatalf("covers: %+v", p)
	}
}

func TestListPowersAndIdentity(t *testing.T) {
	w := newWallet(t)
	bls, err := w.CreateBLSDID()
	if err != nil {
		t.Fatal(err)
	}
	root, err := credentials.IssueBBS(blsAlice, credentials.Template{
		Subject: bls, Purpose: "sort mail",
		Grants: []credentials.Grant{{ID: "urn:mandate:grant:draft", Action: "email:draft", Resource: "mailbox:alice/*"}},
	}, credentials.IssueOptions{})
	if err != nil {
		t.Fatal(err)
	}
	putChain(t, w, "drafts", []*credentials.Credential{root})
	c := dial(t, serve(t, w))

	p, err := c.Powers(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	wantGrants := []gatekeeper.Power{
		{Action: "email:draft", Resource: "mailbox:alice/*", Grant: "urn:mandate:grant:draft", Chain: "drafts", Format: presentation.FormatBBS},
		{Action: "email:read", Resource: "mailbox:alice/*", Grant: "urn:mandate:grant:read", Chain: "mail", Format: presentation.FormatLDP},
	}
	wantForbidden := []gatekeeper.Power{{Action: "email:send", Chain: "mail", Format: presentation.FormatLDP}}
	slices.SortFunc(p.Grants, func(a, b gatekeeper.Power) int { return strings.Compare(a.Chain, b.Chain) })
	if !slices.Equal(p.Grants, wantGrants) || !slices.Equal(p.Forbidden, wantForbidden) {
		t.Fatalf("powers: %+v", p)
	}
	if !p.Covers("email:read") || p.Covers("email:send") || p.Covers("calendar:read") {
		t.Fatalf("covers: %+v", p)
	}

	id, others, err := c.Identity(context.Background())
	if err != nil || id != w.DID() || !slices.Equal(others, []string{bls}) {
		t.Fatalf("identity: %s %v %v, want %s [%s]", id, others, err, w.DID(), bls)
	}

	// The BBS+ chain is presented by the BLS did:key and allowed.
	v := verifier(t, presentation.FormatBBS, presentation.FormatLDP)
	d, format := decide(t, c, v, presentation.Request{Action: "email:draft", Resource: "mailbox:alice/inbox"})
	if !d.Allowed() || format != presentation.FormatBBS || d.Actor != bls || d.Grant != "urn:mandate:grant:draft" {
		t.Fatalf("bbs: %+v %s", d, format)
	}
}

func TestHealth(t *testing.T) {
	conn, err := grpc.NewClient("unix://"+serve(t, newWallet(t)), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	r, err := healthpb.NewHealthClient(conn).Check(context.Background(), &healthpb.HealthCheckRequest{Service: "mandate.v1.WalletService"})
	if err != nil || r.GetStatus() != healthpb.HealthCheckResponse_SERVING {
		t.Fatalf("health: %v, %v", r, err)
	}
}

// Several callers at once each get a presentation the verifier allows, and
// each is logged once.
func TestConcurrentPresent(t *testing.T) {
	w := newWallet(t)
	c := dial(t, serve(t, w))
	v := verifier(t)
	const n = 8
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx := context.Background()
			ch, err := v.Challenge(ctx)
			if err != nil {
				errs <- err
				return
			}
			format, vp, err := c.Present(ctx, ch, read)
			if err != nil {
				errs <- err
				return
			}
			if d, err := gatekeeper.Local(v).Decide(ctx, format, vp, read, ""); err != nil || !d.Allowed() {
				errs <- errors.New("not allowed: " + d.Message)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if entries, err := w.Entries(); err != nil || len(entries) != n {
		t.Fatalf("log: %d entries, %v", len(entries), err)
	}
}

func TestListenSocketMode(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sub", "wallet.sock")
	lis, err := holder.Listen(path)
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Lstat(path)
	if err != nil || fi.Mode() != os.ModeSocket|0o600 {
		t.Fatalf("socket mode: %v, %v", fi.Mode(), err)
	}
	di, err := os.Stat(filepath.Dir(path))
	if err != nil || di.Mode() != os.ModeDir|0o700 {
		t.Fatalf("dir mode: %v, %v", di.Mode(), err)
	}
	// Nothing but the socket is left in the directory (no temporary names).
	if names, _ := os.ReadDir(filepath.Dir(path)); len(names) != 1 {
		t.Fatalf("dir holds %v", names)
	}
	// A second listener on a live socket is refused; the first still answers.
	go func() {
		for {
			c, err := lis.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	if _, err := holder.Listen(path); err == nil || err.Error() != "holder: "+path+" is in use: another wallet service answers on it" {
		t.Fatalf("second listen: %v", err)
	}
	c, err := net.Dial("unix", path)
	if err != nil {
		t.Fatalf("first listener: %v", err)
	}
	c.Close()
	if err := lis.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Lstat(path); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("socket after close: %v", err)
	}
}

func TestListenReplacesStaleSocket(t *testing.T) {
	path := filepath.Join(t.TempDir(), "wallet.sock")
	// A socket file nobody listens on, as a crashed server leaves it.
	stale, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	stale.SetUnlinkOnClose(false)
	stale.Close()
	before, err := os.Lstat(path)
	if err != nil {
		t.Fatal(err)
	}
	lis, err := holder.Listen(path)
	if err != nil {
		t.Fatalf("listen over stale socket: %v", err)
	}
	defer lis.Close()
	after, err := os.Lstat(path)
	if err != nil || os.SameFile(before, after) || after.Mode() != os.ModeSocket|0o600 {
		t.Fatalf("after: %v %v, same file %v", after.Mode(), err, os.SameFile(before, after))
	}
}

func TestListenRefusesAFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "wallet.sock")
	if err := os.WriteFile(path, []byte("not a socket"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, 0o644); err != nil { // whatever the umask
		t.Fatal(err)
	}
	_, err := holder.Listen(path)
	if err == nil || err.Error() != "holder: "+path+" exists and is not a socket (-rw-r--r--); not replacing it" {
		t.Fatalf("listen: %v", err)
	}
	if b, err := os.ReadFile(path); err != nil || string(b) != "not a socket" {
		t.Fatalf("file changed: %q, %v", b, err)
	}
	if err := os.Mkdir(filepath.Join(dir, "d"), 0o700); err != nil {
		t.Fatal(err)
	}
	if _, err := holder.Listen(filepath.Join(dir, "d")); err == nil || !strings.HasSuffix(err.Error(), " exists and is not a socket (drwx------); not replacing it") {
		t.Fatalf("listen on a directory: %v", err)
	}
	long := filepath.Join(dir, strings.Repeat("s", holder.MaxSocketPath))
	if _, err := holder.Listen(long); err == nil || !strings.HasPrefix(err.Error(), "holder: socket path is ") {
		t.Fatalf("long path: %v", err)
	}
}
