package audit

import (
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/dgraph-io/badger/v4"
	"github.com/go-jose/go-jose/v4"

	"github.com/mandate-dev/mandate/credentials"
)

// CheckpointType is the JWS "typ" of a checkpoint, so that nothing else the
// verifier's key signs can pass for one.
const CheckpointType = "mandate-audit-checkpoint+jws"

// MaxCheckpointBytes bounds one stored checkpoint.
const MaxCheckpointBytes = 8 << 10

// Checkpoint is a signed statement of the log's head: record Seq has hash
// Hash, said Verifier at Time.
type Checkpoint struct {
	Seq      uint64    `json:"seq"`
	Hash     string    `json:"hash"`
	Time     time.Time `json:"time"`
	Verifier string    `json:"verifier"`
	JWS      string    `json:"-"` // the compact JWS as stored
}

// checkpointSigner signs checkpoints with the log's credentials.Signer.
type checkpointSigner struct {
	jose jose.Signer
}

func newCheckpointSigner(s credentials.Signer) (*checkpointSigner, error) {
	opts := (&jose.SignerOptions{}).WithType(CheckpointType).WithHeader("kid", s.VerificationMethod())
	js, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.EdDSA, Key: opaque{s}}, opts)
	if err != nil {
		return nil, fmt.Errorf("audit: checkpoint signer: %w", err)
	}
	return &checkpointSigner{jose: js}, nil
}

// opaque adapts a credentials.Signer (an Ed25519 DID key) to go-jose. Its
// public key is not needed: the kid header names it.
type opaque struct{ s credentials.Signer }

func (opaque) Public() *jose.JSONWebKey        { return nil }
func (opaque) Algs() []jose.SignatureAlgorithm { return []jose.SignatureAlgorithm{jose.EdDSA} }
func (o opaque) SignPayload(p []byte, alg jose.SignatureAlgorithm) ([]byte, error) {
	if alg != jose.EdDSA {
		return nil, fmt.Errorf("audit: algorithm %q refused", alg)
	}
	return o.s.Sign(p)
}

func (s *checkpointSigner) sign(c Checkpoint) (Checkpoint, error) {
	payload, err := canonical(c)
	if err != nil {
		return Checkpoint{}, err
	}
	obj, err := s.jose.Sign(payload)
	if err != nil {
		return Checkpoint{}, fmt.Errorf("audit: sign checkpoint %d: %w", c.Seq, err)
	}
	c.JWS, err = obj.CompactSerialize()
	if err != nil {
		return Checkpoint{}, fmt.Errorf("audit: sign checkpoint %d: %w", c.Seq, err)
	}
	return c, nil
}

// writeCheckpoint signs h and stores the checkpoint in txn.
func (l *Log) writeCheckpoint(txn *badger.Txn, h head, at time.Time) (Checkpoint, error) {
	c, err := l.jose.sign(Checkpoint{Seq: h.Seq, Hash: h.Hash, Time: at.UTC().Truncate(time.Microsecond), Verifier: l.o.Signer.DID()})
	if err != nil {
		return Checkpoint{}, err
	}
	if err := txn.Set(checkpointKey(c.Seq), []byte(c.JWS)); err != nil {
		return Checkpoint{}, fmt.Errorf("audit: write checkpoint %d: %w", c.Seq, err)
	}
	return c, nil
}

// Checkpoint signs the current head in its own transaction and stores the
// checkpoint beside the records. An empty log has nothing to sign.
func (l *Log) Checkpoint() (Checkpoint, error) {
	var c Checkpoint
	var err error
	// A concurrent Append moves the head and makes this transaction
	// conflict; the next attempt signs the newer head.
	for range 3 {
		err = l.db.Update(func(txn *badger.Txn) error {
			h, err := readHead(txn)
			if err != nil {
				return err
			}
			if h.Seq == 0 {
				return ErrEmpty
			}
			c, err = l.writeCheckpoint(txn, h, l.o.Now())
			return err
		})
		if !errors.Is(err, badger.ErrConflict) {
			break
		}
	}
	if err != nil {
		return Checkpoint{}, err
	}
	return c, nil
}

// ExportCheckpoints writes every stored checkpoint's compact JWS, one a
// line, in Seq order.
func (rd *Reader) ExportCheckpoints(w io.Writer) error {
	return rd.db.View(func(txn *badger.Txn) error {
		return eachValue(txn, checkpointPrefix, MaxCheckpointBytes, func(_ uint64, v []byte) error {
			return writeLine(w, v)
		})
	})
}
