package load

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"time"

	"github.com/mandate-dev/mandate/credentials"
)

// Hard bounds on one run: a load run is a measurement, not a way to keep a
// machine busy.
const (
	MaxAgents      = 256
	MaxDuration    = 30 * time.Minute
	MaxRequests    = 1_000_000
	MaxChainDepth  = 3
	minSampleEvery = 100 * time.Millisecond
)

// Config is one run.
type Config struct {
	// Addr is the verifier's gRPC address; it must be a loopback IP and port.
	Addr string
	// Principal issues every agent's root credential; the verifier must
	// trust its DID.
	Principal credentials.Signer
	// Agents is how many agents run concurrently (1..MaxAgents).
	Agents int
	// Duration bounds the run in time (0: no time bound, Requests must be set).
	// A request started before the end is let finish.
	Duration time.Duration
	// Requests bounds the run in count over all agents (0: no count bound,
	// Duration must be set).
	Requests int
	// ChainDepth is the number of links in each agent's chain (1..MaxChainDepth).
	ChainDepth int
	// PID is the verifier's process to sample for memory (0: not sampled).
	PID int
	// SampleEvery is how often the verifier's memory is read (0: one second).
	SampleEvery time.Duration
	// RequestTimeout bounds one round trip (0: 30 seconds).
	RequestTimeout time.Duration
	// Logger receives progress (nil: discard).
	Logger *slog.Logger
}

// Validate refuses a run that is unbounded, over a cap, or off loopback.
func (c Config) Validate() error {
	switch {
	case c.Principal == nil:
		return errors.New("load: no principal to issue the agents' credentials")
	case c.Agents < 1 || c.Agents > MaxAgents:
		return fmt.Errorf("load: agents must be 1..%d, got %d", MaxAgents, c.Agents)
	case c.ChainDepth < 1 || c.ChainDepth > MaxChainDepth:
		return fmt.Errorf("load: chain depth must be 1..%d, got %d", MaxChainDepth, c.ChainDepth)
	case c.Duration < 0 || c.Duration > MaxDuration:
		return fmt.Errorf("load: duration must be at most %s, got %s", MaxDuration, c.Duration)
	case c.Requests < 0 || c.Requests > MaxRequests:
		return fmt.Errorf("load: requests must be at most %d, got %d", MaxRequests, c.Requests)
	case c.Duration == 0 && c.Requests == 0:
		return errors.New("load: no bound: give a duration, a number of requests, or both")
	case c.SampleEvery != 0 && c.SampleEvery < minSampleEvery:
		return fmt.Errorf("load: memory sample interval must be at least %s, got %s", minSampleEvery, c.SampleEvery)
	case c.RequestTimeout < 0:
		return fmt.Errorf("load: request timeout must not be negative, got %s", c.RequestTimeout)
	}
	return CheckLoopback(c.Addr)
}

// CheckLoopback refuses an address that is not a loopback IP literal with a
// port. Host names are refused too, since a name can resolve anywhere.
func CheckLoopback(addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("load: address %q: %w", addr, err)
	}
	if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("load: address %s is not a loopback IP address (127.0.0.1 or ::1)", addr)
	}
	return nil
}

func (c Config) sampleEvery() time.Duration {
	if c.SampleEvery == 0 {
		return time.Second
	}
	return c.SampleEvery
}

func (c Config) requestTimeout() time.Duration {
	if c.RequestTimeout == 0 {
		return 30 * time.Second
	}
	return c.RequestTimeout
}

func (c Config) logger() *slog.Logger {
	if c.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return c.Logger
}
