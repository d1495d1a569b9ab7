package presentation_test

import (
	"context"
	"testing"

	"github.com/mandate-dev/mandate/credentials"
	"github.com/mandate-dev/mandate/presentation"
)

// BenchmarkStatusWarm is the status work of one decision over a 2-link
// chain when the lists are cached: every entry that bears on reading mail
// (each link's revocation and suspension entries and its grant's), looked
// up in the decoded lists, which are kept and never re-inflated.
func BenchmarkStatusWarm(b *testing.B) {
	f := newStatusFixture(b, nil)
	entries := benchEntries(f)
	ctx := context.Background()
	for _, e := range entries {
		if _, err := f.fetcher.Get(ctx, e.ListURL); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		for _, se := range entries {
			e, err := se.Parse()
			if err != nil {
				b.Fatal(err)
			}
			lc, err := f.fetcher.Get(ctx, e.ListURL)
			if err != nil {
				b.Fatal(err)
			}
			if v, err := lc.Status(e); err != nil || v != 0 {
				b.Fatal(v, err)
			}
		}
	}
	b.ReportMetric(float64(len(entries)), "entries/op")
}

// BenchmarkStatusColdFetch is one list fetched from the loopback status
// server with nothing cached: HTTP GET, the list credential's proof and
// strict JSON-LD check, and decoding the list.
func BenchmarkStatusColdFetch(b *testing.B) {
	f := newStatusFixture(b, nil)
	url := f.root.Status[0].ListURL
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		f.fetcher.Invalidate(url)
		if _, err := f.fetcher.Get(ctx, url); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(1, "sigchecks/op")
}

// BenchmarkAuthorizeStatusWarm is a whole decision over the 2-link chain
// with status on and the lists cached; compare BenchmarkAuthorizeInProcess.
func BenchmarkAuthorizeStatusWarm(b *testing.B) {
	f := newStatusFixture(b, nil)
	chain := []*credentials.Credential{f.root, f.child}
	req := readMail()
	vps := make([][]byte, b.N+1)
	for i := range vps {
		vps[i] = f.present(b, summarizer, chain, req)
	}
	ctx := context.Background()
	if d := f.v.Authorize(ctx, vps[b.N], req); !d.Allowed() {
		b.Fatal(d.Reasons, d.Message)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		if d := f.v.Authorize(ctx, vps[i], req); d.Outcome != presentation.Allow {
			b.Fatal(d.Reasons, d.Message)
		}
	}
	b.ReportMetric(3, "sigchecks/op")
}

func benchEntries(f *statusFixture) []credentials.StatusEntry {
	var out []credentials.StatusEntry
	for _, c := range []*credentials.Credential{f.root, f.child} {
		out = append(out, c.Status...)
		out = append(out, c.Subject.Grants[0].Status...)
	}
	return out
}
