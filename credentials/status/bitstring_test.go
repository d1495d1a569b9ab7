package status_test

import (
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"errors"
	"io"
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/mandate-dev/mandate/credentials/status"
)

// specList is the encodedList of the spec's example list credential:
// 131072 zero bits.
const specList = "uH4sIAAAAAAAAA-3BMQEAAADCoPVPbQwfoAAAAAAAAAAAAAAAAAAAAIC3AYbSVKsAQAAA"

func gz(t testing.TB, data []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := zw.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func b64(data []byte) string { return base64.RawURLEncoding.EncodeToString(data) }

// rawBytes returns the uncompressed bytes of b's encoding, read with the
// standard library rather than the package.
func rawBytes(t *testing.T, b *status.Bitstring) []byte {
	t.Helper()
	enc, err := b.Encode()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(enc, "u") || strings.ContainsAny(enc, "=+/") {
		t.Fatalf("encoding %.20q... is not multibase base64url without padding", enc)
	}
	compressed, err := base64.RawURLEncoding.DecodeString(enc[1:])
	if err != nil {
		t.Fatal(err)
	}
	zr, err := gzip.NewReader(bytes.NewReader(compressed))
	if err != nil {
		t.Fatal(err)
	}
	data, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func newList(t testing.TB, bits int) *status.Bitstring {
	t.Helper()
	b, err := status.NewBitstring(bits)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestNewBitstring(t *testing.T) {
	tests := []struct {
		bits    int
		wantErr error
	}{
		{status.MinBits, nil},
		{status.MinBits + 8, nil},
		{status.MaxBits, nil},
		{status.MinBits - 8, status.ErrMalformed},
		{status.MinBits + 4, status.ErrMalformed},
		{status.MaxBits + 8, status.ErrMalformed},
		{0, status.ErrMalformed},
		{-8, status.ErrMalformed},
	}
	for _, tt := range tests {
		b, err := status.NewBitstring(tt.bits)
		if !errors.Is(err, tt.wantErr) {
			t.Errorf("NewBitstring(%d): err = %v, want %v", tt.bits, err, tt.wantErr)
			continue
		}
		if err == nil && (b.Len() != tt.bits || b.SetIndices(1) != nil) {
			t.Errorf("NewBitstring(%d): Len %d, set %v; want %d zero bits", tt.bits, b.Len(), b.SetIndices(1), tt.bits)
		}
	}
}

// TestBitLayout checks the exact bytes: bit 0 is the most significant bit
// of byte 0, and an entry's first bit is its most significant.
func TestBitLayout(t *testing.T) {
	type set struct {
		index, size int
		v           uint64
	}
	last := status.MinBits/8 - 1
	tests := []struct {
		name string
		sets []set
		want map[int]byte // non-zero bytes
	}{
		{"bit 0", []set{{0, 1, 1}}, map[int]byte{0: 0x80}},
		{"bit 7", []set{{7, 1, 1}}, map[int]byte{0: 0x01}},
		{"bits 0 7 8", []set{{0, 1, 1}, {7, 1, 1}, {8, 1, 1}}, map[int]byte{0: 0x81, 1: 0x80}},
		{"last bit", []set{{status.MinBits - 1, 1, 1}}, map[int]byte{last: 0x01}},
		{"size 2 entry 0 = 3", []set{{0, 2, 3}}, map[int]byte{0: 0xc0}},
		{"size 2 entry 1 = 2", []set{{1, 2, 2}}, map[int]byte{0: 0x20}},
		{"size 3 across bytes", []set{{2, 3, 5}}, map[int]byte{0: 0x02, 1: 0x80}},
		{"size 8 entry 1", []set{{1, 8, 0xa5}}, map[int]byte{1: 0xa5}},
		{"set then clear", []set{{3, 1, 1}, {3, 1, 0}}, map[int]byte{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := newList(t, status.MinBits)
			for _, s := range tt.sets {
				if err := b.Set(s.index, s.size, s.v); err != nil {
					t.Fatal(err)
				}
			}
			s := tt.sets[len(tt.sets)-1]
			if got, err := b.Get(s.index, s.size); err != nil || got != s.v {
				t.Errorf("Get(%d, %d) = %d, %v; want %d", s.index, s.size, got, err, s.v)
			}
			want := make([]byte, status.MinBits/8)
			for i, v := range tt.want {
				want[i] = v
			}
			if got := rawBytes(t, b); !bytes.Equal(got, want) {
				t.Errorf("bytes differ: first %x, last %x", got[:4], got[len(got)-1])
			}
		})
	}
}

func TestRoundTrip(t *testing.T) {
	t.Run("size 1", func(t *testing.T) {
		b := newList(t, status.MinBits)
		set := []int{0, 7, 8, status.MinBits - 1}
		for _, i := range set {
			if err := b.Set(i, 1, 1); err != nil {
				t.Fatal(err)
			}
		}
		got := roundTrip(t, b)
		if idx := got.SetIndices(1); !slices.Equal(idx, set) {
			t.Errorf("SetIndices = %v, want %v", idx, set)
		}
		for i, want := range map[int]uint64{0: 1, 1: 0, 6: 0, 7: 1, 8: 1, 9: 0, status.MinBits - 2: 0, status.MinBits - 1: 1} {
			if v, err := got.Get(i, 1); err != nil || v != want {
				t.Errorf("Get(%d, 1) = %d, %v; want %d", i, v, err, want)
			}
		}
	})
	t.Run("size 2", func(t *testing.T) {
		b := newList(t, status.MinBits)
		lastEntry := status.MinBits/2 - 1
		values := map[int]uint64{0: 1, 1: 2, 2: 3, 3: 0, lastEntry: 3}
		for i, v := range values {
			if err := b.Set(i, 2, v); err != nil {
				t.Fatal(err)
			}
		}
		got := roundTrip(t, b)
		for i, want := range values {
			if v, err := got.Get(i, 2); err != nil || v != want {
				t.Errorf("Get(%d, 2) = %d, %v; want %d", i, v, err, want)
			}
		}
		if idx, want := got.SetIndices(2), []int{0, 1, 2, lastEntry}; !slices.Equal(idx, want) {
			t.Errorf("SetIndices(2) = %v, want %v", idx, want)
		}
		// The same bits read one at a time: 01 10 11 00 ... 11.
		if idx, want := got.SetIndices(1), []int{1, 2, 4, 5, status.MinBits - 2, status.MinBits - 1}; !slices.Equal(idx, want) {
			t.Errorf("SetIndices(1) = %v, want %v", idx, want)
		}
	})
}

func roundTrip(t *testing.T, b *status.Bitstring) *status.Bitstring {
	t.Helper()
	enc, err := b.Encode()
	if err != nil {
		t.Fatal(err)
	}
	got, err := status.DecodeBitstring(enc)
	if err != nil {
		t.Fatal(err)
	}
	if got.Len() != b.Len() {
		t.Fatalf("Len = %d, want %d", got.Len(), b.Len())
	}
	return got
}

func TestClone(t *testing.T) {
	b := newList(t, status.MinBits)
	c := b.Clone()
	if err := c.Set(5, 1, 1); err != nil {
		t.Fatal(err)
	}
	if b.SetIndices(1) != nil || !slices.Equal(c.SetIndices(1), []int{5}) {
		t.Errorf("clone shares bits: original %v, clone %v", b.SetIndices(1), c.SetIndices(1))
	}
}

func TestGetSetErrors(t *testing.T) {
	b := newList(t, status.MinBits)
	tests := []struct {
		name string
		op   func() error
		want error
	}{
		{"get negative", func() error { _, err := b.Get(-1, 1); return err }, status.ErrIndexOutOfRange},
		{"get past end", func() error { _, err := b.Get(status.MinBits, 1); return err }, status.ErrIndexOutOfRange},
		{"get size 2 past end", func() error { _, err := b.Get(status.MinBits/2, 2); return err }, status.ErrIndexOutOfRange},
		{"get size 3 partial entry", func() error { _, err := b.Get(status.MinBits/3, 3); return err }, status.ErrIndexOutOfRange},
		{"get size 3 last whole entry", func() error { _, err := b.Get(status.MinBits/3-1, 3); return err }, nil},
		{"get huge index", func() error { _, err := b.Get(math.MaxInt, 8); return err }, status.ErrIndexOutOfRange},
		{"get size 0", func() error { _, err := b.Get(0, 0); return err }, status.ErrMalformed},
		{"get size 9", func() error { _, err := b.Get(0, status.MaxStatusSize+1); return err }, status.ErrMalformed},
		{"set negative", func() error { return b.Set(-1, 1, 1) }, status.ErrIndexOutOfRange},
		{"set past end", func() error { return b.Set(status.MinBits, 1, 1) }, status.ErrIndexOutOfRange},
		{"set value too big", func() error { return b.Set(0, 2, 4) }, status.ErrMalformed},
		{"set value 2 in 1 bit", func() error { return b.Set(0, 1, 2) }, status.ErrMalformed},
		{"set size 0", func() error { return b.Set(0, 0, 0) }, status.ErrMalformed},
	}
	for _, tt := range tests {
		if err := tt.op(); !errors.Is(err, tt.want) || (tt.want == nil) != (err == nil) {
			t.Errorf("%s: err = %v, want %v", tt.name, err, tt.want)
		}
	}
	if b.SetIndices(1) != nil {
		t.Errorf("failed Sets changed the list: %v", b.SetIndices(1))
	}
	if b.SetIndices(0) != nil || b.SetIndices(9) != nil {
		t.Error("SetIndices of an invalid size is not nil")
	}
}

// TestDecodeKnownBytes decodes lists compressed by compress/gzip, not by
// the package, and the spec's own example.
func TestDecodeKnownBytes(t *testing.T) {
	data := make([]byte, status.MinBits/8)
	data[0], data[1], data[len(data)-1] = 0x81, 0x80, 0x01
	b, err := status.DecodeBitstring("u" + b64(gz(t, data)))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := b.SetIndices(1), []int{0, 7, 8, status.MinBits - 1}; !slices.Equal(got, want) {
		t.Errorf("SetIndices(1) = %v, want %v", got, want)
	}
	if got, want := b.SetIndices(8), []int{0, 1, status.MinBits/8 - 1}; !slices.Equal(got, want) {
		t.Errorf("SetIndices(8) = %v, want %v", got, want)
	}
	sl, err := status.DecodeSL2021(b64(gz(t, data)))
	if err != nil || !slices.Equal(sl.SetIndices(1), b.SetIndices(1)) {
		t.Errorf("DecodeSL2021 = %v, %v; want the same list", sl, err)
	}

	spec, err := status.DecodeBitstring(specList)
	if err != nil {
		t.Fatal(err)
	}
	if spec.Len() != status.MinBits || spec.SetIndices(1) != nil {
		t.Errorf("spec list: %d bits, set %v; want %d zero bits", spec.Len(), spec.SetIndices(1), status.MinBits)
	}
	if got := rawBytes(t, spec); !bytes.Equal(got, make([]byte, status.MinBits/8)) {
		t.Error("spec list does not re-encode to 16384 zero bytes")
	}
}

func TestDecodeLargest(t *testing.T) {
	b, err := status.DecodeBitstring("u" + b64(gz(t, make([]byte, status.MaxBits/8))))
	if err != nil || b.Len() != status.MaxBits {
		t.Fatalf("MaxBits list: %v, %v", b, err)
	}
	if err := b.Set(status.MaxBits-1, 1, 1); err != nil {
		t.Fatal(err)
	}
	if got := roundTrip(t, b).SetIndices(1); !slices.Equal(got, []int{status.MaxBits - 1}) {
		t.Errorf("SetIndices = %v", got)
	}
}

// TestEncodeTooLong: a list no reader would accept is not produced.
func TestEncodeTooLong(t *testing.T) {
	b := newList(t, status.MaxBits)
	rng := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < status.MaxBits/8; i++ {
		if err := b.Set(i, 8, uint64(rng.IntN(256))); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := b.Encode(); err == nil || !strings.Contains(err.Error(), "limit") {
		t.Errorf("Encode of 2 MiB of random bits: err = %v, want the size limit", err)
	}
}

func TestDecodeMalformed(t *testing.T) {
	zeros := gz(t, make([]byte, status.MinBits/8))
	withByte := func(data []byte, i int, x byte) []byte {
		c := bytes.Clone(data)
		c[(i+len(c))%len(c)] ^= x
		return c
	}
	good := b64(zeros)
	tests := []struct {
		name    string
		decode  func(string) (*status.Bitstring, error)
		in      string
		wantSub string
	}{
		{"too long", status.DecodeBitstring, "u" + strings.Repeat("A", status.MaxEncodedBytes), "limit"},
		{"too long SL2021", status.DecodeSL2021, strings.Repeat("A", status.MaxEncodedBytes+1), "limit"},
		{"empty", status.DecodeBitstring, "", `"u"`},
		{"no prefix", status.DecodeBitstring, good, `"u"`},
		{"base64 prefix m", status.DecodeBitstring, "m" + base64.RawStdEncoding.EncodeToString(zeros), `"u"`},
		{"plus sign", status.DecodeBitstring, "u+" + good[1:], "not base64url"},
		{"slash", status.DecodeBitstring, "u" + good[:5] + "/" + good[6:], "not base64url"},
		{"padding", status.DecodeBitstring, "u" + base64.URLEncoding.EncodeToString([]byte{1}), "not base64url"},
		{"newline", status.DecodeBitstring, "u" + good[:10] + "\n" + good[10:], "not base64url"},
		{"impossible length", status.DecodeBitstring, "uA", "not base64url"},
		{"non-zero trailing bits", status.DecodeBitstring, "uAB", "not base64url"},
		{"not gzip", status.DecodeBitstring, "u" + b64([]byte("not a gzip stream at all")), "not GZIP"},
		{"truncated header", status.DecodeBitstring, "u" + b64(zeros[:5]), "not GZIP"},
		{"truncated stream", status.DecodeBitstring, "u" + b64(zeros[:len(zeros)-4]), "not valid GZIP"},
		{"bad crc", status.DecodeBitstring, "u" + b64(withByte(zeros, -8, 1)), "not valid GZIP"},
		{"bad size trailer", status.DecodeBitstring, "u" + b64(withByte(zeros, -1, 1)), "not valid GZIP"},
		{"trailing garbage", status.DecodeBitstring, "u" + b64(append(bytes.Clone(zeros), "junk"...)), "trailing data"},
		{"trailing zero bytes", status.DecodeBitstring, "u" + b64(append(bytes.Clone(zeros), 0, 0)), "trailing data"},
		{"second gzip member", status.DecodeBitstring, "u" + b64(append(bytes.Clone(zeros), zeros...)), "trailing data"},
		{"empty list", status.DecodeBitstring, "u" + b64(gz(t, nil)), "shorter than the minimum"},
		{"MinBits-8", status.DecodeBitstring, "u" + b64(gz(t, make([]byte, status.MinBits/8-1))), "shorter than the minimum"},
		{"MaxBits+8", status.DecodeBitstring, "u" + b64(gz(t, make([]byte, status.MaxBits/8+1))), "longer than the maximum"},
		{"SL2021 with prefix", status.DecodeSL2021, "u" + good, "not GZIP"},
		{"SL2021 standard alphabet", status.DecodeSL2021, strings.ReplaceAll(specList[1:], "-", "+"), "not base64url"},
		{"SL2021 empty", status.DecodeSL2021, "", "not GZIP"},
	}
	for _, tt := range tests {
		b, err := tt.decode(tt.in)
		if !errors.Is(err, status.ErrMalformed) || !strings.Contains(err.Error(), tt.wantSub) || b != nil {
			t.Errorf("%s: got %v, %v; want ErrMalformed naming %q", tt.name, b, err, tt.wantSub)
		}
	}
}

// TestDecodeGzipBomb: 64 MiB of zeros in about 64 KiB is stopped while it
// inflates, after MaxBits/8+1 bytes, whatever the GZIP trailer claims.
func TestDecodeGzipBomb(t *testing.T) {
	var buf bytes.Buffer
	zw, err := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	if err != nil {
		t.Fatal(err)
	}
	chunk := make([]byte, 1<<20)
	for range 64 {
		if _, err := zw.Write(chunk); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	enc := "u" + b64(buf.Bytes())
	if len(enc) > status.MaxEncodedBytes {
		t.Fatalf("bomb is %d bytes encoded, over the input limit: it would not reach the inflater", len(enc))
	}

	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	b, err := status.DecodeBitstring(enc)
	runtime.ReadMemStats(&after)

	if !errors.Is(err, status.ErrMalformed) || !strings.Contains(err.Error(), "longer than the maximum") || b != nil {
		t.Fatalf("got %v, %v; want ErrMalformed: longer than the maximum", b, err)
	}
	// The decoded list may cost 2 MiB plus the buffer it grew from; 64 MiB
	// would mean the bomb went off.
	alloc := after.TotalAlloc - before.TotalAlloc
	t.Logf("bomb: %d bytes encoded, %d bytes allocated while decoding", len(enc), alloc)
	if alloc > 8<<20 {
		t.Errorf("decoding the bomb allocated %d bytes, want at most 8 MiB", alloc)
	}
}
