package status_test

import (
	"encoding/json"
	"errors"
	"os"
	"slices"
	"testing"

	"github.com/mandate-dev/mandate/credentials/status"
)

// vectorFiles are the parseable vector files, as seeds.
func vectorFiles(f *testing.F) [][]byte {
	var out [][]byte
	for _, p := range []string{
		bslDir + "/bsl-01-Example-StatusListCredential-using-simple-entries.json",
		bsl02,
		bslDir + "/bsl-03-Example-BitstringStatusListCredential.json",
		sl2021Dir + "/sl2021-01-Example-StatusList2021Credential.repaired.json",
		sl2021Dir + "/sl2021-02-Example-StatusList2021Credential.repaired.json",
	} {
		data, err := os.ReadFile(p)
		if err != nil {
			f.Fatalf("vector missing: %v", err)
		}
		out = append(out, data)
	}
	return out
}

// encodedLists are the encodedList strings of the vectors and a few more.
func encodedLists(f *testing.F) []string {
	out := []string{specList, specList[1:], "", "u", "uH4sI"}
	for _, data := range vectorFiles(f) {
		var m map[string]any
		if err := json.Unmarshal(data, &m); err != nil {
			f.Fatal(err)
		}
		if cs, ok := m["credentialSubject"].(map[string]any); ok {
			if enc, ok := cs["encodedList"].(string); ok {
				out = append(out, enc)
			}
		}
	}
	data := make([]byte, status.MinBits/8)
	data[0], data[100] = 0x81, 0x3c
	z := gz(f, data)
	return append(out, "u"+b64(z), b64(z), "u"+b64(append(z, 0)), "u"+b64(z[:len(z)-1]))
}

// checkDecode: no panic, only ErrMalformed, and a decoded list re-encodes
// to one that decodes to the same bits.
func checkDecode(t *testing.T, s string, decode func(string) (*status.Bitstring, error)) {
	b, err := decode(s)
	if err != nil {
		if !errors.Is(err, status.ErrMalformed) || b != nil {
			t.Fatalf("got %v, %v; want nil, ErrMalformed", b, err)
		}
		return
	}
	if b.Len() < status.MinBits || b.Len() > status.MaxBits || b.Len()%8 != 0 {
		t.Fatalf("decoded %d bits", b.Len())
	}
	enc, err := b.Encode()
	if err != nil {
		t.Fatalf("re-encode: %v", err)
	}
	again, err := status.DecodeBitstring(enc)
	if err != nil {
		t.Fatalf("decode of re-encoding: %v", err)
	}
	if again.Len() != b.Len() || !slices.Equal(again.SetIndices(1), b.SetIndices(1)) {
		t.Fatal("re-encoding changed the bits")
	}
}

func FuzzDecodeBitstring(f *testing.F) {
	for _, s := range encodedLists(f) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) { checkDecode(t, s, status.DecodeBitstring) })
}

func FuzzDecodeSL2021(f *testing.F) {
	for _, s := range encodedLists(f) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) { checkDecode(t, s, status.DecodeSL2021) })
}

func FuzzParseEntries(f *testing.F) {
	for _, data := range vectorFiles(f) {
		var m map[string]any
		if err := json.Unmarshal(data, &m); err != nil {
			f.Fatal(err)
		}
		if cs, ok := m["credentialStatus"]; ok {
			b, _ := json.Marshal(cs)
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var v any
		if json.Unmarshal(data, &v) != nil {
			return
		}
		entries, err := status.ParseEntries(v)
		if err != nil {
			if !errors.Is(err, status.ErrMalformed) {
				t.Fatalf("err = %v, want ErrMalformed", err)
			}
			return
		}
		for _, e := range entries {
			if e.Index < 0 || e.StatusSize < 1 || e.StatusSize > status.MaxStatusSize ||
				(e.Index+1)*e.StatusSize > status.MaxBits || e.ListURL == "" || e.Purpose == "" {
				t.Fatalf("accepted %+v", e)
			}
			if e.StatusSize > 1 && len(e.Messages) != 1<<e.StatusSize {
				t.Fatalf("accepted %d messages for statusSize %d", len(e.Messages), e.StatusSize)
			}
		}
	})
}

func FuzzParseListCredential(f *testing.F) {
	for _, data := range vectorFiles(f) {
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var m map[string]any
		if json.Unmarshal(data, &m) != nil {
			return
		}
		lc, err := status.ParseListCredential(m)
		if err != nil {
			if !errors.Is(err, status.ErrMalformed) || lc != nil {
				t.Fatalf("got %v, %v; want nil, ErrMalformed", lc, err)
			}
			return
		}
		if lc.Bits == nil || lc.Bits.Len() < status.MinBits || len(lc.Purposes) == 0 || lc.Issuer == "" {
			t.Fatalf("accepted %+v", lc)
		}
	})
}
