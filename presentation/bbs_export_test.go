package presentation

// BBSSigningInputForTest is bbsSigningInput over a decoded binding, for
// tests that re-sign a changed presentation.
func BBSSigningInputForTest(b map[string]any, links []map[string]any) []byte {
	s := func(k string) string { v, _ := b[k].(string); return v }
	msg, err := bbsSigningInput(BBSBinding{Type: s("type"), Holder: s("holder"), VerificationMethod: s("verificationMethod"),
		Nonce: s("nonce"), Audience: s("audience"), RequestDigest: s("requestDigest")}, links)
	if err != nil {
		panic(err)
	}
	return msg
}
