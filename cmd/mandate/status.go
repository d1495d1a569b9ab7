package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/mandate-dev/mandate/credentials"
	"github.com/mandate-dev/mandate/credentials/status"
	"github.com/mandate-dev/mandate/did"
	"github.com/mandate-dev/mandate/internal/strictjson"
	"github.com/mandate-dev/mandate/wallet"
)

// statusInitOptions is `status init`'s options.
type statusInitOptions struct {
	walletFlags
	cfg status.RegistryConfig
}

func newStatusCmd(io *streams) *cobra.Command {
	cmd := &cobra.Command{Use: "status", Short: "Status lists: set up, publish and inspect"}
	cmd.AddCommand(newStatusInitCmd(io), newStatusPublishCmd(io), newStatusInspectCmd(io))
	return cmd
}

func newStatusInitCmd(io *streams) *cobra.Command {
	var o statusInitOptions
	cmd := &cobra.Command{
		Use:   "init",
		Short: "Give this wallet a status registry: credentials it issues from now on can be revoked",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			dir, err := filepath.Abs(o.cfg.Dir)
			if err != nil {
				return err
			}
			if err := os.MkdirAll(dir, 0o755); err != nil {
				return err
			}
			o.cfg.Dir = dir
			w, err := o.open()
			if err != nil {
				return err
			}
			defer w.Close()
			if o.cfg.Prefix == "" {
				o.cfg.Prefix = defaultPrefix(w.DID())
			}
			if err := w.StatusRegistry().Configure(o.cfg); err != nil {
				return err
			}
			fmt.Fprintf(io.out, "status lists of %s: published at %s/%s-*, written to %s\n", w.DID(), strings.TrimSuffix(o.cfg.BaseURL, "/"), o.cfg.Prefix, dir)
			return nil
		},
	}
	o.register(cmd)
	fl := cmd.Flags()
	fl.StringVar(&o.cfg.BaseURL, "base-url", "", "URL the lists are fetched under, e.g. https://status.example.com/lists (serve them with `mandate serve status --path /lists`) (required)")
	fl.StringVar(&o.cfg.Dir, "dir", "", "directory the signed lists are written to and served from (required)")
	fl.StringVar(&o.cfg.Prefix, "prefix", "", "list name prefix (default: derived from the wallet's DID)")
	fl.DurationVar(&o.cfg.TTL, "ttl", status.DefaultTTL, "how long verifiers may cache a list")
	fl.DurationVar(&o.cfg.Validity, "validity", status.DefaultValidity, "lifetime of a signed list; re-sign with `mandate status publish` before it ends")
	_ = cmd.MarkFlagRequired("base-url")
	_ = cmd.MarkFlagRequired("dir")
	return cmd
}

// defaultPrefix names an issuer's lists after its DID: the last 10
// characters of the key, lower-cased (list names are [a-z0-9-]).
func defaultPrefix(id string) string {
	s := strings.ToLower(id[strings.LastIndex(id, ":")+1:])
	if len(s) > 10 {
		s = s[len(s)-10:]
	}
	return s
}

func newStatusPublishCmd(io *streams) *cobra.Command {
	var o walletFlags
	cmd := &cobra.Command{
		Use:   "publish",
		Short: "Re-sign every status list of this wallet and write it for `mandate serve status`",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			w, err := o.open()
			if err != nil {
				return err
			}
			defer w.Close()
			names, err := publish(w)
			if err != nil {
				return err
			}
			fmt.Fprintf(io.out, "published %d lists: %s\n", len(names), strings.Join(names, " "))
			return nil
		},
	}
	o.register(cmd)
	return cmd
}

// publish re-signs and writes every list of w's registry.
func publish(w *wallet.Wallet) ([]string, error) {
	cfg, err := w.StatusRegistry().Config()
	if err != nil {
		return nil, err
	}
	return w.PublishStatus(cfg.Dir, credentials.IssueOptions{})
}

// statusAllocator returns w's registry when it is configured, else nil:
// such a wallet issues credentials without status entries.
func statusAllocator(w *wallet.Wallet) (credentials.StatusAllocator, error) {
	_, err := w.StatusRegistry().Config()
	switch {
	case errors.Is(err, status.ErrNotConfigured):
		return nil, nil
	case err != nil:
		return nil, err
	}
	return w.StatusRegistry(), nil
}

// changeOptions is `revoke`'s, `suspend`'s and `resume`'s options.
type changeOptions struct {
	walletFlags
	grant string
}

func newChangeCmd(io *streams, verb, short string, change func(*status.Registry, string, string) (string, error)) *cobra.Command {
	var o changeOptions
	cmd := &cobra.Command{
		Use:   verb + " CREDENTIAL_ID",
		Short: short,
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			w, err := o.open()
			if err != nil {
				return err
			}
			defer w.Close()
			grant := o.grant
			if grant != "" && !strings.HasPrefix(grant, credentials.GrantIDPrefix) {
				grant = credentials.GrantIDPrefix + grant
			}
			list, err := change(w.StatusRegistry(), args[0], grant)
			if err != nil {
				return err
			}
			what := args[0]
			if grant != "" {
				what += " grant " + grant
			}
			if list == "" {
				fmt.Fprintf(io.out, "%s: %s already in that state\n", verb, what)
				return nil
			}
			cfg, err := w.StatusRegistry().Config()
			if err != nil {
				return err
			}
			if _, err := w.PublishStatus(cfg.Dir, credentials.IssueOptions{}, list); err != nil {
				return fmt.Errorf("%s is recorded, but publishing list %s failed (run `mandate status publish`): %w", what, list, err)
			}
			fmt.Fprintf(io.out, "%s: %s (list %s published)\n", verb, what, list)
			return nil
		},
	}
	o.register(cmd)
	cmd.Flags().StringVar(&o.grant, "grant", "", "only this grant of the credential (its name, or urn:mandate:grant:NAME)")
	return cmd
}

func newRevokeCmds(io *streams) []*cobra.Command {
	return []*cobra.Command{
		newChangeCmd(io, "revoke", "Revoke a credential this wallet issued, or one grant of it (final)", (*status.Registry).Revoke),
		newChangeCmd(io, "suspend", "Suspend a credential this wallet issued, or one grant of it", (*status.Registry).Suspend),
		newChangeCmd(io, "resume", "Lift a suspension", (*status.Registry).Resume),
	}
}

// inspectOptions is `status inspect`'s options.
type inspectOptions struct {
	json    bool
	timeout time.Duration
}

// inspection is what `status inspect` reports.
type inspection struct {
	ID       string           `json:"id"`
	Type     string           `json:"type"`
	Issuer   string           `json:"issuer"`
	Purposes []status.Purpose `json:"purposes"`
	Size     int              `json:"size"`
	Set      []int            `json:"set"`
	TTL      string           `json:"ttl,omitempty"`
	Valid    string           `json:"validUntil,omitempty"`
	Proof    string           `json:"proof"`
}

func newStatusInspectCmd(io *streams) *cobra.Command {
	var o inspectOptions
	cmd := &cobra.Command{
		Use:   "inspect FILE|URL",
		Short: "Show a status list credential: purpose, size, the set indices, and whether its proof verifies",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			data, err := readListSource(cmd.Context(), args[0], o.timeout)
			if err != nil {
				return err
			}
			in, err := inspect(cmd.Context(), data)
			if err != nil {
				return fmt.Errorf("%s is not a status list credential: %w", args[0], err)
			}
			if o.json {
				return json.NewEncoder(io.out).Encode(in)
			}
			fmt.Fprintf(io.out, "id:       %s\ntype:     %s\nissuer:   %s\npurpose:  %v\nsize:     %d\nset:      %d %v\nproof:    %s\n",
				in.ID, in.Type, in.Issuer, in.Purposes, in.Size, len(in.Set), in.Set, in.Proof)
			return nil
		},
	}
	cmd.Flags().BoolVar(&o.json, "json", false, "print JSON")
	cmd.Flags().DurationVar(&o.timeout, "timeout", 10*time.Second, "time limit for a URL")
	return cmd
}

// readListSource reads a file, or fetches an http(s) URL with a time and size limit.
func readListSource(ctx context.Context, src string, timeout time.Duration) ([]byte, error) {
	if !strings.HasPrefix(src, "https://") && !strings.HasPrefix(src, "http://") {
		return readLimited(src, credentials.MaxStatusListBytes)
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, src, nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%s: HTTP %s", src, resp.Status)
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, credentials.MaxStatusListBytes+1))
	if err != nil {
		return nil, err
	}
	if len(data) > credentials.MaxStatusListBytes {
		return nil, fmt.Errorf("%s: larger than %d bytes", src, credentials.MaxStatusListBytes)
	}
	return data, nil
}

// inspect verifies the list when it is a Mandate list signed by a did:key
// issuer, and otherwise reads it and says that its proof was not checked.
func inspect(ctx context.Context, data []byte) (inspection, error) {
	cv, err := credentials.NewVerifier(did.KeyResolver{})
	if err != nil {
		return inspection{}, err
	}
	lc, verr := cv.VerifyStatusList(ctx, data)
	proof := "verified"
	if verr != nil {
		var m map[string]any
		if err := strictjson.Decode(data, credentials.MaxStatusListBytes, &m); err != nil {
			return inspection{}, err
		}
		if lc, err = status.ParseListCredential(m); err != nil {
			return inspection{}, err
		}
		proof = "NOT verified: " + verr.Error()
	}
	in := inspection{
		ID: lc.ID, Type: lc.Type, Issuer: lc.Issuer, Purposes: lc.Purposes, Size: lc.Bits.Len(),
		Set: lc.Bits.SetIndices(1), Proof: proof,
	}
	if in.Set == nil {
		in.Set = []int{}
	}
	if lc.TTL > 0 {
		in.TTL = lc.TTL.String()
	}
	if lc.ValidUntil != nil {
		in.Valid = lc.ValidUntil.Format(time.RFC3339)
	}
	return in, nil
}

// readLimited reads a file of at most limit bytes.
func readLimited(path string, limit int) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, int64(limit)+1))
	if err != nil {
		return nil, err
	}
	if len(data) > limit {
		return nil, fmt.Errorf("%s: larger than %d bytes", path, limit)
	}
	return data, nil
}
