package attack_test

import (
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/mandate-dev/mandate/credentials"
	"github.com/mandate-dev/mandate/credentials/scope"
	"github.com/mandate-dev/mandate/credentials/status"
	"github.com/mandate-dev/mandate/credentials/status/statushttp"
	"github.com/mandate-dev/mandate/internal/strictjson"
	"github.com/mandate-dev/mandate/internal/testkeys"
	"github.com/mandate-dev/mandate/presentation"
)

// Limits on every input, each just past its bound, through gRPC. The
// presentation and gRPC message limits, JSON nesting and duplicate keys are
// in the corpus ("a huge presentation ...", "a deeply nested presentation").
func TestLimits(t *testing.T) {
	run(t, []attack{
		// credentials.Decode enforces the 64 KiB limit on a credential sent
		// alone; inside a presentation the verifier takes each credential as
		// a decoded object, so it must check the limit itself. This was a
		// false ALLOW, found by this corpus.
		{name: "limit: a credential past 64 KiB inside a presentation", craft: func(t *testing.T, w *world) ([]byte, presentation.Request) {
			creds := raws(t, w.chain()...)
			creds[1] = bigChild(t, w)
			return w.signed(t, summarizer, creds, readMail()), readMail()
		}, reason: presentation.ReasonMalformed, msg: fmt.Sprintf("bytes, limit %d", credentials.MaxCredentialBytes)},

		{name: "limit: 65 grants", craft: onSubject(func(s map[string]any) {
			var grants []any
			for i := range credentials.MaxGrants + 1 {
				grants = append(grants, map[string]any{"id": fmt.Sprintf("urn:mandate:grant:g%d", i), "action": "email:read", "resource": "mailbox:alice/*"})
			}
			s["grants"] = grants
		}), reason: presentation.ReasonMalformed, msg: "grants: need 1..64, have 65"},

		{name: "limit: 65 forbidden entries", craft: onSubject(func(s map[string]any) {
			var forbidden []any
			for i := range credentials.MaxForbidden + 1 {
				forbidden = append(forbidden, map[string]any{"action": fmt.Sprintf("email:v%d", i)})
			}
			s["forbidden"] = forbidden
		}), reason: presentation.ReasonMalformed, msg: "forbidden: at most 64 entries"},

		{name: "limit: a purpose past 1 KiB", craft: onSubject(func(s map[string]any) {
			s["purpose"] = strings.Repeat("p", credentials.MaxPurposeBytes+1)
		}), reason: presentation.ReasonMalformed, msg: "purpose must be 1..1024 bytes"},

		{name: "limit: 9 conditions", craft: onSubject(func(s map[string]any) {
			g := s["grants"].([]any)[0].(map[string]any)
			g["constraints"] = map[string]any{"conditions": strings.Split(strings.Repeat("true,", credentials.MaxConditions+1), ",")[:credentials.MaxConditions+1]}
		}), reason: presentation.ReasonMalformed, msg: "at most 8 conditions"},

		{name: "limit: a condition past 1 KiB", craft: onSubject(func(s map[string]any) {
			g := s["grants"].([]any)[0].(map[string]any)
			g["constraints"] = map[string]any{"conditions": []any{strings.Repeat("x", credentials.MaxConditionBytes+1)}}
		}), reason: presentation.ReasonMalformed, msg: "a condition must be 1..1024 bytes"},

		{name: "limit: maxDepth 9", craft: onSubject(func(s map[string]any) {
			s["delegation"] = map[string]any{"allowed": true, "maxDepth": credentials.MaxDepthLimit + 1}
		}), reason: presentation.ReasonMalformed, msg: "delegation.maxDepth must be 0..8"},

		{name: "limit: 10 credentials in a presentation", craft: func(t *testing.T, w *world) ([]byte, presentation.Request) {
			chain, holder := w.longChain(t)
			last := w.forge(t, holder, chain[len(chain)-1], credentials.Subject{ID: courier.DID(), Forbidden: chain[len(chain)-1].Subject.Forbidden,
				Grants: []credentials.Grant{grant("r", "email:read", "mailbox:alice/*")}}, credentials.Template{})
			return w.present(t, courier, append(chain, last), readMail()), readMail()
		}, reason: presentation.ReasonMalformed, msg: "verifiableCredential must hold 1..9 credentials"},

		{name: "limit: request intent past 4 KiB", craft: request(func(r *presentation.Request) {
			r.Intent = strings.Repeat("i", presentation.MaxIntentBytes+1)
		}), reason: presentation.ReasonMalformed, msg: "intent is longer than 4096 bytes"},

		{name: "limit: 33 request context entries", craft: request(func(r *presentation.Request) {
			r.Context = map[string]string{}
			for i := range presentation.MaxContextEntries + 1 {
				r.Context[fmt.Sprint("k", i)] = "v"
			}
		}), reason: presentation.ReasonMalformed, msg: "context has more than 32 entries"},

		{name: "limit: a request context value past 1 KiB", craft: request(func(r *presentation.Request) {
			r.Context = map[string]string{"note": strings.Repeat("v", presentation.MaxContextValBytes+1)}
		}), reason: presentation.ReasonMalformed, msg: `context entry "note" is too long or empty`},

		{name: "limit: a request context key past 128 bytes", craft: request(func(r *presentation.Request) {
			r.Context = map[string]string{strings.Repeat("k", presentation.MaxContextKeyBytes+1): "v"}
		}), reason: presentation.ReasonMalformed, msg: "is too long or empty"},

		{name: "limit: a request action past 128 bytes", craft: request(func(r *presentation.Request) {
			r.Action = "email:" + strings.Repeat("r", scope.MaxActionLen)
		}), reason: presentation.ReasonMalformed, msg: "must be 1..128 bytes"},

		{name: "limit: a request resource past 512 bytes", craft: request(func(r *presentation.Request) {
			r.Resource = "mailbox:alice/" + strings.Repeat("r", scope.MaxResourceLen)
		}), reason: presentation.ReasonMalformed, msg: "must be 1..512 bytes"},

		{name: "limit: a request resource of 33 segments", craft: request(func(r *presentation.Request) {
			r.Resource = "mailbox:alice" + strings.Repeat("/x", scope.MaxResourceParts)
		}), reason: presentation.ReasonMalformed, msg: "has more than 32 segments"},

		{name: "limit: a holder DID past 2 KiB", craft: func(t *testing.T, w *world) ([]byte, presentation.Request) {
			long := "did:key:z" + strings.Repeat("1", 2048)
			return signVP(t, long, raws(t, w.chain()...), readMail(), holderProof{key: summarizer, vm: long + "#k", ch: w.challenge(t)}, nil), readMail()
		}, reason: presentation.ReasonSignatureInvalid, msg: "limit 2048"},

		{name: "limit: a challenge past 128 bytes", craft: func(t *testing.T, w *world) ([]byte, presentation.Request) {
			ch := presentation.Challenge{Nonce: strings.Repeat("n", 129), Audience: audience}
			return signVP(t, summarizer.DID(), raws(t, w.chain()...), readMail(), holderProof{key: summarizer, ch: ch}, nil), readMail()
		}, reason: presentation.ReasonChallengeUnknown, msg: "presentation: challenge unknown"},

		{name: "limit: JSON nested 33 deep", craft: nested(strictjson.MaxDepth), reason: presentation.ReasonMalformed, msg: "nested deeper than 32"},

		// Five issuers with a revocation and a suspension list each name ten
		// lists; this verifier is configured to fetch at most eight (the
		// default, 36, is past what 9 links of Mandate issuers can name).
		{name: "limit: more than 8 status lists in one decision", cfg: func(c *presentation.Config) { c.MaxStatusLists = 8 }, craft: func(t *testing.T, w *world) ([]byte, presentation.Request) {
			chain := w.issuerChain(t, 5)
			return w.present(t, courier, chain, readMail()), readMail()
		}, reason: presentation.ReasonStatusInvalid, msg: "more than 8 status lists"},

		// A gzip bomb: a few KiB that inflate past the largest list allowed.
		// The list is refused while it is parsed, before its proof is read.
		{name: "limit: a status list inflating past 2^24 bits", craft: func(t *testing.T, w *world) ([]byte, presentation.Request) {
			bomb := gzipBomb(t, status.MaxBits/8+1)
			w.replaceList(t, w.root.Status[0], func(l status.StoredList) []byte {
				return editJSON(t, w.signList(t, alice, l), func(m map[string]any) { subjectOf(m)["encodedList"] = bomb })
			})
			return w.present(t, summarizer, w.chain(), readMail()), readMail()
		}, reason: presentation.ReasonStatusInvalid, msg: "decoded list is longer than the maximum 16777216 bits"},

		{name: "limit: a status list response past 256 KiB", craft: func(t *testing.T, w *world) ([]byte, presentation.Request) {
			w.raw.Store("/huge-revocation-1", bytes.Repeat([]byte(" "), statushttp.MaxListCredentialBytes+1))
			c := w.pointedChild(t, w.srv.URL+"/huge-revocation-1")
			return w.present(t, summarizer, []*credentials.Credential{w.root, c}, readMail()), readMail()
		}, reason: presentation.ReasonStatusUnavailable, msg: "exceeds 262144"},
	})
}

// At each bound the input is decided on its merits: the limits are where
// they are documented, not lower.
func TestLimitsBoundary(t *testing.T) {
	cases := []struct {
		name   string
		craft  func(t *testing.T, w *world) ([]byte, presentation.Request)
		reason presentation.Reason // "" for ALLOW
		msg    string
	}{
		{"a presentation of exactly the maximum size", func(t *testing.T, w *world) ([]byte, presentation.Request) {
			vp := w.present(t, summarizer, w.chain(), readMail())
			return append(vp, strings.Repeat(" ", presentation.MaxPresentationBytes-len(vp))...), readMail()
		}, "", ""},
		{"a chain of 9 links", func(t *testing.T, w *world) ([]byte, presentation.Request) {
			chain, holder := w.longChain(t)
			return w.present(t, holder, chain, readMail()), readMail()
		}, "", ""},
		{"8 status lists in one decision", func(t *testing.T, w *world) ([]byte, presentation.Request) {
			return w.present(t, mallory, w.issuerChain(t, 4), readMail()), readMail()
		}, "", ""},
		{"18 status lists: 9 issuers, each link with status", func(t *testing.T, w *world) ([]byte, presentation.Request) {
			chain := w.issuerChain(t, 9)
			return w.present(t, issuerChainHolder(chain), chain, readMail()), readMail()
		}, "", ""},
		{"JSON nested 32 deep", nested(strictjson.MaxDepth - 1), presentation.ReasonMalformed, `member "x" is not allowed`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			w := newWorld(t, nil)
			vp, req := c.craft(t, w)
			if len(vp) > presentation.MaxPresentationBytes {
				t.Fatalf("presentation is %d bytes", len(vp))
			}
			d, err := w.send(vp, req)
			if err != nil {
				t.Fatal(err)
			}
			switch {
			case c.reason == "" && d.Outcome != presentation.Allow:
				t.Fatalf("%s %v (%s), want ALLOW", d.Outcome, d.Reasons, d.Message)
			case c.reason != "" && (d.Outcome != presentation.Deny || len(d.Reasons) != 1 || d.Reasons[0] != c.reason || !strings.Contains(d.Message, c.msg)):
				t.Fatalf("%s %v (%s), want DENY %s mentioning %q", d.Outcome, d.Reasons, d.Message, c.reason, c.msg)
			}
		})
	}
}

// onSubject edits the control child's subject and has the assistant sign
// it again, as the assistant's stolen key can: a credential that is
// perfectly signed and breaks a limit.
func onSubject(edit func(s map[string]any)) func(t *testing.T, w *world) ([]byte, presentation.Request) {
	return func(t *testing.T, w *world) ([]byte, presentation.Request) {
		creds := raws(t, w.chain()...)
		edit(subjectOf(creds[1]))
		creds[1] = resign(t, creds[1], assistant, assistant.VerificationMethod(), "assertionMethod")
		return w.signed(t, summarizer, creds, readMail()), readMail()
	}
}

// request presents the control chain honestly for a request that edit
// pushes past a limit: the agent's wallet signs what it is asked to.
func request(edit func(r *presentation.Request)) func(t *testing.T, w *world) ([]byte, presentation.Request) {
	return func(t *testing.T, w *world) ([]byte, presentation.Request) {
		req := readMail()
		edit(&req)
		return w.present(t, summarizer, w.chain(), req), req
	}
}

// nested puts an array nested depth deep into an honest presentation (the
// presentation object itself is one more level).
func nested(depth int) func(t *testing.T, w *world) ([]byte, presentation.Request) {
	return func(t *testing.T, w *world) ([]byte, presentation.Request) {
		vp := string(w.present(t, summarizer, w.chain(), readMail()))
		deep := `"x":` + strings.Repeat("[", depth) + strings.Repeat("]", depth) + `,"holder":`
		return []byte(strings.Replace(vp, `"holder":`, deep, 1)), readMail()
	}
}

// bigChild is the control child grown past MaxCredentialBytes with content
// that is within every other limit and still attenuates the root: 64 grants
// and 64 forbidden entries with long resource patterns, signed by the
// assistant.
func bigChild(t *testing.T, w *world) map[string]any {
	t.Helper()
	m := copyJSON(t, w.child.Raw)
	s := subjectOf(m)
	long := "mailbox:alice/" + strings.Repeat("a", scope.MaxResourceLen-len("mailbox:alice/"))
	grants := s["grants"].([]any)
	for i := len(grants); i < credentials.MaxGrants; i++ {
		grants = append(grants, map[string]any{"id": fmt.Sprintf("urn:mandate:grant:long-%d", i), "action": "email:read", "resource": long})
	}
	s["grants"] = grants
	forbidden := s["forbidden"].([]any)
	for i := len(forbidden); i < credentials.MaxForbidden; i++ {
		forbidden = append(forbidden, map[string]any{"action": fmt.Sprintf("email:x%d", i), "resource": long})
	}
	s["forbidden"] = forbidden
	m = resign(t, m, assistant, assistant.VerificationMethod(), "assertionMethod")
	n := len(mustJSON(t, m))
	if n <= credentials.MaxCredentialBytes {
		t.Fatalf("big child is only %d bytes", n)
	}
	t.Logf("big child: %d bytes, limit %d", n, credentials.MaxCredentialBytes)
	return m
}

func mustJSON(t testing.TB, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// longChain is alice's root with maxDepth 8 and eight children passed
// between the assistant and the summarizer: the longest chain there is.
// It returns the chain and the leaf's holder.
func (w *world) longChain(t *testing.T) ([]*credentials.Credential, *testkeys.Key) {
	t.Helper()
	chain := []*credentials.Credential{w.issue(t, alice, rootTemplate(grant("r", "email:read", "mailbox:alice/*"), credentials.MaxDepthLimit))}
	holder, next := assistant, summarizer
	for depth := credentials.MaxDepthLimit - 1; depth >= 0; depth-- {
		c := w.delegate(t, holder, chain, credentials.Template{Subject: next.DID(), Purpose: fmt.Sprint("depth ", depth),
			Grants: []credentials.Grant{grant("r", "email:read", "mailbox:alice/*")}, Delegation: credentials.Delegation{Allowed: depth > 0, MaxDepth: depth}})
		chain = append(chain, c)
		holder, next = next, holder
	}
	w.publish(t)
	return chain, holder
}

// issuerChain is a chain of n links with n distinct issuers (alice, the
// assistant, the summarizer, the intern, mallory), each publishing its own
// revocation and suspension list.
func (w *world) issuerChain(t *testing.T, n int) []*credentials.Credential {
	t.Helper()
	keys := issuerKeys(n)
	chain := []*credentials.Credential{w.issue(t, alice, rootTemplate(grant("r", "email:read", "mailbox:alice/*"), n-1))}
	for i := 1; i < n; i++ {
		chain = append(chain, w.delegate(t, keys[i], chain, credentials.Template{Subject: keys[i+1].DID(), Purpose: "pass it on",
			Grants: []credentials.Grant{grant("r", "email:read", "mailbox:alice/*")}, Delegation: credentials.Delegation{Allowed: n-1-i > 0, MaxDepth: n - 1 - i}}))
	}
	w.publish(t)
	return chain
}

// issuerKeys are the n+1 keys of an n-issuer chain: issuer i delegates to
// key i+1, and key n holds the leaf.
func issuerKeys(n int) []*testkeys.Key {
	keys := []*testkeys.Key{alice, assistant, summarizer, intern, mallory, courier}
	for i := len(keys); i <= n; i++ {
		keys = append(keys, testkeys.New(fmt.Sprintf("issuer %d", i)))
	}
	return keys
}

// issuerChainHolder is the key that holds an issuerChain's leaf.
func issuerChainHolder(chain []*credentials.Credential) *testkeys.Key {
	return issuerKeys(len(chain))[len(chain)]
}

// gzipBomb is an encodedList (multibase base64url of GZIP) of n zero bytes.
func gzipBomb(t testing.TB, n int) string {
	t.Helper()
	var buf bytes.Buffer
	zw, err := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := zw.Write(make([]byte, n)); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return "u" + base64.RawURLEncoding.EncodeToString(buf.Bytes())
}
