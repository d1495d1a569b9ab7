package demo

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net"
	"path/filepath"

	"github.com/dgraph-io/badger/v4"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/mandate-dev/mandate/credentials"
	"github.com/mandate-dev/mandate/did"
	"github.com/mandate-dev/mandate/presentation"
	"github.com/mandate-dev/mandate/presentation/gatekeeper"
	mandatev1 "github.com/mandate-dev/mandate/protos/mandate/v1"
)

// bbsWorld is the BBS+ run's cast: Alice's and the assistant's BLS12-381
// G2 did:keys and a verifier that accepts bbs. It is a verifier of its own
// because the mail verifier requires status entries, and a status list is
// signed with Ed25519 by its issuer, which a BBS+ issuer (a BLS key) cannot
// be yet (docs/BBS.md).
type bbsWorld struct {
	principal, assistant string // BLS12-381 G2 did:keys in the wallets' KMS
	client               *gatekeeper.Client
}

// startBBS makes the BLS did:keys and serves the BBS+ verifier on loopback.
func (w *world) startBBS(dir string, policy presentation.IntentPolicy, closers *[]func()) error {
	var err error
	if w.bbs.principal, err = w.principal.CreateBLSDID(); err != nil {
		return err
	}
	if w.bbs.assistant, err = w.assistant.CreateBLSDID(); err != nil {
		return err
	}
	db, err := badger.Open(badger.DefaultOptions(filepath.Join(dir, "verifier-bbs")).WithLogger(nil).
		WithMemTableSize(8 << 20).WithValueLogFileSize(16 << 20).WithNumCompactors(2).WithBlockCacheSize(8 << 20))
	if err != nil {
		return fmt.Errorf("demo: bbs verifier store: %w", err)
	}
	*closers = append(*closers, func() { db.Close() })
	v, err := presentation.New(presentation.Config{
		Audience: Audience, Resolver: did.KeyResolver{}, TrustedRoots: []string{w.bbs.principal},
		Store: db, Now: w.now, Signer: w.verifierID, Intent: policy, Formats: []string{presentation.FormatBBS},
	})
	if err != nil {
		return err
	}
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return fmt.Errorf("demo: listen: %w", err)
	}
	srv := gatekeeper.NewGRPCServer(v)
	go srv.Serve(lis)
	*closers = append(*closers, srv.GracefulStop)
	conn, err := grpc.NewClient(lis.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		return err
	}
	*closers = append(*closers, func() { conn.Close() })
	w.bbs.client = gatekeeper.NewClient(mandatev1.NewVerifierServiceClient(conn), w.now)
	return nil
}

// castBBS issues the same two-link chain as BBS+ (Alice's BLS key → the
// assistant's, five grants; assistant → summarizer, email:read) and returns
// its steps.
func (w *world) castBBS(t credentials.Template, childTemplate credentials.Template) ([]func() Step, error) {
	alice, err := w.principal.BBSSigner(w.bbs.principal)
	if err != nil {
		return nil, err
	}
	assistant, err := w.assistant.BBSSigner(w.bbs.assistant)
	if err != nil {
		return nil, err
	}
	t.Subject = w.bbs.assistant
	root, err := credentials.IssueBBS(alice, t, credentials.IssueOptions{})
	if err != nil {
		return nil, err
	}
	child, err := credentials.DelegateBBS(assistant, []*credentials.Credential{root}, childTemplate,
		credentials.IssueOptions{CheckPurpose: w.purposeCheck})
	if err != nil {
		return nil, err
	}
	chain := []*credentials.Credential{root, child}
	return []func() Step{
		func() Step {
			s, _ := w.presentBBS(chain, nil)
			s.Name, s.Expected = "summarizer reads mail as BBS+, revealing only email:read", "ALLOW"
			return s
		},
		func() Step {
			s, _ := w.presentBBS(chain, tamperBBSProof)
			s.Name, s.Expected = "BBS+ derived proof tampered by one byte", "DENY SIGNATURE_INVALID"
			return s
		},
	}, nil
}

// presentBBS is the summarizer presenting its BBS+ chain for readMail over
// gRPC; tamper, when set, changes the presentation before it is sent.
func (w *world) presentBBS(chain []*credentials.Credential, tamper func([]byte) ([]byte, error)) (Step, error) {
	fail := func(err error) (Step, error) {
		return decisionStep("", "summarizer", readMail, "", presentation.Decision{}, err), err
	}
	ch, err := w.bbs.client.Challenge(w.ctx)
	if err != nil {
		return fail(err)
	}
	sel, err := presentation.SelectBBS([][]*credentials.Credential{chain}, w.summarizer.DID(), readMail.Action, readMail.Resource, w.now())
	if err != nil {
		return fail(err)
	}
	vp, err := presentation.PresentBBS(w.summarizer, sel, ch, readMail)
	if err != nil {
		return fail(err)
	}
	seen, err := revealed(vp)
	if err != nil {
		return fail(err)
	}
	if tamper != nil {
		if vp, err = tamper(vp); err != nil {
			return fail(err)
		}
	}
	d, err := w.bbs.client.SendFormat(w.ctx, presentation.FormatBBS, vp, readMail)
	s := decisionStep("", "summarizer", readMail, "", d, err)
	s.Format, s.GrantsSeen = presentation.FormatBBS, seen
	for _, n := range sel.Held {
		s.GrantsHeld += n
	}
	return s, nil
}

// bbsVP is a BBS+ presentation as the demo reads and edits it.
type bbsVP struct {
	Links   []map[string]any `json:"links"`
	Binding json.RawMessage  `json:"binding"`
}

// revealed counts the grants the derived links reveal.
func revealed(vp []byte) (int, error) {
	var p bbsVP
	if err := json.Unmarshal(vp, &p); err != nil {
		return 0, fmt.Errorf("demo: bbs presentation: %w", err)
	}
	n := 0
	for _, l := range p.Links {
		sub, _ := l["credentialSubject"].(map[string]any)
		switch g := sub["grants"].(type) {
		case []any:
			n += len(g)
		case map[string]any:
			n++ // JSON-LD compacts a one-element list to the element
		}
	}
	return n, nil
}

// tamperBBSProof flips one bit of the leaf's derived proof value.
func tamperBBSProof(vp []byte) ([]byte, error) {
	var p bbsVP
	if err := json.Unmarshal(vp, &p); err != nil {
		return nil, fmt.Errorf("demo: bbs presentation: %w", err)
	}
	leaf := p.Links[len(p.Links)-1]
	proof, ok := leaf["proof"].(map[string]any)
	if !ok {
		if list, _ := leaf["proof"].([]any); len(list) == 1 {
			proof, ok = list[0].(map[string]any)
		}
	}
	value, _ := proof["proofValue"].(string)
	raw, err := base64.StdEncoding.DecodeString(value)
	if !ok || err != nil || len(raw) < 8 {
		return nil, fmt.Errorf("demo: bbs presentation: the leaf has no proof value to tamper with")
	}
	raw[len(raw)-7] ^= 0x01
	proof["proofValue"] = base64.StdEncoding.EncodeToString(raw)
	return json.Marshal(p)
}
