package gatekeeper_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mandate-dev/mandate/presentation"
	"github.com/mandate-dev/mandate/presentation/gatekeeper"
)

// One GET through an http.Client: the challenge and the answer, exactly two
// round trips; the caller's request is not changed.
func TestTransportTwoRoundTrips(t *testing.T) {
	s := newHTTPService(t, nil)
	req, _ := http.NewRequest(http.MethodGet, s.srv.URL+"/mail/inbox", nil)
	resp, _ := httpSend(t, s.client(nil), req)
	arrived, handled := s.counts()
	if resp.StatusCode != http.StatusOK || arrived != 2 || handled != 1 {
		t.Fatalf("status %d, %d round trips, %d handled", resp.StatusCode, arrived, handled)
	}
	if len(req.Header) != 0 {
		t.Errorf("the caller's request was changed: %v", req.Header)
	}
}

// onlyReader hides a reader's type, so that http.NewRequest sets no GetBody.
type onlyReader struct{ r io.Reader }

func (o onlyReader) Read(p []byte) (int, error) { return o.r.Read(p) }

// The body is sent again byte for byte, from GetBody or from the buffer.
func TestTransportReplaysTheBody(t *testing.T) {
	body := "Dear Bob,\n\x00\xffbinary too\n"
	for _, c := range []struct {
		name string
		rd   io.Reader
	}{{"GetBody", strings.NewReader(body)}, {"buffered", onlyReader{strings.NewReader(body)}}} {
		t.Run(c.name, func(t *testing.T) {
			s := newHTTPService(t, nil)
			req, _ := http.NewRequest(http.MethodPost, s.srv.URL+"/mail/outbox?to=bob", c.rd)
			if (req.GetBody != nil) != (c.name == "GetBody") {
				t.Fatalf("GetBody set: %v", req.GetBody != nil)
			}
			resp, _ := httpSend(t, s.client(nil), req)
			want := "POST /mail/outbox " + body
			if resp.StatusCode != http.StatusOK || len(s.arrived) != 2 || s.arrived[0] != want || s.arrived[1] != want ||
				len(s.handled) != 1 || s.handled[0] != want {
				t.Fatalf("status %d, arrived %q, handled %q", resp.StatusCode, s.arrived, s.handled)
			}
		})
	}
}

// A body without GetBody larger than the bound is refused before anything
// is sent.
func TestTransportRefusesABodyItCannotReplay(t *testing.T) {
	s := newHTTPService(t, nil)
	c := &http.Client{Transport: &gatekeeper.Transport{Base: s.srv.Client().Transport, Presenter: s.holder, MaxReplayBytes: 4}}
	req, _ := http.NewRequest(http.MethodPost, s.srv.URL+"/mail/outbox?to=bob", onlyReader{strings.NewReader("12345")})
	_, err := c.Do(req)
	if err == nil || !strings.Contains(err.Error(), "gatekeeper: the request body is larger than 4 bytes and has no GetBody") {
		t.Fatalf("err %v", err)
	}
	if arrived, _ := s.counts(); arrived != 0 {
		t.Errorf("%d requests sent", arrived)
	}
}

// challenger always answers 401 with the given challenge and counts.
func challenger(t *testing.T, challenge func() string) (*httptest.Server, *atomic.Int32) {
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		w.Header().Set("WWW-Authenticate", challenge())
		w.WriteHeader(http.StatusUnauthorized)
	}))
	t.Cleanup(srv.Close)
	return srv, &n
}

// A server that answers the presentation with 401 again is not asked a
// third time: the second 401 is the caller's.
func TestTransportRetriesOnce(t *testing.T) {
	v, _ := newHTTPVerifier(t, time.Now())
	s := newHTTPService(t, nil)
	srv, n := challenger(t, func() string {
		ch, err := v.Challenge(context.Background())
		if err != nil {
			t.Error(err)
		}
		h, _ := gatekeeper.MandateChallenge(ch, presentation.Request{Action: "email:read", Resource: "mailbox:alice/inbox"})
		return h
	})
	c := &http.Client{Transport: &gatekeeper.Transport{Base: srv.Client().Transport, Presenter: s.holder, Allow: gatekeeper.AllowAudience(httpAudience)}}
	resp, err := c.Get(srv.URL + "/mail/inbox")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized || n.Load() != 2 {
		t.Fatalf("status %d after %d round trips, want 401 after 2", resp.StatusCode, n.Load())
	}
}

// The agent refuses to present for a challenge with no audience, one for
// another audience, and one its Allow hook refuses; the wallet is not asked.
func TestTransportRefusesAChallenge(t *testing.T) {
	const rest = `nonce="n", formats="ldp", expires="2030-01-01T00:00:00Z", action="email:delete", resource="mailbox:alice/inbox"`
	var asked atomic.Int32
	wallet := httpPresenterFunc(func(context.Context, presentation.Challenge, presentation.Request) (string, []byte, error) {
		asked.Add(1)
		return "", nil, errors.New("not reached")
	})
	noDelete := func(_ *http.Request, _ presentation.Challenge, req presentation.Request) error {
		if req.Action == "email:delete" {
			return errors.New("this agent never deletes")
		}
		return nil
	}
	cases := []struct {
		name, challenge string
		allow           func(*http.Request, presentation.Challenge, presentation.Request) error
		want            string
	}{
		{"no audience", `Mandate aud="", ` + rest, nil, "gatekeeper: challenge refused: the challenge names no audience"},
		{"another audience", `Mandate aud="https://evil.example", ` + rest, gatekeeper.AllowAudience(httpAudience),
			`gatekeeper: challenge refused: audience "https://evil.example" is not "https://mail.example"`},
		{"refused by the hook", `Mandate aud="https://mail.example", ` + rest, noDelete, "gatekeeper: challenge refused: this agent never deletes"},
		{"no Allow", `Mandate aud="https://mail.example", ` + rest, nil,
			"gatekeeper: challenge refused: the transport has no Allow (pin the audience with AllowAudience)"},
		{"another host", `Mandate aud="https://mail.example", ` + rest, gatekeeper.AllowAudience(httpAudience, "mail.example", "MAIL.example:8443"),
			`is not a host of audience "https://mail.example"`},
		{"malformed", `Mandate aud="https://mail.example", nonce="n"`, nil, "gatekeeper: challenge has no formats"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			srv, n := challenger(t, func() string { return c.challenge })
			client := &http.Client{Transport: &gatekeeper.Transport{Base: srv.Client().Transport, Presenter: wallet, Allow: c.allow}}
			_, err := client.Get(srv.URL)
			if err == nil || !strings.HasSuffix(err.Error(), c.want) || n.Load() != 1 {
				t.Fatalf("err %v after %d round trips, want %q after 1", err, n.Load(), c.want)
			}
			if c.allow != nil && c.name != "malformed" && !errors.Is(err, gatekeeper.ErrChallengeRefused) {
				t.Errorf("%v is not ErrChallengeRefused", err)
			}
		})
	}
	if asked.Load() != 0 {
		t.Errorf("the wallet was asked %d times", asked.Load())
	}
}

// A 401 of another scheme, and a request that brings its own Authorization,
// are the caller's; a transport without a presenter sends nothing.
func TestTransportLeavesOtherAuthenticationAlone(t *testing.T) {
	srv, n := challenger(t, func() string { return `Basic realm="x"` })
	s := newHTTPService(t, nil)
	c := &http.Client{Transport: &gatekeeper.Transport{Base: srv.Client().Transport, Presenter: s.holder}}
	resp, err := c.Get(srv.URL)
	if err != nil || resp.StatusCode != http.StatusUnauthorized || n.Load() != 1 {
		t.Fatalf("basic: %v, %v, %d round trips", resp, err, n.Load())
	}
	resp.Body.Close()
	req, _ := http.NewRequest(http.MethodGet, s.srv.URL+"/mail/inbox", nil)
	req.Header.Set("Authorization", "Mandate e30")
	resp, body := httpSend(t, s.client(nil), req)
	httpExpect(t, resp, body, http.StatusForbidden, "DENY", presentation.ReasonMalformed)

	none := &http.Client{Transport: &gatekeeper.Transport{Base: s.srv.Client().Transport}}
	if _, err := none.Get(s.srv.URL + "/mail/inbox"); err == nil || !strings.Contains(err.Error(), "gatekeeper: transport has no presenter") {
		t.Fatalf("no presenter: %v", err)
	}
	if arrived, _ := s.counts(); arrived != 1 {
		t.Errorf("%d requests reached the service, want 1", arrived)
	}
}
