// Package strictyaml reads the small YAML files that say what Mandate
// trusts or forwards (a verifier's trust policy, an MCP gateway's
// configuration) strictly: one document, a mapping, no anchor, alias, tag,
// repeated or unknown key, and every refusal names its line.
package strictyaml
