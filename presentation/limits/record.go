package limits

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
)

// recordVersion is the first byte of every counter; a counter of another
// version is refused rather than guessed at.
const recordVersion = 1

// entry is one use in a rate window: when (unix µs) and its amount.
type entry struct {
	at     int64
	amount int64
}

// record is one counter: lifetime totals and, for a grant with a rate, the
// last rate-count uses, oldest first and never decreasing in time.
type record struct {
	uses   int64
	amount int64
	ring   []entry
}

// clamp keeps now from going before the last recorded use, so that a clock
// that steps back cannot reopen a window.
func (r record) clamp(now int64) int64 {
	if n := len(r.ring); n > 0 && now < r.ring[n-1].at {
		return r.ring[n-1].at
	}
	return now
}

// window returns the uses within per (µs) before now: now-at < per.
func (r record) window(now, per int64) []entry {
	for i, e := range r.ring {
		if now-e.at < per {
			return r.ring[i:]
		}
	}
	return nil
}

// encode writes the version, the lifetime uses and amount, the number of
// entries, then each entry's time (the first as a signed varint, the rest
// as deltas) and amount, all as varints: a few bytes per use.
func (r record) encode() []byte {
	b := make([]byte, 0, 1+3*binary.MaxVarintLen64+len(r.ring)*8)
	b = append(b, recordVersion)
	b = binary.AppendUvarint(b, uint64(r.uses))
	b = binary.AppendUvarint(b, uint64(r.amount))
	b = binary.AppendUvarint(b, uint64(len(r.ring)))
	for i, e := range r.ring {
		if i == 0 {
			b = binary.AppendVarint(b, e.at)
		} else {
			b = binary.AppendUvarint(b, uint64(e.at-r.ring[i-1].at))
		}
		b = binary.AppendUvarint(b, uint64(e.amount))
	}
	return b
}

var errVarint = errors.New("truncated or oversized varint")

// decode reads a counter written by encode, refusing anything else.
func decode(b []byte) (record, error) {
	if len(b) == 0 || b[0] != recordVersion {
		return record{}, fmt.Errorf("not of version %d", recordVersion)
	}
	d := decoder{b: b[1:]}
	r := record{uses: d.count(), amount: d.count()}
	n := d.count()
	if d.err == nil && n > MaxRateCount {
		return record{}, fmt.Errorf("%d uses in its window, at most %d", n, MaxRateCount)
	}
	if d.err == nil && n > 0 {
		r.ring = make([]entry, n)
	}
	for i := range r.ring {
		var at int64
		if i == 0 {
			at = d.varint()
		} else {
			at = d.after(r.ring[i-1].at)
		}
		r.ring[i] = entry{at: at, amount: d.count()}
	}
	if d.err == nil && len(d.b) > 0 {
		d.err = fmt.Errorf("%d trailing bytes", len(d.b))
	}
	if d.err != nil {
		return record{}, d.err
	}
	return r, nil
}

// decoder reads varints and keeps the first error.
type decoder struct {
	b   []byte
	err error
}

// count reads a non-negative int64.
func (d *decoder) count() int64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.b)
	if n <= 0 || v > math.MaxInt64 {
		d.err = errVarint
		return 0
	}
	d.b = d.b[n:]
	return int64(v)
}

func (d *decoder) varint() int64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Varint(d.b)
	if n <= 0 {
		d.err = errVarint
		return 0
	}
	d.b = d.b[n:]
	return v
}

// after reads a delta and adds it to prev, refusing an overflow.
func (d *decoder) after(prev int64) int64 {
	delta := d.count()
	if d.err == nil && prev > math.MaxInt64-delta {
		d.err = errors.New("timestamp overflows")
	}
	return prev + delta
}
