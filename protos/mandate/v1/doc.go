// Package mandatev1 holds the Go code generated from mandate/v1/verifier.proto: the messages and the
// gRPC client and server of VerifierService, the gatekeeper API that checks an agent's Power-of-Attorney
// presentation against one request.
//
// A denial is an ordinary AuthorizeResponse with DECISION_DENY and reason codes, not a gRPC error;
// callers act only on DECISION_ALLOW and treat every other decision and every error as "not allowed".
//
// Everything here except this file is generated: edit the .proto and run .ci/gen; CI runs
// .ci/gen-check and fails when the committed code differs from fresh output.
package mandatev1
