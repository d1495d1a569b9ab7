package wallet

import (
	"fmt"
	"slices"

	"github.com/mandate-dev/mandate/credentials"
	"github.com/mandate-dev/mandate/credentials/status"
	"github.com/mandate-dev/mandate/credentials/status/statushttp"
)

// StatusRegistry returns the status lists of the credentials this wallet
// issues. It is a credentials.StatusAllocator.
func (w *Wallet) StatusRegistry() *status.Registry { return w.status }

// PublishStatus signs the named status lists (every list when names is
// empty) with the wallet's primary key and writes each, durably, to
// dir/<name>.json, where `mandate serve status` serves them. It returns the
// names written.
func (w *Wallet) PublishStatus(dir string, o credentials.IssueOptions, names ...string) ([]string, error) {
	cfg, err := w.status.Config()
	if err != nil {
		return nil, err
	}
	lists, err := w.status.Lists()
	if err != nil {
		return nil, err
	}
	for _, n := range names {
		if !slices.ContainsFunc(lists, func(l status.StoredList) bool { return l.Name == n }) {
			return nil, fmt.Errorf("wallet: publish: no status list named %q", n)
		}
	}
	var written []string
	for _, l := range lists {
		if len(names) > 0 && !slices.Contains(names, l.Name) {
			continue
		}
		signed, err := credentials.SignStatusList(w, l, cfg.Validity, cfg.TTL, o)
		if err != nil {
			return written, err
		}
		if err := statushttp.WriteFile(dir, l.Name, signed); err != nil {
			return written, fmt.Errorf("wallet: publish %s: %w", l.Name, err)
		}
		written = append(written, l.Name)
	}
	return written, nil
}
