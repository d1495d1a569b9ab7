package evalset

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
)

// WriteText prints the report for people: the false-allow rate first.
func (r Report) WriteText(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "checker %s, %d cases\n", r.Checker, r.Cases)
	fmt.Fprintf(&b, "false-allow rate  %s (%d of %d deny-labelled cases allowed)\n", pct(r.FalseAllowRate), r.Matrix[Deny][Allow], sum(r.Matrix[Deny]))
	for _, k := range Kinds {
		if v, ok := r.FalseAllowByKind[k]; ok {
			fmt.Fprintf(&b, "  %-12s    %s\n", k, pct(v))
		}
	}
	fmt.Fprintf(&b, "false-deny rate   %s (%d of %d allow-labelled cases denied)\n", pct(r.FalseDenyRate), r.Matrix[Allow][Deny], sum(r.Matrix[Allow]))
	fmt.Fprintf(&b, "escalation rate   %s\n", pct(r.EscalationRate))
	fmt.Fprintf(&b, "allow precision   %s  recall %s\n", pct(r.AllowPrecision), pct(r.AllowRecall))
	fmt.Fprintf(&b, "deny precision    %s  recall %s\n\n", pct(r.DenyPrecision), pct(r.DenyRecall))
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "label \\ verdict\tallow\tescalate\tdeny\terror\t")
	for _, l := range []string{Allow, Deny} {
		m := r.Matrix[l]
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t\n", l, m[Allow], m[Escalate], m[Deny], m[Error])
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func pct(f float64) string { return fmt.Sprintf("%.1f%%", 100*f) }
