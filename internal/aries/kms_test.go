package aries_test

import (
	"crypto/ed25519"
	"strings"
	"testing"

	"github.com/mandate-dev/mandate/internal/aries"
)

func TestKeyManagerSignVerify(t *testing.T) {
	db := openDB(t)
	km, err := aries.NewKeyManager(db, "kms/")
	if err != nil {
		t.Fatal(err)
	}
	keyID, pub, err := km.CreateEd25519()
	if err != nil {
		t.Fatal(err)
	}
	if len(pub) != ed25519.PublicKeySize {
		t.Fatalf("public key is %d bytes", len(pub))
	}
	msg := []byte("mandate")
	sig, err := km.Sign(keyID, msg)
	if err != nil {
		t.Fatal(err)
	}
	if !ed25519.Verify(pub, msg, sig) {
		t.Fatal("signature does not verify")
	}

	// A second KeyManager over the same DB finds the key: it was persisted, under the prefix.
	if err := km.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := km.Sign(keyID, msg); err == nil {
		t.Fatal("Sign after Close succeeded")
	}
	again, err := aries.NewKeyManager(db, "kms/")
	if err != nil {
		t.Fatal(err)
	}
	got, err := again.PublicKey(keyID)
	if err != nil || !got.Equal(pub) {
		t.Fatalf("PublicKey after reopen = %x, %v", got, err)
	}
	sig2, err := again.Sign(keyID, msg)
	if err != nil || !ed25519.Verify(pub, msg, sig2) {
		t.Fatalf("Sign after reopen: %v", err)
	}
	for _, k := range allKeys(t, db) {
		if !strings.HasPrefix(k, "kms/") {
			t.Errorf("key %q is outside the prefix", k)
		}
	}
	other, err := aries.NewKeyManager(db, "other/")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := other.PublicKey(keyID); err == nil {
		t.Fatal("a KMS under another prefix sees the key")
	}
}

func TestKeyManagerRefuses(t *testing.T) {
	km, err := aries.NewKeyManager(openDB(t), "kms/")
	if err != nil {
		t.Fatal(err)
	}
	keyID, _, err := km.CreateEd25519()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		op   func() error
		want string
	}{
		{"sign empty id", func() error { _, err := km.Sign("", []byte("m")); return err }, "aries: key id is empty"},
		{"public key empty id", func() error { _, err := km.PublicKey(""); return err }, "aries: key id is empty"},
		{"long id", func() error { _, err := km.PublicKey(strings.Repeat("k", 129)); return err },
			"aries: key id is 129 bytes, limit 128"},
		{"big message", func() error { _, err := km.Sign(keyID, make([]byte, aries.MaxSignMessage+1)); return err },
			"aries: message to sign is 16777217 bytes, limit 16777216"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.op(); err == nil || err.Error() != tt.want {
				t.Fatalf("err = %v, want %q", err, tt.want)
			}
		})
	}
	for _, op := range []func() error{
		func() error { _, err := km.Sign("unknown", []byte("m")); return err },
		func() error { _, err := km.PublicKey("unknown"); return err },
	} {
		if err := op(); err == nil || !strings.HasPrefix(err.Error(), `aries: `) {
			t.Errorf("unknown key: err = %v", err)
		}
	}
}
