package load

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"slices"
	"time"
)

// Report is the outcome of one run. Errors counts every request that did
// not end in the expected ALLOW: a DENY, a NEEDS_APPROVAL, or no decision at
// all (Failed: transport, challenge or presentation).
type Report struct {
	Addr          string         `json:"addr"`
	Principal     string         `json:"principal"`
	Agents        int            `json:"agents"`
	ChainDepth    int            `json:"chainDepth"`
	Duration      time.Duration  `json:"-"` // the time bound asked for (0: none)
	MaxRequests   int            `json:"maxRequests"`
	Elapsed       time.Duration  `json:"-"`
	Requests      int            `json:"requests"`
	Allow         int            `json:"allow"`
	Deny          int            `json:"deny"`
	NeedsApproval int            `json:"needsApproval"`
	Failed        int            `json:"failed"`
	Errors        int            `json:"errors"`
	Outcomes      map[string]int `json:"outcomes"` // every non-ALLOW outcome, with its reasons or failure
	Throughput    float64        `json:"throughputPerSecond"`
	RoundTrip     Percentiles    `json:"roundTrip"` // challenge + present + authorize, as the agent sees it
	Authorize     Percentiles    `json:"authorize"` // the Authorize RPC alone
	Memory        *MemoryReport  `json:"memory,omitempty"`
	Interrupted   bool           `json:"interrupted"`
}

// Percentiles are nearest-rank percentiles of the requests that got a decision.
type Percentiles struct {
	N   int           `json:"n"`
	P50 time.Duration `json:"-"`
	P90 time.Duration `json:"-"`
	P99 time.Duration `json:"-"`
	Max time.Duration `json:"-"`
}

// MemoryReport is the verifier process's memory over the run, in bytes.
type MemoryReport struct {
	PID int `json:"pid"`
	// Peak is VmHWM at the end: the highest resident set since the process
	// started, start-up included.
	Peak int64 `json:"peakBytes"`
	// Start, Middle and End are VmRSS before the first request, at the
	// sample nearest the middle of the run, and after the last.
	Start, Middle, End int64    `json:"-"`
	Samples            []Memory `json:"samples"`
}

func newReport(cfg Config, elapsed time.Duration, results []result) Report {
	rep := Report{
		Addr: cfg.Addr, Principal: cfg.Principal.DID(), Agents: cfg.Agents, ChainDepth: cfg.ChainDepth,
		Duration: cfg.Duration, MaxRequests: cfg.Requests, Elapsed: elapsed, Outcomes: map[string]int{},
	}
	var rt, az []time.Duration
	for _, r := range results {
		rep.Allow += r.allow
		rep.Deny += r.deny
		rep.NeedsApproval += r.approval
		rep.Failed += r.failed
		rt = append(rt, r.roundTrip...)
		az = append(az, r.authorize...)
		for o, n := range r.outcomes {
			rep.Outcomes[o] += n
		}
	}
	rep.Requests = rep.Allow + rep.Deny + rep.NeedsApproval + rep.Failed
	rep.Errors = rep.Requests - rep.Allow
	if elapsed > 0 {
		rep.Throughput = float64(rep.Requests) / elapsed.Seconds()
	}
	rep.RoundTrip, rep.Authorize = percentiles(rt), percentiles(az)
	return rep
}

func percentiles(d []time.Duration) Percentiles {
	if len(d) == 0 {
		return Percentiles{}
	}
	slices.Sort(d)
	rank := func(p int) time.Duration { // nearest rank: the smallest value with p% at or below it
		i := (p*len(d) + 99) / 100
		return d[max(i, 1)-1]
	}
	return Percentiles{N: len(d), P50: rank(50), P90: rank(90), P99: rank(99), Max: d[len(d)-1]}
}

func newMemoryReport(pid int, s []Memory) *MemoryReport {
	m := &MemoryReport{PID: pid, Samples: s}
	if len(s) == 0 {
		return m
	}
	last := s[len(s)-1]
	m.Peak, m.Start, m.End = last.HWM, s[0].RSS, last.RSS
	mid := last.At / 2
	best := s[0]
	for _, x := range s {
		if (x.At - mid).Abs() < (best.At - mid).Abs() {
			best = x
		}
	}
	m.Middle = best.RSS
	return m
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// MarshalJSON writes the durations in milliseconds.
func (r Report) MarshalJSON() ([]byte, error) {
	type plain Report
	return json.Marshal(struct {
		plain
		DurationMs float64 `json:"durationMs"`
		ElapsedMs  float64 `json:"elapsedMs"`
	}{plain(r), ms(r.Duration), ms(r.Elapsed)})
}

// MarshalJSON writes the percentiles in milliseconds.
func (p Percentiles) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		N     int     `json:"n"`
		P50Ms float64 `json:"p50Ms"`
		P90Ms float64 `json:"p90Ms"`
		P99Ms float64 `json:"p99Ms"`
		MaxMs float64 `json:"maxMs"`
	}{p.N, ms(p.P50), ms(p.P90), ms(p.P99), ms(p.Max)})
}

// MarshalJSON adds the start, middle and end readings.
func (m MemoryReport) MarshalJSON() ([]byte, error) {
	type plain MemoryReport
	return json.Marshal(struct {
		plain
		StartRSS  int64 `json:"startRssBytes"`
		MiddleRSS int64 `json:"middleRssBytes"`
		EndRSS    int64 `json:"endRssBytes"`
	}{plain(m), m.Start, m.Middle, m.End})
}

// MarshalJSON writes the time of a reading in milliseconds.
func (m Memory) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		AtMs float64 `json:"atMs"`
		RSS  int64   `json:"rssBytes"`
		HWM  int64   `json:"hwmBytes"`
	}{ms(m.At), m.RSS, m.HWM})
}

// WriteText writes the report for people.
func (r Report) WriteText(w io.Writer) error {
	bound := fmt.Sprintf("%d requests", r.MaxRequests)
	switch {
	case r.MaxRequests == 0:
		bound = r.Duration.String()
	case r.Duration > 0:
		bound += " or " + r.Duration.String()
	}
	p := &printer{w: w}
	p.f("verifier   %s, %d agents, chain depth %d, bound %s\n", r.Addr, r.Agents, r.ChainDepth, bound)
	p.f("requests   %d in %s: %.1f/s\n", r.Requests, r.Elapsed.Round(time.Millisecond), r.Throughput)
	p.f("decisions  ALLOW %d, DENY %d, NEEDS_APPROVAL %d, failed %d: %d errors\n", r.Allow, r.Deny, r.NeedsApproval, r.Failed, r.Errors)
	for _, o := range slices.Sorted(maps.Keys(r.Outcomes)) {
		p.f("  %6d  %s\n", r.Outcomes[o], o)
	}
	p.percentiles("round trip", r.RoundTrip)
	p.percentiles("authorize ", r.Authorize)
	if m := r.Memory; m != nil {
		p.f("server     pid %d: RSS start %s, middle %s, end %s; peak (VmHWM) %s\n", m.PID, mib(m.Start), mib(m.Middle), mib(m.End), mib(m.Peak))
		for _, s := range spread(m.Samples, 10) {
			p.f("  t=%-8s RSS %s  HWM %s\n", s.At.Round(100*time.Millisecond), mib(s.RSS), mib(s.HWM))
		}
	}
	if r.Interrupted {
		p.f("interrupted before the bound was reached\n")
	}
	return p.err
}

type printer struct {
	w   io.Writer
	err error
}

func (p *printer) f(format string, a ...any) {
	if p.err == nil {
		_, p.err = fmt.Fprintf(p.w, format, a...)
	}
}

func (p *printer) percentiles(name string, q Percentiles) {
	p.f("%s p50 %.1f ms, p90 %.1f ms, p99 %.1f ms, max %.1f ms\n", name, ms(q.P50), ms(q.P90), ms(q.P99), ms(q.Max))
}

func mib(b int64) string { return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20)) }

// spread picks at most n readings evenly, the first and last included.
func spread(s []Memory, n int) []Memory {
	if len(s) <= n {
		return s
	}
	out := make([]Memory, 0, n)
	for i := range n {
		out = append(out, s[i*(len(s)-1)/(n-1)])
	}
	return out
}
