package mcpgate_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/mandate-dev/mandate/presentation/mcpgate"
)

const goodConfig = `upstream:
  command: [slack-mcp, --stdio]
wallet:
  socket: /run/mandate/wallet.sock
verifier:
  address: 127.0.0.1:7443
tools:
  read_channel:
    action: slack:read
    resource: slack:acme/{channel}
  list_channels: {action: "slack:list", resource: "slack:acme"}
`

func TestParseConfig(t *testing.T) {
	c, err := mcpgate.ParseConfig([]byte(goodConfig))
	if err != nil {
		t.Fatal(err)
	}
	withContext := strings.Replace(goodConfig, "    resource: slack:acme/{channel}\n", "    resource: slack:acme/{channel}\n    context: {amount: sum, memo: text}\n", 1)
	cc, err := mcpgate.ParseConfig([]byte(withContext))
	if err != nil || len(cc.Tools["read_channel"].Context) != 2 || cc.Tools["read_channel"].Context["amount"] != "sum" {
		t.Fatalf("context: %+v %v", cc, err)
	}
	rc := c.Tools["read_channel"]
	if strings.Join(c.Upstream.Command, " ") != "slack-mcp --stdio" || c.Upstream.URL != "" || c.WalletSocket != "/run/mandate/wallet.sock" ||
		c.VerifierAddress != "127.0.0.1:7443" || c.Justification != "justification" || len(c.Tools) != 2 ||
		rc.Action != "slack:read" || rc.Resource.String() != "slack:acme/{channel}" || rc.Line != 8 {
		t.Fatalf("%+v", c)
	}
}

func TestParseConfigErrors(t *testing.T) {
	swap := func(old, new string) string { return strings.Replace(goodConfig, old, new, 1) }
	cases := []struct{ name, in, want string }{
		{"empty", "", "mcpgate: config: file is empty"},
		{"too large", strings.Repeat("#", mcpgate.MaxConfigBytes+1), "mcpgate: config: file is 65537 bytes, limit 65536"},
		{"unknown key", swap("wallet:\n", "wallet:\n  bogus: 1\n"), `mcpgate: config: line 4: unknown key "bogus"`},
		{"unknown top key", goodConfig + "extra: 1\n", `mcpgate: config: line 12: unknown key "extra"`},
		{"unknown tool key", swap("    action: slack:read\n", "    action: slack:read\n    acton: x\n"), `mcpgate: config: line 10: unknown key "acton"`},
		{"duplicate", goodConfig + "tools: {}\n", `mcpgate: config: line 12: key "tools" appears twice`},
		{"two documents", goodConfig + "---\na: 1\n", "mcpgate: config: line 12: a configuration file holds one YAML document"},
		{"alias", swap("socket: /run/mandate/wallet.sock", "socket: &s /run/mandate/wallet.sock"), "mcpgate: config: line 4: anchors and aliases are not allowed"},
		{"no upstream", swap("upstream:\n  command: [slack-mcp, --stdio]\n", ""), "mcpgate: config: upstream: required (command or url)"},
		{"both upstreams", swap("  command: [slack-mcp, --stdio]\n", "  command: [x]\n  url: http://127.0.0.1:1/mcp\n"), "mcpgate: config: line 2: upstream: command and url conflict; name one"},
		{"bad url", swap("  command: [slack-mcp, --stdio]\n", "  url: file:///etc/passwd\n"), `mcpgate: config: line 2: upstream.url "file:///etc/passwd" is not an http(s) URL`},
		{"no wallet", swap("wallet:\n  socket: /run/mandate/wallet.sock\n", ""), "mcpgate: config: wallet.socket: required"},
		{"no verifier", swap("verifier:\n  address: 127.0.0.1:7443\n", ""), "mcpgate: config: verifier.address: required"},
		{"no tools", swap("tools:", "unused:"), `mcpgate: config: line 7: unknown key "unused"`},
		{"wildcard action", swap("action: slack:read", "action: slack:*"), `mcpgate: config: line 8: tool "read_channel": action: scope: invalid pattern: a request names one action and one resource, not a pattern`},
		{"wildcard resource", swap("slack:acme/{channel}", "slack:acme/*"), `mcpgate: config: line 8: tool "read_channel": resource "slack:acme/*": scope: invalid pattern`},
		{"open brace", swap("slack:acme/{channel}", "slack:acme/{channel"), `mcpgate: config: line 8: tool "read_channel": resource "slack:acme/{channel": '{' without '}'`},
		{"touching placeholders", swap("slack:acme/{channel}", "slack:acme/{a}{b}"), `mcpgate: config: line 8: tool "read_channel": resource "slack:acme/{a}{b}": placeholders {a} and {b} touch`},
		{"justification in resource", swap("slack:acme/{channel}", "slack:acme/{justification}"), `mcpgate: config: line 8: tool "read_channel": the resource reads {justification}, the justification argument`},
		{"bad tool name", swap("read_channel:", "read channel:"), `mcpgate: config: line 8: tool name "read channel" holds ' '`},
		{"context on the gateway's keys", swap("    resource: slack:acme/{channel}\n", "    resource: slack:acme/{channel}\n    context: {mcp.tool: x}\n"),
			`mcpgate: config: line 8: tool "read_channel": context key "mcp.tool": keys that start mcp. are the gateway's`},
		{"context from the justification", swap("    resource: slack:acme/{channel}\n", "    resource: slack:acme/{channel}\n    context: {why: justification}\n"),
			`mcpgate: config: line 8: tool "read_channel": context "why" reads the justification argument`},
		{"context from no argument", swap("    resource: slack:acme/{channel}\n", "    resource: slack:acme/{channel}\n    context: {amount: \"a b\"}\n"),
			`mcpgate: config: line 8: tool "read_channel": context "amount": "a b" is not an argument name`},
		{"context too large", swap("    resource: slack:acme/{channel}\n", "    resource: slack:acme/{channel}\n    context: {a: x, b: x, c: x, d: x, e: x, f: x, g: x, h: x, i: x}\n"),
			`mcpgate: config: line 8: tool "read_channel": context: more than 8 entries`},
		{"bad justification", goodConfig + "justification: a b\n", `mcpgate: config: line 12: justification "a b" is not an argument name`},
	}
	for _, c := range cases {
		_, err := mcpgate.ParseConfig([]byte(c.in))
		if err == nil || !strings.HasPrefix(err.Error(), c.want) {
			t.Errorf("%s: %v, want %q", c.name, err, c.want)
		}
	}
}

func TestTemplateLower(t *testing.T) {
	tpl, err := mcpgate.ParseTemplate("slack:{team}/{channel|lower}")
	if err != nil {
		t.Fatal(err)
	}
	args := map[string]json.RawMessage{"team": json.RawMessage(`"Acme"`), "channel": json.RawMessage(`"Gen\u0045ral"`)}
	if got, err := tpl.Render(args); err != nil || got != "slack:Acme/general" {
		t.Fatalf("%q %v", got, err)
	}
	if err := tpl.Lower(args); err != nil || string(args["channel"]) != `"general"` || string(args["team"]) != `"Acme"` {
		t.Fatalf("lowered %s %s, %v", args["team"], args["channel"], err)
	}
	for tmpl, want := range map[string]string{
		"slack:acme/{channel|upper}":           `mcpgate: resource "slack:acme/{channel|upper}": placeholder {channel|upper}: the only filter is lower`,
		"slack:acme/{channel|lower}/{channel}": `mcpgate: resource "slack:acme/{channel|lower}/{channel}": {channel} is read both with and without |lower`,
		"slack:acme/{|lower}":                  `mcpgate: resource "slack:acme/{|lower}": placeholder {} is not an argument name (letters, digits, '_', '-')`,
	} {
		if _, err := mcpgate.ParseTemplate(tmpl); err == nil || err.Error() != want {
			t.Errorf("%s: %v, want %s", tmpl, err, want)
		}
	}
}

func TestTemplateRender(t *testing.T) {
	tpl, err := mcpgate.ParseTemplate("repo:{owner}/{name}-issues/{number}")
	if err != nil {
		t.Fatal(err)
	}
	args := map[string]json.RawMessage{"owner": json.RawMessage(`"acme"`), "name": json.RawMessage(`"web"`), "number": json.RawMessage(`42`)}
	if got, err := tpl.Render(args); err != nil || got != "repo:acme/web-issues/42" {
		t.Fatalf("%q %v", got, err)
	}
	for raw, want := range map[string]string{
		`1.5`:   `mcpgate: argument "number" must be a string or an integer`,
		`1e3`:   `mcpgate: argument "number" must be a string or an integer`,
		`true`:  `mcpgate: argument "number" must be a string or an integer`,
		`"."`:   `mcpgate: argument "number": "." holds a dot segment`,
		`"a*"`:  `mcpgate: argument "number": "a*" holds '*', which a resource segment may not hold`,
		`"é"`:   `mcpgate: argument "number": "é" holds 'é', which a resource segment may not hold`,
		`"a b"`: `mcpgate: argument "number": "a b" holds ' ', which a resource segment may not hold`,
	} {
		args["number"] = json.RawMessage(raw)
		if _, err := tpl.Render(args); err == nil || err.Error() != want {
			t.Errorf("%s: %v, want %q", raw, err, want)
		}
	}
}
