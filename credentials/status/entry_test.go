package status_test

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/mandate-dev/mandate/credentials/status"
)

const listURL = "https://example.com/credentials/status/3"

func validEntry() map[string]any {
	return map[string]any{
		"id":                   listURL + "#94567",
		"type":                 "BitstringStatusListEntry",
		"statusPurpose":        "revocation",
		"statusListIndex":      "94567",
		"statusListCredential": listURL,
	}
}

// messages returns a statusMessage array of the given status values.
func messages(statuses ...string) []any {
	out := make([]any, len(statuses))
	for i, s := range statuses {
		out[i] = map[string]any{"status": s, "message": "m" + s}
	}
	return out
}

func messageEntry() map[string]any {
	m := validEntry()
	m["statusPurpose"] = "message"
	m["statusSize"] = 2.0
	m["statusMessage"] = messages("0x0", "0x1", "0x2", "0x3")
	return m
}

func TestParseEntry(t *testing.T) {
	base := status.Entry{
		ID: listURL + "#94567", Type: status.TypeBitstringEntry, Purpose: status.Revocation,
		Index: 94567, ListURL: listURL, StatusSize: 1,
	}
	msgs := []status.StatusMessage{{"0x0", "m0x0"}, {"0x1", "m0x1"}, {"0x2", "m0x2"}, {"0x3", "m0x3"}}
	tests := []struct {
		name  string
		entry func() map[string]any
		want  func(e *status.Entry)
	}{
		{"revocation", validEntry, func(*status.Entry) {}},
		{"no id", func() map[string]any { m := validEntry(); delete(m, "id"); return m }, func(e *status.Entry) { e.ID = "" }},
		{"index 0", with(validEntry, "statusListIndex", "0"), func(e *status.Entry) { e.Index = 0 }},
		{"largest index", with(validEntry, "statusListIndex", "16777215"), func(e *status.Entry) { e.Index = status.MaxBits - 1 }},
		{"statusSize 1 stated", with(validEntry, "statusSize", 1.0), func(*status.Entry) {}},
		{"statusSize as json.Number", with(validEntry, "statusSize", json.Number("1")), func(*status.Entry) {}},
		{"suspension", with(validEntry, "statusPurpose", "suspension"), func(e *status.Entry) { e.Purpose = status.Suspension }},
		{"refresh passes through", with(validEntry, "statusPurpose", "refresh"), func(e *status.Entry) { e.Purpose = "refresh" }},
		{"http list", with(validEntry, "statusListCredential", "http://127.0.0.1:8080/lists/1"), func(e *status.Entry) { e.ListURL = "http://127.0.0.1:8080/lists/1" }},
		{"urn id", with(validEntry, "id", "urn:uuid:0b3b1c32-5e3c-4b3e-9d5a-6f0e2b7d6c11"), func(e *status.Entry) { e.ID = "urn:uuid:0b3b1c32-5e3c-4b3e-9d5a-6f0e2b7d6c11" }},
		{"message size 2", messageEntry, func(e *status.Entry) { e.Purpose, e.StatusSize, e.Messages = status.Message, 2, msgs }},
		{"messages in any order", with(messageEntry, "statusMessage", messages("0x3", "0x1", "0x0", "0x2")), func(e *status.Entry) {
			e.Purpose, e.StatusSize = status.Message, 2
			e.Messages = []status.StatusMessage{msgs[3], msgs[1], msgs[0], msgs[2]}
		}},
		{"two messages for one bit", with(validEntry, "statusMessage", messages("0x0", "0x1")), func(e *status.Entry) { e.Messages = msgs[:2] }},
		{"message with extra members", with(validEntry, "statusMessage", []any{
			map[string]any{"status": "0x0", "message": "m0x0", "lang": "en"},
			map[string]any{"status": "0x1", "message": "m0x1"},
		}), func(e *status.Entry) { e.Messages = msgs[:2] }},
		{"statusReference", with(validEntry, "statusReference", "https://example.org/status-dictionary/"), func(*status.Entry) {}},
		{"statusReference array", with(validEntry, "statusReference", []any{"https://example.org/a", "https://example.org/b"}), func(*status.Entry) {}},
		{"StatusList2021Entry", with(validEntry, "type", "StatusList2021Entry"), func(e *status.Entry) { e.Type = status.TypeSL2021Entry }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := status.ParseEntry(tt.entry())
			if err != nil {
				t.Fatal(err)
			}
			want := base
			tt.want(&want)
			if !reflect.DeepEqual(got, want) {
				t.Errorf("got  %+v\nwant %+v", got, want)
			}
		})
	}
}

// with returns a builder of base() with member key set to v.
func with(base func() map[string]any, key string, v any) func() map[string]any {
	return func() map[string]any {
		m := base()
		m[key] = v
		return m
	}
}

func without(base func() map[string]any, key string) func() map[string]any {
	return func() map[string]any {
		m := base()
		delete(m, key)
		return m
	}
}

func TestParseEntryMalformed(t *testing.T) {
	sl2021 := with(validEntry, "type", "StatusList2021Entry")
	tests := []struct {
		name    string
		entry   any
		wantSub string
	}{
		{"not an object", "https://example.com/status/3", "want an object"},
		{"null", nil, "want an object"},
		{"no type", without(validEntry, "type")(), "type is missing"},
		{"unknown type", with(validEntry, "type", "RevocationList2020Status")(), "neither"},
		{"type array", with(validEntry, "type", []any{"BitstringStatusListEntry"})(), "type is an array"},
		{"unknown member", with(validEntry, "revoked", false)(), `unknown member "revoked"`},
		{"@context member", with(validEntry, "@context", "https://www.w3.org/ns/credentials/v2")(), `unknown member "@context"`},
		{"no purpose", without(validEntry, "statusPurpose")(), "statusPurpose is missing"},
		{"purpose number", with(validEntry, "statusPurpose", 1.0)(), "statusPurpose is a number"},
		{"purpose empty", with(validEntry, "statusPurpose", "")(), "statusPurpose must be 1..64 bytes"},
		{"purpose with space", with(validEntry, "statusPurpose", "re vocation")(), "not printable ASCII"},
		{"no index", without(validEntry, "statusListIndex")(), "statusListIndex is missing"},
		{"index number", with(validEntry, "statusListIndex", 94567.0)(), "statusListIndex is a number"},
		{"index empty", with(validEntry, "statusListIndex", "")(), "statusListIndex is empty"},
		{"index negative", with(validEntry, "statusListIndex", "-1")(), "not a string of decimal digits"},
		{"index plus", with(validEntry, "statusListIndex", "+1")(), "not a string of decimal digits"},
		{"index hex", with(validEntry, "statusListIndex", "0x10")(), "not a string of decimal digits"},
		{"index space", with(validEntry, "statusListIndex", " 1")(), "not a string of decimal digits"},
		{"index fullwidth digit", with(validEntry, "statusListIndex", "１")(), "not a string of decimal digits"},
		{"index leading zero", with(validEntry, "statusListIndex", "01")(), "leading zero"},
		{"index MaxBits", with(validEntry, "statusListIndex", "16777216")(), "not below the largest list"},
		{"index huge", with(validEntry, "statusListIndex", "99999999999999999999999")(), "not below the largest list"},
		{"no list", without(validEntry, "statusListCredential")(), "statusListCredential is missing"},
		{"list not string", with(validEntry, "statusListCredential", map[string]any{"id": listURL})(), "statusListCredential is an object"},
		{"list relative", with(validEntry, "statusListCredential", "/credentials/status/3")(), "not an absolute URL"},
		{"list ftp", with(validEntry, "statusListCredential", "ftp://example.com/3")(), "not an http or https URL"},
		{"list did", with(validEntry, "statusListCredential", "did:example:12345")(), "not an http or https URL"},
		{"list no host", with(validEntry, "statusListCredential", "https:///status/3")(), "has no host"},
		{"list opaque", with(validEntry, "statusListCredential", "https:example.com/3")(), "has no host"},
		{"list fragment", with(validEntry, "statusListCredential", listURL+"#list")(), "has a fragment"},
		{"list empty fragment", with(validEntry, "statusListCredential", listURL+"#")(), "has a fragment"},
		{"list userinfo", with(validEntry, "statusListCredential", "https://user:pw@example.com/3")(), "user information"},
		{"list space", with(validEntry, "statusListCredential", "https://example.com/status 3")(), "space, control or non-ASCII"},
		{"list too long", with(validEntry, "statusListCredential", "https://example.com/"+strings.Repeat("a", 2029))(), "1..2048 bytes"},
		{"id is the list", with(validEntry, "id", listURL)(), "must not be the statusListCredential"},
		{"id not a URL", with(validEntry, "id", "94567")(), "not an absolute URL"},
		{"size 0", with(validEntry, "statusSize", 0.0)(), "statusSize must be an integer in 1..8, not 0"},
		{"size 9", with(messageEntry, "statusSize", 9.0)(), "not 9"},
		{"size fraction", with(validEntry, "statusSize", 1.5)(), "not 1.5"},
		{"size string", with(validEntry, "statusSize", "1")(), `not the string "1"`},
		{"revocation size 2", with(with(validEntry, "statusSize", 2.0), "statusMessage", messages("0x0", "0x1", "0x2", "0x3"))(), "a revocation entry is one bit"},
		{"suspension size 2", with(with(validEntry, "statusPurpose", "suspension"), "statusSize", 2.0)(), "a suspension entry is one bit"},
		{"size 2 without messages", without(messageEntry, "statusMessage")(), "statusMessage is required when statusSize is 2"},
		{"size 8 index past largest list", with(with(messageEntry, "statusSize", 8.0), "statusListIndex", "2097152")(), "points past the largest list"},
		{"three messages for two bits", with(messageEntry, "statusMessage", messages("0x0", "0x1", "0x2"))(), "has 3 messages, but statusSize 2 needs exactly 4"},
		{"one message for one bit", with(validEntry, "statusMessage", messages("0x0"))(), "has 1 messages, but statusSize 1 needs exactly 2"},
		{"messages not array", with(messageEntry, "statusMessage", map[string]any{})(), "statusMessage is an object"},
		{"message not object", with(messageEntry, "statusMessage", []any{"a", "b", "c", "d"})(), "statusMessage[0] is a string"},
		{"duplicate status", with(messageEntry, "statusMessage", messages("0x0", "0x1", "0x1", "0x3"))(), "statusMessage[2]: status 0x1 is named twice"},
		{"status out of range", with(messageEntry, "statusMessage", messages("0x0", "0x1", "0x2", "0x4"))(), `status "0x4" is not a value of 2 bits`},
		{"status decimal", with(messageEntry, "statusMessage", messages("0", "1", "2", "3"))(), `status "0" is not a value`},
		{"status upper X", with(messageEntry, "statusMessage", messages("0X0", "0x1", "0x2", "0x3"))(), `status "0X0" is not a value`},
		{"status bare 0x", with(messageEntry, "statusMessage", messages("0x", "0x1", "0x2", "0x3"))(), `status "0x" is not a value`},
		{"status signed", with(messageEntry, "statusMessage", messages("0x+1", "0x0", "0x2", "0x3"))(), `status "0x+1" is not a value`},
		{"message missing", with(validEntry, "statusMessage", []any{map[string]any{"status": "0x0"}, map[string]any{"status": "0x1", "message": "b"}})(), "statusMessage[0]: message is missing"},
		{"message not string", with(validEntry, "statusMessage", []any{map[string]any{"status": "0x0", "message": 1.0}, map[string]any{"status": "0x1", "message": "b"}})(), "statusMessage[0]: message is a number"},
		{"reference relative", with(validEntry, "statusReference", "status-dictionary")(), "statusReference \"status-dictionary\" is not an absolute URL"},
		{"reference empty array", with(validEntry, "statusReference", []any{})(), "statusReference has 0 URLs"},
		{"reference array element", with(validEntry, "statusReference", []any{"https://a.example/", 1.0})(), "statusReference[1] is a number"},
		{"SL2021 with statusSize", with(sl2021, "statusSize", 1.0)(), `unknown member "statusSize" in StatusList2021Entry`},
		{"SL2021 with statusMessage", with(sl2021, "statusMessage", messages("0x0", "0x1"))(), `unknown member "statusMessage"`},
	}
	for _, tt := range tests {
		e, err := status.ParseEntry(tt.entry)
		if !errors.Is(err, status.ErrMalformed) || !strings.Contains(err.Error(), tt.wantSub) {
			t.Errorf("%s: got %+v, %v; want ErrMalformed naming %q", tt.name, e, err, tt.wantSub)
		}
	}
}

func TestParseEntries(t *testing.T) {
	one, err := status.ParseEntries(validEntry())
	if err != nil || len(one) != 1 || one[0].Index != 94567 {
		t.Fatalf("one object: %v, %v", one, err)
	}
	two, err := status.ParseEntries([]any{validEntry(), with(validEntry, "statusPurpose", "suspension")()})
	if err != nil || len(two) != 2 || two[1].Purpose != status.Suspension {
		t.Fatalf("two objects: %v, %v", two, err)
	}
	most := make([]any, status.MaxEntries)
	for i := range most {
		most[i] = validEntry()
	}
	if got, err := status.ParseEntries(most); err != nil || len(got) != status.MaxEntries {
		t.Fatalf("MaxEntries: %d, %v", len(got), err)
	}

	tests := []struct {
		name    string
		in      any
		wantSub string
	}{
		{"empty array", []any{}, "has 0 entries"},
		{"too many", append(most, validEntry()), "has 257 entries, want 1..256"},
		{"string", "https://example.com/status/3", "credentialStatus is a string"},
		{"null", nil, "credentialStatus is null"},
		{"bad element", []any{validEntry(), 7.0}, "credentialStatus[1]: status entry is a number"},
		{"bad member in element", []any{validEntry(), with(validEntry, "statusListIndex", "01")()}, "credentialStatus[1]: statusListIndex \"01\" has a leading zero"},
		{"bad single object", with(validEntry, "extra", 1.0)(), `unknown member "extra"`},
	}
	for _, tt := range tests {
		got, err := status.ParseEntries(tt.in)
		if !errors.Is(err, status.ErrMalformed) || !strings.Contains(err.Error(), tt.wantSub) || got != nil {
			t.Errorf("%s: got %v, %v; want ErrMalformed naming %q", tt.name, got, err, tt.wantSub)
		}
	}
}

func TestMessageFor(t *testing.T) {
	withMsgs, err := status.ParseEntry(with(messageEntry, "statusMessage", []any{
		map[string]any{"status": "0x0", "message": "pending_review"},
		map[string]any{"status": "0x1", "message": "accepted"},
		map[string]any{"status": "0x2", "message": "rejected"},
		map[string]any{"status": "0x3", "message": "undefined"},
	})())
	if err != nil {
		t.Fatal(err)
	}
	plain, err := status.ParseEntry(validEntry())
	if err != nil {
		t.Fatal(err)
	}
	leadingZero := status.Entry{StatusSize: 2, Messages: []status.StatusMessage{{"0x00", "zero"}, {"0x0A", "ten"}}}
	tests := []struct {
		name   string
		e      status.Entry
		v      uint64
		want   string
		wantOK bool
	}{
		{"0x0", withMsgs, 0, "pending_review", true},
		{"0x1", withMsgs, 1, "accepted", true},
		{"0x2", withMsgs, 2, "rejected", true},
		{"0x3", withMsgs, 3, "undefined", true},
		{"no such value", withMsgs, 4, "", false},
		{"one bit unset", plain, 0, "unset", true},
		{"one bit set", plain, 1, "set", true},
		{"one bit 2", plain, 2, "", false},
		{"hex with leading zero", leadingZero, 0, "zero", true},
		{"upper-case hex digit", leadingZero, 10, "ten", true},
		{"size 2 no messages", status.Entry{StatusSize: 2}, 1, "", false},
	}
	for _, tt := range tests {
		got, ok := tt.e.MessageFor(tt.v)
		if got != tt.want || ok != tt.wantOK {
			t.Errorf("%s: MessageFor(%d) = %q, %v; want %q, %v", tt.name, tt.v, got, ok, tt.want, tt.wantOK)
		}
	}
}
