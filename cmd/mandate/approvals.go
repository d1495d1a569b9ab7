package main

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/mandate-dev/mandate/presentation"
	"github.com/mandate-dev/mandate/presentation/gatekeeper"
	mandatev1 "github.com/mandate-dev/mandate/protos/mandate/v1"
)

// dialApprovals connects to a verifier's ApprovalService.
func dialApprovals(addr string) (*gatekeeper.ApprovalClient, func(), error) {
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		return nil, nil, err
	}
	return gatekeeper.NewApprovalClient(mandatev1.NewApprovalServiceClient(conn)), func() { conn.Close() }, nil
}

func newApprovalsCmd(io *streams) *cobra.Command {
	var addr string
	var asJSON bool
	cmd := &cobra.Command{Use: "approvals", Short: "Requests waiting for a human's approval"}
	list := &cobra.Command{
		Use:   "list",
		Short: "List the requests waiting at a verifier, oldest first",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, done, err := dialApprovals(addr)
			if err != nil {
				return err
			}
			defer done()
			rs, err := c.Pending(cmd.Context())
			if err != nil {
				return err
			}
			if asJSON {
				if rs == nil {
					rs = []presentation.ApprovalRequest{}
				}
				return json.NewEncoder(io.out).Encode(rs)
			}
			for _, r := range rs {
				fmt.Fprintf(io.out, "%s  %s %s  by %s  intent %q  grant %s  expires %s%s\n", r.ID, r.Request.Action, r.Request.Resource,
					r.Actor, r.Request.Intent, r.Grant, r.Expires.Format(time.RFC3339), contextText(r.Request.Context))
			}
			if len(rs) == 0 {
				fmt.Fprintln(io.out, "no pending requests")
			}
			return nil
		},
	}
	list.Flags().StringVar(&addr, "verifier", "", "verifier gRPC address (required)")
	list.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	_ = list.MarkFlagRequired("verifier")
	cmd.AddCommand(list)
	return cmd
}

// contextText is a request's context for a person to read: what an MCP
// gateway maps from a tool's arguments (an amount, a message) is part of
// what is approved. Each value is quoted and cut to 256 bytes.
func contextText(c map[string]string) string {
	var b strings.Builder
	for _, k := range slices.Sorted(maps.Keys(c)) {
		fmt.Fprintf(&b, "  %s=%.256q", k, c[k])
	}
	return b.String()
}

// answerOptions is `approve`'s and `reject`'s options.
type answerOptions struct {
	walletFlags
	verifier string
	ttl      time.Duration
}

func newAnswerCmd(io *streams, verb string, approve bool, short string) *cobra.Command {
	var o answerOptions
	cmd := &cobra.Command{
		Use:   verb + " ID",
		Short: short,
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			w, err := o.open()
			if err != nil {
				return err
			}
			defer w.Close()
			c, done, err := dialApprovals(o.verifier)
			if err != nil {
				return err
			}
			defer done()
			r, err := c.Answer(cmd.Context(), w, args[0], approve, o.ttl, time.Now())
			if err != nil {
				return err
			}
			fmt.Fprintf(io.out, "%s: %s %s %s by %s (signed by %s)\n", r.ID, r.State, r.Request.Action, r.Request.Resource, r.Actor, r.Approver)
			return nil
		},
	}
	o.register(cmd)
	cmd.Flags().StringVar(&o.verifier, "verifier", "", "verifier gRPC address (required)")
	cmd.Flags().DurationVar(&o.ttl, "ttl", 10*time.Minute, "how long the signed answer may be used (at most 1h)")
	_ = cmd.MarkFlagRequired("verifier")
	return cmd
}

func newAnswerCmds(io *streams) []*cobra.Command {
	return []*cobra.Command{
		newAnswerCmd(io, "approve", true, "Approve a waiting request with this wallet's DID key (the principal's, or an approver's)"),
		newAnswerCmd(io, "reject", false, "Refuse a waiting request with this wallet's DID key; the refusal is recorded"),
	}
}
