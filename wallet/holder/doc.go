// Package holder is the wallet an agent's process can reach: a
// WalletService (protos/mandate/v1/wallet.proto) served on a Unix socket
// over a *wallet.Wallet, and its client.
//
// The agent, the gatekeepers' client halves, an MCP gateway and agents
// written in other languages ask the wallet to present; none of them holds
// a key. The wallet signs only presentations bound to the challenge and
// the request it is given, and records each one in its own log.
//
// The socket's file mode (0600, see Listen) is the only access control:
// whoever can open the socket can have the wallet present for any request
// its chains cover, one challenge at a time, but never gets a key or a
// credential outside a presentation (docs/WALLET-SERVICE.md).
package holder
