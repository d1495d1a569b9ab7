package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/dgraph-io/badger/v4"
	"github.com/spf13/cobra"

	"github.com/mandate-dev/mandate/did"
	"github.com/mandate-dev/mandate/presentation/audit"
)

func newAuditCmd(io *streams) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "audit",
		Short: "Read and verify a verifier's audit log (stop the verifier first)",
	}
	cmd.AddCommand(newAuditListCmd(io), newAuditShowCmd(io), newAuditExportCmd(io), newAuditVerifyCmd(io))
	return cmd
}

// auditFlags name a stopped verifier's data directory.
type auditFlags struct {
	data string
}

func (f *auditFlags) register(cmd *cobra.Command) {
	cmd.Flags().StringVar(&f.data, "data", "", "the verifier's data directory, as given to `mandate serve verifier --data` (required)")
	_ = cmd.MarkFlagRequired("data")
}

// auditStoreOptions are the options `serve verifier` opens its store with.
func auditStoreOptions(dir string) badger.Options {
	return badger.DefaultOptions(dir).WithLogger(nil).WithSyncWrites(true).
		WithMemTableSize(8 << 20).WithValueLogFileSize(16 << 20).WithBlockCacheSize(8 << 20)
}

// open opens the verifier's store, which must exist and not be in use.
func (f *auditFlags) open() (*badger.DB, error) {
	dir := filepath.Join(f.data, "verifier")
	if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
		return nil, fmt.Errorf("no verifier store at %s: --data must name the verifier's data directory", dir)
	}
	db, err := badger.Open(auditStoreOptions(dir))
	// badger flattens its lock error into text; this is the only way to tell.
	if err != nil && strings.Contains(err.Error(), "Cannot acquire directory lock") {
		return nil, fmt.Errorf("the verifier's store %s is in use (its lock is held): stop the verifier first", dir)
	}
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", dir, err)
	}
	return db, nil
}

// read runs fn on a reader of the log, then closes the store.
func (f *auditFlags) read(fn func(*audit.Reader) error) error {
	db, err := f.open()
	if err != nil {
		return err
	}
	defer db.Close()
	rd, err := audit.NewReader(db)
	if err != nil {
		return err
	}
	return fn(rd)
}

// auditListOptions is `audit list`'s options.
type auditListOptions struct {
	auditFlags
	principal, agent, action, decision string
	since, until                       string
	limit                              int
	asJSON                             bool
}

func newAuditListCmd(io *streams) *cobra.Command {
	var o auditListOptions
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List audit records, oldest first",
		Args:  cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			f, err := o.filter()
			if err != nil {
				return err
			}
			return o.read(func(rd *audit.Reader) error {
				recs, err := rd.List(f)
				if err != nil {
					return err
				}
				if o.asJSON {
					return json.NewEncoder(io.out).Encode(append([]audit.Record{}, recs...))
				}
				printAuditRecords(io, recs)
				return nil
			})
		},
	}
	o.register(cmd)
	fl := cmd.Flags()
	fl.StringVar(&o.principal, "principal", "", "only records of this principal DID")
	fl.StringVar(&o.agent, "agent", "", "only records of this acting agent DID")
	fl.StringVar(&o.action, "action", "", "only records of this action, e.g. email:read")
	fl.StringVar(&o.decision, "decision", "", "only records with this decision: ALLOW, DENY, NEEDS_APPROVAL, ...")
	fl.StringVar(&o.since, "since", "", "only records at or after this time (RFC 3339)")
	fl.StringVar(&o.until, "until", "", "only records before this time (RFC 3339)")
	fl.IntVar(&o.limit, "limit", 0, "at most this many records (0: all)")
	fl.BoolVar(&o.asJSON, "json", false, "print a JSON array of records")
	return cmd
}

func (o *auditListOptions) filter() (audit.Filter, error) {
	f := audit.Filter{Principal: o.principal, Actor: o.agent, Action: o.action, Decision: o.decision, Limit: o.limit}
	if o.limit < 0 {
		return f, errors.New("--limit must not be negative")
	}
	var err error
	if f.Since, err = auditParseTime("--since", o.since); err != nil {
		return f, err
	}
	if f.Until, err = auditParseTime("--until", o.until); err != nil {
		return f, err
	}
	return f, nil
}

func auditParseTime(flag, s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%s: %q is not an RFC 3339 time, e.g. 2026-03-01T09:00:00Z", flag, s)
	}
	return t, nil
}

func printAuditRecords(io *streams, recs []audit.Record) {
	tw := tabwriter.NewWriter(io.out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "SEQ\tTIME\tDECISION\tREASONS\tACTION\tRESOURCE\tAGENT\tPRINCIPAL")
	for _, r := range recs {
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", r.Seq, r.Time.Format(time.RFC3339), r.Decision,
			auditDash(strings.Join(r.Reasons, ",")), auditDash(r.Action), auditDash(r.Resource), auditDash(r.Actor), auditDash(r.Principal))
	}
	tw.Flush()
}

func auditDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// auditShowOptions is `audit show`'s options.
type auditShowOptions struct {
	auditFlags
	asJSON bool
}

func newAuditShowCmd(io *streams) *cobra.Command {
	var o auditShowOptions
	cmd := &cobra.Command{
		Use:   "show ID",
		Short: "Show one audit record (ID is its sequence number, a decision's audit id)",
		Args:  cobra.ExactArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			seq, err := strconv.ParseUint(args[0], 10, 64)
			if err != nil {
				return fmt.Errorf("record id %q is not a sequence number", args[0])
			}
			return o.read(func(rd *audit.Reader) error {
				r, err := rd.Get(seq)
				if err != nil {
					return err
				}
				if o.asJSON {
					return json.NewEncoder(io.out).Encode(r)
				}
				printAuditRecord(io, r)
				return nil
			})
		},
	}
	o.register(cmd)
	cmd.Flags().BoolVar(&o.asJSON, "json", false, "print the record as JSON")
	return cmd
}

// printAuditRecord prints r's fields that are set, one a line; a list prints
// one element a line.
func printAuditRecord(io *streams, r audit.Record) {
	tw := tabwriter.NewWriter(io.out, 0, 0, 2, ' ', 0)
	row := func(name string, values ...string) {
		for _, v := range values {
			if v != "" {
				fmt.Fprintf(tw, "%s\t%s\n", name, v)
				name = ""
			}
		}
	}
	row("seq", strconv.FormatUint(r.Seq, 10))
	row("time", r.Time.Format(time.RFC3339Nano))
	row("kind", r.Kind)
	row("verifier", r.Verifier, r.VerifierAudience)
	row("decision", r.Decision)
	row("reasons", strings.Join(r.Reasons, ", "))
	row("message", r.Message)
	row("principal", r.Principal)
	row("agent", r.Actor)
	row("chain", r.Chain...)
	row("grant", r.Grant)
	row("action", r.Action)
	row("resource", r.Resource)
	row("intent", r.Intent)
	row("context", auditContextLines(r.Context)...)
	for _, c := range r.Checkers {
		row("checker", fmt.Sprintf("%s: %s (confidence %g) %s", c.Name, c.Verdict, c.Confidence, c.Reason))
	}
	row("approval", r.ApprovalID)
	row("approver", r.Approver)
	row("liable", r.Liable)
	row("prev", r.Prev)
	row("hash", r.Hash)
	tw.Flush()
}

func auditContextLines(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	out := make([]string, len(keys))
	for i, k := range keys {
		out[i] = k + "=" + m[k]
	}
	return out
}

// auditExportOptions is `audit export`'s options.
type auditExportOptions struct {
	auditFlags
	jsonl       bool
	checkpoints bool
}

func newAuditExportCmd(io *streams) *cobra.Command {
	var o auditExportOptions
	cmd := &cobra.Command{
		Use:   "export --jsonl",
		Short: "Write every audit record as stored, one JSON object a line (or, with --checkpoints, every signed checkpoint)",
		Args:  cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			if !o.jsonl {
				return errors.New("export needs --jsonl (the one format there is)")
			}
			return o.read(func(rd *audit.Reader) error {
				if o.checkpoints {
					return rd.ExportCheckpoints(io.out)
				}
				return rd.Export(io.out)
			})
		},
	}
	o.register(cmd)
	cmd.Flags().BoolVar(&o.jsonl, "jsonl", false, "JSON Lines: one record per line (required)")
	cmd.Flags().BoolVar(&o.checkpoints, "checkpoints", false, "export the signed checkpoints (one compact JWS a line) instead of the records")
	return cmd
}

// auditVerifyResult is `audit verify --json`'s output.
type auditVerifyResult struct {
	OK      bool          `json:"ok"`
	Report  *audit.Report `json:"report,omitempty"`
	Problem string        `json:"problem,omitempty"`
}

// auditVerifyOptions is `audit verify`'s options.
type auditVerifyOptions struct {
	auditFlags
	asJSON bool
}

func newAuditVerifyCmd(io *streams) *cobra.Command {
	var o auditVerifyOptions
	cmd := &cobra.Command{
		Use:   "verify",
		Short: "Check the hash chain, the head and every signed checkpoint; name the first record altered, removed, reordered or cut off",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			db, err := o.open()
			if err != nil {
				return err
			}
			defer db.Close()
			rep, err := audit.Verify(cmd.Context(), db, did.KeyResolver{})
			var te *audit.TamperError
			if err != nil && !errors.As(err, &te) {
				return err
			}
			return o.print(io, rep, te)
		},
	}
	o.register(cmd)
	cmd.Flags().BoolVar(&o.asJSON, "json", false, `print {"ok":…,"report":{…}} or {"ok":false,"problem":…}`)
	return cmd
}

func (o *auditVerifyOptions) print(io *streams, rep audit.Report, te *audit.TamperError) error {
	res := auditVerifyResult{OK: te == nil}
	if te != nil {
		res.Problem = te.Problem
	} else {
		res.Report = &rep
	}
	switch {
	case o.asJSON:
		if err := json.NewEncoder(io.out).Encode(res); err != nil {
			return err
		}
	case te != nil:
		fmt.Fprintf(io.out, "TAMPERED: %s\n", te.Problem)
	default:
		fmt.Fprintf(io.out, "ok: %d records, %d checkpoints, head %d %s\n", rep.Records, rep.Checkpoints, rep.LastSeq, auditDash(rep.LastHash))
		if len(rep.Signers) > 0 {
			fmt.Fprintf(io.out, "checkpoints signed by %s\n", strings.Join(rep.Signers, ", "))
		}
	}
	if te != nil {
		return exitCode(1)
	}
	return nil
}
