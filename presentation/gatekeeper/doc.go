// Package gatekeeper serves a presentation.Verifier over gRPC
// (mandate.v1.VerifierService, with the standard health service) and gives
// agents a client that fetches a challenge, presents and gets a decision.
//
// A denial is a normal response; gRPC status errors are only for transport
// and malformed input, mapped in one place (toStatus).
package gatekeeper
