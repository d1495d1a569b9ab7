package did_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/mandate-dev/mandate/did"
)

// FuzzParseKey checks that ParseKey never panics, that every failure carries one of the sentinel errors, that a
// parsed key re-encodes to exactly the input, and that Resolve agrees with ParseKey.
func FuzzParseKey(f *testing.F) {
	for _, name := range []string{"ed25519-x25519.json", "bls12381.json", "nist-curves.json", "rsa.json",
		"secp256k1.json", "x25519.json"} {
		for _, s := range didStrings(f, ccgDir+name) {
			f.Add(s)
		}
	}
	var neg negativeVectors
	readVector(f, "did-key-test-suite-negative-cases.json", &neg)
	for _, c := range neg.Cases {
		f.Add(c.Input)
	}
	f.Fuzz(func(t *testing.T, in string) {
		key, err := did.ParseKey(in)
		if err != nil {
			checkClassified(t, err)
		} else {
			checkCanonical(t, in, key)
		}
		if strings.ContainsAny(in, "#/?") {
			return
		}
		_, rerr := did.KeyResolver{}.Resolve(context.Background(), in)
		if (err == nil) != (rerr == nil) {
			t.Fatalf("ParseKey error %v but Resolve error %v", err, rerr)
		}
	})
}

func checkClassified(t *testing.T, err error) {
	t.Helper()
	for _, s := range sentinels {
		if errors.Is(err, s) {
			return
		}
	}
	t.Fatalf("error %v carries no sentinel", err)
}

func checkCanonical(t *testing.T, in string, key []byte) {
	t.Helper()
	id, err := did.FromPublicKey(key)
	if err != nil {
		t.Fatalf("FromPublicKey of a parsed key: %v", err)
	}
	vm, err := did.VerificationMethodID(id)
	if err != nil {
		t.Fatalf("VerificationMethodID(%q): %v", id, err)
	}
	if in != id && in != vm {
		t.Fatalf("ParseKey accepted %q, which is neither %q nor %q", in, id, vm)
	}
}
