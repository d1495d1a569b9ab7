package mcpgate_test

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/mandate-dev/mandate/credentials/scope"
	"github.com/mandate-dev/mandate/presentation/mcpgate"
)

// FuzzRender: whatever an agent puts in the arguments, a rendered resource
// has the template's structure — its literal text where the template has
// it, exactly the template's segments, no wildcard, no dot segment — or is
// refused. An argument can fill part of one segment, never widen it.
func FuzzRender(f *testing.F) {
	for _, s := range [][2]string{
		{`"general"`, `7`}, {`"general/../random"`, `1`}, {`"*"`, `1`}, {`".."`, `1`}, {`""`, `1`},
		{`"gen\u002fral"`, `1`}, {`"a\u0000b"`, `1`}, {`1e3`, `1`}, {`-5`, `"x"`}, {`{"a":1}`, `[1]`},
		{`"` + strings.Repeat("a", 200) + `"`, `1`}, {`"ﬁle"`, `1`}, {`"a%2Fb"`, `1`}, {`null`, `1`},
	} {
		f.Add(s[0], s[1])
	}
	tmpl, err := mcpgate.ParseTemplate("slack:acme/{channel}/thread-{n}")
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, channel, n string) {
		args := map[string]json.RawMessage{"channel": json.RawMessage(channel), "n": json.RawMessage(n)}
		res, err := tmpl.Render(args)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "mcpgate: ") {
				t.Fatalf("error without the package prefix: %v", err)
			}
			return
		}
		segs := strings.Split(strings.TrimPrefix(res, "slack:acme/"), "/")
		if !strings.HasPrefix(res, "slack:acme/") || len(segs) != 2 || !strings.HasPrefix(segs[1], "thread-") || segs[0] == "" ||
			len(segs[0]) > mcpgate.MaxArgumentBytes || len(segs[1]) > len("thread-")+mcpgate.MaxArgumentBytes {
			t.Fatalf("rendered %q: not the template's structure", res)
		}
		for _, s := range segs {
			if s == "." || s == ".." || strings.ContainsAny(s, "*") || strings.Contains(s, "..") {
				t.Fatalf("rendered %q: segment %q", res, s)
			}
		}
		if err := scope.ValidateConcrete("slack:read", res); err != nil {
			t.Fatalf("rendered %q is not a concrete resource: %v", res, err)
		}
		// Only what the grant names matches it: a rendered channel never
		// reaches into another channel's pattern.
		if scope.MatchResource("slack:acme/general/*", res) && segs[0] != "general" {
			t.Fatalf("rendered %q matches #general's pattern", res)
		}
	})
}

// FuzzParseConfig: a configuration is accepted whole or refused with an
// *mcpgate.Error; what is accepted holds only tools whose action is
// concrete and whose resource template parses, within the limits.
func FuzzParseConfig(f *testing.F) {
	if b, err := os.ReadFile("../../examples/slack-mcp/slack/gateway.yaml"); err == nil {
		f.Add(b)
	}
	f.Add([]byte("upstream: {url: http://127.0.0.1:1/mcp}\nwallet: {socket: w.sock}\nverifier: {address: 127.0.0.1:1}\ntools: {t: {action: a:b, resource: \"x:y/{z}\"}}\n"))
	f.Add([]byte("upstream: {command: [x]}\nbogus: 1\n"))
	f.Add([]byte("a: &x 1\nb: *x\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := mcpgate.ParseConfig(data)
		if err != nil {
			var ce *mcpgate.Error
			if !errors.As(err, &ce) && !strings.HasPrefix(err.Error(), "mcpgate: ") {
				t.Fatalf("refusal of another kind: %T %v", err, err)
			}
			return
		}
		if len(data) > mcpgate.MaxConfigBytes || len(c.Tools) > mcpgate.MaxTools || len(c.Upstream.Command) > mcpgate.MaxCommandArgs ||
			(len(c.Upstream.Command) > 0) == (c.Upstream.URL != "") || c.WalletSocket == "" || c.VerifierAddress == "" {
			t.Fatalf("accepted a configuration past its rules: %+v", c)
		}
		for name, tool := range c.Tools {
			if _, err := scope.ParseAction(tool.Action); err != nil || strings.Contains(tool.Action, "*") {
				t.Fatalf("tool %q: action %q", name, tool.Action)
			}
			if _, err := mcpgate.ParseTemplate(tool.Resource.String()); err != nil {
				t.Fatalf("tool %q: template %q: %v", name, tool.Resource, err)
			}
		}
	})
}

// FuzzGatewayArguments: whatever arguments an agent sends to read_doc
// (granted on docs:acme/public only), a call that reaches the upstream is
// one on which every way the upstream may read the "doc" argument gives
// "public": Go's encoding/json into a struct (keys without regard to case,
// the last match wins), and a map looked up by the lower- or upper-case
// key. Every call, forwarded or not, has its audit record.
func FuzzGatewayArguments(f *testing.F) {
	for _, s := range []string{
		`{"doc":"public"}`, `{"doc":"private"}`, `{"doc":"public","Doc":"private"}`, `{"doc":"public","doc":"private"}`,
		`{"doc":"public","DOC":"private"}`, `{"doc":"public","d\u0130c":"private"}`, `{"doc":"pub\u006cic"}`, `{"doc":"public","justification":"x"}`,
		`{"doc":"public","Justification":"x"}`, `{"doc":["public"]}`, `{"doc":"public","x":{"doc":"private"}}`, `null`, `[]`, `{"doc":-0}`,
	} {
		f.Add([]byte(s))
	}
	fx := setUp(f)
	f.Fuzz(func(t *testing.T, raw []byte) {
		before := len(fx.upstream.received())
		records := len(fx.records(t))
		if _, err := fx.gw.CallTool(context.Background(), "read_doc", json.RawMessage(raw)); err != nil {
			t.Fatalf("CallTool: %v", err)
		}
		if n := len(fx.records(t)); n != records+1 {
			t.Fatalf("%d audit records for one call", n-records)
		}
		got := fx.upstream.received()[before:]
		if len(got) == 0 {
			return
		}
		forwarded := []byte(strings.TrimPrefix(got[0], "read_doc "))
		var asStruct struct {
			Doc any `json:"doc"`
		}
		if err := json.Unmarshal(forwarded, &asStruct); err != nil || asStruct.Doc != "public" {
			t.Fatalf("sent %s, forwarded %s: a struct reads doc %v (%v)", raw, forwarded, asStruct.Doc, err)
		}
		var asMap map[string]any
		if err := json.Unmarshal(forwarded, &asMap); err != nil {
			t.Fatalf("forwarded %s: %v", forwarded, err)
		}
		for k, v := range asMap {
			if (strings.ToLower(k) == "doc" || strings.ToUpper(k) == "DOC") && v != "public" {
				t.Fatalf("sent %s, forwarded %s: key %q reads %v", raw, forwarded, k, v)
			}
			if strings.EqualFold(k, "justification") {
				t.Fatalf("sent %s, forwarded %s: the justification reached the upstream", raw, forwarded)
			}
		}
	})
}
