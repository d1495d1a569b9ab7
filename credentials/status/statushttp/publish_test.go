package statushttp_test

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/mandate-dev/mandate/credentials/status/statushttp"
)

// names lists dir's entries.
func names(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		out = append(out, e.Name())
	}
	return out
}

func TestWriteFileReplacesAtomically(t *testing.T) {
	dir := t.TempDir()
	v1, v2 := []byte(`{"v":1}`), []byte(`{"v":2,"longer":true}`)
	publish(t, dir, "l", v1)
	path := filepath.Join(dir, "l.json")
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o644 {
		t.Fatalf("mode %v, want 0644: a status list is public", fi.Mode().Perm())
	}
	// A reader that opened the old list keeps reading the old list, whole:
	// the new one is a new file renamed over it, not the old one rewritten.
	old, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer old.Close()

	publish(t, dir, "l", v2)
	if got, _ := io.ReadAll(old); string(got) != string(v1) {
		t.Fatalf("open reader saw %q, want the old list %q", got, v1)
	}
	if got, _ := os.ReadFile(path); string(got) != string(v2) {
		t.Fatalf("file holds %q, want %q", got, v2)
	}
	if got := names(t, dir); !slices.Equal(got, []string{"l.json"}) {
		t.Fatalf("directory holds %v, want only l.json (no temporary file left)", got)
	}
}

func TestWriteFileRefuses(t *testing.T) {
	long := strings.Repeat("a", 65)
	tests := []struct {
		name    string
		data    []byte
		wantErr string
	}{
		{"", []byte("{}"), `statushttp: invalid list name "": want ^[a-z0-9][a-z0-9-]{0,63}$`},
		{"A", []byte("{}"), `statushttp: invalid list name "A": want ^[a-z0-9][a-z0-9-]{0,63}$`},
		{"../l", []byte("{}"), `statushttp: invalid list name "../l": want ^[a-z0-9][a-z0-9-]{0,63}$`},
		{"x/l", []byte("{}"), `statushttp: invalid list name "x/l": want ^[a-z0-9][a-z0-9-]{0,63}$`},
		{"l.json", []byte("{}"), `statushttp: invalid list name "l.json": want ^[a-z0-9][a-z0-9-]{0,63}$`},
		{".l", []byte("{}"), `statushttp: invalid list name ".l": want ^[a-z0-9][a-z0-9-]{0,63}$`},
		{"-l", []byte("{}"), `statushttp: invalid list name "-l": want ^[a-z0-9][a-z0-9-]{0,63}$`},
		{"l l", []byte("{}"), `statushttp: invalid list name "l l": want ^[a-z0-9][a-z0-9-]{0,63}$`},
		{"é", []byte("{}"), `statushttp: invalid list name "é": want ^[a-z0-9][a-z0-9-]{0,63}$`},
		{long, []byte("{}"), fmt.Sprintf(`statushttp: invalid list name %q: want ^[a-z0-9][a-z0-9-]{0,63}$`, long)},
		{"l", nil, "statushttp: empty status list credential"},
		{"l", make([]byte, statushttp.MaxListCredentialBytes+1), "statushttp: status list credential of 262145 bytes exceeds 262144"},
	}
	for _, tt := range tests {
		t.Run(tt.name+"/"+fmt.Sprint(len(tt.data)), func(t *testing.T) {
			dir := t.TempDir()
			publish(t, dir, "l", []byte(`{"v":1}`))
			err := statushttp.WriteFile(dir, tt.name, tt.data)
			if err == nil || err.Error() != tt.wantErr {
				t.Fatalf("WriteFile = %v, want %q", err, tt.wantErr)
			}
			if got, _ := os.ReadFile(filepath.Join(dir, "l.json")); string(got) != `{"v":1}` {
				t.Fatalf("published list changed to %q", got)
			}
			if got := names(t, dir); !slices.Equal(got, []string{"l.json"}) {
				t.Fatalf("directory holds %v", got)
			}
		})
	}
}

func TestWriteFileLimits(t *testing.T) {
	dir := t.TempDir()
	name := "0-" + strings.Repeat("z", 62) // 64 characters
	publish(t, dir, name, make([]byte, statushttp.MaxListCredentialBytes))
	if fi, err := os.Stat(filepath.Join(dir, name+".json")); err != nil || fi.Size() != statushttp.MaxListCredentialBytes {
		t.Fatalf("stat = %v, %v", fi, err)
	}
	err := statushttp.WriteFile(filepath.Join(dir, "missing"), "l", []byte("{}"))
	if err == nil || !strings.HasPrefix(err.Error(), "statushttp: publish l: ") {
		t.Fatalf("WriteFile into a missing directory = %v", err)
	}
}
