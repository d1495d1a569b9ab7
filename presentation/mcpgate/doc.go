// Package mcpgate is an MCP gateway: the enforcement point between an agent
// that speaks plain MCP and the MCP server whose tools it uses.
//
// Each tool is mapped (Tools) to an action and a resource template over its
// arguments; an unmapped tool is blocked. For every tools/call the gateway
// builds the presentation.Request (the argument named by Justification is
// the stated intent, and is stripped before forwarding), has the agent's
// wallet present for it and the verifier decide; only an ALLOW is
// forwarded upstream. Anything else is an MCP tool error whose text names
// the outcome and reason code ("mandate: DENY FORBIDDEN: ..."), and for
// NEEDS_APPROVAL the approval request and how to approve it. Every call,
// allowed or not, reaches the verifier, which records it in its audit log
// (a gatekeeper.Remote decider cannot record a call refused before a
// presentation; the gateway logs those).
//
// tools/list is the upstream's list, fetched anew each time, without the
// tools that are not mapped or whose action the wallet holds no grant for,
// each schema extended with the optional justification argument. The
// gateway holds no key. docs/MCP.md describes the configuration file.
package mcpgate
