package credentials_test

import (
	"errors"
	"testing"

	"github.com/mandate-dev/mandate/credentials"
	"github.com/mandate-dev/mandate/internal/testkeys"
)

// A condition no verifier could evaluate is refused before signing.
func TestIssueRefusesUnevaluableCondition(t *testing.T) {
	cases := map[string]string{
		"int(context.amount) <=":   `credentials: malformed credential: grant urn:mandate:grant:pay: cel: condition "int(context.amount) <=" does not compile: ERROR: <input>:1:23: Syntax error: mismatched input '<EOF>' expecting`,
		"context.amount":           `credentials: malformed credential: grant urn:mandate:grant:pay: cel: condition "context.amount" is of type string, not bool`,
		"request.context.hour < 1": `credentials: malformed credential: grant urn:mandate:grant:pay: cel: condition "request.context.hour < 1" does not compile: ERROR: <input>:1:1: undeclared reference to 'request'`,
	}
	for cond, want := range cases {
		_, err := credentials.Issue(testkeys.New("alice"), credentials.Template{
			Subject: testkeys.New("assistant").DID(), Purpose: "Pay approved invoices",
			Grants: []credentials.Grant{{ID: "urn:mandate:grant:pay", Action: "invoice:pay", Resource: "erp:acme/*",
				Constraints: credentials.Constraints{Conditions: []string{cond}}}},
		}, credentials.IssueOptions{})
		if !errors.Is(err, credentials.ErrMalformed) || len(err.Error()) < len(want) || err.Error()[:len(want)] != want {
			t.Errorf("%s:\n got %v\nwant %s…", cond, err, want)
		}
	}
	if _, err := credentials.Issue(testkeys.New("alice"), credentials.Template{
		Subject: testkeys.New("assistant").DID(), Purpose: "Pay approved invoices",
		Grants: []credentials.Grant{{ID: "urn:mandate:grant:pay", Action: "invoice:pay", Resource: "erp:acme/*",
			Constraints: credentials.Constraints{Conditions: []string{"int(context.amount) <= 500"}}}},
	}, credentials.IssueOptions{}); err != nil {
		t.Fatalf("a good condition: %v", err)
	}
}
