package main

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"

	"github.com/mandate-dev/mandate/credentials"
	"github.com/mandate-dev/mandate/did"
	"github.com/mandate-dev/mandate/wallet"
	"github.com/mandate-dev/mandate/wallet/holder"
)

// chainFormat tells how a stored or imported chain file is secured
// (holder.ChainFormat).
func chainFormat(data []byte) string { return holder.ChainFormat(data) }

// checkBBSSubject accepts, as a BBS+ credential's subject, an Ed25519
// did:key or a BLS12-381 G2 did:key (which an agent that delegates needs).
func checkBBSSubject(id string) error {
	if _, err := did.ParseKey(id); err == nil {
		return nil
	}
	if _, err := did.ParseBLS12381G2Key(id); err != nil {
		return err
	}
	return nil
}

// bbsIssuer is the wallet's BLS12-381 G2 did:key that signs a root: the one
// named, or the only one the wallet has.
func bbsIssuer(w *wallet.Wallet, named string) (*wallet.BBSSigner, error) {
	if named != "" {
		return w.BBSSigner(named)
	}
	ids, err := w.BLSDIDs()
	if err != nil {
		return nil, err
	}
	switch len(ids) {
	case 0:
		return nil, errors.New("--format bbs: the wallet has no BLS12-381 G2 did:key; create one with `mandate did create --key bls12381g2`")
	case 1:
		return w.BBSSigner(ids[0])
	}
	return nil, fmt.Errorf("--format bbs: the wallet has %d BLS12-381 G2 did:keys; name the issuer with --issuer", len(ids))
}

// noBBSStatus says, when the wallet keeps status lists, that a BBS+
// credential gets no entry in them: a verifier requires a status list
// signed by the credential's issuer, and a list is signed with Ed25519,
// which a BLS12-381 G2 issuer cannot do yet (docs/BBS.md, "Status").
func noBBSStatus(alloc credentials.StatusAllocator, io *streams) {
	if alloc != nil {
		fmt.Fprintln(io.err, "note: a BBS+ credential carries no status entry yet: it cannot be revoked or suspended (docs/BBS.md)")
	}
}

// issueBBS signs a root BBS+ credential and writes its one-link chain.
func (o *issueOptions) issueBBS(w *wallet.Wallet, t credentials.Template, alloc credentials.StatusAllocator, io *streams) error {
	s, err := bbsIssuer(w, o.issuer)
	if err != nil {
		return err
	}
	noBBSStatus(alloc, io)
	c, err := credentials.IssueBBS(s, t, credentials.IssueOptions{})
	if err != nil {
		return err
	}
	return o.writeBBS([]*credentials.Credential{c}, io)
}

// delegateBBS signs a BBS+ child under the BBS+ chain raw, as the wallet's
// BLS12-381 G2 did:key the parent was granted to.
func (o *issueOptions) delegateBBS(w *wallet.Wallet, raw []byte, t credentials.Template, io *streams) error {
	chain, err := credentials.DecodeBBSChain(raw)
	if err != nil {
		return err
	}
	s, err := w.BBSSigner(chain[len(chain)-1].Subject.ID)
	if err != nil {
		return fmt.Errorf("the parent chain is granted to %s, not to a BLS12-381 G2 did:key of this wallet: %w", chain[len(chain)-1].Subject.ID, err)
	}
	opts, closeCheckers, err := o.delegateOptions(w)
	if err != nil {
		return err
	}
	defer closeCheckers()
	noBBSStatus(opts.Status, io)
	child, err := credentials.DelegateBBS(s, chain, t, credentials.IssueOptions{CheckPurpose: opts.CheckPurpose})
	if err != nil {
		return err
	}
	return o.writeBBS(append(chain, child), io)
}

func (o *issueOptions) writeBBS(chain []*credentials.Credential, io *streams) error {
	b, err := credentials.EncodeChain(chain)
	if err != nil {
		return err
	}
	if err := writeOut(o.out, b, io); err != nil {
		return err
	}
	if o.out != "" {
		fmt.Fprintln(io.err, "issued", chain[len(chain)-1].ID, "(bbs)")
	}
	return nil
}

// verifyBBSChain checks every link's BBS+ signature, by deriving a proof
// that reveals all its grants under a fresh nonce and verifying it, and the
// chain rules between the links.
func verifyBBSChain(ctx context.Context, data []byte) ([]*credentials.Credential, error) {
	chain, err := credentials.DecodeBBSChain(data)
	if err != nil {
		return nil, err
	}
	v, err := credentials.NewBBSVerifier()
	if err != nil {
		return nil, err
	}
	nonce := make([]byte, 16)
	if _, err := rand.Read(nonce); err != nil {
		return nil, err
	}
	for i, c := range chain {
		ids := make([]string, len(c.Subject.Grants))
		for j, g := range c.Subject.Grants {
			ids[j] = g.ID
		}
		d, err := credentials.DeriveBBS(c, ids, nonce)
		if err != nil {
			return nil, fmt.Errorf("link %d: %w", i, err)
		}
		if _, err := v.Verify(ctx, d, nonce); err != nil {
			return nil, fmt.Errorf("link %d: %w", i, err)
		}
	}
	if err := credentials.CheckChain(chain); err != nil {
		return nil, err
	}
	return chain, nil
}

// importBBSChain verifies a BBS+ chain file and stores it under its leaf's
// id; the leaf must be granted to one of the wallet's DIDs.
func importBBSChain(ctx context.Context, o importOptions, data []byte, io *streams) error {
	chain, err := verifyBBSChain(ctx, data)
	if err != nil {
		return err
	}
	return storeChain(o, io, chain[len(chain)-1], func() ([]byte, error) { return credentials.EncodeChain(chain) })
}

// ownsDID reports whether id is the wallet's DID or one of its BLS DIDs.
func ownsDID(w *wallet.Wallet, id string) bool {
	if id == w.DID() {
		return true
	}
	_, err := w.BBSSigner(id)
	return err == nil
}
