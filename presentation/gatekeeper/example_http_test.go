package gatekeeper_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"

	"github.com/dgraph-io/badger/v4"

	"github.com/mandate-dev/mandate/credentials"
	"github.com/mandate-dev/mandate/did"
	"github.com/mandate-dev/mandate/internal/testkeys"
	"github.com/mandate-dev/mandate/presentation"
	"github.com/mandate-dev/mandate/presentation/gatekeeper"
)

// ExampleHTTP puts the gatekeeper in front of a handler, and gives an agent
// an http.Client that presents from its wallet (docs/HTTP.md).
func ExampleHTTP() {
	alice, agent := testkeys.New("example principal"), testkeys.New("example agent")
	db, err := badger.Open(badger.DefaultOptions("").WithInMemory(true).WithLogger(nil))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer db.Close()
	v, err := presentation.New(presentation.Config{
		Audience: "https://mail.example", Resolver: did.KeyResolver{}, TrustedRoots: []string{alice.DID()},
		Store: db, Signer: testkeys.New("example verifier"),
	})
	if err != nil {
		fmt.Println(err)
		return
	}

	// The service: what each route asks to do, and the gate on the route.
	mapper := func(r *http.Request) (presentation.Request, error) {
		switch r.Pattern {
		case "GET /mail/{box}":
			return presentation.Request{Action: "email:read", Resource: "mailbox:alice/" + r.PathValue("box")}, nil
		case "DELETE /mail/{box}":
			return presentation.Request{Action: "email:delete", Resource: "mailbox:alice/" + r.PathValue("box")}, nil
		}
		return presentation.Request{}, errors.New("unmapped route")
	}
	gate, err := gatekeeper.HTTP(gatekeeper.Local(v), mapper)
	if err != nil {
		fmt.Println(err)
		return
	}
	mailbox := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		d, _ := gatekeeper.DecisionFrom(r.Context())
		fmt.Fprintf(w, "%s %s for %s", r.Method, r.PathValue("box"), d.Grant)
	})
	mux := http.NewServeMux()
	mux.Handle("GET /mail/{box}", gate(mailbox))
	mux.Handle("DELETE /mail/{box}", gate(mailbox))
	srv := httptest.NewServer(mux)
	defer srv.Close()

	// The agent: Alice's power of attorney, and an http.Client that uses it.
	root, err := credentials.Issue(alice, credentials.Template{
		Subject: agent.DID(), Purpose: "read Alice's mail",
		Grants:    []credentials.Grant{{ID: "urn:mandate:grant:read", Action: "email:read", Resource: "mailbox:alice/*"}},
		Forbidden: []credentials.Forbidden{{Action: "email:delete"}},
	}, credentials.IssueOptions{})
	if err != nil {
		fmt.Println(err)
		return
	}
	// It presents to the mail service's verifier, on the mail service's host
	// only ("mail.example" in production; here the test server's address).
	mailHost := srv.Listener.Addr().String()
	client := &http.Client{Transport: &gatekeeper.Transport{
		Presenter: gatekeeper.Holder{Signer: agent, Held: presentation.Held{LDP: [][]*credentials.Credential{{root}}}},
		Allow:     gatekeeper.AllowAudience("https://mail.example", mailHost),
	}}

	for _, method := range []string{http.MethodGet, http.MethodDelete} {
		req, _ := http.NewRequest(method, srv.URL+"/mail/inbox", nil)
		resp, err := client.Do(req)
		if err != nil {
			fmt.Println(err)
			return
		}
		if resp.StatusCode == http.StatusOK {
			body, _ := io.ReadAll(resp.Body)
			fmt.Println(method, resp.StatusCode, string(body))
		} else {
			var refusal gatekeeper.HTTPRefusal
			_ = json.NewDecoder(resp.Body).Decode(&refusal)
			fmt.Println(method, resp.StatusCode, refusal.Decision, refusal.Reasons, "audit record", refusal.AuditID)
		}
		resp.Body.Close()
	}
	// Output:
	// GET 200 GET inbox for urn:mandate:grant:read
	// DELETE 403 DENY [FORBIDDEN] audit record 2
}
