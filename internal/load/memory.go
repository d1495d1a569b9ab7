package load

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Sample is one reading of a process's /proc/PID/status (memory, in bytes)
// and /proc/PID/stat (CPU time).
type Sample struct {
	// At is how long after the load began the reading was taken; the first
	// reading is taken just before the first request.
	At time.Duration `json:"-"`
	// RSS is VmRSS, the resident set now.
	RSS int64 `json:"rssBytes"`
	// HWM is VmHWM, the highest resident set since the process started.
	HWM int64 `json:"hwmBytes"`
	// Anon and File split RSS: RssAnon is the heap and stacks, RssFile the
	// mapped files (badger maps its memtable, value log and tables).
	Anon int64 `json:"anonBytes"`
	File int64 `json:"fileBytes"`
	// CPU is the user and system time the process has used since it started.
	CPU time.Duration `json:"-"`
}

// clockTick is USER_HZ, the unit of /proc/PID/stat times: 100 on every
// Linux architecture Go supports.
const clockTick = 10 * time.Millisecond

// ReadSample reads VmRSS, VmHWM, RssAnon, RssFile and the CPU time of
// process pid (Linux only).
func ReadSample(pid int) (Sample, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return Sample{}, fmt.Errorf("load: memory of pid %d: %w", pid, err)
	}
	m, err := parseStatus(b)
	if err != nil {
		return Sample{}, err
	}
	if b, err = os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid)); err != nil {
		return Sample{}, fmt.Errorf("load: cpu of pid %d: %w", pid, err)
	}
	m.CPU, err = parseStat(b)
	return m, err
}

// parseStat reads utime and stime, fields 14 and 15 of /proc/PID/stat,
// counted after the command name, which is in parentheses and may hold spaces.
func parseStat(b []byte) (time.Duration, error) {
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, errors.New("load: /proc stat: no command name")
	}
	f := strings.Fields(string(b[i+1:])) // f[0] is field 3, the state
	if len(f) < 13 {
		return 0, errors.New("load: /proc stat: too few fields")
	}
	var ticks int64
	for _, s := range f[11:13] {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("load: /proc stat: %w", err)
		}
		ticks += n
	}
	return time.Duration(ticks) * clockTick, nil
}

func parseStatus(b []byte) (Sample, error) {
	var m Sample
	fields := map[string]*int64{"VmRSS": &m.RSS, "VmHWM": &m.HWM, "RssAnon": &m.Anon, "RssFile": &m.File}
	seen := 0
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		name, rest, ok := strings.Cut(sc.Text(), ":")
		dst := fields[name]
		if !ok || dst == nil {
			continue
		}
		f := strings.Fields(rest)
		if len(f) != 2 || f[1] != "kB" {
			return Sample{}, fmt.Errorf("load: /proc status: %s: unexpected %q", name, rest)
		}
		kb, err := strconv.ParseInt(f[0], 10, 64)
		if err != nil {
			return Sample{}, fmt.Errorf("load: /proc status: %s: %w", name, err)
		}
		*dst = kb << 10
		seen++
	}
	if seen != len(fields) {
		return Sample{}, errors.New("load: /proc status: VmRSS, VmHWM, RssAnon or RssFile missing")
	}
	return m, nil
}

// sampler reads a process's memory and CPU time at a fixed interval until stopped.
type sampler struct {
	pid     int
	every   time.Duration
	start   time.Time
	mu      sync.Mutex
	samples []Sample
	err     error
	done    chan struct{}
}

// startSampler takes a first reading at once (At <= 0) and then one every
// interval, measured from start.
func startSampler(ctx context.Context, pid int, every time.Duration, start time.Time) (*sampler, error) {
	s := &sampler{pid: pid, every: every, start: start, done: make(chan struct{})}
	if err := s.read(); err != nil {
		return nil, err
	}
	go s.loop(ctx)
	return s, nil
}

func (s *sampler) read() error {
	m, err := ReadSample(s.pid)
	s.mu.Lock()
	defer s.mu.Unlock()
	if err != nil {
		if s.err == nil {
			s.err = err
		}
		return err
	}
	m.At = time.Since(s.start)
	s.samples = append(s.samples, m)
	return nil
}

func (s *sampler) loop(ctx context.Context) {
	t := time.NewTicker(s.every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-s.done:
			return
		case <-t.C:
			if s.read() != nil {
				return
			}
		}
	}
}

// stop takes a last reading and returns all of them.
func (s *sampler) stop() ([]Sample, error) {
	close(s.done)
	_ = s.read()
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Sample(nil), s.samples...), s.err
}
