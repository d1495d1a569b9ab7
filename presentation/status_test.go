package presentation_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dgraph-io/badger/v4"

	"github.com/mandate-dev/mandate/credentials"
	"github.com/mandate-dev/mandate/credentials/status"
	"github.com/mandate-dev/mandate/credentials/status/statushttp"
	"github.com/mandate-dev/mandate/did"
	"github.com/mandate-dev/mandate/presentation"
)

// statusFixture is a principal and a delegating assistant, each with a real
// registry, publishing through a real status server on loopback, and a
// verifier fetching from it.
type statusFixture struct {
	*fixture
	dir       string
	srv       *httptest.Server
	hits      atomic.Int64
	aliceReg  *status.Registry
	assistReg *status.Registry
	fetcher   *statushttp.Fetcher
}

const statusMaxAge = time.Minute

func memDB(t testing.TB) *badger.DB {
	t.Helper()
	db, err := badger.Open(badger.DefaultOptions("").WithInMemory(true).WithLogger(nil))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func newStatusFixture(t testing.TB, cfg func(*presentation.Config)) *statusFixture {
	t.Helper()
	f := &statusFixture{fixture: &fixture{now: t0.Add(time.Hour)}, dir: t.TempDir()}
	f.issued = credentials.IssueOptions{Now: func() time.Time { return t0 }}
	h, err := statushttp.NewHandler(f.dir)
	if err != nil {
		t.Fatal(err)
	}
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.hits.Add(1)
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(f.srv.Close)
	f.aliceReg = status.NewRegistry(memDB(t), nil, func() time.Time { return t0 })
	f.assistReg = status.NewRegistry(memDB(t), nil, func() time.Time { return t0 })
	for prefix, reg := range map[string]*status.Registry{"alice": f.aliceReg, "assistant": f.assistReg} {
		if err := reg.Configure(status.RegistryConfig{BaseURL: f.srv.URL, Prefix: prefix}); err != nil {
			t.Fatal(err)
		}
	}
	cv, err := credentials.NewVerifier(did.KeyResolver{})
	if err != nil {
		t.Fatal(err)
	}
	f.fetcher = &statushttp.Fetcher{MaxAge: statusMaxAge, Verify: cv.VerifyStatusList, Now: func() time.Time { return f.now }}
	c := presentation.Config{
		Audience: "https://mail.example", Resolver: did.KeyResolver{}, TrustedRoots: []string{alice.DID()},
		Store: memDB(t), Now: func() time.Time { return f.now }, Status: f.fetcher, RequireStatus: true, Signer: verifierKey,
	}
	if cfg != nil {
		cfg(&c)
	}
	if f.v, err = presentation.New(c); err != nil {
		t.Fatal(err)
	}
	f.root, err = credentials.Issue(alice, credentials.Template{
		Subject: assistant.DID(), Purpose: "Keep Alice's inbox organised",
		Grants: []credentials.Grant{
			{ID: "urn:mandate:grant:email-read", Action: "email:read", Resource: "mailbox:alice/*"},
			{ID: "urn:mandate:grant:inbox-read", Action: "email:read", Resource: "mailbox:alice/inbox"},
			{ID: "urn:mandate:grant:slack-read", Action: "slack:read", Resource: "slack:acme/general"},
		},
		Delegation: credentials.Delegation{Allowed: true, MaxDepth: 1},
	}, credentials.IssueOptions{Now: f.issued.Now, Status: f.aliceReg})
	if err != nil {
		t.Fatal(err)
	}
	f.child, err = credentials.Delegate(assistant, []*credentials.Credential{f.root}, credentials.Template{
		Subject: summarizer.DID(), Purpose: "Summarise Alice's inbox",
		Grants: []credentials.Grant{{ID: "urn:mandate:grant:email-read", Action: "email:read", Resource: "mailbox:alice/*"}},
	}, credentials.IssueOptions{Now: f.issued.Now, Status: f.assistReg})
	if err != nil {
		t.Fatal(err)
	}
	f.publish(t)
	return f
}

// publish signs every list of both registries into the served directory.
func (f *statusFixture) publish(t testing.TB) {
	t.Helper()
	for _, r := range []struct {
		reg    *status.Registry
		signer credentials.Signer
	}{{f.aliceReg, alice}, {f.assistReg, assistant}} {
		lists, err := r.reg.Lists()
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range lists {
			f.write(t, l.Name, f.sign(t, r.signer, l))
		}
	}
}

func (f *statusFixture) sign(t testing.TB, s credentials.Signer, l status.StoredList) []byte {
	t.Helper()
	b, err := credentials.SignStatusList(s, l, status.DefaultValidity, status.DefaultTTL, f.issued)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func (f *statusFixture) write(t testing.TB, name string, b []byte) {
	t.Helper()
	if err := statushttp.WriteFile(f.dir, name, b); err != nil {
		t.Fatal(err)
	}
}

// change applies a registry change, publishes, and moves the verifier's
// clock past its cache's maximum age.
func (f *statusFixture) change(t testing.TB, do func() (string, error)) {
	t.Helper()
	list, err := do()
	if err != nil || list == "" {
		t.Fatalf("change: list %q, err %v", list, err)
	}
	f.publish(t)
	f.now = f.now.Add(statusMaxAge + time.Second)
}

func (f *statusFixture) decide(t testing.TB, holder credentials.Signer, chain []*credentials.Credential, req presentation.Request) presentation.Decision {
	t.Helper()
	return f.v.Authorize(context.Background(), f.present(t, holder, chain, req), req)
}

func (f *statusFixture) chain() []*credentials.Credential {
	return []*credentials.Credential{f.root, f.child}
}

func readSlack() presentation.Request {
	return presentation.Request{Action: "slack:read", Resource: "slack:acme/general", Intent: "catch up"}
}

func TestStatusIssuedEntries(t *testing.T) {
	f := newStatusFixture(t, nil)
	if len(f.root.Status) != 2 || f.root.Status[0].Purpose != "revocation" || f.root.Status[1].Purpose != "suspension" {
		t.Fatalf("root credentialStatus = %+v", f.root.Status)
	}
	for _, g := range f.root.Subject.Grants {
		if len(g.Status) != 2 || !strings.HasPrefix(g.Status[0].ListURL, f.srv.URL+"/alice-revocation-") {
			t.Fatalf("grant %s status = %+v", g.ID, g.Status)
		}
	}
	if got := f.child.Status[0].ListURL; got != f.srv.URL+"/assistant-revocation-1" {
		t.Fatalf("child's list = %s, want the assistant's own", got)
	}
}

func TestStatusPerGrantRevocation(t *testing.T) {
	f := newStatusFixture(t, nil)
	root := []*credentials.Credential{f.root}
	expect(t, f.decide(t, assistant, root, readSlack()), presentation.Allow, "")
	f.change(t, func() (string, error) { return f.aliceReg.Revoke(f.root.ID, "urn:mandate:grant:slack-read") })
	d := f.decide(t, assistant, root, readSlack())
	expect(t, d, presentation.Deny, presentation.ReasonRevoked)
	if d.Grant != "urn:mandate:grant:slack-read" {
		t.Fatalf("decision names grant %q", d.Grant)
	}
	expect(t, f.decide(t, assistant, root, readMail()), presentation.Allow, "")
	expect(t, f.decide(t, summarizer, f.chain(), readMail()), presentation.Allow, "")
}

// Two root grants cover the inbox; revoking one leaves the other serving
// the request, and revoking both denies it.
func TestStatusRevokedGrantFallsBackToAnother(t *testing.T) {
	f := newStatusFixture(t, nil)
	root := []*credentials.Credential{f.root}
	f.change(t, func() (string, error) { return f.aliceReg.Revoke(f.root.ID, "urn:mandate:grant:email-read") })
	d := f.decide(t, assistant, root, readMail())
	expect(t, d, presentation.Allow, "")
	if d.Grant != "urn:mandate:grant:inbox-read" {
		t.Fatalf("grant used = %s, want inbox-read", d.Grant)
	}
	// The summarizer's grant (email:read on mailbox:alice/*) rests on the
	// revoked root grant alone: inbox-read allows this request but does not
	// cover the child's grant, so it cannot carry the child's use.
	d = f.decide(t, summarizer, f.chain(), readMail())
	expect(t, d, presentation.Deny, presentation.ReasonRevoked)
	if !strings.Contains(d.Message, "grant urn:mandate:grant:email-read of "+f.root.ID) {
		t.Fatalf("message %q does not name the revoked grant", d.Message)
	}
	f.change(t, func() (string, error) { return f.aliceReg.Revoke(f.root.ID, "urn:mandate:grant:inbox-read") })
	expect(t, f.decide(t, assistant, root, readMail()), presentation.Deny, presentation.ReasonRevoked)
	// The summarizer's own grant is clear, but no parent grant covering
	// the request is: the cascade reaches grants too.
	expect(t, f.decide(t, summarizer, f.chain(), readMail()), presentation.Deny, presentation.ReasonRevoked)
}

func TestStatusCascadeRevokedParent(t *testing.T) {
	f := newStatusFixture(t, nil)
	f.change(t, func() (string, error) { return f.aliceReg.Revoke(f.root.ID, "") })
	d := f.decide(t, summarizer, f.chain(), readMail())
	expect(t, d, presentation.Deny, presentation.ReasonRevoked)
	if !strings.Contains(d.Message, f.root.ID) {
		t.Fatalf("message %q does not name the revoked parent", d.Message)
	}
}

func TestStatusSuspendAndResume(t *testing.T) {
	f := newStatusFixture(t, nil)
	f.change(t, func() (string, error) { return f.aliceReg.Suspend(f.root.ID, "") })
	expect(t, f.decide(t, summarizer, f.chain(), readMail()), presentation.Deny, presentation.ReasonSuspended)
	expect(t, f.decide(t, assistant, []*credentials.Credential{f.root}, readMail()), presentation.Deny, presentation.ReasonSuspended)
	f.change(t, func() (string, error) { return f.aliceReg.Resume(f.root.ID, "") })
	expect(t, f.decide(t, summarizer, f.chain(), readMail()), presentation.Allow, "")
	// The child's own issuer can suspend it too.
	f.change(t, func() (string, error) { return f.assistReg.Suspend(f.child.ID, "") })
	expect(t, f.decide(t, summarizer, f.chain(), readMail()), presentation.Deny, presentation.ReasonSuspended)
}

// A change is honoured within the verifier's maximum age, not before: the
// bound is the contract.
func TestStatusCachedWithinMaxAge(t *testing.T) {
	f := newStatusFixture(t, nil)
	expect(t, f.decide(t, summarizer, f.chain(), readMail()), presentation.Allow, "")
	hits := f.hits.Load()
	if _, err := f.aliceReg.Revoke(f.root.ID, ""); err != nil {
		t.Fatal(err)
	}
	f.publish(t)
	f.now = f.now.Add(statusMaxAge - time.Second)
	expect(t, f.decide(t, summarizer, f.chain(), readMail()), presentation.Allow, "")
	if f.hits.Load() != hits {
		t.Fatalf("fetched %d times within max age", f.hits.Load()-hits)
	}
	f.now = f.now.Add(2 * time.Second)
	expect(t, f.decide(t, summarizer, f.chain(), readMail()), presentation.Deny, presentation.ReasonRevoked)
}

func TestStatusStaleListFailsClosed(t *testing.T) {
	f := newStatusFixture(t, nil)
	expect(t, f.decide(t, summarizer, f.chain(), readMail()), presentation.Allow, "")
	f.srv.Close()
	// Still inside the maximum age: the cached lists serve.
	f.now = f.now.Add(statusMaxAge / 2)
	expect(t, f.decide(t, summarizer, f.chain(), readMail()), presentation.Allow, "")
	f.now = f.now.Add(statusMaxAge)
	expect(t, f.decide(t, summarizer, f.chain(), readMail()), presentation.Deny, presentation.ReasonStatusUnavailable)
}

// listFile returns the served file name and bytes of the list an entry names.
func (f *statusFixture) listFile(t testing.TB, e credentials.StatusEntry) (string, map[string]any) {
	t.Helper()
	name := strings.TrimPrefix(e.ListURL, f.srv.URL+"/")
	b, err := os.ReadFile(filepath.Join(f.dir, name+".json"))
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return name, m
}

func (f *statusFixture) writeJSON(t testing.TB, name string, m map[string]any) {
	t.Helper()
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	f.write(t, name, b)
}

func TestStatusListDenials(t *testing.T) {
	otherList := func(t *testing.T, f *statusFixture, s credentials.Signer, bits int, p status.Purpose) {
		name, _ := f.listFile(t, f.root.Status[0])
		b, err := status.NewBitstring(bits)
		if err != nil {
			t.Fatal(err)
		}
		f.write(t, name, f.sign(t, s, status.StoredList{Name: name, URL: f.root.Status[0].ListURL, Purpose: p, Bits: b}))
	}
	cases := []struct {
		name    string
		mutate  func(t *testing.T, f *statusFixture)
		reason  presentation.Reason
		message string
	}{
		{"tampered list signature", func(t *testing.T, f *statusFixture) {
			name, m := f.listFile(t, f.root.Status[0])
			b, _ := status.NewBitstring(status.MinBits)
			_ = b.Set(7, 1, 1)
			enc, _ := b.Encode()
			m["credentialSubject"].(map[string]any)["encodedList"] = enc
			f.writeJSON(t, name, m)
		}, presentation.ReasonStatusInvalid, "signature"},
		{"list signed by another issuer", func(t *testing.T, f *statusFixture) {
			otherList(t, f, mallory, status.MinBits, status.Revocation)
		}, presentation.ReasonStatusInvalid, "issued by " + mallory.DID()},
		{"wrong purpose", func(t *testing.T, f *statusFixture) {
			otherList(t, f, alice, status.MinBits, status.Suspension)
		}, presentation.ReasonStatusInvalid, "purpose"},
		{"malformed list", func(t *testing.T, f *statusFixture) {
			name, _ := f.listFile(t, f.root.Status[0])
			f.write(t, name, []byte(`{"@context": "nope"}`))
		}, presentation.ReasonStatusInvalid, "@context"},
		{"oversized list", func(t *testing.T, f *statusFixture) {
			name, _ := f.listFile(t, f.root.Status[0])
			big := append([]byte(`{"pad":"`), make([]byte, statushttp.MaxListCredentialBytes)...)
			for i := 8; i < len(big); i++ {
				big[i] = 'a'
			}
			if err := os.WriteFile(filepath.Join(f.dir, name+".json"), append(big, '"', '}'), 0o644); err != nil {
				t.Fatal(err)
			}
		}, presentation.ReasonStatusUnavailable, "500"},
		{"list removed", func(t *testing.T, f *statusFixture) {
			name, _ := f.listFile(t, f.root.Status[0])
			if err := os.Remove(filepath.Join(f.dir, name+".json")); err != nil {
				t.Fatal(err)
			}
		}, presentation.ReasonStatusUnavailable, "404"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newStatusFixture(t, nil)
			tc.mutate(t, f)
			d := f.decide(t, summarizer, f.chain(), readMail())
			expect(t, d, presentation.Deny, tc.reason)
			if !strings.Contains(d.Message, tc.message) {
				t.Fatalf("message %q does not mention %q", d.Message, tc.message)
			}
		})
	}
}

// fixedAllocator hands out the entries it is given: a test issuer whose
// registry points past the end of its list.
type fixedAllocator struct{ entry status.Entry }

func (a fixedAllocator) Allocate(string, []string) (status.Allocation, error) {
	return status.Allocation{Credential: []status.Entry{a.entry}}, nil
}

func TestStatusIndexOutOfRange(t *testing.T) {
	f := newStatusFixture(t, nil)
	url := f.srv.URL + "/short-revocation-1"
	root, err := credentials.Issue(alice, credentials.Template{
		Subject: assistant.DID(), Purpose: "Read mail",
		Grants: []credentials.Grant{{ID: "urn:mandate:grant:email-read", Action: "email:read", Resource: "mailbox:alice/*"}},
	}, credentials.IssueOptions{Now: f.issued.Now, Status: fixedAllocator{status.Entry{
		ID: url + "#131072", Type: status.TypeBitstringEntry, Purpose: status.Revocation, Index: status.MinBits, ListURL: url, StatusSize: 1,
	}}})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := status.NewBitstring(status.MinBits)
	f.write(t, "short-revocation-1", f.sign(t, alice, status.StoredList{Name: "short-revocation-1", URL: url, Purpose: status.Revocation, Bits: b}))
	d := f.decide(t, assistant, []*credentials.Credential{root}, readMail())
	expect(t, d, presentation.Deny, presentation.ReasonStatusInvalid)
	if !strings.Contains(d.Message, "out of range") {
		t.Fatalf("message %q", d.Message)
	}
}

func TestStatusPolicy(t *testing.T) {
	t.Run("no status source", func(t *testing.T) {
		f := newStatusFixture(t, func(c *presentation.Config) { c.Status, c.RequireStatus = nil, false })
		expect(t, f.decide(t, summarizer, f.chain(), readMail()), presentation.Deny, presentation.ReasonStatusUnavailable)
	})
	t.Run("required but missing", func(t *testing.T) {
		f := newStatusFixture(t, nil)
		bare, err := credentials.Issue(alice, credentials.Template{
			Subject: assistant.DID(), Purpose: "Read mail",
			Grants: []credentials.Grant{{ID: "urn:mandate:grant:email-read", Action: "email:read", Resource: "mailbox:alice/*"}},
		}, f.issued)
		if err != nil {
			t.Fatal(err)
		}
		expect(t, f.decide(t, assistant, []*credentials.Credential{bare}, readMail()), presentation.Deny, presentation.ReasonStatusMissing)
	})
	t.Run("require without source is refused", func(t *testing.T) {
		_, err := presentation.New(presentation.Config{
			Audience: "a", Resolver: did.KeyResolver{}, InsecureTrustAnyRoot: true, Store: memDB(t), RequireStatus: true, Signer: verifierKey,
		})
		if err == nil || !strings.Contains(err.Error(), "RequireStatus needs a Status source") {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("untrusted root is never fetched for", func(t *testing.T) {
		f := newStatusFixture(t, func(c *presentation.Config) { c.TrustedRoots = []string{mallory.DID()} })
		expect(t, f.decide(t, summarizer, f.chain(), readMail()), presentation.Deny, presentation.ReasonUntrustedRoot)
		if f.hits.Load() != 0 {
			t.Fatalf("status server hit %d times for an untrusted chain", f.hits.Load())
		}
	})
}
