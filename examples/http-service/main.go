// Command http-service is a small mail service protected by Mandate's HTTP gatekeeper, and an agent that
// uses it through its wallet, on loopback and in a temporary directory:
//
//   - Alice (the principal) and the agent each have a wallet (package wallet); Alice issues the agent a
//     power of attorney to read her inbox that forbids deleting mail, and the agent's wallet stores it;
//
//   - the agent's wallet is served on a Unix socket (wallet/holder), as `mandate serve wallet` does;
//
//   - the mail service puts gatekeeper.HTTP, with an in-process verifier that trusts Alice, in front of
//     GET /mail/{box} (email:read), DELETE /mail/{box} and DELETE /mail/{box}/{id} (email:delete);
//
//   - the agent is an http.Client whose Transport is gatekeeper.Transport over holder.Client: it never
//     opens the wallet or touches a key, it only knows the socket.
//
//     go run ./examples/http-service
//
// prints one line per request with the decision, and exits 1 if any is not the expected one.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/dgraph-io/badger/v4"

	"github.com/mandate-dev/mandate/credentials"
	"github.com/mandate-dev/mandate/did"
	"github.com/mandate-dev/mandate/presentation"
	"github.com/mandate-dev/mandate/presentation/gatekeeper"
	"github.com/mandate-dev/mandate/wallet"
	"github.com/mandate-dev/mandate/wallet/holder"
)

// audience is the mail service's verifier identity.
const audience = "https://mail.example"

// timeout bounds the whole run: everything is on loopback, and a run takes well under a second.
const timeout = 30 * time.Second

func main() {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	steps, err := run(ctx)
	if err != nil {
		fmt.Fprintln(os.Stderr, "http-service:", err)
		os.Exit(2)
	}
	if !report(os.Stdout, steps) {
		os.Exit(1)
	}
}

// step is one request of the agent and what came of it.
type step struct {
	Name, Method, Path string
	Expected, Got      string // "200 ALLOW", "403 DENY FORBIDDEN"
	Detail             string
}

func (s step) OK() bool { return s.Got == s.Expected }

// run sets the world up in a temporary directory, plays the agent's requests and tears everything down.
func run(ctx context.Context) ([]step, error) {
	dir, err := os.MkdirTemp("", "mandate-http-service")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	var closers []func()
	defer func() {
		for i := len(closers) - 1; i >= 0; i-- {
			closers[i]()
		}
	}()
	socket, service, err := setUp(dir, &closers)
	if err != nil {
		return nil, err
	}
	return agent(ctx, socket, service)
}

// setUp makes the wallets and the power of attorney, serves the agent's wallet on a socket and starts the
// mail service. It returns the socket's path and the service's URL.
func setUp(dir string, closers *[]func()) (string, string, error) {
	// The example's wallets use a fast KDF; real wallets keep the default Argon2id cost.
	open := func(name string) (*wallet.Wallet, error) {
		w, err := wallet.Create(filepath.Join(dir, name), []byte("example passphrase for "+name), wallet.WithKDFParams(1, 64, 1))
		if err == nil {
			*closers = append(*closers, func() { w.Close() })
		}
		return w, err
	}
	alice, err := open("alice")
	if err != nil {
		return "", "", err
	}
	agentWallet, err := open("agent")
	if err != nil {
		return "", "", err
	}
	mailKey, err := open("mail-service") // the verifier's own key: it signs the audit log
	if err != nil {
		return "", "", err
	}
	if err := grant(alice, agentWallet); err != nil {
		return "", "", err
	}
	socket := filepath.Join(dir, "run", "agent-wallet.sock")
	lis, err := holder.Listen(socket)
	if err != nil {
		return "", "", err
	}
	ws := holder.NewGRPCServer(agentWallet, nil, nil)
	go ws.Serve(lis)
	*closers = append(*closers, ws.Stop)
	url, err := serveMail(alice.DID(), mailKey, closers)
	return socket, url, err
}

// grant is Alice's side: a power of attorney to read her inbox, never to delete mail, imported into the
// agent's wallet (`mandate issue` and `mandate wallet import`).
func grant(alice, agent *wallet.Wallet) error {
	root, err := credentials.Issue(alice, credentials.Template{
		Subject: agent.DID(), Purpose: "read and summarise Alice's inbox",
		Grants:    []credentials.Grant{{ID: "urn:mandate:grant:read-inbox", Action: "email:read", Resource: "mailbox:alice/inbox"}},
		Forbidden: []credentials.Forbidden{{Action: "email:delete"}},
	}, credentials.IssueOptions{})
	if err != nil {
		return err
	}
	chain, err := credentials.EncodeChain([]*credentials.Credential{root})
	if err != nil {
		return err
	}
	return agent.PutChain("alice-mail", chain)
}

// inbox is the mail the service holds.
var inbox = []string{"Lunch on Friday?", "Invoice 42 is due"}

// mapMail is the service's mapping of HTTP requests to what they ask to do.
func mapMail(r *http.Request) (presentation.Request, error) {
	box := "mailbox:alice/" + r.PathValue("box")
	switch r.Pattern {
	case "GET /mail/{box}":
		return presentation.Request{Action: "email:read", Resource: box}, nil
	case "DELETE /mail/{box}": // empty the mailbox
		return presentation.Request{Action: "email:delete", Resource: box}, nil
	case "DELETE /mail/{box}/{id}":
		return presentation.Request{Action: "email:delete", Resource: box, Context: map[string]string{"message": r.PathValue("id")}}, nil
	}
	return presentation.Request{}, errors.New("no action is mapped to this route")
}

// serveMail starts the mail service on loopback behind the gatekeeper, with an in-process verifier that
// trusts principal's roots.
func serveMail(principal string, key credentials.Signer, closers *[]func()) (string, error) {
	db, err := badger.Open(badger.DefaultOptions("").WithInMemory(true).WithLogger(nil))
	if err != nil {
		return "", err
	}
	*closers = append(*closers, func() { db.Close() })
	v, err := presentation.New(presentation.Config{
		Audience: audience, Resolver: did.KeyResolver{}, TrustedRoots: []string{principal}, Store: db, Signer: key,
	})
	if err != nil {
		return "", err
	}
	gate, err := gatekeeper.HTTP(gatekeeper.Local(v), mapMail)
	if err != nil {
		return "", err
	}
	mail := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		d, _ := gatekeeper.DecisionFrom(r.Context())
		out := map[string]any{"decision": d.Outcome.String(), "grant": d.Grant, "auditId": d.AuditID}
		if r.Method == http.MethodGet {
			out["messages"] = inbox
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(out)
	})
	mux := http.NewServeMux()
	mux.Handle("GET /mail/{box}", gate(mail))
	mux.Handle("DELETE /mail/{box}", gate(mail))
	mux.Handle("DELETE /mail/{box}/{id}", gate(mail))
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(lis)
	*closers = append(*closers, func() { srv.Close() })
	return "http://" + lis.Addr().String(), nil
}

// tamper is a man in the middle: it sends the agent's answer to a challenge with another method.
type tamper struct {
	base   http.RoundTripper
	method string
}

func (t tamper) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Header.Get("Authorization") != "" {
		r = r.Clone(r.Context())
		r.Method = t.method
	}
	return t.base.RoundTrip(r)
}

// agent is the agent's process: it knows the wallet's socket and the service's URL, nothing else.
func agent(ctx context.Context, socket, service string) ([]step, error) {
	wal, err := holder.Dial(socket)
	if err != nil {
		return nil, err
	}
	defer wal.Close()
	base := &http.Transport{}
	defer base.CloseIdleConnections()
	// The agent presents to the mail service's verifier, on the mail service's host only: any other server
	// it reached could relay the verifier's challenge and spend the presentation.
	host := strings.TrimPrefix(service, "http://")
	client := func(rt http.RoundTripper) *http.Client {
		return &http.Client{Transport: &gatekeeper.Transport{Base: rt, Presenter: wal, Allow: gatekeeper.AllowAudience(audience, host)}}
	}
	steps := []step{
		{Name: "no wallet", Method: http.MethodGet, Path: "/mail/inbox", Expected: "401 DENY PRESENTATION_MISSING"},
		{Name: "read the inbox", Method: http.MethodGet, Path: "/mail/inbox", Expected: "200 ALLOW"},
		{Name: "delete a message", Method: http.MethodDelete, Path: "/mail/inbox/1", Expected: "403 DENY FORBIDDEN"},
		{Name: "read, re-sent as DELETE", Method: http.MethodGet, Path: "/mail/inbox", Expected: "403 DENY REQUEST_MISMATCH"},
	}
	clients := []*http.Client{{Transport: base}, client(base), client(base), client(tamper{base, http.MethodDelete})}
	for i := range steps {
		if err := steps[i].do(ctx, clients[i], service); err != nil {
			return steps, fmt.Errorf("%s: %w", steps[i].Name, err)
		}
	}
	return steps, nil
}

// do sends the step's request and records the answer.
func (s *step) do(ctx context.Context, c *http.Client, service string) error {
	req, err := http.NewRequestWithContext(gatekeeper.WithIntent(ctx, "summarise the inbox for Alice"), s.Method, service+s.Path, nil)
	if err != nil {
		return err
	}
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if err != nil {
		return err
	}
	var answer struct {
		gatekeeper.HTTPRefusal
		Grant    string   `json:"grant"`
		Messages []string `json:"messages"`
	}
	if err := json.Unmarshal(body, &answer); err != nil {
		return fmt.Errorf("%d with a body that is not JSON: %w", resp.StatusCode, err)
	}
	s.Got = strings.TrimSpace(fmt.Sprintf("%d %s %s", resp.StatusCode, answer.Decision, joinReasons(answer.Reasons)))
	switch {
	case resp.StatusCode == http.StatusOK:
		s.Detail = fmt.Sprintf("grant %s, audit record %s: %q", answer.Grant, answer.AuditID, answer.Messages)
	case resp.StatusCode == http.StatusUnauthorized:
		if _, asked, err := gatekeeper.ParseMandateChallenge(resp.Header.Get("WWW-Authenticate")); err == nil {
			s.Detail = fmt.Sprintf("challenged for %s on %s", asked.Action, asked.Resource)
		}
	default:
		s.Detail = fmt.Sprintf("audit record %s: %s", answer.AuditID, answer.Message)
	}
	return nil
}

func joinReasons(rs []presentation.Reason) string {
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = string(r)
	}
	return strings.Join(out, " ")
}

// report prints the steps as a table and says whether every one was as expected.
func report(out io.Writer, steps []step) bool {
	tw := tabwriter.NewWriter(out, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "#\tstep\trequest\texpected\tgot\t")
	good := 0
	for i, s := range steps {
		mark := "ok"
		if s.OK() {
			good++
		} else {
			mark = "UNEXPECTED"
		}
		fmt.Fprintf(tw, "%d\t%s\t%s %s\t%s\t%s\t%s\n", i+1, s.Name, s.Method, s.Path, s.Expected, s.Got, mark)
	}
	tw.Flush()
	for i, s := range steps {
		if s.Detail != "" {
			fmt.Fprintf(out, "%d: %s\n", i+1, s.Detail)
		}
	}
	fmt.Fprintf(out, "%d of %d requests as expected\n", good, len(steps))
	return good == len(steps) && len(steps) > 0
}
