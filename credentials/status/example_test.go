package status_test

import (
	"fmt"

	"github.com/mandate-dev/mandate/credentials/status"
)

// An issuer revokes index 94567 and publishes the list; a verifier reads
// the entry of a credential and the list credential, and finds it set.
func Example() {
	list, _ := status.NewBitstring(status.MinBits)
	_ = list.Set(94567, 1, 1)
	encoded, _ := list.Encode()

	lc, err := status.ParseListCredential(map[string]any{
		"@context":  []any{"https://www.w3.org/ns/credentials/v2"},
		"id":        "https://example.com/credentials/status/3",
		"type":      []any{"VerifiableCredential", "BitstringStatusListCredential"},
		"issuer":    "did:example:12345",
		"validFrom": "2024-04-05T14:27:40Z",
		"credentialSubject": map[string]any{
			"type":          "BitstringStatusList",
			"statusPurpose": "revocation",
			"encodedList":   encoded,
		},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	entry, err := status.ParseEntry(map[string]any{
		"type":                 "BitstringStatusListEntry",
		"statusPurpose":        "revocation",
		"statusListIndex":      "94567",
		"statusListCredential": "https://example.com/credentials/status/3",
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	v, err := lc.Status(entry) // only after the list's proof and issuer are checked
	fmt.Println(v, err)
	// Output: 1 <nil>
}

func ExampleDecodeBitstring() {
	b, err := status.DecodeBitstring("uH4sIAAAAAAAAA-3BMQEAAADCoPVPbQwfoAAAAAAAAAAAAAAAAAAAAIC3AYbSVKsAQAAA")
	fmt.Println(b.Len(), b.SetIndices(1), err)
	// Output: 131072 [] <nil>
}
