package credentials_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mandate-dev/mandate/credentials"
	"github.com/mandate-dev/mandate/did"
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
	"child-credential", "constraints-subject", "poa-context", "presentation",
	"root-credential", "root-jcs", "status-list-credential",
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
