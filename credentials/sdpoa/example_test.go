package sdpoa_test

import (
	"fmt"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/mandate-dev/mandate/credentials"
	"github.com/mandate-dev/mandate/credentials/sdjwt"
	"github.com/mandate-dev/mandate/credentials/sdpoa"
	"github.com/mandate-dev/mandate/internal/testkeys"
)

// Alice gives her assistant three grants; the assistant shows a mail
// service only the one its request needs.
func Example() {
	alice, assistant := testkeys.New("alice"), testkeys.New("assistant")
	issued, err := sdpoa.Issue(alice, credentials.Template{
		Subject: assistant.DID(),
		Purpose: "Keep Alice's inbox organised: read, summarise, draft; never send",
		Grants: []credentials.Grant{
			{ID: "urn:mandate:grant:email-read", Action: "email:read", Resource: "mailbox:alice/*"},
			{ID: "urn:mandate:grant:email-draft", Action: "email:draft", Resource: "mailbox:alice/*"},
			{ID: "urn:mandate:grant:calendar-read", Action: "calendar:read", Resource: "calendar:alice/*"},
		},
		Forbidden:  []credentials.Forbidden{{Action: "email:send"}},
		Delegation: credentials.Delegation{Allowed: false},
	}, sdpoa.Options{Decoys: 3})
	if err != nil {
		panic(err)
	}

	key, _ := sdpoa.KeySigner(assistant)
	holder, _ := sdjwt.NewHolder(key, jose.EdDSA)
	now := time.Now()
	presentation, err := sdpoa.Present(holder, issued, []string{"urn:mandate:grant:email-read"},
		sdjwt.KeyBindingClaims{Nonce: "n-1", Audience: "https://mail.example/verifier", IssuedAt: now},
		"zQmPrSM2XCd14Sf3dbGcYpzjuPEabEwheJWiU4Geoo2Cmmq")
	if err != nil {
		panic(err)
	}

	verified, err := sdpoa.Verify(presentation)
	if err != nil {
		panic(err)
	}
	err = verified.SD.Validate(now, sdjwt.Validation{Nonce: "n-1", Audience: "https://mail.example/verifier", MaxAge: time.Minute})
	fmt.Println("valid:", err == nil)
	fmt.Printf("grants seen: %d of %d\n", len(verified.Credential.Subject.Grants), len(issued.Disclosures))
	fmt.Println("grant:", verified.Credential.Subject.Grants[0].Action)
	fmt.Println("forbidden:", verified.Credential.Subject.Forbidden[0].Action)
	// Output:
	// valid: true
	// grants seen: 1 of 3
	// grant: email:read
	// forbidden: email:send
}
