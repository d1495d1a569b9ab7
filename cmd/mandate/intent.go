package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/mandate-dev/mandate/intent"
	"github.com/mandate-dev/mandate/intent/cel"
	"github.com/mandate-dev/mandate/intent/evalset"
	"github.com/mandate-dev/mandate/intent/external"
	"github.com/mandate-dev/mandate/intent/lexical"
)

// newIntentRegistry is every checker the CLI can build by name.
func newIntentRegistry() (*intent.Registry, error) {
	r := &intent.Registry{}
	for name, f := range map[string]intent.Factory{cel.Name: cel.Factory, lexical.Name: lexical.Factory, external.Name: external.Factory} {
		if err := r.Register(name, f); err != nil {
			return nil, err
		}
	}
	return r, nil
}

// checkerSpec builds a checker from "NAME", "NAME=JSON" or "NAME=@FILE".
func checkerSpec(reg *intent.Registry, spec string) (intent.Checker, error) {
	name, config, _ := strings.Cut(spec, "=")
	if rest, ok := strings.CutPrefix(config, "@"); ok {
		b, err := readLimited(rest, intent.MaxConfigBytes)
		if err != nil {
			return nil, fmt.Errorf("checker %s: %w", name, err)
		}
		config = string(b)
	}
	return reg.New(name, json.RawMessage(config))
}

// buildCheckers builds every spec, closing what was built if one fails.
func buildCheckers(specs []string) ([]intent.Checker, func(), error) {
	reg, err := newIntentRegistry()
	if err != nil {
		return nil, nil, err
	}
	var out []intent.Checker
	closeAll := func() {
		for _, c := range out {
			if cl, ok := c.(io.Closer); ok {
				cl.Close()
			}
		}
	}
	for _, s := range specs {
		c, err := checkerSpec(reg, s)
		if err != nil {
			closeAll()
			return nil, nil, err
		}
		out = append(out, c)
	}
	return out, closeAll, nil
}

func newIntentCmd(io *streams) *cobra.Command {
	cmd := &cobra.Command{Use: "intent", Short: "Intent checkers: qualify them on labelled cases"}
	cmd.AddCommand(newIntentEvalCmd(io))
	return cmd
}

type intentEvalOptions struct {
	checker, cases string
	json, misses   bool
	timeout        time.Duration
}

func newIntentEvalCmd(io *streams) *cobra.Command {
	var o intentEvalOptions
	cmd := &cobra.Command{
		Use:   "eval --checker NAME[=CONFIG] --cases FILE.jsonl",
		Short: "Run a checker over labelled cases: false-allow rate, confusion matrix, precision and recall",
		Long: "Runs the checker over every case as the verifier would (one intent.Run per case) and prints the\n" +
			"false-allow rate first. CONFIG is the checker's JSON configuration, inline or @FILE.\n" +
			"Checkers: cel, lexical, external. Exit 0 when the run completed, whatever the figures.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if o.checker == "" || o.cases == "" {
				return errors.New("intent eval needs --checker and --cases")
			}
			f, err := os.Open(o.cases)
			if err != nil {
				return err
			}
			defer f.Close()
			cases, err := evalset.Load(f)
			if err != nil {
				return fmt.Errorf("%s: %w", o.cases, err)
			}
			checkers, closeAll, err := buildCheckers([]string{o.checker})
			if err != nil {
				return err
			}
			defer closeAll()
			rep := evalset.Run(cmd.Context(), checkers[0], cases, o.timeout)
			if o.json {
				if !o.misses {
					rep.Outcomes = nil
				}
				enc := json.NewEncoder(io.out)
				enc.SetIndent("", "  ")
				return enc.Encode(rep)
			}
			if err := rep.WriteText(io.out); err != nil {
				return err
			}
			if o.misses {
				writeMisses(io.out, rep)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&o.checker, "checker", "", "checker to qualify: NAME, NAME=JSON or NAME=@FILE")
	cmd.Flags().StringVar(&o.cases, "cases", "", "labelled cases, JSON Lines")
	cmd.Flags().BoolVar(&o.json, "json", false, "print JSON")
	cmd.Flags().BoolVar(&o.misses, "misses", false, "also list every case the checker got wrong")
	cmd.Flags().DurationVar(&o.timeout, "timeout", 10*time.Second, "time limit per case")
	return cmd
}

// writeMisses lists false allows first, then escalations and false denies.
func writeMisses(w io.Writer, rep evalset.Report) {
	fmt.Fprintln(w, "\nmisses (label -> verdict):")
	for _, want := range []struct{ label, got string }{
		{evalset.Deny, evalset.Allow}, {evalset.Deny, evalset.Escalate}, {evalset.Allow, evalset.Escalate},
		{evalset.Allow, evalset.Deny}, {evalset.Allow, evalset.Error}, {evalset.Deny, evalset.Error},
	} {
		for _, o := range rep.Outcomes {
			if o.Label == want.label && o.Got == want.got {
				fmt.Fprintf(w, "  %-24s %-11s %s -> %-8s %s\n", o.ID, o.Kind, o.Label, o.Got, o.Reason)
			}
		}
	}
}
