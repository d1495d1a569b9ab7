package policy_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/mandate-dev/mandate/presentation/policy"
)

// FuzzParsePolicy: any file is parsed or refused with a policy error; a parsed policy validates again and
// trusts only what it lists.
func FuzzParsePolicy(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.yaml")
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(valid))
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := policy.Parse(data)
		if err != nil {
			if _, ok := err.(*policy.Error); !ok {
				t.Fatalf("error %T %v is not a policy.Error", err, err)
			}
			return
		}
		if err := p.Validate(); err != nil {
			t.Fatalf("parsed policy does not validate: %v", err)
		}
		if _, ok := p.Trusts("did:key:z6MkNotInAnyPolicy", "x:y"); ok {
			t.Fatal("an unlisted principal is trusted")
		}
	})
}
