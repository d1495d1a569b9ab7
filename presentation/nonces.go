package presentation

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/dgraph-io/badger/v4"
)

// Errors of the nonce store; the verifier maps each to a reason code.
var (
	ErrChallengeUnknown = errors.New("presentation: challenge unknown")
	ErrChallengeExpired = errors.New("presentation: challenge expired")
	ErrReplay           = errors.New("presentation: challenge already used")
)

// NonceStore keeps issued challenges in badger and lets each be used once.
type NonceStore struct {
	db   *badger.DB
	rand io.Reader
}

// NewNonceStore keeps nonces in db (the verifier's store) under "nonce/".
// rnd is the randomness source (nil: crypto/rand).
func NewNonceStore(db *badger.DB, rnd io.Reader) *NonceStore {
	if rnd == nil {
		rnd = rand.Reader
	}
	return &NonceStore{db: db, rand: rnd}
}

type nonceRecord struct {
	Audience  string    `json:"aud"`
	ExpiresAt time.Time `json:"exp"`
	Used      bool      `json:"used"`
}

// keepAfterExpiry is how long a spent or expired nonce stays on record, so
// a late replay is named REPLAY or CHALLENGE_EXPIRED rather than unknown.
const keepAfterExpiry = time.Hour

// Issue records a fresh 256-bit nonce for audience, valid from now until expires.
func (s *NonceStore) Issue(audience string, now, expires time.Time) (string, error) {
	var b [32]byte
	if _, err := io.ReadFull(s.rand, b[:]); err != nil {
		return "", fmt.Errorf("presentation: nonce: %w", err)
	}
	nonce := base64.RawURLEncoding.EncodeToString(b[:])
	rec, _ := json.Marshal(nonceRecord{Audience: audience, ExpiresAt: expires})
	err := s.db.Update(func(txn *badger.Txn) error {
		return txn.SetEntry(badger.NewEntry(nonceKey(nonce), rec).WithTTL(retention(now, expires)))
	})
	if err != nil {
		return "", fmt.Errorf("presentation: store nonce: %w", err)
	}
	return nonce, nil
}

// Consume marks nonce used and returns the audience it was issued for. It
// is atomic: of two concurrent consumers, exactly one succeeds.
func (s *NonceStore) Consume(nonce string, now time.Time) (string, error) {
	if nonce == "" || len(nonce) > 128 {
		return "", fmt.Errorf("%w: the challenge is %d bytes, want 1..128", ErrChallengeUnknown, len(nonce))
	}
	var aud string
	for attempt := 0; attempt < 3; attempt++ {
		err := s.db.Update(func(txn *badger.Txn) error {
			item, err := txn.Get(nonceKey(nonce))
			if errors.Is(err, badger.ErrKeyNotFound) {
				return ErrChallengeUnknown
			}
			if err != nil {
				return err
			}
			var rec nonceRecord
			if err := item.Value(func(v []byte) error { return json.Unmarshal(v, &rec) }); err != nil {
				return err
			}
			switch {
			case rec.Used:
				return ErrReplay
			case !now.Before(rec.ExpiresAt):
				return ErrChallengeExpired
			}
			rec.Used = true
			aud = rec.Audience
			b, _ := json.Marshal(rec)
			return txn.SetEntry(badger.NewEntry(nonceKey(nonce), b).WithTTL(retention(now, rec.ExpiresAt)))
		})
		if errors.Is(err, badger.ErrConflict) {
			continue // another consumer raced us; read again and see it used
		}
		return aud, err
	}
	return "", ErrReplay
}

// retention is how long badger keeps a nonce record. It is measured on the
// injected clock and never shorter than keepAfterExpiry.
func retention(now, expires time.Time) time.Duration {
	return max(expires.Sub(now), 0) + keepAfterExpiry
}

func nonceKey(n string) []byte { return []byte("nonce/" + n) }
