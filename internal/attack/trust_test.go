package attack_test

import (
	"strings"
	"testing"

	"github.com/mandate-dev/mandate/credentials"
	"github.com/mandate-dev/mandate/internal/testkeys"
	"github.com/mandate-dev/mandate/presentation"
	"github.com/mandate-dev/mandate/presentation/policy"
)

// notary witnesses alice's roots for her legal mail.
var notary = testkeys.New("notary")

// trustPolicy trusts alice for her mailbox only, and wants her legal mail
// read under a root the notary witnessed.
const trustPolicy = `version: 1
roots:
  - principal: $ALICE
    resources: ["mailbox:alice/*"]
witness:
  - actions: ["email:read"]
    resources: ["mailbox:alice/legal/*"]
    by: [$NOTARY]
formats: [ldp, sd-jwt]
algorithms: [Ed25519Signature2020, EdDSA]
didMethods: [key]
`

// withPolicy replaces the world's trusted roots with trustPolicy.
func withPolicy(c *presentation.Config) {
	p, err := policy.Parse([]byte(strings.NewReplacer("$ALICE", alice.DID(), "$NOTARY", notary.DID()).Replace(trustPolicy)))
	if err != nil {
		panic(err) // the policy above is valid
	}
	c.Policy, c.TrustedRoots, c.Formats = p, nil, nil
}

// witnessed is the control root with a witness proof by k.
func (w *world) witnessed(t testing.TB, k *testkeys.Key) *credentials.Credential {
	t.Helper()
	c, err := credentials.Witness(k, w.root, w.issued.Now)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func legalRead() presentation.Request {
	return presentation.Request{Action: "email:read", Resource: "mailbox:alice/legal/contract", Intent: "read the contract"}
}

func trustAttacks() []attack {
	slack := presentation.Request{Action: "slack:read", Resource: "slack:acme/general"}
	return []attack{
		// alice's root really grants slack:read, but the policy trusts her
		// for her mailbox only.
		{name: "trust policy: a root outside the policy's resources", cfg: withPolicy, craft: func(t *testing.T, w *world) ([]byte, presentation.Request) {
			return w.present(t, assistant, []*credentials.Credential{w.root}, slack), slack
		}, reason: presentation.ReasonUntrustedRoot, msg: "the trust policy does not trust principal " + alice.DID() + " for slack:acme/general"},

		{name: "trust policy: a root without the witness required", cfg: withPolicy, craft: func(t *testing.T, w *world) ([]byte, presentation.Request) {
			return w.present(t, summarizer, w.chain(), legalRead()), legalRead()
		}, reason: presentation.ReasonWitnessRequired, msg: "the root has no witness"},

		{name: "trust policy: a root witnessed by another", cfg: withPolicy, craft: func(t *testing.T, w *world) ([]byte, presentation.Request) {
			return w.present(t, assistant, []*credentials.Credential{w.witnessed(t, mallory)}, legalRead()), legalRead()
		}, reason: presentation.ReasonWitnessRequired, msg: "it was witnessed by " + mallory.DID()},

		// mallory's witness proof relabelled as the notary's.
		{name: "trust policy: a forged witness proof", cfg: withPolicy, craft: func(t *testing.T, w *world) ([]byte, presentation.Request) {
			creds := raws(t, w.witnessed(t, mallory))
			creds[0]["proof"].([]any)[1].(map[string]any)["verificationMethod"] = notary.VerificationMethod()
			return w.signed(t, assistant, creds, legalRead()), legalRead()
		}, reason: presentation.ReasonSignatureInvalid, msg: "{root}: proof 1: aries: verify proof: ed25519: invalid signature"},
	}
}
