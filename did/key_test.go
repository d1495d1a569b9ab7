package did_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"strings"
	"testing"

	"github.com/multiformats/go-multibase"

	"github.com/mandate-dev/mandate/did"
)

// alice is the did:key of the all-zero seed (the first w3c-ccg vector).
const (
	alice   = "did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp"
	aliceMB = "z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp"
	aliceVM = alice + "#" + aliceMB
	// bobMB is the multibase value of the seed ...01 vector.
	bobMB = "z6MkjchhfUsD6mmvni8mCdXHw216Xrm9bQe2mBH1P5RDjVJG"
)

// multikey encodes a multicodec prefix and n bytes of key as base58btc multibase.
func multikey(t *testing.T, prefix []byte, n int) string {
	t.Helper()
	s, err := multibase.Encode(multibase.Base58BTC, append(prefix, bytes.Repeat([]byte{7}, n)...))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestParseKeyErrors(t *testing.T) {
	tests := []struct {
		name, in string
		want     error
		msg      string
	}{
		{"empty", "", did.ErrInvalidDID,
			`did: invalid DID: "" is not of the form did:<method>:<id>`},
		{"too long", alice + "#" + strings.Repeat("z", 2048), did.ErrInvalidDID,
			"did: invalid DID: input is 2105 bytes, limit 2048"},
		{"at the limit", alice + "#" + strings.Repeat("z", 2048-len(alice)-1), did.ErrInvalidDIDURL,
			`did: invalid DID URL: fragment "` + strings.Repeat("z", 128) + `"... does not name the DID's key ` + aliceMB},
		{"upper-case method", "did:KEY:" + aliceMB, did.ErrInvalidDID,
			`did: invalid DID: method name "KEY" is not lowercase letters and digits`},
		{"other method", "did:web:example.com", did.ErrMethodNotSupported,
			`did: method not supported: "web": only did:key`},
		{"version", "did:key:1:" + aliceMB, did.ErrInvalidDID,
			`did: invalid DID: version segment "1" is not supported: only did:key:<multibase>`},
		{"base64url multibase", "did:key:u7QE", did.ErrInvalidDID,
			`did: invalid DID: multibase value "u7QE" does not start with 'z' (base58btc)`},
		{"not base58", "did:key:z6Mk0", did.ErrInvalidDID,
			`did: invalid DID: multibase value "z6Mk0": invalid base58 digit ('0')`},
		{"non-minimal varint", "did:key:" + multikey(t, []byte{0xed, 0x81, 0x00}, 32), did.ErrInvalidDID,
			"did: invalid DID: multibase value " + `"` + multikey(t, []byte{0xed, 0x81, 0x00}, 32) + `"` +
				" has a non-minimal multicodec varint"},
		{"long ed25519 key", "did:key:" + multikey(t, []byte{0xed, 0x01}, 33), did.ErrInvalidPublicKeyLength,
			"did: invalid public key length: ed25519-pub key is 33 bytes, want 32"},
		{"unknown codec", "did:key:" + multikey(t, []byte{0x80, 0x06}, 32), did.ErrUnsupportedPublicKeyType,
			"did: unsupported public key type multicodec 0x300: only ed25519-pub"},
		{"query", alice + "?service=x", did.ErrInvalidDIDURL,
			`did: invalid DID URL: "` + alice + `?service=x" has a path or query; only a fragment naming the key is allowed`},
		{"empty fragment", alice + "#", did.ErrInvalidDIDURL,
			`did: invalid DID URL: fragment "" does not name the DID's key ` + aliceMB},
		{"other key's fragment", alice + "#" + bobMB, did.ErrInvalidDIDURL,
			`did: invalid DID URL: fragment "` + bobMB + `" does not name the DID's key ` + aliceMB},
		{"relative fragment", alice + "#key-1", did.ErrInvalidDIDURL,
			`did: invalid DID URL: fragment "key-1" does not name the DID's key ` + aliceMB},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			key, err := did.ParseKey(tt.in)
			if !errors.Is(err, tt.want) || err.Error() != tt.msg {
				t.Errorf("ParseKey error = %v\nwant %s", err, tt.msg)
			}
			if key != nil {
				t.Errorf("ParseKey returned key %x with an error", key)
			}
		})
	}
}

func TestFromPublicKeyErrors(t *testing.T) {
	for _, n := range []int{0, 31, 33, 64} {
		id, err := did.FromPublicKey(make(ed25519.PublicKey, n))
		if !errors.Is(err, did.ErrInvalidPublicKeyLength) || id != "" {
			t.Errorf("FromPublicKey(%d bytes) = %q, %v; want %v", n, id, err, did.ErrInvalidPublicKeyLength)
		}
	}
}

func TestVerificationMethodIDErrors(t *testing.T) {
	tests := []struct {
		in   string
		want error
	}{
		{aliceVM, did.ErrInvalidDID},
		{"did:web:example.com", did.ErrMethodNotSupported},
		{"did:key:" + multikey(t, []byte{0x80, 0x24}, 33), did.ErrUnsupportedPublicKeyType},
	}
	for _, tt := range tests {
		if id, err := did.VerificationMethodID(tt.in); !errors.Is(err, tt.want) || id != "" {
			t.Errorf("VerificationMethodID(%q) = %q, %v; want %v", tt.in, id, err, tt.want)
		}
	}
}

func TestRoundTrip(t *testing.T) {
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	id, err := did.FromPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	vm, err := did.VerificationMethodID(id)
	if err != nil {
		t.Fatal(err)
	}
	for _, in := range []string{id, vm} {
		if got, err := did.ParseKey(in); err != nil || !got.Equal(pub) {
			t.Errorf("ParseKey(%q) = %x, %v; want %x", in, got, err, pub)
		}
	}
	got, err := did.PublicKey(context.Background(), did.KeyResolver{}, vm, "assertionMethod")
	if err != nil {
		t.Fatal(err)
	}
	msg := []byte("mandate")
	if !ed25519.Verify(got, msg, ed25519.Sign(priv, msg)) {
		t.Error("resolved key does not verify the key pair's signature")
	}
}
