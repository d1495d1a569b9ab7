package credentials

// DeriveBBSWithFrame derives with a caller's frame: what a dishonest holder
// can do, for tests that show the verifier refuses it.
func DeriveBBSWithFrame(c *Credential, frame map[string]any, nonce []byte) (map[string]any, error) {
	eng, err := bbsEngine()
	if err != nil {
		return nil, err
	}
	pub, err := didBLSKey(c.Issuer)
	if err != nil {
		return nil, err
	}
	return eng.Derive(c.Raw, frame, nonce, pub)
}

var didBLSKey = parseBLSKey

// VerifyBBSAries verifies with aries' uncached primitive (benchmarks only).
func VerifyBBSAries(doc map[string]any, nonce, pub []byte) error {
	eng, err := bbsEngine()
	if err != nil {
		return err
	}
	return eng.VerifyDerivedAries(doc, nonce, pub)
}
