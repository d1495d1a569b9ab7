//go:build !linux

package external

import (
	"errors"
	"time"
)

// Plugin is not supported here: it needs Linux's /proc/self/fd to execute
// exactly the bytes it hashed. Use Dial with a checker started otherwise.
func Plugin(path, sha256hex string, opts ...Option) (*Checker, error) {
	return nil, errors.New("external: plugins need linux; dial a running checker instead")
}

type process struct{}

func (*process) exited() error                    { return nil }
func (*process) exitedWithin(time.Duration) error { return nil }
func (*process) stop() error                      { return nil }
