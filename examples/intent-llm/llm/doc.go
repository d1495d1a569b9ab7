// Package llm is an intent checker that asks a language model, through any
// OpenAI-compatible chat-completions endpoint, whether a request is within
// the purpose its power of attorney was given for.
//
// The model is told that every field of the request is untrusted data, and
// is held to a strict JSON answer (response_format json_schema, strict):
// exactly {"verdict": "allow"|"deny"|"escalate", "reason": string,
// "confidence": 0..1}. Anything else — another member, a missing one, a
// verdict outside the enum, a reason over 1 KiB, a status other than 200, a
// body over 1 MiB, no answer within the time-out — is an error, which a
// verifier treats as a deny.
//
// The checker is served out of process by the command in the parent
// directory, through package intent/external.
package llm
