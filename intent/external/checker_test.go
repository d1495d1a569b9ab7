package external_test

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"net"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/mandate-dev/mandate/intent"
	"github.com/mandate-dev/mandate/intent/external"
	mandatev1 "github.com/mandate-dev/mandate/protos/mandate/v1"
)

func TestRoundTripOverUnixSocket(t *testing.T) {
	seen := make(chan intent.Request, 1)
	addr := serve(t, checkFunc(func(_ context.Context, r intent.Request) (intent.Answer, error) {
		seen <- r
		return intent.Answer{Verdict: intent.Escalate, Reason: "a human should look", Confidence: 0.5}, nil
	}))
	c := dial(t, addr, external.WithName("llm"))
	if c.Name() != "llm" {
		t.Fatalf("name %q", c.Name())
	}
	res := intent.Run(context.Background(), []intent.Checker{c}, request(), time.Second)
	if res.Verdict != intent.Escalate || res.Reason != "llm: a human should look" {
		t.Fatalf("got %s %q", res.Verdict, res.Reason)
	}
	if got := res.Answers[0].Answer; got != (intent.Answer{Verdict: intent.Escalate, Reason: "a human should look", Confidence: 0.5}) {
		t.Fatalf("answer %+v", got)
	}
	if got := <-seen; !reflect.DeepEqual(got, request()) {
		t.Fatalf("checker saw %+v, want %+v", got, request())
	}
}

func TestLoopbackTCP(t *testing.T) {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go external.ServeListener(ctx, lis, fixed{intent.Answer{Verdict: intent.Deny, Reason: "off purpose", Confidence: 0.8}})
	a, err := dial(t, lis.Addr().String()).Check(context.Background(), request())
	if err != nil || a != (intent.Answer{Verdict: intent.Deny, Reason: "off purpose", Confidence: 0.8}) {
		t.Fatalf("got %+v %v", a, err)
	}
}

func TestReasonCutTo1KiB(t *testing.T) {
	long := strings.Repeat("é", 600) // 1200 bytes; the cut must not split a rune
	a, err := dial(t, serve(t, fixed{intent.Answer{Verdict: intent.Allow, Reason: long, Confidence: 1}})).Check(context.Background(), request())
	if err != nil || a.Reason != strings.Repeat("é", 512) {
		t.Fatalf("got %d bytes %v", len(a.Reason), err)
	}
}

// rawServer answers whatever it is told: a peer that breaks the contract.
type rawServer struct {
	mandatev1.UnimplementedIntentCheckerServiceServer
	resp *mandatev1.CheckResponse
}

func (s rawServer) Check(context.Context, *mandatev1.CheckRequest) (*mandatev1.CheckResponse, error) {
	return s.resp, nil
}

func serveRaw(t *testing.T, resp *mandatev1.CheckResponse) string {
	t.Helper()
	sock := filepath.Join(t.TempDir(), "raw.sock")
	lis, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	srv := grpc.NewServer()
	mandatev1.RegisterIntentCheckerServiceServer(srv, rawServer{resp: resp})
	go srv.Serve(lis)
	t.Cleanup(srv.Stop)
	return "unix://" + sock
}

func TestContractBreachesAreDenies(t *testing.T) {
	cases := []struct {
		name string
		resp *mandatev1.CheckResponse
		want string
	}{
		{"unspecified", &mandatev1.CheckResponse{Reason: "fine", Confidence: 1}, "external: verdict VERDICT_UNSPECIFIED is not allow, deny or escalate"},
		{"unknown enum", &mandatev1.CheckResponse{Verdict: 7, Reason: "fine", Confidence: 1}, "external: verdict 7 is not allow, deny or escalate"},
		{"nan", &mandatev1.CheckResponse{Verdict: mandatev1.Verdict_VERDICT_ALLOW, Confidence: math.NaN()}, "external: confidence NaN is not in 0..1"},
		{"above one", &mandatev1.CheckResponse{Verdict: mandatev1.Verdict_VERDICT_ALLOW, Confidence: 1.5}, "external: confidence 1.5 is not in 0..1"},
		{"negative", &mandatev1.CheckResponse{Verdict: mandatev1.Verdict_VERDICT_ALLOW, Confidence: -0.1}, "external: confidence -0.1 is not in 0..1"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := dial(t, serveRaw(t, tc.resp))
			res := intent.Run(context.Background(), []intent.Checker{c}, request(), time.Second)
			if res.Verdict != intent.Deny || res.Reason != "external failed: "+tc.want {
				t.Fatalf("got %s %q, want deny %q", res.Verdict, res.Reason, tc.want)
			}
		})
	}
}

// A checker that never answers (and ignores its context) is a deny within
// the time-out.
func TestHangingCheckerDeniesInTime(t *testing.T) {
	release := make(chan struct{})
	defer close(release)
	c := dial(t, serve(t, checkFunc(func(context.Context, intent.Request) (intent.Answer, error) {
		<-release
		return intent.Answer{Verdict: intent.Allow}, nil
	})))
	start := time.Now()
	res := intent.Run(context.Background(), []intent.Checker{c}, request(), 300*time.Millisecond)
	within(t, start, 2*time.Second)
	// intent.Run's own deadline and the gRPC call's race to report it.
	want := []string{
		"external failed: intent: no answer within 300ms: context deadline exceeded",
		"external failed: external: no answer in time: context deadline exceeded",
	}
	if res.Verdict != intent.Deny || (res.Reason != want[0] && res.Reason != want[1]) {
		t.Fatalf("got %s %q", res.Verdict, res.Reason)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start = time.Now()
	_, err := c.Check(ctx, request())
	within(t, start, 2*time.Second)
	if !errors.Is(err, context.DeadlineExceeded) || err.Error() != "external: no answer in time: context deadline exceeded" {
		t.Fatalf("direct check: %v", err)
	}
}

func TestCheckerErrorsCrossTheWire(t *testing.T) {
	cases := []struct {
		name    string
		checker intent.Checker
		want    string
	}{
		{"error", checkFunc(func(context.Context, intent.Request) (intent.Answer, error) {
			return intent.Answer{}, errors.New("llm: endpoint answered 500")
		}), "external: check: rpc error: code = Unknown desc = llm: endpoint answered 500"},
		{"panic", checkFunc(func(context.Context, intent.Request) (intent.Answer, error) { panic("boom") }),
			"external: check: rpc error: code = Internal desc = external: checker panicked: boom"},
		{"unknown verdict", fixed{intent.Answer{Verdict: 9}},
			"external: check: rpc error: code = Internal desc = external: checker gave unknown verdict 9"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := dial(t, serve(t, tc.checker)).Check(context.Background(), request())
			if err == nil || err.Error() != tc.want {
				t.Fatalf("got %v, want %q", err, tc.want)
			}
		})
	}
}

func TestMessageSizeLimit(t *testing.T) {
	c := dial(t, serve(t, fixed{intent.Answer{Verdict: intent.Allow, Confidence: 1}}))
	r := request()
	r.Context = map[string]string{"blob": strings.Repeat("x", external.MaxMessageBytes)}
	_, err := c.Check(context.Background(), r)
	if status.Code(err) != codes.ResourceExhausted || !strings.HasPrefix(err.Error(), "external: check: rpc error: code = ResourceExhausted desc = trying to send message larger than max") {
		t.Fatalf("got %v", err)
	}
}

func TestDialRefuses(t *testing.T) {
	cases := map[string]string{
		"10.0.0.7:7450":        `external: address "10.0.0.7:7450" is not loopback: plaintext gRPC only to unix sockets, 127.0.0.0/8, [::1] or localhost`,
		"checker.example:7450": `external: address "checker.example:7450" is not loopback: plaintext gRPC only to unix sockets, 127.0.0.0/8, [::1] or localhost`,
		"0.0.0.0:7450":         `external: address "0.0.0.0:7450" is not loopback: plaintext gRPC only to unix sockets, 127.0.0.0/8, [::1] or localhost`,
		"[::]:7450":            `external: address "[::]:7450" is not loopback: plaintext gRPC only to unix sockets, 127.0.0.0/8, [::1] or localhost`,
		"unix://run/c.sock":    `external: address "unix://run/c.sock": a unix socket needs an absolute path (unix:///path)`,
		"dns:///localhost:1":   `external: address "dns:///localhost:1" is neither unix:///path nor host:port: address dns:///localhost:1: too many colons in address`,
		"/run/c.sock":          `external: address "/run/c.sock" is neither unix:///path nor host:port: address /run/c.sock: missing port in address`,
	}
	for addr, want := range cases {
		if _, err := external.Dial(addr); err == nil || err.Error() != want {
			t.Errorf("%s: got %v, want %q", addr, err, want)
		}
	}
	for _, addr := range []string{"127.0.0.1:1", "127.8.9.10:1", "[::1]:1", "localhost:1", "LOCALHOST:1", "unix:///run/c.sock"} {
		c, err := external.Dial(addr)
		if err != nil {
			t.Errorf("%s: %v", addr, err)
			continue
		}
		c.Close()
	}
}

func TestNothingListeningIsADeny(t *testing.T) {
	c := dial(t, "unix://"+filepath.Join(t.TempDir(), "none.sock"))
	res := intent.Run(context.Background(), []intent.Checker{c}, request(), 500*time.Millisecond)
	if res.Verdict != intent.Deny || !strings.HasPrefix(res.Reason, "external failed: external: check: rpc error: code = Unavailable") {
		t.Fatalf("got %s %q", res.Verdict, res.Reason)
	}
}

func TestFactory(t *testing.T) {
	addr := serve(t, fixed{intent.Answer{Verdict: intent.Allow, Reason: "ok", Confidence: 1}})
	var reg intent.Registry
	if err := reg.Register(external.Name, external.Factory); err != nil {
		t.Fatal(err)
	}
	c, err := reg.New("external", json.RawMessage(`{"name":"llm","address":"`+addr+`"}`))
	if err != nil {
		t.Fatal(err)
	}
	defer c.(*external.Checker).Close()
	if a, err := c.Check(context.Background(), request()); err != nil || c.Name() != "llm" || a.Verdict != intent.Allow {
		t.Fatalf("got %s %+v %v", c.Name(), a, err)
	}
	refused := map[string]string{
		`{}`: "external: exactly one of address and plugin is needed",
		`{"address":"unix:///a","plugin":"/b","sha256":"00"}`:                                     "external: exactly one of address and plugin is needed",
		`{"adress":"unix:///a"}`:                                                                  `configuration: json: unknown field "adress"`,
		`{"address":"unix:///a","sha256":"00"}`:                                                   "external: sha256, args, env and timeoutMillis are for a plugin, not an address",
		`{"address":"192.168.1.2:80"}`:                                                            `external: address "192.168.1.2:80" is not loopback: plaintext gRPC only to unix sockets, 127.0.0.0/8, [::1] or localhost`,
		`{"name":"LLM","address":"unix:///a"}`:                                                    `external: name "LLM" is not [a-z][a-z0-9-]{0,31}`,
		`{"plugin":"/bin/true","sha256":"abc"}`:                                                   `external: sha256 "abc" is not 64 hex digits`,
		`{"plugin":"/bin/true","sha256":"` + strings.Repeat("0", 64) + `","timeoutMillis":61000}`: "external: start timeout 1m1s is not in (0, 1m0s]",
		`{"address":"unix:///a"} {}`:                                                              "configuration: trailing data after the JSON object",
	}
	for config, want := range refused {
		if _, err := external.Factory(json.RawMessage(config)); err == nil || err.Error() != want {
			t.Errorf("%s: got %v, want %q", config, err, want)
		}
	}
}
