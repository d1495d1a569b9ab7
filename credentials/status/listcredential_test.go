package status_test

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/mandate-dev/mandate/credentials/status"
)

// validList returns a VC 2.0 BitstringStatusListCredential whose list has
// the given bits set.
func validList(t *testing.T, set ...int) map[string]any {
	t.Helper()
	b := newList(t, status.MinBits)
	for _, i := range set {
		if err := b.Set(i, 1, 1); err != nil {
			t.Fatal(err)
		}
	}
	enc, err := b.Encode()
	if err != nil {
		t.Fatal(err)
	}
	return map[string]any{
		"@context":  []any{"https://www.w3.org/ns/credentials/v2"},
		"id":        listURL,
		"type":      []any{"VerifiableCredential", "BitstringStatusListCredential"},
		"issuer":    "did:example:12345",
		"validFrom": "2024-01-01T00:00:00Z",
		"credentialSubject": map[string]any{
			"id":            listURL + "#list",
			"type":          "BitstringStatusList",
			"statusPurpose": "revocation",
			"encodedList":   enc,
		},
	}
}

// v11List turns a list into the VC 1.1 shape Mandate's issuer signs.
func v11List(m map[string]any) map[string]any {
	m["@context"] = []any{"https://www.w3.org/2018/credentials/v1", "https://w3id.org/security/suites/ed25519-2020/v1", "https://www.w3.org/ns/credentials/status/v1"}
	delete(m, "validFrom")
	m["issuanceDate"] = "2024-01-01T00:00:00Z"
	m["expirationDate"] = "2024-01-02T00:00:00Z"
	return m
}

func subject(m map[string]any) map[string]any { return m["credentialSubject"].(map[string]any) }

func TestParseListCredential(t *testing.T) {
	jan1 := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	jan2 := jan1.Add(24 * time.Hour)
	tests := []struct {
		name   string
		mutate func(m map[string]any)
		want   func(lc *status.ListCredential)
	}{
		{"VC 2.0", func(map[string]any) {}, func(*status.ListCredential) {}},
		{"VC 2.0 validUntil", func(m map[string]any) { m["validUntil"] = "2024-01-02T00:00:00Z" }, func(lc *status.ListCredential) { lc.ValidUntil = &jan2 }},
		{"VC 2.0 no dates", func(m map[string]any) { delete(m, "validFrom") }, func(lc *status.ListCredential) { lc.ValidFrom = time.Time{} }},
		{"VC 1.1", func(m map[string]any) { v11List(m) }, func(lc *status.ListCredential) { lc.ValidUntil = &jan2 }},
		{"VC 1.1 issued only", func(m map[string]any) {
			v11List(m)
			delete(m, "issuanceDate")
			m["issued"] = "2024-01-01T00:00:00Z"
		}, func(lc *status.ListCredential) { lc.ValidUntil = &jan2 }},
		{"VC 1.1 issued after issuanceDate", func(m map[string]any) {
			v11List(m)
			m["issuanceDate"] = "2023-12-31T00:00:00Z"
			m["issued"] = "2024-01-01T00:00:00Z"
		}, func(lc *status.ListCredential) { lc.ValidUntil = &jan2 }},
		{"VC 1.1 issued before issuanceDate", func(m map[string]any) {
			v11List(m)
			m["issued"] = "2023-12-31T00:00:00Z"
		}, func(lc *status.ListCredential) { lc.ValidUntil = &jan2 }},
		{"context as string", func(m map[string]any) { m["@context"] = "https://www.w3.org/ns/credentials/v2" }, func(*status.ListCredential) {}},
		{"no id", func(m map[string]any) { delete(m, "id") }, func(lc *status.ListCredential) { lc.ID = "" }},
		{"issuer object", func(m map[string]any) { m["issuer"] = map[string]any{"id": "did:example:12345", "name": "Example"} }, func(*status.ListCredential) {}},
		{"no subject id", func(m map[string]any) { delete(subject(m), "id") }, func(lc *status.ListCredential) { lc.SubjectID = "" }},
		{"ttl", func(m map[string]any) { subject(m)["ttl"] = 300000.0 }, func(lc *status.ListCredential) { lc.TTL = 5 * time.Minute }},
		{"ttl 0", func(m map[string]any) { subject(m)["ttl"] = 0.0 }, func(*status.ListCredential) {}},
		{"ttl 366 days", func(m map[string]any) { subject(m)["ttl"] = 31622400000.0 }, func(lc *status.ListCredential) { lc.TTL = 366 * 24 * time.Hour }},
		{"purposes array", func(m map[string]any) { subject(m)["statusPurpose"] = []any{"revocation", "suspension"} }, func(lc *status.ListCredential) {
			lc.Purposes = []status.Purpose{status.Revocation, status.Suspension}
		}},
		{"message list", func(m map[string]any) {
			subject(m)["statusPurpose"] = "message"
			subject(m)["statusSize"] = 2.0
			subject(m)["statusMessages"] = messages("0x0", "0x1", "0x2", "0x3")
		}, func(lc *status.ListCredential) { lc.Purposes = []status.Purpose{status.Message} }},
		{"extra top-level members", func(m map[string]any) {
			m["name"] = "Revocation list 3"
			m["proof"] = map[string]any{"type": "DataIntegrityProof"}
		}, func(*status.ListCredential) {}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := validList(t, 5)
			tt.mutate(m)
			lc, err := status.ParseListCredential(m)
			if err != nil {
				t.Fatal(err)
			}
			want := status.ListCredential{
				ID: listURL, Type: status.TypeBitstringCredential, Issuer: "did:example:12345",
				ValidFrom: jan1, SubjectID: listURL + "#list", Purposes: []status.Purpose{status.Revocation},
			}
			tt.want(&want)
			if reflect.ValueOf(lc.Raw).Pointer() != reflect.ValueOf(m).Pointer() {
				t.Error("Raw is not the map parsed")
			}
			if lc.Bits == nil || lc.Bits.Len() != status.MinBits || !reflect.DeepEqual(lc.Bits.SetIndices(1), []int{5}) {
				t.Fatalf("Bits = %v", lc.Bits)
			}
			lc.Raw, lc.Bits = nil, nil
			if !reflect.DeepEqual(*lc, want) {
				t.Errorf("got  %+v\nwant %+v", *lc, want)
			}
		})
	}
}

func TestParseListCredentialMalformed(t *testing.T) {
	tests := []struct {
		name    string
		mutate  func(m map[string]any)
		wantSub string
	}{
		{"no context", func(m map[string]any) { delete(m, "@context") }, "@context is missing"},
		{"other context", func(m map[string]any) { m["@context"] = []any{"https://example.com/ctx"} }, "@context must begin with"},
		{"empty context", func(m map[string]any) { m["@context"] = []any{} }, "@context must begin with"},
		{"v2 context second", func(m map[string]any) {
			m["@context"] = []any{"https://www.w3.org/ns/credentials/status/v1", "https://www.w3.org/ns/credentials/v2"}
		}, "@context must begin with"},
		{"no type", func(m map[string]any) { delete(m, "type") }, "type is missing"},
		{"type string", func(m map[string]any) { m["type"] = "BitstringStatusListCredential" }, "type lacks VerifiableCredential"},
		{"type number", func(m map[string]any) { m["type"] = 1.0 }, "type must be an array"},
		{"type not a list", func(m map[string]any) { m["type"] = []any{"VerifiableCredential"} }, "exactly one of"},
		{"type both lists", func(m map[string]any) {
			m["type"] = []any{"VerifiableCredential", "BitstringStatusListCredential", "StatusList2021Credential"}
		}, "exactly one of"},
		{"type no VC", func(m map[string]any) { m["type"] = []any{"BitstringStatusListCredential"} }, "lacks VerifiableCredential"},
		{"id not URL", func(m map[string]any) { m["id"] = "list 3" }, "id \"list 3\" has a space"},
		{"no issuer", func(m map[string]any) { delete(m, "issuer") }, "issuer is missing"},
		{"issuer number", func(m map[string]any) { m["issuer"] = 1.0 }, "issuer is a number"},
		{"issuer object without id", func(m map[string]any) { m["issuer"] = map[string]any{"name": "x"} }, "issuer object has no id"},
		{"issuer relative", func(m map[string]any) { m["issuer"] = "example" }, "issuer \"example\" is not an absolute URL"},
		{"v2 with issuanceDate", func(m map[string]any) { m["issuanceDate"] = "2024-01-01T00:00:00Z" }, "issuanceDate does not belong"},
		{"v2 with expirationDate", func(m map[string]any) { m["expirationDate"] = "2024-01-01T00:00:00Z" }, "expirationDate does not belong"},
		{"v2 with issued", func(m map[string]any) { m["issued"] = "2024-01-01T00:00:00Z" }, "issued does not belong"},
		{"v1.1 with validUntil", func(m map[string]any) { v11List(m)["validUntil"] = "2024-01-02T00:00:00Z" }, "validUntil does not belong"},
		{"v1.1 without issuanceDate", func(m map[string]any) { delete(v11List(m), "issuanceDate") }, "needs issuanceDate"},
		{"bad validFrom", func(m map[string]any) { m["validFrom"] = "2024-01-01" }, "validFrom \"2024-01-01\" is not an RFC 3339"},
		{"validFrom without zone", func(m map[string]any) { m["validFrom"] = "2024-01-01T00:00:00" }, "not an RFC 3339 date-time with a time zone"},
		{"validFrom number", func(m map[string]any) { m["validFrom"] = 1.0 }, "validFrom is a number"},
		{"bad issued", func(m map[string]any) { v11List(m)["issued"] = "yesterday" }, "issued \"yesterday\""},
		{"validUntil before validFrom", func(m map[string]any) { m["validUntil"] = "2023-12-31T00:00:00Z" }, "validUntil 2023-12-31T00:00:00Z is before"},
		{"expirationDate before issued", func(m map[string]any) {
			v11List(m)["issued"] = "2024-01-03T00:00:00Z"
		}, "expirationDate 2024-01-02T00:00:00Z is before the list is valid from 2024-01-03"},
		{"no subject", func(m map[string]any) { delete(m, "credentialSubject") }, "credentialSubject is missing"},
		{"subject array", func(m map[string]any) { m["credentialSubject"] = []any{subject(m)} }, "credentialSubject is an array, want one object"},
		{"subject unknown member", func(m map[string]any) { subject(m)["statusReference"] = "https://example.org/" }, `unknown member "statusReference" in credentialSubject`},
		{"subject no type", func(m map[string]any) { delete(subject(m), "type") }, "credentialSubject.type is missing"},
		{"subject wrong type", func(m map[string]any) { subject(m)["type"] = "StatusList2021" }, "credentialSubject.type of a BitstringStatusListCredential must be BitstringStatusList"},
		{"subject id not URL", func(m map[string]any) { subject(m)["id"] = "#list" }, "credentialSubject.id \"#list\" is not an absolute URL"},
		{"no purpose", func(m map[string]any) { delete(subject(m), "statusPurpose") }, "credentialSubject.statusPurpose is missing"},
		{"purpose empty array", func(m map[string]any) { subject(m)["statusPurpose"] = []any{} }, "has 0 purposes"},
		{"purpose twice", func(m map[string]any) { subject(m)["statusPurpose"] = []any{"revocation", "revocation"} }, "names \"revocation\" twice"},
		{"purpose element number", func(m map[string]any) { subject(m)["statusPurpose"] = []any{"revocation", 1.0} }, "statusPurpose[1] is a number"},
		{"no encodedList", func(m map[string]any) { delete(subject(m), "encodedList") }, "credentialSubject.encodedList is missing"},
		{"encodedList number", func(m map[string]any) { subject(m)["encodedList"] = 1.0 }, "encodedList is a number"},
		{"encodedList without prefix", func(m map[string]any) { subject(m)["encodedList"] = specList[1:] }, `encodedList: encoded list lacks the multibase "u"`},
		{"encodedList short", func(m map[string]any) {
			subject(m)["encodedList"] = "u" + b64(gz(t, make([]byte, status.MinBits/8-1)))
		}, "encodedList: decoded list of 131064 bits is shorter than the minimum 131072"},
		{"ttl negative", func(m map[string]any) { subject(m)["ttl"] = -1.0 }, "ttl must be an integer number of milliseconds in 0..31622400000, not -1"},
		{"ttl fraction", func(m map[string]any) { subject(m)["ttl"] = 1.5 }, "not 1.5"},
		{"ttl string", func(m map[string]any) { subject(m)["ttl"] = "1000" }, `not the string "1000"`},
		{"ttl over a year", func(m map[string]any) { subject(m)["ttl"] = 31622400001.0 }, "not 31622400001"},
		{"message without size", func(m map[string]any) {
			subject(m)["statusPurpose"] = "message"
			subject(m)["statusMessages"] = messages("0x0", "0x1")
		}, "needs credentialSubject.statusSize and statusMessages"},
		{"message without messages", func(m map[string]any) {
			subject(m)["statusPurpose"] = []any{"revocation", "message"}
			subject(m)["statusSize"] = 1.0
		}, "needs credentialSubject.statusSize and statusMessages"},
		{"list messages count", func(m map[string]any) {
			subject(m)["statusSize"] = 2.0
			subject(m)["statusMessages"] = messages("0x0", "0x1", "0x2")
		}, "credentialSubject.statusMessages has 3 messages, but statusSize 2 needs exactly 4"},
		{"list size 0", func(m map[string]any) { subject(m)["statusSize"] = 0.0 }, "credentialSubject.statusSize must be an integer in 1..8"},
	}
	for _, tt := range tests {
		m := validList(t)
		tt.mutate(m)
		lc, err := status.ParseListCredential(m)
		if !errors.Is(err, status.ErrMalformed) || !strings.Contains(err.Error(), tt.wantSub) || lc != nil {
			t.Errorf("%s: got %v, %v; want ErrMalformed naming %q", tt.name, lc, err, tt.wantSub)
		}
	}
	if _, err := status.ParseListCredential(nil); !errors.Is(err, status.ErrMalformed) {
		t.Errorf("nil map: err = %v", err)
	}
}

// TestParseSL2021ListMalformed: a StatusList2021 list has its own subject
// type, a single purpose, no ttl and no multibase prefix.
func TestParseSL2021ListMalformed(t *testing.T) {
	sl := func() map[string]any {
		m := validList(t)
		m["@context"] = []any{"https://www.w3.org/2018/credentials/v1", "https://w3id.org/vc/status-list/2021/v1"}
		delete(m, "validFrom")
		m["issued"] = "2021-04-05T14:27:40Z"
		m["type"] = []any{"VerifiableCredential", "StatusList2021Credential"}
		subject(m)["type"] = "StatusList2021"
		subject(m)["encodedList"] = specList[1:]
		return m
	}
	if _, err := status.ParseListCredential(sl()); err != nil {
		t.Fatalf("base StatusList2021 list: %v", err)
	}
	tests := []struct {
		name    string
		mutate  func(m map[string]any)
		wantSub string
	}{
		{"multibase prefix", func(m map[string]any) { subject(m)["encodedList"] = specList }, "encodedList: encoded list is not base64url"},
		{"bitstring subject type", func(m map[string]any) { subject(m)["type"] = "BitstringStatusList" }, "must be StatusList2021"},
		{"purposes array", func(m map[string]any) { subject(m)["statusPurpose"] = []any{"revocation"} }, "of a StatusList2021 must be one string"},
		{"ttl", func(m map[string]any) { subject(m)["ttl"] = 1000.0 }, `unknown member "ttl"`},
	}
	for _, tt := range tests {
		m := sl()
		tt.mutate(m)
		_, err := status.ParseListCredential(m)
		if !errors.Is(err, status.ErrMalformed) || !strings.Contains(err.Error(), tt.wantSub) {
			t.Errorf("%s: err = %v, want ErrMalformed naming %q", tt.name, err, tt.wantSub)
		}
	}
}

func TestStatus(t *testing.T) {
	lc, err := status.ParseListCredential(validList(t, 5, 94567))
	if err != nil {
		t.Fatal(err)
	}
	multi := validList(t, 7)
	subject(multi)["statusPurpose"] = []any{"revocation", "suspension"}
	lcMulti, err := status.ParseListCredential(multi)
	if err != nil {
		t.Fatal(err)
	}
	entry := func(index int, mutate func(e *status.Entry)) status.Entry {
		e := status.Entry{Type: status.TypeBitstringEntry, Purpose: status.Revocation, Index: index, ListURL: listURL, StatusSize: 1}
		if mutate != nil {
			mutate(&e)
		}
		return e
	}
	tests := []struct {
		name    string
		lc      *status.ListCredential
		e       status.Entry
		want    uint64
		wantErr error
		wantSub string
	}{
		{"set", lc, entry(94567, nil), 1, nil, ""},
		{"set 5", lc, entry(5, nil), 1, nil, ""},
		{"clear", lc, entry(6, nil), 0, nil, ""},
		{"last", lc, entry(status.MinBits-1, nil), 0, nil, ""},
		{"second purpose", lcMulti, entry(7, func(e *status.Entry) { e.Purpose = status.Suspension }), 1, nil, ""},
		{"past end", lc, entry(status.MinBits, nil), 0, status.ErrIndexOutOfRange, "outside a list of 131072 bits"},
		{"other list", lc, entry(5, func(e *status.Entry) { e.ListURL = "https://example.com/credentials/status/4" }), 0, status.ErrMalformed,
			`entry points to list "https://example.com/credentials/status/4", but the list credential's id is "https://example.com/credentials/status/3"`},
		{"purpose", lc, entry(5, func(e *status.Entry) { e.Purpose = status.Suspension }), 0, status.ErrPurposeMismatch, `"suspension" is not among the list's purposes ["revocation"]`},
		{"SL2021 entry", lc, entry(5, func(e *status.Entry) { e.Type = status.TypeSL2021Entry }), 0, status.ErrMalformed, `a "StatusList2021Entry" entry cannot be read from a BitstringStatusListCredential`},
		{"untyped entry", lc, entry(5, func(e *status.Entry) { e.Type = "" }), 0, status.ErrMalformed, "cannot be read"},
		{"size 0", lc, entry(5, func(e *status.Entry) { e.StatusSize = 0 }), 0, status.ErrMalformed, "statusSize 0 is outside 1..8"},
		// The spec's STATUS_LIST_LENGTH_ERROR: 131072 bits are only 65536
		// entries of 2 bits.
		{"too few entries of size 2", lc, entry(5, func(e *status.Entry) { e.StatusSize = 2 }), 0, status.ErrMalformed, "holds 65536 entries of 2 bits, fewer than the minimum 131072"},
		{"list without id", &status.ListCredential{Type: status.TypeBitstringCredential, Purposes: lc.Purposes, Bits: lc.Bits}, entry(5, func(e *status.Entry) { e.ListURL = "" }), 0, status.ErrMalformed, "list credential's id is \"\""},
		{"list without bits", &status.ListCredential{ID: listURL}, entry(5, nil), 0, status.ErrMalformed, "has no list"},
		{"nil list", nil, entry(5, nil), 0, status.ErrMalformed, "has no list"},
	}
	for _, tt := range tests {
		got, err := tt.lc.Status(tt.e)
		if got != tt.want || !errors.Is(err, tt.wantErr) || (tt.wantErr == nil) != (err == nil) ||
			(err != nil && !strings.Contains(err.Error(), tt.wantSub)) {
			t.Errorf("%s: Status = %d, %v; want %d, %v naming %q", tt.name, got, err, tt.want, tt.wantErr, tt.wantSub)
		}
	}
}

// TestStatusMessageList reads the spec's two-bit message entry (index
// 492847, so bits 985694 and 985695) from a list of 8*MinBits bits.
func TestStatusMessageList(t *testing.T) {
	b := newList(t, 8*status.MinBits)
	if err := b.Set(492847, 2, 2); err != nil {
		t.Fatal(err)
	}
	enc, err := b.Encode()
	if err != nil {
		t.Fatal(err)
	}
	m := validList(t)
	m["id"] = "https://example.com/credentials/status/8"
	subject(m)["statusPurpose"] = "message"
	subject(m)["statusSize"] = 2.0
	subject(m)["statusMessages"] = messages("0x0", "0x1", "0x2", "0x3")
	subject(m)["encodedList"] = enc
	lc, err := status.ParseListCredential(m)
	if err != nil {
		t.Fatal(err)
	}
	e, err := status.ParseEntry(map[string]any{
		"type": "BitstringStatusListEntry", "statusPurpose": "message", "statusListIndex": "492847",
		"statusListCredential": "https://example.com/credentials/status/8", "statusSize": 2.0,
		"statusMessage": []any{
			map[string]any{"status": "0x0", "message": "pending_review"},
			map[string]any{"status": "0x1", "message": "accepted"},
			map[string]any{"status": "0x2", "message": "rejected"},
			map[string]any{"status": "0x3", "message": "undefined"},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	v, err := lc.Status(e)
	if err != nil || v != 2 {
		t.Fatalf("Status = %d, %v; want 2", v, err)
	}
	if msg, ok := e.MessageFor(v); msg != "rejected" || !ok {
		t.Errorf("MessageFor(2) = %q, %v; want rejected", msg, ok)
	}
}
