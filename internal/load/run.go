package load

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/mandate-dev/mandate/presentation"
	"github.com/mandate-dev/mandate/presentation/gatekeeper"
	mandatev1 "github.com/mandate-dev/mandate/protos/mandate/v1"
)

// result is one agent's tally; the tallies are merged after the run.
type result struct {
	allow, deny, approval, failed int
	roundTrip, authorize          []time.Duration
	outcomes                      map[string]int
}

func (r *result) note(outcome string) {
	if r.outcomes == nil {
		r.outcomes = map[string]int{}
	}
	r.outcomes[outcome]++
}

// Run issues every agent's chain, then drives the verifier at cfg.Addr
// until the time or the count bound is reached, and reports. An error means
// the run could not be set up or measured; failed requests are in the
// report, not in the error.
func Run(ctx context.Context, cfg Config) (Report, error) {
	if err := cfg.Validate(); err != nil {
		return Report{}, err
	}
	log := cfg.logger()
	agents := make([]agent, cfg.Agents)
	for i := range agents {
		a, err := newAgent(cfg.Principal, cfg.ChainDepth)
		if err != nil {
			return Report{}, err
		}
		agents[i] = a
	}
	conns := make([]*grpc.ClientConn, len(agents))
	defer func() {
		for _, c := range conns {
			if c != nil {
				c.Close()
			}
		}
	}()
	for i := range conns {
		c, err := grpc.NewClient(cfg.Addr, grpc.WithTransportCredentials(insecure.NewCredentials()),
			grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(gatekeeper.MaxMessageBytes)))
		if err != nil {
			return Report{}, fmt.Errorf("load: dial %s: %w", cfg.Addr, err)
		}
		conns[i] = c
	}
	log.Info("load starting", "addr", cfg.Addr, "agents", cfg.Agents, "chain_depth", cfg.ChainDepth,
		"duration", cfg.Duration, "requests", cfg.Requests, "principal", cfg.Principal.DID())

	start := time.Now()
	var smp *sampler
	if cfg.PID != 0 {
		s, err := startSampler(ctx, cfg.PID, cfg.sampleEvery(), start)
		if err != nil {
			return Report{}, err
		}
		smp = s
	}
	var deadline time.Time
	if cfg.Duration > 0 {
		deadline = start.Add(cfg.Duration)
	}
	var taken atomic.Int64 // requests claimed so far, for the count bound
	results := make([]result, len(agents))
	var wg sync.WaitGroup
	for i := range agents {
		wg.Go(func() {
			client := gatekeeper.NewClient(mandatev1.NewVerifierServiceClient(conns[i]), nil)
			results[i] = drive(ctx, cfg, client, agents[i], deadline, &taken)
		})
	}
	wg.Wait()
	elapsed := time.Since(start)

	rep := newReport(cfg, elapsed, results)
	if smp != nil {
		samples, err := smp.stop()
		if err != nil {
			return rep, err
		}
		rep.Server = newServerReport(cfg.PID, samples, rep.Requests)
	}
	if err := ctx.Err(); err != nil {
		rep.Interrupted = true
	}
	log.Info("load done", "requests", rep.Requests, "allow", rep.Allow, "errors", rep.Errors, "elapsed", elapsed)
	return rep, nil
}

// drive is one agent's loop.
func drive(ctx context.Context, cfg Config, client *gatekeeper.Client, a agent, deadline time.Time, taken *atomic.Int64) result {
	var r result
	for ctx.Err() == nil {
		if !deadline.IsZero() && !time.Now().Before(deadline) {
			break
		}
		if cfg.Requests > 0 && taken.Add(1) > int64(cfg.Requests) {
			break
		}
		once(ctx, cfg, client, a, &r)
	}
	return r
}

// once is one round trip: challenge, present, authorize.
func once(ctx context.Context, cfg Config, client *gatekeeper.Client, a agent, r *result) {
	ctx, cancel := context.WithTimeout(ctx, cfg.requestTimeout())
	defer cancel()
	t0 := time.Now()
	ch, err := client.Challenge(ctx)
	if err != nil {
		r.failed++
		r.note(failure("challenge", err))
		return
	}
	vp, err := presentation.Present(a.key, a.chain, ch, Request, time.Now())
	if err != nil {
		r.failed++
		r.note(failure("present", err))
		return
	}
	t1 := time.Now()
	d, err := client.Send(ctx, vp, Request)
	t2 := time.Now()
	if err != nil {
		r.failed++
		r.note(failure("authorize", err))
		return
	}
	r.roundTrip = append(r.roundTrip, t2.Sub(t0))
	r.authorize = append(r.authorize, t2.Sub(t1))
	switch d.Outcome {
	case presentation.Allow:
		r.allow++
		return
	case presentation.NeedsApproval:
		r.approval++
	default:
		r.deny++
	}
	o := d.Outcome.String()
	for _, reason := range d.Reasons {
		o += " " + string(reason)
	}
	r.note(o)
}

// failure names a request that got no decision; messages are cut short so
// that one noisy error cannot make the report large.
func failure(step string, err error) string {
	msg := err.Error()
	if errors.Is(err, context.DeadlineExceeded) {
		msg = "deadline exceeded"
	}
	if len(msg) > 120 {
		msg = msg[:120] + "…"
	}
	return "FAILED " + step + ": " + msg
}
