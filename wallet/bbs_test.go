package wallet_test

import (
	"context"
	"testing"
	"time"

	"github.com/mandate-dev/mandate/credentials"
)

// A BLS12-381 G2 key made in the wallet's KMS issues a BBS+ credential
// that verifies, and survives closing and reopening the wallet.
func TestBBSSignerIssues(t *testing.T) {
	dir := t.TempDir()
	w := create(t, dir)
	id, err := w.CreateBLSDID()
	if err != nil {
		t.Fatalf("CreateBLSDID: %v", err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	w = open(t, dir)
	s, err := w.BBSSigner(id)
	if err != nil {
		t.Fatalf("BBSSigner: %v", err)
	}
	if ids, err := w.BLSDIDs(); err != nil || len(ids) != 1 || ids[0] != id {
		t.Fatalf("BLSDIDs = %v, %v; want [%s]", ids, err, id)
	}
	if ids, _ := w.DIDs(); len(ids) != 1 {
		t.Fatalf("DIDs = %v: a BLS DID must not be listed among the Ed25519 signers", ids)
	}
	c, err := credentials.IssueBBS(s, credentials.Template{Subject: w.DID(), Purpose: "p",
		Grants: []credentials.Grant{{ID: "urn:mandate:grant:r", Action: "email:read", Resource: "mailbox:alice/*"}}},
		credentials.IssueOptions{Now: func() time.Time { return time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC) }})
	if err != nil {
		t.Fatalf("IssueBBS: %v", err)
	}
	d, err := credentials.DeriveBBS(c, []string{"urn:mandate:grant:r"}, []byte("n"))
	if err != nil {
		t.Fatal(err)
	}
	v, err := credentials.NewBBSVerifier()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := v.Verify(context.Background(), d, []byte("n")); err != nil {
		t.Fatalf("Verify: %v", err)
	}
	if _, err := w.BBSSigner(w.DID()); err == nil {
		t.Fatal("BBSSigner(an Ed25519 DID) succeeded")
	}
}
