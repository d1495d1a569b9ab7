package credentials

// SignUnchecked signs a subject as given, skipping Delegate's attenuation
// check. It exists so that tests and the demo can build the credential an
// attacker with a stolen key would build, and show that verifiers refuse it.
// Never use it to issue real credentials.
func SignUnchecked(s Signer, sub Subject, t Template, o IssueOptions) (*Credential, error) {
	return sign(s, sub, t, o)
}
