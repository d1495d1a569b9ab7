// Package load drives a Mandate gRPC verifier on loopback with many
// concurrent agents, bounded in time and in count, and reports throughput,
// latency percentiles, errors and the verifier process's memory.
//
// Each agent holds its own Ed25519 key and its own delegation chain of one
// to three links under one principal, and loops: Challenge, Present (a real
// presentation signed with the agent's key), Authorize. The expected answer
// is ALLOW; anything else counts as an error.
//
// By default the verifier is a separate process, `mandate serve verifier`,
// started by StartServer with a temporary data directory and a wallet of its
// own, so that its peak memory (VmHWM in /proc/PID/status) is its own.
// Every address is checked to be a loopback IP: the load never leaves the
// machine. `mandate bench` runs it.
package load
