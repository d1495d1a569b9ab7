// Package external is an intent checker that runs out of process and is
// spoken to over gRPC (mandate.v1.IntentCheckerService), so that a
// language-model classifier, or any other checker, can be plugged into a
// verifier without rebuilding it.
//
// A verifier reaches a checker in one of two ways:
//
//   - Dial: a checker already listening on a unix socket
//     ("unix:///run/checker.sock") or a loopback TCP address. The protocol is
//     plaintext, so nothing else is accepted.
//   - Plugin: a program named by absolute path and pinned by its SHA-256.
//     The verifier opens the file, checks its mode and owner, hashes it
//     through the open descriptor and executes that descriptor, so the bytes
//     that run are the bytes that were checked. The plugin listens on a unix
//     socket in a private directory, named by the MANDATE_INTENT_PLUGIN_SOCKET
//     variable; it is killed when the checker is closed.
//
// A plugin author writes an intent.Checker and calls Serve from main.
//
// Every failure is an error, so intent.Run makes it a deny: no answer
// before the deadline, a gRPC error, a plugin that exited,
// VERDICT_UNSPECIFIED or an unknown verdict, a confidence outside 0..1.
// Reasons are cut to 1 KiB and messages limited to 64 KiB both ways.
package external
