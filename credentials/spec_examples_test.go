package credentials_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dgraph-io/badger/v4"

	"github.com/mandate-dev/mandate/credentials"
	"github.com/mandate-dev/mandate/credentials/status"
	"github.com/mandate-dev/mandate/credentials/status/statushttp"
	"github.com/mandate-dev/mandate/did"
	"github.com/mandate-dev/mandate/internal/testkeys"
	"github.com/mandate-dev/mandate/presentation"
	"github.com/mandate-dev/mandate/presentation/audit"
)

const (
	specPath       = "../docs/SPEC.md"
	contextMapPath = "../../shared/vectors/jsonld-contexts/context-map.json"
	// revokedGrant is the grant whose revocation bit is set in the status
	// list example of §11.4.
	revokedGrant = "urn:mandate:grant:slack-read"
)

// specMarker precedes every checked example block in docs/SPEC.md.
var specMarker = regexp.MustCompile(`^<!-- spec-example: ([a-z0-9-]+) -->$`)

// wantSpecExamples is every marked block the document must contain.
var wantSpecExamples = []string{
	"approval-answer", "approval-answer-header", "approval-answer-payload", "approval-flow",
	"audit-checkpoint", "audit-record", "checkpoint-header", "checkpoint-payload",
	"child-credential", "constraints-subject", "poa-context", "presentation",
	"rate-limit-flow", "root-credential", "root-jcs", "status-list-credential",
}

// specDoc is docs/SPEC.md and its marked example blocks, by name.
type specDoc struct {
	text     string
	examples map[string][]byte
}

// readSpec extracts the fenced block that follows each marker. It fails on
// a marker without a block, a name used twice, a JSON block without a
// marker (an example nobody checks) and a missing or unexpected name.
func readSpec(t *testing.T) specDoc {
	t.Helper()
	data, err := os.ReadFile(specPath)
	if err != nil {
		t.Fatal(err)
	}
	doc := specDoc{text: string(data), examples: map[string][]byte{}}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(nil, 1<<20) // the JCS example is one long line
	var name, prev string
	var block *bytes.Buffer
	line := 0
	for sc.Scan() {
		line++
		text := sc.Text()
		switch {
		case block != nil && text == "```":
			doc.examples[name] = bytes.TrimSuffix(block.Bytes(), []byte("\n"))
			name, block = "", nil
		case block != nil:
			block.WriteString(text + "\n")
		case name != "":
			if !strings.HasPrefix(text, "```") {
				t.Fatalf("%s:%d: marker %q is not followed by a fenced block", specPath, line, name)
			}
			block = &bytes.Buffer{}
		case specMarker.MatchString(text):
			name = specMarker.FindStringSubmatch(text)[1]
			if _, dup := doc.examples[name]; dup {
				t.Fatalf("%s:%d: example %q is marked twice", specPath, line, name)
			}
		case text == "```json" && !specMarker.MatchString(prev):
			t.Fatalf("%s:%d: JSON block without a spec-example marker", specPath, line)
		}
		prev = text
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if name != "" || block != nil {
		t.Fatalf("%s: example %q is not closed", specPath, name)
	}
	got := make([]string, 0, len(doc.examples))
	for n := range doc.examples {
		got = append(got, n)
	}
	slices.Sort(got)
	if !slices.Equal(got, wantSpecExamples) {
		t.Fatalf("%s: marked examples %q, want %q", specPath, got, wantSpecExamples)
	}
	return doc
}

// TestSpecExamples: the examples of docs/SPEC.md are what the code makes
// of them. §1.5's credentials verify and form a chain, §4's JCS form and
// digest are the root's, §7.3's presentation carries a valid holder proof
// over that chain, and §11.4's status list verifies and revokes exactly the
// grant the text names.
func TestSpecExamples(t *testing.T) {
	doc := readSpec(t)
	v := verifier(t)
	ctx := context.Background()
	creds := map[string]*credentials.Credential{}
	for _, tc := range []struct {
		name       string
		withStatus bool // credentialStatus and every grant's status: revocation, suspension
	}{
		{"root-credential", true},
		{"child-credential", false},
	} {
		c, err := v.Verify(ctx, doc.examples[tc.name])
		if err != nil {
			t.Fatalf("%s: Verify: %v", tc.name, err)
		}
		checkStatusEntries(t, tc.name, "credentialStatus", c.Status, tc.withStatus)
		for _, g := range c.Subject.Grants {
			checkStatusEntries(t, tc.name, g.ID, g.Status, tc.withStatus)
		}
		creds[tc.name] = c
	}
	root, child := creds["root-credential"], creds["child-credential"]

	t.Run("chain", func(t *testing.T) {
		if err := credentials.CheckChain([]*credentials.Credential{root, child}); err != nil {
			t.Errorf("CheckChain(root, child): %v", err)
		}
	})
	t.Run("constraints subject", func(t *testing.T) {
		checkConstraintsSubject(t, doc.examples["constraints-subject"])
	})
	t.Run("digest", func(t *testing.T) {
		checkDigest(t, doc, root)
	})
	t.Run("presentation", func(t *testing.T) {
		checkPresentation(t, doc.examples["presentation"], doc.examples["root-credential"], doc.examples["child-credential"])
	})
	t.Run("status list", func(t *testing.T) {
		checkStatusList(t, v, doc.examples["status-list-credential"], root)
	})
	t.Run("poa context", func(t *testing.T) {
		want := bytes.TrimSuffix(credentials.Contexts()[credentials.ContextPoAV1], []byte("\n"))
		if got := doc.examples["poa-context"]; !bytes.Equal(got, want) {
			t.Errorf("§2 poa context differs from credentials/contexts/poa-v1.jsonld")
		}
	})
}

// checkStatusEntries checks one holder's entries: none, or a revocation
// then a suspension entry that parse.
func checkStatusEntries(t *testing.T, cred, holder string, entries []credentials.StatusEntry, want bool) {
	t.Helper()
	if !want {
		if len(entries) != 0 {
			t.Errorf("%s %s: %d status entries, want none", cred, holder, len(entries))
		}
		return
	}
	var purposes []string
	for _, e := range entries {
		if _, err := e.Parse(); err != nil {
			t.Errorf("%s %s: entry %s: %v", cred, holder, e.ID, err)
		}
		purposes = append(purposes, e.Purpose)
	}
	if want := []string{"revocation", "suspension"}; !slices.Equal(purposes, want) {
		t.Errorf("%s %s: status purposes %q, want %q", cred, holder, purposes, want)
	}
}

// checkConstraintsSubject: the subject decodes strictly, validates and sets
// every constraint kind.
func checkConstraintsSubject(t *testing.T, data []byte) {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var s credentials.Subject
	if err := dec.Decode(&s); err != nil {
		t.Fatalf("decode: %v", err)
	}
	if err := s.Validate(); err != nil {
		t.Fatalf("Validate: %v", err)
	}
	if len(s.Grants) != 1 {
		t.Fatalf("%d grants, want 1", len(s.Grants))
	}
	c := s.Grants[0].Constraints
	if c.NotBefore == nil || c.NotAfter == nil || c.Rate == nil || c.MaxUses == nil || c.MaxAmount == nil ||
		c.Approval != credentials.ApprovalRequired || len(c.Conditions) == 0 {
		t.Errorf("constraints %+v do not set every kind", c)
	}
}

// checkDigest: §4 shows the root's JCS form and digest, and the child's
// parent link carries that digest.
func checkDigest(t *testing.T, doc specDoc, root *credentials.Credential) {
	t.Helper()
	canon, err := credentials.CanonicalJSON(root.Raw)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(doc.examples["root-jcs"], canon) {
		t.Errorf("§4 JCS form differs from CanonicalJSON(root):\n got %.120s…\nwant %.120s…", doc.examples["root-jcs"], canon)
	}
	digest, err := credentials.Digest(root.Raw)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(doc.text, "and the digest `"+digest+"`") {
		t.Errorf("§4 does not state the root's digest %s", digest)
	}
}

// checkPresentation puts the elided credentials back and verifies the
// holder's proof, its purpose and domain, and the request digest of §7.2.
func checkPresentation(t *testing.T, data, rootJSON, childJSON []byte) {
	t.Helper()
	var vp map[string]any
	if err := json.Unmarshal(data, &vp); err != nil {
		t.Fatal(err)
	}
	var rootDoc, childDoc map[string]any
	if err := json.Unmarshal(rootJSON, &rootDoc); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(childJSON, &childDoc); err != nil {
		t.Fatal(err)
	}
	want := []any{"<root credential as above>", "<child credential as above>"}
	if got, _ := vp["verifiableCredential"].([]any); !slices.Equal(got, want) {
		t.Fatalf("verifiableCredential = %v, want the placeholders %v", got, want)
	}
	vp["verifiableCredential"] = []any{rootDoc, childDoc}
	holder, _ := vp["holder"].(string)
	ld, err := credentials.LD()
	if err != nil {
		t.Fatal(err)
	}
	opts, err := ld.Verify(vp, func(vm string) (ed25519.PublicKey, error) {
		if owner, _, _ := strings.Cut(vm, "#"); owner != holder {
			t.Errorf("proof key %s is not the holder's (%s)", vm, holder)
		}
		return did.PublicKey(context.Background(), did.KeyResolver{}, vm, "authentication")
	})
	if err != nil {
		t.Fatalf("holder proof: %v", err)
	}
	if opts.Purpose != "authentication" || opts.Domain != "https://mail.example/verifier" {
		t.Errorf("proof purpose %q, domain %q", opts.Purpose, opts.Domain)
	}
	digest, err := credentials.Digest(map[string]any{
		"action": "email:read", "resource": "mailbox:alice/inbox", "intent": "morning summary",
		"context": map[string]any{"folder": "inbox"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if vp["requestDigest"] != digest {
		t.Errorf("requestDigest = %v, want the §7.2 digest %s", vp["requestDigest"], digest)
	}
}

// checkStatusList verifies §11.4's list and reads every revocation entry
// of the root from it: only revokedGrant's bit is set.
func checkStatusList(t *testing.T, v *credentials.Verifier, data []byte, root *credentials.Credential) {
	t.Helper()
	lc, err := v.VerifyStatusList(context.Background(), data)
	if err != nil {
		t.Fatalf("VerifyStatusList: %v", err)
	}
	if lc.Issuer != root.Issuer || lc.TTL != 5*time.Minute || lc.ValidUntil == nil || lc.ValidUntil.Sub(lc.ValidFrom) != 24*time.Hour {
		t.Errorf("list issuer %s, ttl %s, validity from %s until %v: want the root's issuer, 5m and 24h",
			lc.Issuer, lc.TTL, lc.ValidFrom, lc.ValidUntil)
	}
	// The first entry of each holder is its revocation entry (checked above).
	entries := map[string][]credentials.StatusEntry{"credential": root.Status}
	for _, g := range root.Subject.Grants {
		entries[g.ID] = g.Status
	}
	var set []int
	for holder, list := range entries {
		if len(list) == 0 {
			t.Fatalf("%s has no status entries", holder)
		}
		e, err := list[0].Parse()
		if err != nil {
			t.Fatal(err)
		}
		got, err := lc.Status(e)
		if err != nil {
			t.Fatalf("%s: Status: %v", holder, err)
		}
		want := uint64(0)
		if holder == revokedGrant {
			want = 1
			set = append(set, e.Index)
		}
		if got != want {
			t.Errorf("%s: bit %d is %d, want %d", holder, e.Index, got, want)
		}
	}
	if got := lc.Bits.SetIndices(1); !slices.Equal(got, set) {
		t.Errorf("set bits %v, want only %v (%s)", got, set, revokedGrant)
	}
}

// TestSpecContextHashes: §2 states each embedded context's SHA-256, and for
// the published contexts it is the one the shared vectors record.
func TestSpecContextHashes(t *testing.T) {
	doc := readSpec(t)
	data, err := os.ReadFile(contextMapPath)
	if err != nil {
		t.Fatal(err)
	}
	var published []struct{ URL, SHA256 string }
	if err := json.Unmarshal(data, &published); err != nil {
		t.Fatal(err)
	}
	for url, file := range credentials.Contexts() {
		sum := sha256.Sum256(file)
		hash := hex.EncodeToString(sum[:])
		row := "| `" + url + "` |"
		found := false
		for _, line := range strings.Split(doc.text, "\n") {
			found = found || strings.HasPrefix(line, row) && strings.Contains(line, "`"+hash+"`")
		}
		if !found {
			t.Errorf("§2 has no row for %s with SHA-256 %s", url, hash)
		}
		for _, p := range published {
			if p.URL == url && p.SHA256 != hash {
				t.Errorf("%s: embedded SHA-256 %s, shared vectors record %s", url, hash, p.SHA256)
			}
		}
	}
}

// The verifier of §12.6: what the document says it was given.
const (
	specAudience        = "https://mail.example/verifier"
	specStatusBase      = "https://status.example.com/lists"
	specCheckpointEvery = 4
)

// specTime is 2026-12-03 at hh:mm UTC, the day of every example.
func specTime(hh, mm int) time.Time { return time.Date(2026, 12, 3, hh, mm, 0, 0, time.UTC) }

// specSeed is a ChaCha8 stream seeded with b followed by 31 zero bytes.
func specSeed(b byte) *rand.ChaCha8 {
	var s [32]byte
	s[0] = b
	return rand.NewChaCha8(s)
}

// specTransport serves every request from an http.Handler, in process:
// the verifier fetches Alice's lists through the real Fetcher and handler.
type specTransport struct{ h http.Handler }

func (t specTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	rec := httptest.NewRecorder()
	t.h.ServeHTTP(rec, r)
	return rec.Result(), nil
}

// specStatusSource publishes §11.4's revocation list and the all-zero
// suspension list of that time (signed at 13:30) and fetches them as §7.3
// says: a statushttp.Fetcher over a statushttp handler.
func specStatusSource(t *testing.T, cv *credentials.Verifier, revocation []byte) presentation.StatusSource {
	t.Helper()
	bits, err := status.NewBitstring(status.MinBits)
	if err != nil {
		t.Fatal(err)
	}
	signedAt := specTime(13, 30)
	suspension, err := credentials.SignStatusList(alice, status.StoredList{
		Name: "alice-suspension-1", URL: specStatusBase + "/alice-suspension-1", Purpose: status.Suspension, Bits: bits,
	}, 24*time.Hour, 5*time.Minute, credentials.IssueOptions{Now: func() time.Time { return signedAt }})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for name, data := range map[string][]byte{"alice-revocation-1": revocation, "alice-suspension-1": suspension} {
		if err := statushttp.WriteFile(dir, name, data); err != nil {
			t.Fatal(err)
		}
	}
	h, err := statushttp.NewHandler(dir)
	if err != nil {
		t.Fatal(err)
	}
	fetchedAt := specTime(14, 0)
	return &statushttp.Fetcher{
		Client: &http.Client{Transport: specTransport{http.StripPrefix("/lists", h)}},
		Verify: cv.VerifyStatusList, Now: func() time.Time { return fetchedAt },
	}
}

// specFlowLine is one call of a flow example: time, request, outcome and
// reasons, approval id, retry_at, audit record.
func specFlowLine(at time.Time, req presentation.Request, d presentation.Decision) string {
	line := fmt.Sprintf("%s  %s %s  %s", at.Format("15:04"), req.Action, req.Resource, d.Outcome)
	for _, r := range d.Reasons {
		line += " " + string(r)
	}
	if d.ApprovalID != "" {
		line += "  approval " + d.ApprovalID
	}
	if !d.RetryAt.IsZero() {
		line += "  retry_at " + d.RetryAt.Format(time.RFC3339)
	}
	return line + "  audit " + d.AuditID
}

// specOutputs is what the calls of §12.6 and §13.5 produce, by example name.
type specOutputs map[string]string

// specScenario is the verifier of §12.6 and its clock.
type specScenario struct {
	t     *testing.T
	v     *presentation.Verifier
	root  *credentials.Credential
	clock time.Time
}

func newSpecScenario(t *testing.T, root *credentials.Credential, src presentation.StatusSource, db *badger.DB) *specScenario {
	t.Helper()
	s := &specScenario{t: t, root: root, clock: specTime(14, 0)}
	v, err := presentation.New(presentation.Config{
		Audience: specAudience, Resolver: did.KeyResolver{}, TrustedRoots: []string{alice.DID()},
		Status: src, Store: db, Now: func() time.Time { return s.clock }, Rand: specSeed(3),
		Signer: testkeys.New("verifier"), AuditCheckpointEvery: specCheckpointEvery,
	})
	if err != nil {
		t.Fatal(err)
	}
	s.v = v
	return s
}

// authorize has the assistant present the root alone for req at at, with
// a new challenge.
func (s *specScenario) authorize(at time.Time, req presentation.Request, opts ...presentation.AuthorizeOption) presentation.Decision {
	s.t.Helper()
	s.clock = at
	ch, err := s.v.Challenge(context.Background())
	if err != nil {
		s.t.Fatal(err)
	}
	vp, err := presentation.Present(assistant, []*credentials.Credential{s.root}, ch, req, at)
	if err != nil {
		s.t.Fatal(err)
	}
	return s.v.Authorize(context.Background(), vp, req, opts...)
}

// runSpecScenario makes the calls of §12.6 and §13.5, in that order, and
// returns the examples of §12.6 to §14.6 they produce.
func runSpecScenario(t *testing.T, root *credentials.Credential, src presentation.StatusSource, db *badger.DB) specOutputs {
	t.Helper()
	s := newSpecScenario(t, root, src, db)
	out := specOutputs{}
	s.approvalFlow(out)
	s.rateFlow(out)
	s.auditExamples(out)
	return out
}

// approvalFlow: NEEDS_APPROVAL, Alice's answer, ALLOW with it, REPLAY.
func (s *specScenario) approvalFlow(out specOutputs) {
	t := s.t
	draft := presentation.Request{Action: "email:draft", Resource: "mailbox:alice/drafts",
		Intent: "reply to Bob about Friday", Context: map[string]string{"thread": "4711"}}
	d := s.authorize(specTime(14, 0), draft)
	flow := []string{specFlowLine(s.clock, draft, d)}
	id := d.ApprovalID
	s.clock = specTime(14, 2)
	r, err := s.v.Approval(id)
	if err != nil {
		t.Fatal(err)
	}
	answer, err := presentation.SignAnswer(alice, r, true, 10*time.Minute, s.clock)
	if err != nil {
		t.Fatal(err)
	}
	if r, err = s.v.Answer(context.Background(), id, answer); err != nil {
		t.Fatal(err)
	}
	flow = append(flow, fmt.Sprintf("%s  answer %s (approve, signed by alice)  %s", s.clock.Format("15:04"), id, r.State))
	for _, m := range []int{3, 4} {
		d = s.authorize(specTime(14, m), draft, presentation.WithApproval(answer))
		flow = append(flow, specFlowLine(s.clock, draft, d))
	}
	out["approval-flow"] = strings.Join(flow, "\n")
	out["approval-answer"] = answer
	out["approval-answer-header"] = specJWSPart(t, answer, 0)
	out["approval-answer-payload"] = specJWSPart(t, answer, 1)
}

// rateFlow: four calendar reads against a rate of 3 an hour.
func (s *specScenario) rateFlow(out specOutputs) {
	cal := presentation.Request{Action: "calendar:read", Resource: "calendar:alice/work"}
	var lines []string
	var d presentation.Decision
	for _, m := range []int{10, 20, 30, 40} {
		d = s.authorize(specTime(14, m), cal)
		lines = append(lines, specFlowLine(s.clock, cal, d))
	}
	out["rate-limit-flow"] = strings.Join(append(lines, "message: "+d.Message), "\n")
}

// auditExamples: record 3 and the last checkpoint, as exported.
func (s *specScenario) auditExamples(out specOutputs) {
	t := s.t
	var records, checkpoints bytes.Buffer
	if err := s.v.AuditLog().Export(&records); err != nil {
		t.Fatal(err)
	}
	if err := s.v.AuditLog().ExportCheckpoints(&checkpoints); err != nil {
		t.Fatal(err)
	}
	recs := strings.Split(strings.TrimSuffix(records.String(), "\n"), "\n")
	cps := strings.Split(strings.TrimSuffix(checkpoints.String(), "\n"), "\n")
	if len(recs) < 3 || cps[0] == "" {
		t.Fatalf("%d audit records and %d checkpoints", len(recs), len(cps))
	}
	out["audit-record"] = specIndent(t, []byte(recs[2]))
	last := cps[len(cps)-1]
	out["audit-checkpoint"] = last
	out["checkpoint-header"] = specJWSPart(t, last, 0)
	out["checkpoint-payload"] = specJWSPart(t, last, 1)
}

// specJWSPart decodes part i (0 header, 1 payload) of a compact JWS and
// indents it as the document shows it.
func specJWSPart(t *testing.T, jws string, i int) string {
	t.Helper()
	parts := strings.Split(jws, ".")
	if len(parts) != 3 {
		t.Fatalf("%.40s… is not a compact JWS", jws)
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[i])
	if err != nil {
		t.Fatal(err)
	}
	return specIndent(t, b)
}

func specIndent(t *testing.T, b []byte) string {
	t.Helper()
	var out bytes.Buffer
	if err := json.Indent(&out, b, "", "  "); err != nil {
		t.Fatal(err)
	}
	return out.String()
}

// TestSpecDecisionExamples: the examples of §12.6 (approval), §13.5 (rate
// limit) and §14.6 (audit log) are what the verifier produces, byte for
// byte, when the calls the document describes are made again; the audit
// record's hash follows from the document's own JSON (§14.2), and the log
// holds eight records and two checkpoints and verifies.
func TestSpecDecisionExamples(t *testing.T) {
	doc := readSpec(t)
	cv := verifier(t)
	root, err := cv.Verify(context.Background(), doc.examples["root-credential"])
	if err != nil {
		t.Fatalf("root-credential: %v", err)
	}
	db, err := badger.Open(badger.DefaultOptions("").WithInMemory(true).WithLogger(nil))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	got := runSpecScenario(t, root, specStatusSource(t, cv, doc.examples["status-list-credential"]), db)
	for _, name := range slices.Sorted(maps.Keys(got)) {
		if want := string(doc.examples[name]); got[name] != want {
			t.Errorf("%s differs from what the verifier produces:\n got:\n%s\nwant:\n%s", name, got[name], want)
		}
	}
	t.Run("record hash", func(t *testing.T) {
		checkRecordHash(t, doc.examples["audit-record"])
	})
	t.Run("log verifies", func(t *testing.T) {
		rep, err := audit.Verify(context.Background(), db, did.KeyResolver{})
		if err != nil {
			t.Fatalf("audit.Verify: %v", err)
		}
		if rep.Records != 8 || rep.Checkpoints != 2 || !slices.Equal(rep.Signers, []string{testkeys.New("verifier").DID()}) {
			t.Errorf("report %+v: want 8 records, 2 checkpoints, signed by the verifier's key", rep)
		}
	})
}

// checkRecordHash recomputes a record's hash as §14.2 defines it: SHA-256
// of the JCS of the record with hash "".
func checkRecordHash(t *testing.T, data []byte) {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var rec map[string]any
	if err := dec.Decode(&rec); err != nil {
		t.Fatal(err)
	}
	want, _ := rec["hash"].(string)
	rec["hash"] = ""
	canon, err := credentials.CanonicalJSON(rec)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(canon)
	if got := hex.EncodeToString(sum[:]); got != want {
		t.Errorf("record hash %s, want SHA-256 of its JCS with hash \"\": %s", want, got)
	}
}
