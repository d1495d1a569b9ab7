package demo

import (
	"encoding/json"
	"fmt"

	"github.com/go-jose/go-jose/v4"

	"github.com/mandate-dev/mandate/credentials"
	"github.com/mandate-dev/mandate/credentials/sdjwt"
	"github.com/mandate-dev/mandate/credentials/sdpoa"
	"github.com/mandate-dev/mandate/presentation"
)

// castSDJWT issues the same two-link chain as SD-JWT (Alice → assistant,
// five grants; assistant → summarizer, email:read) and returns its steps.
func (w *world) castSDJWT(t credentials.Template, childTemplate credentials.Template) ([]func() Step, error) {
	root, err := sdpoa.Issue(w.principal, t, sdpoa.Options{IssueOptions: credentials.IssueOptions{Status: w.principal.StatusRegistry()}, Decoys: 2})
	if err != nil {
		return nil, err
	}
	if err := publish(w.principal); err != nil {
		return nil, err
	}
	child, err := sdpoa.Delegate(w.assistant, []*sdjwt.SDJWT{root}, childTemplate,
		sdpoa.Options{IssueOptions: credentials.IssueOptions{Status: w.assistant.StatusRegistry(), CheckPurpose: w.purposeCheck}, Decoys: 2})
	if err != nil {
		return nil, err
	}
	if err := publish(w.assistant); err != nil {
		return nil, err
	}
	chain := []*sdjwt.SDJWT{root, child}
	b, err := sdpoa.EncodeChain(chain)
	if err != nil {
		return nil, err
	}
	leaf, err := sdpoa.VerifyLink(child.String())
	if err != nil {
		return nil, err
	}
	if err := w.summarizer.PutChain(leaf.Credential.ID, b); err != nil {
		return nil, err
	}
	return []func() Step{
		func() Step {
			s, _ := w.presentSDJWT(chain, readMail, nil)
			s.Name, s.Expected = "summarizer reads mail as SD-JWT, showing only email:read", "ALLOW"
			return s
		},
		func() Step {
			// The summarizer slips in the Disclosure of the root's
			// email-draft grant as if its own credential carried it.
			swap := func(links []*sdjwt.SDJWT) {
				for _, d := range root.Disclosures {
					if g, ok := d.Value.(map[string]any); ok && g["id"] == "urn:mandate:grant:email-draft" {
						links[1].Disclosures = append(links[1].Disclosures, d)
					}
				}
			}
			s, _ := w.presentSDJWT(chain, draftMail, swap)
			s.Name, s.Expected = "SD-JWT with a Disclosure swapped in from another credential", "DENY SIGNATURE_INVALID"
			return s
		},
	}, nil
}

// presentSDJWT is the summarizer presenting its SD-JWT chain for req over
// gRPC; tamper, when set, changes the selected links before the leaf's key
// binding JWT is signed (a dishonest holder).
func (w *world) presentSDJWT(chain []*sdjwt.SDJWT, req presentation.Request, tamper func([]*sdjwt.SDJWT)) (Step, error) {
	fail := func(err error) (Step, error) {
		return decisionStep("", "summarizer", req, "", presentation.Decision{}, err), err
	}
	ch, err := w.client.Challenge(w.ctx)
	if err != nil {
		return fail(err)
	}
	var vp []byte
	held := 0
	if tamper == nil {
		sel, err := presentation.SelectSDJWT([][]*sdjwt.SDJWT{chain}, w.summarizer.DID(), req.Action, req.Resource, w.now())
		if err != nil {
			return fail(err)
		}
		if vp, err = presentation.PresentSDJWT(w.summarizer, sel, ch, req, w.now()); err != nil {
			return fail(err)
		}
		for _, n := range sel.Held {
			held += n
		}
	} else {
		creds, err := sdpoa.VerifyChain(chain)
		if err != nil {
			return fail(err)
		}
		for _, c := range creds {
			held += len(c.Subject.Grants)
		}
		if vp, err = w.tamperedSDJWT(chain, ch, req, tamper); err != nil {
			return fail(err)
		}
	}
	d, err := w.client.SendFormat(w.ctx, presentation.FormatSDJWT, vp, req)
	s := decisionStep("", "summarizer", req, "", d, err)
	s.Format, s.GrantsHeld = presentation.FormatSDJWT, held
	s.GrantsSeen, err = disclosed(vp)
	if err != nil {
		return fail(err)
	}
	return s, nil
}

// tamperedSDJWT selects email:read at each link, lets tamper change the
// links, and signs the leaf's key binding JWT over the result.
func (w *world) tamperedSDJWT(chain []*sdjwt.SDJWT, ch presentation.Challenge, req presentation.Request, tamper func([]*sdjwt.SDJWT)) ([]byte, error) {
	links := make([]*sdjwt.SDJWT, len(chain))
	for i, l := range chain {
		s, err := sdpoa.Select(l, "urn:mandate:grant:email-read")
		if err != nil {
			return nil, err
		}
		links[i] = s
	}
	tamper(links)
	key, err := sdpoa.KeySigner(w.summarizer)
	if err != nil {
		return nil, err
	}
	h, err := sdjwt.NewHolder(key, jose.EdDSA)
	if err != nil {
		return nil, err
	}
	digest, err := req.Digest()
	if err != nil {
		return nil, err
	}
	leaf, err := h.Present(links[1], sdjwt.KeyBindingClaims{Nonce: ch.Nonce, Audience: ch.Audience, IssuedAt: w.now(),
		Extra: map[string]any{sdpoa.RequestDigestClaim: digest}})
	if err != nil {
		return nil, err
	}
	return json.Marshal([]string{links[0].String(), leaf})
}

// disclosed counts the grant Disclosures a verifier is shown.
func disclosed(vp []byte) (int, error) {
	var links []string
	if err := json.Unmarshal(vp, &links); err != nil {
		return 0, fmt.Errorf("demo: sd-jwt presentation: %w", err)
	}
	n := 0
	for _, l := range links {
		s, err := sdjwt.Parse(l, sdjwt.DefaultLimits)
		if err != nil {
			return 0, err
		}
		n += len(s.Disclosures)
	}
	return n, nil
}
