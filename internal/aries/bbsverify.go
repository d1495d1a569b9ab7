package aries

import (
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"sync"

	"github.com/hyperledger/aries-framework-go/component/kmscrypto/crypto/primitive/bbs12381g2pub"
)

// bbsMu serialises every call into aries' bbs12381g2pub. That package keeps
// its curve arithmetic in package-level kilic G1/G2 values whose methods use
// shared scratch buffers, and the pairing engine normalises the public key
// point in place: concurrent use is a data race (see bbs_aries_test.go).
var bbsMu sync.Mutex

// Sizes of the derived proof encoding (aries' bbs12381g2pub, from the
// MATTR bbs-signatures layout): compressed G1 points and Fr scalars.
const (
	g1Size       = 48
	frSize       = 32
	proofVC1Size = g1Size + 4 + 2*frSize // commitment, count, 2 responses
)

// generatorCache keeps aries' PublicKeyWithGenerators per issuer key and
// message count. Computing one costs count+1 hash-to-curve operations, about
// half of a derived-proof verification; the value depends only on the key
// bytes and the count, so it is safe to reuse. The cache is bounded: when
// full, the oldest entry goes.
type generatorCache struct {
	mu    sync.Mutex
	max   int
	order []genKey
	m     map[genKey]*bbs12381g2pub.PublicKeyWithGenerators
	hits  uint64
	miss  uint64
}

type genKey struct {
	pub   [sha256.Size]byte
	count int
}

func newGeneratorCache(max int) *generatorCache {
	return &generatorCache{max: max, m: make(map[genKey]*bbs12381g2pub.PublicKeyWithGenerators, max)}
}

// get returns the generators; the caller holds bbsMu.
func (c *generatorCache) get(pub []byte, count int) (*bbs12381g2pub.PublicKeyWithGenerators, error) {
	k := genKey{pub: sha256.Sum256(pub), count: count}
	c.mu.Lock()
	g, ok := c.m[k]
	if ok {
		c.hits++
	} else {
		c.miss++
	}
	c.mu.Unlock()
	if ok {
		return g, nil
	}
	pk, err := bbs12381g2pub.UnmarshalPublicKey(pub)
	if err != nil {
		return nil, fmt.Errorf("parse public key: %w", err)
	}
	g, err = pk.ToPublicKeyWithGenerators(count)
	if err != nil {
		return nil, fmt.Errorf("generators: %w", err)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, dup := c.m[k]; !dup {
		if len(c.order) >= c.max {
			delete(c.m, c.order[0])
			c.order = c.order[1:]
		}
		c.order = append(c.order, k)
		c.m[k] = g
	}
	return g, nil
}

// CacheStats reports generator cache hits and misses (for tests and benchmarks).
func (b *BBS) CacheStats() (hits, misses uint64) {
	b.gens.mu.Lock()
	defer b.gens.mu.Unlock()
	return b.gens.hits, b.gens.miss
}

// verifyProof is aries' BBSG2Pub.VerifyProof with three changes: the
// generators come from the cache; the encoding is checked completely before
// aries parses it (aries slices without bounds checks and panics on short
// input, ignores trailing bytes, and lets the proof claim up to 65535
// messages, each costing a hash-to-curve); and the number of messages must
// equal the number the proof reveals (aries checks only "not more", so extra
// statements given to its verifier are not covered by the proof).
func (b *BBS) verifyProof(msgs [][]byte, proof, nonce, pub []byte) error {
	count, revealed, rest, err := parsePayload(proof)
	if err != nil {
		return err
	}
	if len(revealed) != len(msgs) {
		return fmt.Errorf("proof reveals %d messages, document has %d statements", len(revealed), len(msgs))
	}
	if err := checkProofLayout(rest, count-len(revealed)); err != nil {
		return err
	}
	bbsMu.Lock()
	defer bbsMu.Unlock()
	sp, err := bbs12381g2pub.ParseSignatureProof(rest)
	if err != nil {
		return fmt.Errorf("parse signature proof: %w", err)
	}
	gens, err := b.gens.get(pub, count)
	if err != nil {
		return err
	}
	frs := make([]*bbs12381g2pub.SignatureMessage, len(msgs))
	shown := make(map[int]*bbs12381g2pub.SignatureMessage, len(msgs))
	for i, m := range msgs {
		frs[i] = bbs12381g2pub.ParseSignatureMessage(m)
		shown[revealed[i]] = frs[i]
	}
	challenge := sp.GetBytesForChallenge(shown, gens)
	challenge = append(challenge, bbs12381g2pub.ParseProofNonce(nonce).ToBytes()...)
	// aries hashes the challenge to Fr with the same function it uses for
	// messages (frFromOKM); ParseSignatureMessage is its exported door.
	c := bbs12381g2pub.ParseSignatureMessage(challenge).FR
	if err := sp.Verify(c, gens, shown, frs); err != nil {
		return fmt.Errorf("proof: %w", err)
	}
	return nil
}

// parsePayload reads the message count and revealed-index bit vector that
// start a derived proof.
func parsePayload(p []byte) (int, []int, []byte, error) {
	if len(p) < 2 {
		return 0, nil, nil, errors.New("proof too short")
	}
	count := int(binary.BigEndian.Uint16(p))
	if count == 0 || count > MaxBBSMessages {
		return 0, nil, nil, fmt.Errorf("proof claims %d messages, want 1..%d", count, MaxBBSMessages)
	}
	n := 2 + count/8 + 1
	if len(p) < n {
		return 0, nil, nil, errors.New("proof too short for its bit vector")
	}
	bv := p[2:n] // big-endian bytes, least significant bit first within the last byte
	var revealed []int
	for i := 0; i < len(bv)*8; i++ {
		if bv[len(bv)-1-i/8]>>(i%8)&1 == 0 {
			continue
		}
		if i >= count {
			return 0, nil, nil, fmt.Errorf("proof reveals index %d of %d messages", i, count)
		}
		revealed = append(revealed, i)
	}
	if len(revealed) == 0 {
		return 0, nil, nil, errors.New("proof reveals nothing")
	}
	return count, revealed, p[n:], nil
}

// checkProofLayout checks A', Abar, d, the first Schnorr proof (2 responses)
// and the second (2 + hidden responses), with no byte left over.
func checkProofLayout(p []byte, hidden int) error {
	want := 3*g1Size + 4 + proofVC1Size + g1Size + 4 + (2+hidden)*frSize
	if len(p) != want {
		return fmt.Errorf("signature proof is %d bytes, want %d for %d hidden messages", len(p), want, hidden)
	}
	if p[0]&0x40 != 0 || p[g1Size]&0x40 != 0 {
		return errors.New("signature proof: A' or Abar is the identity")
	}
	off := 3 * g1Size
	if binary.BigEndian.Uint32(p[off:]) != proofVC1Size {
		return errors.New("signature proof: first proof has the wrong length")
	}
	if binary.BigEndian.Uint32(p[off+4+g1Size:]) != 2 {
		return errors.New("signature proof: first proof has the wrong response count")
	}
	off += 4 + proofVC1Size
	if binary.BigEndian.Uint32(p[off+g1Size:]) != uint32(2+hidden) {
		return errors.New("signature proof: second proof has the wrong response count")
	}
	return nil
}

// VerifyDerivedAries is VerifyDerived with aries' own BBSG2Pub.VerifyProof
// (generators recomputed on every call, none of the checks above). It is
// for benchmarks that compare the two; never use it to decide anything.
func (b *BBS) VerifyDerivedAries(doc map[string]any, nonce, pub []byte) error {
	_, proofValue, err := readDerivedProof(doc, nonce)
	if err != nil {
		return err
	}
	msgs, err := b.derivedStatements(doc)
	if err != nil {
		return err
	}
	bbsMu.Lock()
	defer bbsMu.Unlock()
	return bbs12381g2pub.New().VerifyProof(msgs, proofValue, nonce, pub)
}
