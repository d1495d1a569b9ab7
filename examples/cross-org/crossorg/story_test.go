package crossorg_test

import (
	"testing"

	"github.com/mandate-dev/mandate/examples/cross-org/crossorg"
)

func TestRenderPolicyRefusesAMissingValue(t *testing.T) {
	_, err := crossorg.RenderPolicy(map[string]string{"ACME": "did:web:acme.example"})
	if err == nil || err.Error() != "crossorg: policy.yaml: no value for PORT, ACME_LEGAL" {
		t.Fatalf("err = %v", err)
	}
}
