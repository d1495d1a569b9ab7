package load

import (
	"crypto/ed25519"
	"crypto/rand"
	"fmt"
	"io"

	"github.com/mandate-dev/mandate/credentials"
	"github.com/mandate-dev/mandate/did"
	"github.com/mandate-dev/mandate/presentation"
)

// Key is an in-memory Ed25519 did:key signer made for one run and thrown
// away after it; nothing stores it.
type Key struct {
	priv ed25519.PrivateKey
	did  string
	vm   string
}

// NewKey makes a fresh key from r (nil: crypto/rand).
func NewKey(r io.Reader) (*Key, error) {
	if r == nil {
		r = rand.Reader
	}
	pub, priv, err := ed25519.GenerateKey(r)
	if err != nil {
		return nil, fmt.Errorf("load: key: %w", err)
	}
	d, err := did.FromPublicKey(pub)
	if err != nil {
		return nil, fmt.Errorf("load: key: %w", err)
	}
	vm, err := did.VerificationMethodID(d)
	if err != nil {
		return nil, fmt.Errorf("load: key: %w", err)
	}
	return &Key{priv: priv, did: d, vm: vm}, nil
}

// DID returns the key's did:key.
func (k *Key) DID() string { return k.did }

// VerificationMethod returns the key's verification method id.
func (k *Key) VerificationMethod() string { return k.vm }

// Sign signs msg with Ed25519.
func (k *Key) Sign(msg []byte) ([]byte, error) { return ed25519.Sign(k.priv, msg), nil }

// Request is what every agent asks for: it is covered by every chain the
// run issues and by no constraint that could run out (no rate, no maxUses).
var Request = presentation.Request{Action: "email:read", Resource: "mailbox:alice/inbox", Intent: "summarise today's mail"}

// agent is one concurrent client: its key and the chain it holds, root first.
type agent struct {
	key   *Key
	chain []*credentials.Credential
}

// newAgent issues a chain of depth links from the principal down to a
// fresh agent key, each link held by its own fresh key.
func newAgent(principal credentials.Signer, depth int) (agent, error) {
	grants := []credentials.Grant{{ID: "urn:mandate:grant:email-read", Action: "email:read", Resource: "mailbox:alice/*"}}
	var (
		chain  []*credentials.Credential
		issuer = principal
	)
	for i := range depth {
		k, err := NewKey(nil)
		if err != nil {
			return agent{}, err
		}
		left := depth - 1 - i // links still to delegate below this one
		t := credentials.Template{
			Subject: k.DID(), Purpose: "Summarise Alice's inbox (load test)", Grants: grants,
			Delegation: credentials.Delegation{Allowed: left > 0, MaxDepth: left},
		}
		var c *credentials.Credential
		if i == 0 {
			t.Forbidden = []credentials.Forbidden{{Action: "email:send"}}
			c, err = credentials.Issue(issuer, t, credentials.IssueOptions{})
		} else {
			c, err = credentials.Delegate(issuer, chain, t, credentials.IssueOptions{})
		}
		if err != nil {
			return agent{}, fmt.Errorf("load: issue link %d: %w", i+1, err)
		}
		chain = append(chain, c)
		issuer = k
	}
	return agent{key: issuer.(*Key), chain: chain}, nil
}
