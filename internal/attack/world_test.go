package attack_test

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dgraph-io/badger/v4"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/test/bufconn"

	"github.com/mandate-dev/mandate/credentials"
	"github.com/mandate-dev/mandate/credentials/status"
	"github.com/mandate-dev/mandate/credentials/status/statushttp"
	"github.com/mandate-dev/mandate/did"
	"github.com/mandate-dev/mandate/internal/testkeys"
	"github.com/mandate-dev/mandate/presentation"
	"github.com/mandate-dev/mandate/presentation/gatekeeper"
	mandatev1 "github.com/mandate-dev/mandate/protos/mandate/v1"
)

// The cast. Keys are derived from names, so runs are reproducible.
var (
	alice      = testkeys.New("alice")      // the principal
	assistant  = testkeys.New("assistant")  // alice's agent
	summarizer = testkeys.New("summarizer") // the assistant's sub-agent
	intern     = testkeys.New("intern")     // the summarizer's sub-agent
	mallory    = testkeys.New("mallory")    // holds only her own key
	courier    = testkeys.New("courier")    // the end of long chains
	verifierID = testkeys.New("verifier")   // the verifier's own key: it signs the audit log
	t0         = time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)
)

const (
	audience     = "https://mail.example"
	statusMaxAge = time.Minute
	grantRead    = "urn:mandate:grant:email-read"
	grantSlack   = "urn:mandate:grant:slack-read"
)

// prefixes name each issuer's status lists on the shared status server.
var prefixes = map[string]string{
	alice.DID(): "alice", assistant.DID(): "assistant", summarizer.DID(): "summarizer",
	intern.DID(): "intern", mallory.DID(): "mallory", courier.DID(): "courier",
}

// world is one verifier, served over gRPC on bufconn, fetching status lists
// from a real status server on loopback that publishes lists signed by the
// issuers' real registries. Every case gets its own world.
type world struct {
	clock  atomic.Int64 // the verifier's and the fetcher's now, in Unix nanoseconds
	dir    string
	raw    sync.Map // URL path → bytes served as they are
	srv    *httptest.Server
	regs   map[string]*status.Registry // by issuer DID
	issued credentials.IssueOptions
	v      *presentation.Verifier
	rpc    mandatev1.VerifierServiceClient
	client *gatekeeper.Client
	root   *credentials.Credential // alice → assistant, delegable twice
	child  *credentials.Credential // assistant → summarizer, delegable once
	sd     *sdChain                // the control chain as SD-JWT, once sdChain has issued it
}

func (w *world) now() time.Time          { return time.Unix(0, w.clock.Load()).UTC() }
func (w *world) advance(d time.Duration) { w.clock.Add(int64(d)) }

func memDB(t testing.TB) *badger.DB {
	t.Helper()
	db, err := badger.Open(badger.DefaultOptions("").WithInMemory(true).WithLogger(nil))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// newWorld builds the world; cfg may change the verifier's configuration
// (the status source and the resolver are already set).
func newWorld(t testing.TB, cfg func(*presentation.Config)) *world {
	t.Helper()
	w := &world{dir: t.TempDir(), regs: map[string]*status.Registry{}}
	w.clock.Store(t0.Add(time.Hour).UnixNano())
	w.issued = credentials.IssueOptions{Now: func() time.Time { return t0 }}
	h, err := statushttp.NewHandler(w.dir)
	if err != nil {
		t.Fatal(err)
	}
	// Loopback only. A path set in w.raw is served verbatim: a hostile or
	// broken status server.
	w.srv = httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		if b, ok := w.raw.Load(r.URL.Path); ok {
			rw.Write(b.([]byte))
			return
		}
		h.ServeHTTP(rw, r)
	}))
	t.Cleanup(w.srv.Close)
	cv, err := credentials.NewVerifier(did.KeyResolver{})
	if err != nil {
		t.Fatal(err)
	}
	c := presentation.Config{
		Audience: audience, Resolver: did.KeyResolver{}, TrustedRoots: []string{alice.DID()}, Store: memDB(t),
		Signer: verifierID, Now: w.now, RequireStatus: true, Formats: []string{presentation.FormatLDP, presentation.FormatSDJWT},
		Status: &statushttp.Fetcher{MaxAge: statusMaxAge, Verify: cv.VerifyStatusList, Now: w.now},
	}
	if cfg != nil {
		cfg(&c)
	}
	if w.v, err = presentation.New(c); err != nil {
		t.Fatal(err)
	}
	w.rpc, w.client = serve(t, w.v, w.now)
	w.root = w.issue(t, alice, credentials.Template{
		Subject: assistant.DID(), Purpose: "Keep Alice's inbox organised",
		Grants: []credentials.Grant{
			{ID: grantRead, Action: "email:read", Resource: "mailbox:alice/*"},
			{ID: grantSlack, Action: "slack:read", Resource: "slack:acme/general"},
		},
		Forbidden:  []credentials.Forbidden{{Action: "email:send"}},
		Delegation: credentials.Delegation{Allowed: true, MaxDepth: 2},
	})
	w.child = w.delegate(t, assistant, []*credentials.Credential{w.root}, credentials.Template{
		Subject: summarizer.DID(), Purpose: "Summarise Alice's inbox",
		Grants:     []credentials.Grant{{ID: grantRead, Action: "email:read", Resource: "mailbox:alice/*"}},
		Delegation: credentials.Delegation{Allowed: true, MaxDepth: 1},
	})
	w.publish(t)
	return w
}

// serve runs v's gRPC server on bufconn and returns a raw client and the
// agent-side gatekeeper client over one connection.
func serve(t testing.TB, v *presentation.Verifier, now func() time.Time) (mandatev1.VerifierServiceClient, *gatekeeper.Client) {
	t.Helper()
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
	rpc := mandatev1.NewVerifierServiceClient(conn)
	return rpc, gatekeeper.NewClient(rpc, now)
}

// reg returns the issuer's status registry, configured on first use.
func (w *world) reg(t testing.TB, issuer *testkeys.Key) *status.Registry {
	t.Helper()
	if r, ok := w.regs[issuer.DID()]; ok {
		return r
	}
	r := status.NewRegistry(memDB(t), nil, func() time.Time { return t0 })
	prefix, ok := prefixes[issuer.DID()]
	if !ok {
		prefix = fmt.Sprintf("issuer-%d", len(w.regs))
	}
	if err := r.Configure(status.RegistryConfig{BaseURL: w.srv.URL, Prefix: prefix}); err != nil {
		t.Fatal(err)
	}
	w.regs[issuer.DID()] = r
	return r
}

func (w *world) opts(t testing.TB, issuer *testkeys.Key) credentials.IssueOptions {
	o := w.issued
	o.Status = w.reg(t, issuer)
	return o
}

// issue signs a root credential with status entries from the issuer's registry.
func (w *world) issue(t testing.TB, issuer *testkeys.Key, tmpl credentials.Template) *credentials.Credential {
	t.Helper()
	c, err := credentials.Issue(issuer, tmpl, w.opts(t, issuer))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// delegate signs a child through credentials.Delegate, which refuses
// anything the verifier would refuse.
func (w *world) delegate(t testing.TB, issuer *testkeys.Key, chain []*credentials.Credential, tmpl credentials.Template) *credentials.Credential {
	t.Helper()
	c, err := credentials.Delegate(issuer, chain, tmpl, w.opts(t, issuer))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// forge signs a child under parent as an attacker holding the issuer's key
// would: no attenuation check. sub's principal and parent link are filled
// in unless set.
func (w *world) forge(t testing.TB, issuer *testkeys.Key, parent *credentials.Credential, sub credentials.Subject, tmpl credentials.Template) *credentials.Credential {
	t.Helper()
	if sub.Principal == "" {
		sub.Principal = parent.Subject.Principal
	}
	if sub.Parent == nil {
		digest, err := credentials.Digest(parent.Raw)
		if err != nil {
			t.Fatal(err)
		}
		sub.Parent = &credentials.Parent{ID: parent.ID, Digest: digest}
	}
	if sub.Purpose == "" {
		sub.Purpose = "forged"
	}
	c, err := credentials.SignUnchecked(issuer, sub, tmpl, w.opts(t, issuer))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// publish signs every list of every registry into the served directory.
func (w *world) publish(t testing.TB) {
	t.Helper()
	for issuer, r := range w.regs {
		lists, err := r.Lists()
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range lists {
			w.write(t, l.Name, w.signList(t, signerOf(issuer), l))
		}
	}
}

func (w *world) signList(t testing.TB, s credentials.Signer, l status.StoredList) []byte {
	t.Helper()
	// Lists are signed at the world's now, so that a list published later
	// is newer, as the fetcher's rollback check expects.
	b, err := credentials.SignStatusList(s, l, status.DefaultValidity, status.DefaultTTL, credentials.IssueOptions{Now: w.now})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func (w *world) write(t testing.TB, name string, b []byte) {
	t.Helper()
	if err := statushttp.WriteFile(w.dir, name, b); err != nil {
		t.Fatal(err)
	}
}

// listName is the served name of the list e points to.
func (w *world) listName(e credentials.StatusEntry) string {
	return strings.TrimPrefix(e.ListURL, w.srv.URL+"/")
}

// listBytes returns the signed list that e points to, as served now.
func (w *world) listBytes(t testing.TB, e credentials.StatusEntry) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(w.dir, w.listName(e)+".json"))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// replaceList serves forge(l) in place of the list l that e points to: what
// a network attacker, or a compromised status server, answers.
func (w *world) replaceList(t testing.TB, e credentials.StatusEntry, forge func(l status.StoredList) []byte) {
	t.Helper()
	name := w.listName(e)
	for _, r := range w.regs {
		lists, err := r.Lists()
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range lists {
			if l.Name == name {
				w.write(t, name, forge(l))
				return
			}
		}
	}
	t.Fatalf("no registry holds list %s", name)
}

// change applies a registry change, publishes, and moves the clock past
// the verifier's cache age.
func (w *world) change(t testing.TB, do func() (string, error)) {
	t.Helper()
	if list, err := do(); err != nil || list == "" {
		t.Fatalf("status change: list %q, err %v", list, err)
	}
	w.publish(t)
	w.advance(statusMaxAge + time.Second)
}

func signerOf(d string) *testkeys.Key {
	for _, k := range issuerKeys(credentials.MaxChainLinks) {
		if k.DID() == d {
			return k
		}
	}
	panic("attack: no test key for " + d)
}

// chain is the control chain: root → child, held by the summarizer.
func (w *world) chain() []*credentials.Credential {
	return []*credentials.Credential{w.root, w.child}
}

// challenge asks the verifier for a nonce over gRPC.
func (w *world) challenge(t testing.TB) presentation.Challenge {
	t.Helper()
	ch, err := w.client.Challenge(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return ch
}

// present builds an honest presentation of chain by holder for req, bound
// to a fresh challenge.
func (w *world) present(t testing.TB, holder credentials.Signer, chain []*credentials.Credential, req presentation.Request) []byte {
	t.Helper()
	vp, err := presentation.Present(holder, chain, w.challenge(t), req, w.now())
	if err != nil {
		t.Fatal(err)
	}
	return vp
}

// send asks the verifier over gRPC for a decision on vp and req.
func (w *world) send(vp []byte, req presentation.Request) (presentation.Decision, error) {
	return w.client.Send(context.Background(), vp, req)
}

// sendFormat is send for a presentation in format ("": FormatLDP).
func (w *world) sendFormat(format string, vp []byte, req presentation.Request) (presentation.Decision, error) {
	if format == "" {
		format = presentation.FormatLDP
	}
	return w.client.SendFormat(context.Background(), format, vp, req)
}

func readMail() presentation.Request {
	return presentation.Request{Action: "email:read", Resource: "mailbox:alice/inbox", Intent: "summarise today's mail"}
}

func ptr[T any](v T) *T { return &v }
