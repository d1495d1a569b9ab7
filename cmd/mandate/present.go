package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/mandate-dev/mandate/presentation"
	"github.com/mandate-dev/mandate/presentation/gatekeeper"
	mandatev1 "github.com/mandate-dev/mandate/protos/mandate/v1"
	"github.com/mandate-dev/mandate/wallet"
)

// presentOptions is `present`'s options.
type presentOptions struct {
	walletFlags
	verifier string
	nonce    string
	audience string
	action   string
	resource string
	intent   string
	context  []string
	approval string
	out      string
	asJSON   bool
	format   string
}

func newPresentCmd(io *streams) *cobra.Command {
	var o presentOptions
	cmd := &cobra.Command{
		Use:   "present",
		Short: "Present the held chain that covers a request, to a verifier or to a file",
		Long: "With --verifier ADDR: fetch a challenge, present, and print the decision (exit 0 only on ALLOW, 3 otherwise).\n" +
			"With --nonce and --audience: write the presentation for a challenge you already have.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return o.run(cmd, io) },
	}
	o.register(cmd)
	fl := cmd.Flags()
	fl.StringVar(&o.verifier, "verifier", "", "verifier gRPC address (loopback)")
	fl.StringVar(&o.nonce, "nonce", "", "challenge nonce (offline mode)")
	fl.StringVar(&o.audience, "audience", "", "challenge audience (offline mode)")
	fl.StringVar(&o.action, "action", "", "action, e.g. email:read")
	fl.StringVar(&o.resource, "resource", "", "resource, e.g. mailbox:alice/inbox")
	fl.StringVar(&o.intent, "intent", "", "why the agent asks")
	fl.StringArrayVar(&o.context, "context", nil, "request context as key=value (repeatable)")
	fl.StringVar(&o.out, "out", "", "offline mode: write the presentation here (default stdout)")
	fl.BoolVar(&o.asJSON, "json", false, "print the decision as JSON")
	fl.StringVar(&o.format, "format", "", "present in this format: bbs, sd-jwt or ldp (default: the first the verifier accepts that the wallet holds, in that order; offline: the first held)")
	fl.StringVar(&o.approval, "approval", "", "id of an approved request (from a NEEDS_APPROVAL answer): its signed approval is fetched and attached")
	_ = cmd.MarkFlagRequired("action")
	_ = cmd.MarkFlagRequired("resource")
	return cmd
}

func (o *presentOptions) request() (presentation.Request, error) {
	req := presentation.Request{Action: o.action, Resource: o.resource, Intent: o.intent}
	for _, kv := range o.context {
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			return req, fmt.Errorf("--context %q: want key=value", kv)
		}
		if req.Context == nil {
			req.Context = map[string]string{}
		}
		req.Context[k] = v
	}
	return req, req.Validate()
}

func (o *presentOptions) run(cmd *cobra.Command, io *streams) error {
	online := o.verifier != ""
	if online == (o.nonce != "" || o.audience != "") {
		return errors.New("give either --verifier, or --nonce with --audience")
	}
	if err := checkFormat(o.format); err != nil {
		return err
	}
	req, err := o.request()
	if err != nil {
		return err
	}
	w, err := o.open()
	if err != nil {
		return err
	}
	defer w.Close()
	held, err := heldChains(w)
	if err != nil {
		return err
	}
	switch o.format {
	case presentation.FormatSDJWT:
		held.LDP, held.BBS = nil, nil
	case presentation.FormatLDP:
		held.SDJWT, held.BBS = nil, nil
	case presentation.FormatBBS:
		held.LDP, held.SDJWT = nil, nil
	}
	if !online {
		ch := presentation.Challenge{Nonce: o.nonce, Audience: o.audience, Formats: held.Formats()}
		format, vp, err := held.Present(w, ch, req, time.Now())
		if err != nil {
			return err
		}
		fmt.Fprintln(io.err, "format", format)
		return writeOut(o.out, vp, io)
	}
	conn, err := grpc.NewClient(o.verifier, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		return err
	}
	defer conn.Close()
	var answer []string
	if o.approval != "" {
		r, err := gatekeeper.NewApprovalClient(mandatev1.NewApprovalServiceClient(conn)).Get(cmd.Context(), o.approval)
		if err != nil {
			return err
		}
		if r.Answer == "" {
			return fmt.Errorf("approval request %s is %s: no signed answer yet", r.ID, r.State)
		}
		answer = append(answer, r.Answer)
	}
	client := gatekeeper.NewClient(mandatev1.NewVerifierServiceClient(conn), nil)
	d, _, err := client.AuthorizeHeld(cmd.Context(), w, held, req, answer...)
	if err != nil {
		return err
	}
	if err := logPresentation(w, o, req, d); err != nil {
		return err
	}
	printDecision(io, d, o.asJSON)
	if !d.Allowed() {
		return exitCode(3)
	}
	return nil
}

func printDecision(io *streams, d presentation.Decision, asJSON bool) {
	if asJSON {
		reasons := d.Reasons
		if reasons == nil {
			reasons = []presentation.Reason{} // [], as vc verify prints, never null
		}
		_ = json.NewEncoder(io.out).Encode(map[string]any{
			"decision": d.Outcome.String(), "reasons": reasons, "message": d.Message, "principal": d.Principal,
			"actor": d.Actor, "chain": d.Chain, "grant": d.Grant, "auditId": d.AuditID, "approvalId": d.ApprovalID,
			"checkers": d.Checks,
		})
		return
	}
	fmt.Fprintf(io.out, "%s", d.Outcome)
	for _, r := range d.Reasons {
		fmt.Fprintf(io.out, " %s", r)
	}
	fmt.Fprintf(io.out, "\n  principal %s\n  actor     %s\n  grant     %s\n", d.Principal, d.Actor, d.Grant)
	if d.Message != "" {
		fmt.Fprintf(io.out, "  why       %s\n", d.Message)
	}
	if d.ApprovalID != "" {
		fmt.Fprintf(io.out, "  approval  %s (the principal runs `mandate approve %s`; then present again with --approval %s)\n", d.ApprovalID, d.ApprovalID, d.ApprovalID)
	}
	if d.AuditID != "" {
		fmt.Fprintf(io.out, "  audit     %s\n", d.AuditID)
	}
}

// logPresentation records in the wallet what it presented and the answer.
func logPresentation(w *wallet.Wallet, o *presentOptions, req presentation.Request, d presentation.Decision) error {
	e := wallet.LogEntry{
		Verifier: o.verifier, Action: req.Action, Resource: req.Resource, Intent: req.Intent,
		Decision: d.Outcome.String(), AuditID: d.AuditID, Approval: d.ApprovalID, Principal: d.Principal,
	}
	if len(d.Chain) > 0 {
		e.Chain = d.Chain[len(d.Chain)-1]
	}
	if o.approval != "" {
		e.Approval = o.approval
	}
	for _, r := range d.Reasons {
		e.Reasons = append(e.Reasons, string(r))
	}
	_, err := w.Log(e)
	return err
}
