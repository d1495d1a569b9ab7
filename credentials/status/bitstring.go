package status

import (
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
)

// Bitstring is a status list: a run of bits, bit 0 being the most
// significant bit of the first byte.
type Bitstring struct {
	data []byte
}

// NewBitstring returns a list of bits zero bits; bits must be a multiple of
// 8 in MinBits..MaxBits.
func NewBitstring(bits int) (*Bitstring, error) {
	if err := checkLength(bits); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	return &Bitstring{data: make([]byte, bits/8)}, nil
}

func checkLength(bits int) error {
	switch {
	case bits%8 != 0:
		return fmt.Errorf("list length %d bits is not a multiple of 8", bits)
	case bits < MinBits:
		return fmt.Errorf("list of %d bits is shorter than the minimum %d", bits, MinBits)
	case bits > MaxBits:
		return fmt.Errorf("list of %d bits is longer than the maximum %d", bits, MaxBits)
	}
	return nil
}

// Len returns the length of the list in bits.
func (b *Bitstring) Len() int { return len(b.data) * 8 }

// Get returns entry index of a list of entries of size bits each.
func (b *Bitstring) Get(index, size int) (uint64, error) {
	start, err := b.locate(index, size)
	if err != nil {
		return 0, err
	}
	var v uint64
	for pos := start; pos < start+size; pos++ {
		v = v<<1 | uint64(b.data[pos/8]>>(7-pos%8)&1)
	}
	return v, nil
}

// Set stores v, which must fit in size bits, as entry index.
func (b *Bitstring) Set(index, size int, v uint64) error {
	start, err := b.locate(index, size)
	if err != nil {
		return err
	}
	if v >= 1<<size {
		return fmt.Errorf("%w: value %d does not fit in %d bits", ErrMalformed, v, size)
	}
	for i := range size {
		pos := start + i
		mask := byte(1) << (7 - pos%8)
		if v>>(size-1-i)&1 == 1 {
			b.data[pos/8] |= mask
		} else {
			b.data[pos/8] &^= mask
		}
	}
	return nil
}

// locate returns the first bit of entry index, checking the range without
// computing index*size first (which could overflow).
func (b *Bitstring) locate(index, size int) (int, error) {
	if size < 1 || size > MaxStatusSize {
		return 0, fmt.Errorf("%w: statusSize %d is outside 1..%d", ErrMalformed, size, MaxStatusSize)
	}
	if index < 0 || index >= b.Len()/size {
		return 0, fmt.Errorf("%w: entry %d of %d bits is outside a list of %d bits", ErrIndexOutOfRange, index, size, b.Len())
	}
	return index * size, nil
}

// SetIndices returns, in ascending order, the indices of the entries of
// size bits whose value is not zero (nil for a size outside 1..MaxStatusSize).
func (b *Bitstring) SetIndices(size int) []int {
	if size < 1 || size > MaxStatusSize {
		return nil
	}
	entries := b.Len() / size
	var out []int
	for i, byt := range b.data {
		if byt == 0 { // lists are mostly zero: skip a byte at a time
			continue
		}
		for bit := range 8 {
			if byt>>(7-bit)&1 == 0 {
				continue
			}
			idx := (i*8 + bit) / size
			if idx < entries && (len(out) == 0 || out[len(out)-1] != idx) {
				out = append(out, idx)
			}
		}
	}
	return out
}

// Clone returns an independent copy of b.
func (b *Bitstring) Clone() *Bitstring {
	return &Bitstring{data: bytes.Clone(b.data)}
}

// Encode returns the list as an encodedList: GZIP, then multibase base64url
// without padding ("u" prefix). It refuses a result longer than
// MaxEncodedBytes, which no reader of this package would accept.
func (b *Bitstring) Encode() (string, error) {
	var buf bytes.Buffer
	zw, err := gzip.NewWriterLevel(&buf, gzip.DefaultCompression)
	if err != nil {
		return "", fmt.Errorf("status: encode: %w", err)
	}
	if _, err := zw.Write(b.data); err != nil {
		return "", fmt.Errorf("status: encode: %w", err)
	}
	if err := zw.Close(); err != nil {
		return "", fmt.Errorf("status: encode: %w", err)
	}
	enc := "u" + base64.RawURLEncoding.EncodeToString(buf.Bytes())
	if len(enc) > MaxEncodedBytes {
		return "", fmt.Errorf("status: encode: encoded list is %d bytes, limit %d", len(enc), MaxEncodedBytes)
	}
	return enc, nil
}

// DecodeBitstring reads a Bitstring Status List encodedList: multibase
// base64url without padding ("u" prefix) of a GZIP-compressed list.
func DecodeBitstring(encoded string) (*Bitstring, error) {
	b, err := decodeMultibase(encoded)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	return b, nil
}

// DecodeSL2021 reads a StatusList2021 encodedList: the same GZIP-compressed
// list in base64url without padding, with no multibase prefix. The CCG text
// says only "base-64 encoded [RFC4648]"; its example uses the URL alphabet
// ("...AAA-3BMQ..."), which is the one read here, strictly.
func DecodeSL2021(encoded string) (*Bitstring, error) {
	b, err := decodeBase64Gzip(encoded)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	return b, nil
}

func decodeMultibase(encoded string) (*Bitstring, error) {
	if len(encoded) > MaxEncodedBytes {
		return nil, fmt.Errorf("encoded list is %d bytes, limit %d", len(encoded), MaxEncodedBytes)
	}
	if len(encoded) == 0 || encoded[0] != 'u' {
		return nil, errors.New(`encoded list lacks the multibase "u" (base64url) prefix`)
	}
	return decodeBase64Gzip(encoded[1:])
}

func decodeBase64Gzip(encoded string) (*Bitstring, error) {
	if len(encoded) > MaxEncodedBytes {
		return nil, fmt.Errorf("encoded list is %d bytes, limit %d", len(encoded), MaxEncodedBytes)
	}
	// encoding/base64 skips '\r' and '\n'; a list must not mean the same
	// with and without them, so every byte is checked first.
	for i := range len(encoded) {
		if !isBase64URL(encoded[i]) {
			return nil, fmt.Errorf("encoded list is not base64url without padding: byte %q at offset %d", encoded[i], i)
		}
	}
	compressed, err := base64.RawURLEncoding.Strict().DecodeString(encoded)
	if err != nil {
		return nil, fmt.Errorf("encoded list is not base64url without padding: %w", err)
	}
	data, err := gunzip(compressed)
	if err != nil {
		return nil, err
	}
	if err := checkLength(len(data) * 8); err != nil {
		return nil, fmt.Errorf("decoded %w", err)
	}
	return &Bitstring{data: data}, nil
}

func isBase64URL(c byte) bool {
	return 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_'
}

// gunzip inflates exactly one GZIP member with nothing after it. It reads
// at most MaxBits/8+1 bytes whatever the stream claims, so a bomb costs no
// more memory than the largest list allowed.
func gunzip(compressed []byte) ([]byte, error) {
	src := bytes.NewReader(compressed)
	zr, err := gzip.NewReader(src)
	if err != nil {
		return nil, fmt.Errorf("encoded list is not GZIP: %w", err)
	}
	zr.Multistream(false) // a second member would be data the issuer did not mean to sign as the list
	data, err := readAtMost(zr, MaxBits/8+1)
	if err != nil {
		return nil, fmt.Errorf("encoded list is not valid GZIP: %w", err)
	}
	if len(data) > MaxBits/8 {
		return nil, fmt.Errorf("decoded list is longer than the maximum %d bits", MaxBits)
	}
	if src.Len() != 0 {
		return nil, fmt.Errorf("encoded list has %d bytes of trailing data after the GZIP stream", src.Len())
	}
	return data, nil
}

// readAtMost reads r to EOF or until limit bytes have been read, growing
// its buffer by doubling so that a small list costs little.
func readAtMost(r io.Reader, limit int) ([]byte, error) {
	buf := make([]byte, 0, min(MinBits/8+1, limit))
	for {
		if len(buf) == cap(buf) {
			if len(buf) >= limit {
				return buf, nil
			}
			grown := make([]byte, len(buf), min(2*cap(buf), limit))
			copy(grown, buf)
			buf = grown
		}
		n, err := r.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if errors.Is(err, io.EOF) {
			if cap(buf)-len(buf) > len(buf)/4 {
				buf = bytes.Clone(buf) // do not keep much spare capacity for the list's lifetime
			}
			return buf, nil
		}
		if err != nil {
			return nil, err
		}
	}
}
