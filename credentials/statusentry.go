package credentials

import (
	"encoding/json"
	"fmt"

	"github.com/mandate-dev/mandate/credentials/status"
)

// Status entries in a PoA credential: the credential's own (credentialStatus)
// and each grant's (grants[].status). Each holder of entries has at most one
// revocation and one suspension entry, all of type BitstringStatusListEntry.

// Parse checks the entry by the Bitstring Status List rules and returns it
// in the form a status list is read with.
func (e StatusEntry) Parse() (status.Entry, error) {
	m := map[string]any{
		"id": e.ID, "type": e.Type, "statusPurpose": e.Purpose,
		"statusListIndex": e.Index, "statusListCredential": e.ListURL,
	}
	if e.ID == "" {
		delete(m, "id")
	}
	entry, err := status.ParseEntry(m)
	if err != nil {
		return status.Entry{}, err
	}
	if entry.Type != status.TypeBitstringEntry {
		return status.Entry{}, fmt.Errorf("status entry type must be %s", status.TypeBitstringEntry)
	}
	if entry.Purpose != status.Revocation && entry.Purpose != status.Suspension {
		return status.Entry{}, fmt.Errorf("status entry purpose must be revocation or suspension, not %q", entry.Purpose)
	}
	return entry, nil
}

// StatusEntryFrom is the inverse of Parse, for issuers.
func StatusEntryFrom(e status.Entry) StatusEntry {
	return StatusEntry{
		ID: e.ID, Type: status.TypeBitstringEntry, Purpose: string(e.Purpose),
		Index: fmt.Sprint(e.Index), ListURL: e.ListURL,
	}
}

// validateStatus checks one holder's entries: well formed, one per purpose.
func validateStatus(entries []StatusEntry) error {
	seen := map[string]bool{}
	for _, e := range entries {
		if _, err := e.Parse(); err != nil {
			return err
		}
		if seen[e.Purpose] {
			return fmt.Errorf("two %s status entries", e.Purpose)
		}
		seen[e.Purpose] = true
	}
	return nil
}

// parseStatus reads a credentialStatus member: an array of entries.
func parseStatus(v any) ([]StatusEntry, error) {
	list, ok := v.([]any)
	if !ok || len(list) == 0 || len(list) > 2 {
		return nil, fmt.Errorf("must be an array of 1 or 2 entries")
	}
	b, err := json.Marshal(list)
	if err != nil {
		return nil, err
	}
	var out []StatusEntry
	if err := decodeStrict(b, &out); err != nil {
		return nil, err
	}
	return out, validateStatus(out)
}
