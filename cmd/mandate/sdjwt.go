package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/spf13/cobra"

	"github.com/mandate-dev/mandate/credentials"
	"github.com/mandate-dev/mandate/credentials/sdjwt"
	"github.com/mandate-dev/mandate/credentials/sdpoa"
	"github.com/mandate-dev/mandate/did"
	"github.com/mandate-dev/mandate/presentation"
)

// maxJWKBytes bounds an --issuer-key value or file.
const maxJWKBytes = 16 << 10

// sdjwtVerifyOptions is `sd-jwt verify`'s options.
type sdjwtVerifyOptions struct {
	issuerKey string
	typ       string
	nonce     string
	aud       string
	maxAge    time.Duration
}

func newSDJWTCmd(io *streams) *cobra.Command {
	cmd := &cobra.Command{Use: "sd-jwt", Short: "SD-JWT (RFC 9901) tools"}
	var o sdjwtVerifyOptions
	verify := &cobra.Command{
		Use:   "verify FILE",
		Short: "Verify a compact SD-JWT (with --nonce and --aud: an SD-JWT+KB) and print the disclosed payload as JSON",
		Long: "Checks the issuer signature with --issuer-key, every Disclosure, and exp/nbf. With --nonce and --aud the\n" +
			"key binding JWT is required and checked (nonce, aud, iat within --max-age, sd_hash); without them a key binding\n" +
			"JWT is refused. On failure the reason code and the error go to stderr and the exit code is 1.",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			claims, err := o.verify(args[0], time.Now())
			var in inputError
			if err != nil && !errors.As(err, &in) {
				return fmt.Errorf("%s: %w", presentation.SDJWTReason(err), err)
			}
			if err != nil {
				return err
			}
			enc := json.NewEncoder(io.out)
			enc.SetIndent("", "  ")
			return enc.Encode(claims)
		},
	}
	fl := verify.Flags()
	fl.StringVar(&o.issuerKey, "issuer-key", "", "the issuer's public key: a JWK (JSON), @FILE holding one, or a did:key (required)")
	fl.StringVar(&o.typ, "typ", sdpoa.Type, "the issuer-signed JWT's typ header")
	fl.StringVar(&o.nonce, "nonce", "", "the challenge nonce the key binding JWT must carry")
	fl.StringVar(&o.aud, "aud", "", "the audience the key binding JWT must name")
	fl.DurationVar(&o.maxAge, "max-age", 5*time.Minute, "how old the key binding JWT's iat may be")
	_ = verify.MarkFlagRequired("issuer-key")
	cmd.AddCommand(verify)
	return cmd
}

func (o *sdjwtVerifyOptions) verify(path string, now time.Time) (map[string]any, error) {
	if (o.nonce == "") != (o.aud == "") {
		return nil, inputError{errors.New("give --nonce and --aud together (or neither)")}
	}
	key, err := o.key()
	if err != nil {
		return nil, inputError{err}
	}
	data, err := readLimited(path, sdjwt.DefaultLimits.MaxBytes)
	if err != nil {
		return nil, inputError{err}
	}
	var opts []sdjwt.Option
	if o.nonce == "" {
		opts = append(opts, sdjwt.InsecureSkipKeyBinding())
	}
	v, err := sdjwt.NewVerifier(key, o.typ, opts...)
	if err != nil {
		return nil, err
	}
	compact := strings.TrimSpace(string(data))
	if strings.HasPrefix(compact, "[") {
		return nil, inputError{fmt.Errorf("%s is a chain file (a JSON array of SD-JWTs, root first); sd-jwt verify takes one compact SD-JWT: verify a chain with `mandate wallet import`, or give one link", path)}
	}
	s, err := sdjwt.Parse(compact, sdjwt.DefaultLimits)
	if err != nil {
		return nil, err
	}
	if o.nonce == "" && s.KeyBinding != "" {
		return nil, fmt.Errorf("%w: a key binding JWT is present: give --nonce and --aud to check it", sdjwt.ErrKeyBinding)
	}
	verified, err := v.VerifyParsed(s)
	if err != nil {
		return nil, err
	}
	if err := verified.Validate(now, sdjwt.Validation{Nonce: o.nonce, Audience: o.aud, MaxAge: o.maxAge}); err != nil {
		return nil, err
	}
	return verified.Claims, nil
}

// inputError is a bad flag or file, reported without a reason code.
type inputError struct{ error }

func (e inputError) Unwrap() error { return e.error }

// key reads --issuer-key: a public JWK, inline or from @FILE, or a
// did:key (its Ed25519 key).
func (o *sdjwtVerifyOptions) key() (any, error) {
	if strings.HasPrefix(o.issuerKey, "did:") {
		pub, err := did.ParseKey(o.issuerKey)
		if err != nil {
			return nil, fmt.Errorf("--issuer-key: %w", err)
		}
		return pub, nil
	}
	raw := []byte(o.issuerKey)
	if name, ok := strings.CutPrefix(o.issuerKey, "@"); ok {
		b, err := readLimited(name, maxJWKBytes)
		if err != nil {
			return nil, fmt.Errorf("--issuer-key: %w", err)
		}
		raw = b
	}
	if len(raw) > maxJWKBytes {
		return nil, fmt.Errorf("--issuer-key: longer than %d bytes", maxJWKBytes)
	}
	var jwk jose.JSONWebKey
	if err := jwk.UnmarshalJSON(raw); err != nil {
		return nil, fmt.Errorf("--issuer-key: not a JWK: %w", err)
	}
	if !jwk.Valid() || !jwk.IsPublic() {
		return nil, errors.New("--issuer-key: give the issuer's public key (an OKP, EC key; never a private or symmetric key)")
	}
	return jwk.Key, nil
}

// checkFormat reads a --format flag: "" (negotiate or the default), ldp,
// sd-jwt or bbs.
func checkFormat(f string) error {
	switch f {
	case "", presentation.FormatLDP, presentation.FormatSDJWT, presentation.FormatBBS:
		return nil
	}
	return fmt.Errorf("--format %.32q: want ldp, sd-jwt or bbs", f)
}

// sdjwtCredentials verifies the held SD-JWT chains, for listing them.
func sdjwtCredentials(chains [][]*sdjwt.SDJWT) ([][]*credentials.Credential, error) {
	out := make([][]*credentials.Credential, 0, len(chains))
	for _, c := range chains {
		creds, err := sdpoa.VerifyChain(c)
		if err != nil {
			return nil, err
		}
		out = append(out, creds)
	}
	return out, nil
}
