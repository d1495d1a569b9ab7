package did_test

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"

	"github.com/mandate-dev/mandate/did"
)

func Example() {
	// A fixed seed keeps the output stable; real keys come from crypto/rand.
	priv := ed25519.NewKeyFromSeed(make([]byte, ed25519.SeedSize))
	id, err := did.FromPublicKey(priv.Public().(ed25519.PublicKey))
	if err != nil {
		fmt.Println(err)
		return
	}
	vm, err := did.VerificationMethodID(id)
	if err != nil {
		fmt.Println(err)
		return
	}

	// A verifier looks the signer's key up through the resolver it trusts, for the relationship it needs.
	pub, err := did.PublicKey(context.Background(), did.KeyResolver{}, vm, "assertionMethod")
	if err != nil {
		fmt.Println(err)
		return
	}
	msg := []byte("grant g-email-read")
	fmt.Println(id)
	fmt.Println(vm)
	fmt.Println(ed25519.Verify(pub, msg, ed25519.Sign(priv, msg)))
	// Output:
	// did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp
	// did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp#z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp
	// true
}

func ExampleParseKey() {
	_, err := did.ParseKey("did:key:zDnaerx9CtbPJ1q36T5Ln5wYt3MQYeGRG5ehnPAmxcf5mDZpv")
	fmt.Println(errors.Is(err, did.ErrUnsupportedPublicKeyType))
	fmt.Println(err)
	// Output:
	// true
	// did: unsupported public key type p256-pub: only ed25519-pub
}
