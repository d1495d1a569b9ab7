package load

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Memory is one reading of a process's /proc/PID/status, in bytes.
type Memory struct {
	// At is how long after the load began the reading was taken (negative:
	// before the first request).
	At time.Duration `json:"-"`
	// RSS is VmRSS, the resident set now.
	RSS int64 `json:"rssBytes"`
	// HWM is VmHWM, the highest resident set since the process started.
	HWM int64 `json:"hwmBytes"`
}

// ReadMemory reads VmRSS and VmHWM of process pid (Linux only).
func ReadMemory(pid int) (Memory, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return Memory{}, fmt.Errorf("load: memory of pid %d: %w", pid, err)
	}
	return parseStatus(b)
}

func parseStatus(b []byte) (Memory, error) {
	var m Memory
	var seen int
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		name, rest, ok := strings.Cut(sc.Text(), ":")
		if !ok || (name != "VmRSS" && name != "VmHWM") {
			continue
		}
		f := strings.Fields(rest)
		if len(f) != 2 || f[1] != "kB" {
			return Memory{}, fmt.Errorf("load: /proc status: %s: unexpected %q", name, rest)
		}
		kb, err := strconv.ParseInt(f[0], 10, 64)
		if err != nil {
			return Memory{}, fmt.Errorf("load: /proc status: %s: %w", name, err)
		}
		if name == "VmRSS" {
			m.RSS = kb << 10
		} else {
			m.HWM = kb << 10
		}
		seen++
	}
	if seen != 2 {
		return Memory{}, fmt.Errorf("load: /proc status: VmRSS or VmHWM missing")
	}
	return m, nil
}

// sampler reads a process's memory at a fixed interval until stopped.
type sampler struct {
	pid     int
	every   time.Duration
	start   time.Time
	mu      sync.Mutex
	samples []Memory
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
	m, err := ReadMemory(s.pid)
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
func (s *sampler) stop() ([]Memory, error) {
	close(s.done)
	_ = s.read()
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Memory(nil), s.samples...), s.err
}
