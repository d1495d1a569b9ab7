package intent

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"sync"
)

// MaxConfigBytes bounds a checker's configuration.
const MaxConfigBytes = 64 << 10

// Factory builds a checker from its configuration: a JSON object, or empty
// for the checker's defaults. A factory must refuse unknown members.
type Factory func(config json.RawMessage) (Checker, error)

// Registry maps checker names to factories. The zero value is empty and
// ready; it is safe for concurrent use.
type Registry struct {
	mu        sync.RWMutex
	factories map[string]Factory
}

var checkerName = regexp.MustCompile(`^[a-z][a-z0-9-]{0,31}$`)

// Register adds a factory under name (lower case, digits and '-', at most
// 32 bytes). A name registered twice is an error: a checker is never
// replaced silently.
func (r *Registry) Register(name string, f Factory) error {
	if !checkerName.MatchString(name) {
		return fmt.Errorf("intent: checker name %q is not [a-z][a-z0-9-]{0,31}", name)
	}
	if f == nil {
		return fmt.Errorf("intent: checker %q has no factory", name)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, ok := r.factories[name]; ok {
		return fmt.Errorf("intent: checker %q is already registered", name)
	}
	if r.factories == nil {
		r.factories = map[string]Factory{}
	}
	r.factories[name] = f
	return nil
}

// New builds the checker registered as name from config.
func (r *Registry) New(name string, config json.RawMessage) (Checker, error) {
	if len(config) > MaxConfigBytes {
		return nil, fmt.Errorf("intent: checker %q: configuration is %d bytes, limit %d", name, len(config), MaxConfigBytes)
	}
	r.mu.RLock()
	f, ok := r.factories[name]
	r.mu.RUnlock()
	if !ok {
		return nil, fmt.Errorf("intent: no checker named %q (known: %v)", name, r.Names())
	}
	c, err := f(config)
	if err != nil {
		return nil, fmt.Errorf("intent: checker %q: %w", name, err)
	}
	return c, nil
}

// Names lists the registered checkers, sorted.
func (r *Registry) Names() []string {
	r.mu.RLock()
	defer r.mu.RUnlock()
	names := make([]string, 0, len(r.factories))
	for n := range r.factories {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// DecodeConfig decodes a checker's JSON configuration into v, refusing
// unknown members and trailing data. Empty config leaves v as it is.
func DecodeConfig(config json.RawMessage, v any) error {
	if len(config) == 0 {
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(config))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("configuration: %w", err)
	}
	if dec.More() {
		return errors.New("configuration: trailing data after the JSON object")
	}
	return nil
}

// Decoded makes a Factory from a constructor that takes the checker's
// configuration decoded (strictly, by DecodeConfig) into a C.
func Decoded[C any, K Checker](build func(C) (K, error)) Factory {
	return func(config json.RawMessage) (Checker, error) {
		var cfg C
		if err := DecodeConfig(config, &cfg); err != nil {
			return nil, err
		}
		k, err := build(cfg)
		if err != nil {
			return nil, err // never a typed nil inside the interface
		}
		return k, nil
	}
}
