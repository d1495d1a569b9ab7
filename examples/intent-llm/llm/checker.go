package llm

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/mandate-dev/mandate/intent"
)

// Name is the checker's name.
const Name = "llm"

// Limits.
const (
	DefaultTimeout = 10 * time.Second
	MaxTimeout     = 60 * time.Second
	MaxBodyBytes   = 1 << 20 // a response body
	MaxReasonBytes = 1 << 10 // a reason in the model's answer
)

// Config configures a Checker.
type Config struct {
	// Endpoint is the API's base URL, e.g. "http://127.0.0.1:8080/v1";
	// the checker POSTs to Endpoint + "/chat/completions". https, or http
	// to a loopback host only: the request and the key must not cross a
	// network in clear.
	Endpoint string
	// Model is sent as the request's model.
	Model string
	// Timeout bounds one question (0: DefaultTimeout; at most MaxTimeout).
	Timeout time.Duration
	// APIKey, if set, is sent as a bearer token. It is never logged.
	APIKey string
	// Client sends the requests (nil: a client that follows no redirects).
	Client *http.Client
	// Logger (nil: discard).
	Logger *slog.Logger
}

// Checker asks the model. It is safe for concurrent use.
type Checker struct {
	url, model, key string
	timeout         time.Duration
	client          *http.Client
	log             *slog.Logger
}

// New checks cfg and builds the checker. Nothing is sent until Check.
func New(cfg Config) (*Checker, error) {
	if cfg.Timeout == 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.Timeout < 0 || cfg.Timeout > MaxTimeout {
		return nil, fmt.Errorf("llm: timeout %s is not in (0, %s]", cfg.Timeout, MaxTimeout)
	}
	if cfg.Model == "" {
		return nil, errors.New("llm: no model")
	}
	if err := checkEndpoint(cfg.Endpoint); err != nil {
		return nil, err
	}
	if cfg.Client == nil {
		cfg.Client = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return &Checker{
		url: strings.TrimSuffix(cfg.Endpoint, "/") + "/chat/completions", model: cfg.Model, key: cfg.APIKey,
		timeout: cfg.Timeout, client: cfg.Client, log: cfg.Logger,
	}, nil
}

func checkEndpoint(endpoint string) error {
	u, err := url.Parse(endpoint)
	switch {
	case err != nil:
		return fmt.Errorf("llm: endpoint: %w", err)
	case u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "":
		return fmt.Errorf("llm: endpoint %q is not a base URL (scheme://host[:port]/path, no user, query or fragment)", endpoint)
	case u.Scheme == "https":
		return nil
	case u.Scheme == "http" && isLoopback(u.Hostname()):
		return nil
	case u.Scheme == "http":
		return fmt.Errorf("llm: endpoint %q: plain http only to a loopback host", endpoint)
	default:
		return fmt.Errorf("llm: endpoint %q: scheme is not https or http", endpoint)
	}
}

func isLoopback(host string) bool {
	ip := net.ParseIP(host)
	return strings.EqualFold(host, "localhost") || (ip != nil && ip.IsLoopback())
}

// Name implements intent.Checker.
func (c *Checker) Name() string { return Name }

// Check implements intent.Checker: one chat completion, within ctx's
// deadline and the checker's time-out.
func (c *Checker) Check(ctx context.Context, r intent.Request) (intent.Answer, error) {
	body, err := chatBody(c.model, r)
	if err != nil {
		return intent.Answer{}, err
	}
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.url, bytes.NewReader(body))
	if err != nil {
		return intent.Answer{}, fmt.Errorf("llm: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	if c.key != "" {
		req.Header.Set("Authorization", "Bearer "+c.key)
	}
	start := time.Now()
	content, err := c.post(ctx, req)
	if err != nil {
		c.log.Warn("llm: no verdict", "model", c.model, "error", err, "elapsed", time.Since(start))
		return intent.Answer{}, err
	}
	a, err := ParseAnswer(content)
	if err != nil {
		c.log.Warn("llm: no verdict", "model", c.model, "error", err, "elapsed", time.Since(start))
		return intent.Answer{}, err
	}
	c.log.Debug("llm: verdict", "model", c.model, "verdict", a.Verdict, "confidence", a.Confidence, "elapsed", time.Since(start))
	return a, nil
}

// post sends req and returns choices[0].message.content.
func (c *Checker) post(ctx context.Context, req *http.Request) (string, error) {
	resp, err := c.client.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return "", fmt.Errorf("llm: no answer within %s", c.timeout)
		}
		return "", fmt.Errorf("llm: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("llm: endpoint answered %q", resp.Status)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, MaxBodyBytes+1))
	switch {
	case err != nil && ctx.Err() != nil:
		return "", fmt.Errorf("llm: no answer within %s", c.timeout)
	case err != nil:
		return "", fmt.Errorf("llm: reading the response: %w", err)
	case len(body) > MaxBodyBytes:
		return "", fmt.Errorf("llm: response is over %d bytes", MaxBodyBytes)
	}
	return contentOf(body)
}
