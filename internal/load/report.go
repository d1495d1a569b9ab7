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
	Server        *ServerReport  `json:"server,omitempty"`
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

// ServerReport is the verifier process's memory (in bytes) and CPU time
// over the run.
type ServerReport struct {
	PID int `json:"pid"`
	// Peak is VmHWM at the end: the highest resident set since the process
	// started, start-up included.
	Peak int64 `json:"peakBytes"`
	// Start, Middle and End are VmRSS before the first request, at the
	// sample nearest the middle of the run, and after the last.
	Start, Middle, End int64 `json:"-"`
	// CPU is the user and system time the verifier used during the run
	// (10 ms resolution); CPUPerRequest divides it by the requests made.
	CPU, CPUPerRequest time.Duration `json:"-"`
	Samples            []Sample      `json:"samples"`
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

func newServerReport(pid int, s []Sample, requests int) *ServerReport {
	m := &ServerReport{PID: pid, Samples: s}
	if len(s) == 0 {
		return m
	}
	last := s[len(s)-1]
	m.Peak, m.Start, m.End = last.HWM, s[0].RSS, last.RSS
	m.CPU = last.CPU - s[0].CPU
	if requests > 0 {
		m.CPUPerRequest = m.CPU / time.Duration(requests)
	}
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

// MarshalJSON adds the start, middle and end readings and the CPU time.
func (m ServerReport) MarshalJSON() ([]byte, error) {
	type plain ServerReport
	return json.Marshal(struct {
		plain
		StartRSS        int64   `json:"startRssBytes"`
		MiddleRSS       int64   `json:"middleRssBytes"`
		EndRSS          int64   `json:"endRssBytes"`
		CPUMs           float64 `json:"cpuMs"`
		CPUPerRequestMs float64 `json:"cpuPerRequestMs"`
	}{plain(m), m.Start, m.Middle, m.End, ms(m.CPU), ms(m.CPUPerRequest)})
}

// MarshalJSON writes the times of a reading in milliseconds.
func (m Sample) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		AtMs  float64 `json:"atMs"`
		RSS   int64   `json:"rssBytes"`
		HWM   int64   `json:"hwmBytes"`
		Anon  int64   `json:"anonBytes"`
		File  int64   `json:"fileBytes"`
		CPUMs float64 `json:"cpuMs"`
	}{ms(m.At), m.RSS, m.HWM, m.Anon, m.File, ms(m.CPU)})
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
	if m := r.Server; m != nil {
		p.f("server     pid %d: RSS start %s, middle %s, end %s; peak (VmHWM) %s\n", m.PID, mib(m.Start), mib(m.Middle), mib(m.End), mib(m.Peak))
		p.f("           CPU %s during the run, %.1f ms a request\n", m.CPU, ms(m.CPUPerRequest))
		for _, s := range spread(m.Samples, 10) {
			p.f("  t=%-8s RSS %s (anon %s, files %s)  HWM %s\n", s.At.Round(100*time.Millisecond), mib(s.RSS), mib(s.Anon), mib(s.File), mib(s.HWM))
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
func spread(s []Sample, n int) []Sample {
	if len(s) <= n {
		return s
	}
	out := make([]Sample, 0, n)
	for i := range n {
		out = append(out, s[i*(len(s)-1)/(n-1)])
	}
	return out
}
