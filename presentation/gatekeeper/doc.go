// Package gatekeeper puts a presentation.Verifier where agents act.
//
//   - The verifier over gRPC: mandate.v1.VerifierService and ApprovalService
//     (NewGRPCServer, with the standard health service), and the agent's and
//     approver's clients (Client, ApprovalClient). A denial is a normal
//     response there; status errors are only for transport and malformed input.
//   - In front of a service: HTTP middleware (HTTP) and gRPC server
//     interceptors (UnaryServerInterceptor, StreamServerInterceptor). They
//     challenge a call without a presentation, map the call to an action and
//     resource with a function the service supplies, ask a Decider (Local, or
//     Remote over gRPC), and let the call through only on ALLOW, with the
//     Decision in its context (DecisionFrom). Every refusal has its own
//     status code and carries the decision.
//   - On the agent's side: an http.RoundTripper (Transport) and gRPC client
//     interceptors that answer the challenge with a presentation from a
//     Presenter (the agent's wallet over its socket, wallet/holder) and retry
//     once, so agent code never holds a key.
//
// Errors become wire codes in one place per transport (toStatus,
// decisionStatus, HTTP's statusOf).
package gatekeeper
