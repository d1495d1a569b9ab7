package gatekeeper_test

import (
	"bytes"
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/mandate-dev/mandate/presentation"
	"github.com/mandate-dev/mandate/presentation/gatekeeper"
)

// FuzzParseMandateAuthorization: the server's parser of the Authorization
// header never panics, accepts nothing over its bound, and what it accepts
// is the presentation MandateAuthorization writes back.
func FuzzParseMandateAuthorization(f *testing.F) {
	for _, s := range []string{"Mandate e30", "mandate  e30", "Mandate ", "Mandate e30=", "Bearer e30", "Mandate\te30", "Mandate e3", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, h string) {
		vp, err := gatekeeper.ParseMandateAuthorization(h)
		if err != nil {
			return
		}
		if len(h) > gatekeeper.MaxAuthorizationBytes || len(vp) == 0 || len(vp) > presentation.MaxPresentationBytes {
			t.Fatalf("accepted %d bytes of header, %d of presentation", len(h), len(vp))
		}
		again, err := gatekeeper.ParseMandateAuthorization(gatekeeper.MandateAuthorization(vp))
		if err != nil || !bytes.Equal(again, vp) {
			t.Fatalf("round trip: %q, %v", again, err)
		}
	})
}

// FuzzParseMandateChallenge: the agent's parser of a server's challenge
// never panics, and what it accepts is a valid request that MandateChallenge
// writes back to the same challenge.
func FuzzParseMandateChallenge(f *testing.F) {
	for _, s := range []string{
		`Mandate nonce="n", aud="https://a.example", formats="ldp sd-jwt", expires="2030-01-01T00:00:00Z", action="email:read", resource="mailbox:a/inbox"`,
		`Mandate nonce=n,aud="a\"b",formats=ldp,expires="2030-01-01T00:00:00Z",action="a:b",resource="r:x",context="eyJ0byI6ImIifQ"`,
		`Mandate nonce="n", nonce="m"`, `Mandate nonce="unterminated`, `Mandate a=b,`, `Basic realm="x"`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, h string) {
		ch, req, err := gatekeeper.ParseMandateChallenge(h)
		if err != nil {
			return
		}
		if err := req.Validate(); err != nil || req.Intent != "" {
			t.Fatalf("accepted a request that does not validate: %+v, %v", req, err)
		}
		if ch.Nonce == "" || ch.Audience == "" || len(ch.Formats) == 0 {
			return // the client refuses these itself; MandateChallenge cannot write them
		}
		out, err := gatekeeper.MandateChallenge(ch, req)
		if err != nil {
			t.Fatalf("cannot write back %+v %+v: %v", ch, req, err)
		}
		ch2, req2, err := gatekeeper.ParseMandateChallenge(out)
		if err != nil || ch2.Nonce != ch.Nonce || ch2.Audience != ch.Audience || !slices.Equal(ch2.Formats, ch.Formats) ||
			!ch2.ExpiresAt.Equal(ch.ExpiresAt.Truncate(time.Second)) || req2.Action != req.Action || req2.Resource != req.Resource ||
			!maps.Equal(req2.Context, req.Context) {
			t.Fatalf("round trip of %q: %q: %+v %+v, %v", h, out, ch2, req2, err)
		}
	})
}

// The header parser's refusals, exactly. "MAndAte \r" was found by
// FuzzParseMandateAuthorization: Go's base64 decoder skips CR and LF, so it
// decoded to an empty presentation without an error.
func TestParseMandateAuthorizationRefusals(t *testing.T) {
	cases := []struct{ header, want string }{
		{"MAndAte \r", `gatekeeper: authorization is not unpadded base64url: byte 0xd at 0 is not base64url`},
		{"Mandate e3\n0", `gatekeeper: authorization is not unpadded base64url: byte 0xa at 2 is not base64url`},
		{"Mandate e30=", `gatekeeper: authorization is not unpadded base64url: byte 0x3d at 3 is not base64url`},
		{"Mandate e3", `gatekeeper: authorization is not unpadded base64url: illegal base64 data at input byte 0`},
		{"Mandate ", `gatekeeper: authorization carries no presentation`},
		{"Bearer e30", `gatekeeper: authorization scheme "Bearer" is not Mandate`},
	}
	for _, c := range cases {
		if _, err := gatekeeper.ParseMandateAuthorization(c.header); err == nil || err.Error() != c.want {
			t.Errorf("%q: %v, want %s", c.header, err, c.want)
		}
	}
	if vp, err := gatekeeper.ParseMandateAuthorization("mandate   e30"); err != nil || string(vp) != "{}" {
		t.Errorf("the scheme without regard to case, spaces before the token: %q, %v", vp, err)
	}
}
