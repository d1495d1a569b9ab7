package audit_test

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/dgraph-io/badger/v4"
	"github.com/go-jose/go-jose/v4"

	"github.com/mandate-dev/mandate/credentials"
	"github.com/mandate-dev/mandate/did"
	"github.com/mandate-dev/mandate/internal/testkeys"
	"github.com/mandate-dev/mandate/presentation/audit"
)

var mallory = testkeys.New("mallory")

func mustVerify(t testing.TB, db *badger.DB) audit.Report {
	t.Helper()
	rep, err := audit.Verify(context.Background(), db, did.KeyResolver{})
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

func recKey(seq uint64) string { return fmt.Sprintf("audit/rec/%020d", seq) }
func cpKey(seq uint64) string  { return fmt.Sprintf("audit/ckpt/%020d", seq) }
func headJSON(seq uint64, hash string) []byte {
	return fmt.Appendf(nil, `{"hash":%q,"seq":%d}`, hash, seq)
}

func get(t *testing.T, db *badger.DB, key string) []byte {
	t.Helper()
	var v []byte
	err := db.View(func(txn *badger.Txn) error {
		item, err := txn.Get([]byte(key))
		if err != nil {
			return err
		}
		v, err = item.ValueCopy(nil)
		return err
	})
	if err != nil {
		t.Fatalf("get %s: %v", key, err)
	}
	return v
}

func set(t *testing.T, db *badger.DB, key string, v []byte) {
	t.Helper()
	if err := db.Update(func(txn *badger.Txn) error { return txn.Set([]byte(key), v) }); err != nil {
		t.Fatal(err)
	}
}

func del(t *testing.T, db *badger.DB, keys ...string) {
	t.Helper()
	err := db.Update(func(txn *badger.Txn) error {
		for _, k := range keys {
			if err := txn.Delete([]byte(k)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// rehash is a forger who knows the format: it edits a stored record and
// recomputes its hash per the spec (SHA-256 of the JCS with hash "").
func rehash(t *testing.T, stored []byte, edit func(map[string]any)) ([]byte, string) {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(stored))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		t.Fatal(err)
	}
	edit(m)
	m["hash"] = ""
	c, err := credentials.CanonicalJSON(m)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(c)
	m["hash"] = hex.EncodeToString(sum[:])
	out, err := credentials.CanonicalJSON(m)
	if err != nil {
		t.Fatal(err)
	}
	return out, m["hash"].(string)
}

// rewrite edits and rehashes records from..to, relinking each to the one
// before, and moves the head: a forger without the verifier's key. It
// returns the new hashes by seq.
func rewrite(t *testing.T, db *badger.DB, from, to uint64, edit func(map[string]any)) map[uint64]string {
	t.Helper()
	hashes := map[uint64]string{}
	for seq := from; seq <= to; seq++ {
		v, h := rehash(t, get(t, db, recKey(seq)), func(m map[string]any) {
			edit(m)
			if seq > from {
				m["prev"] = hashes[seq-1]
			}
		})
		set(t, db, recKey(seq), v)
		hashes[seq] = h
	}
	set(t, db, "audit/head", headJSON(to, hashes[to]))
	return hashes
}

// jws builds a compact JWS by hand, so that tests can make the ones
// go-jose would refuse to make.
func jws(header map[string]any, payload any, sign func([]byte) []byte) []byte {
	h, _ := json.Marshal(header)
	p, _ := json.Marshal(payload)
	input := base64.RawURLEncoding.EncodeToString(h) + "." + base64.RawURLEncoding.EncodeToString(p)
	return []byte(input + "." + base64.RawURLEncoding.EncodeToString(sign([]byte(input))))
}

func ed25519Sign(k *testkeys.Key) func([]byte) []byte {
	return func(b []byte) []byte { s, _ := k.Sign(b); return s }
}

func cpHeader(alg, kid string) map[string]any {
	return map[string]any{"alg": alg, "kid": kid, "typ": audit.CheckpointType}
}

func cpPayload(seq uint64, hash, by string) map[string]any {
	return map[string]any{"seq": seq, "hash": hash, "time": "2026-03-01T09:00:10Z", "verifier": by}
}

func TestVerify(t *testing.T) {
	db := openDB(t, t.TempDir())
	if rep := mustVerify(t, db); !reflect.DeepEqual(rep, audit.Report{}) {
		t.Fatalf("empty log: %+v", rep)
	}
	l := newLog(t, db, 5)
	recs := appendN(t, db, l, 12)
	want := audit.Report{Records: 12, Checkpoints: 2, LastSeq: 12, LastHash: recs[11].Hash, Signers: []string{verifier.DID()}}
	if rep := mustVerify(t, db); !reflect.DeepEqual(rep, want) {
		t.Fatalf("got %+v, want %+v", rep, want)
	}
}

func TestCheckpoints(t *testing.T) {
	db := openDB(t, t.TempDir())
	l := newLog(t, db, 5)
	if _, err := l.Checkpoint(); err == nil || err.Error() != "audit: checkpoint: the log is empty" {
		t.Fatalf("checkpoint of an empty log: %v", err)
	}
	recs := appendN(t, db, l, 12)
	c, err := l.Checkpoint()
	if err != nil || c.Seq != 12 || c.Hash != recs[11].Hash || c.Verifier != verifier.DID() {
		t.Fatalf("Checkpoint() = %+v, %v", c, err)
	}
	var buf bytes.Buffer
	if err := l.ExportCheckpoints(&buf); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
	if len(lines) != 3 || lines[2] != c.JWS {
		t.Fatalf("exported checkpoints: %q", buf.String())
	}
	for i, seq := range []uint64{5, 10, 12} {
		obj, err := jose.ParseSignedCompact(lines[i], []jose.SignatureAlgorithm{jose.EdDSA})
		if err != nil {
			t.Fatal(err)
		}
		if h := obj.Signatures[0].Protected; h.KeyID != verifier.VerificationMethod() || h.ExtraHeaders[jose.HeaderType] != audit.CheckpointType {
			t.Fatalf("checkpoint %d header: %+v", seq, h)
		}
		payload, err := obj.Verify(verifier.PublicKey())
		if err != nil {
			t.Fatal(err)
		}
		want := fmt.Sprintf(`{"hash":"%s","seq":%d,"time":"%s","verifier":"%s"}`, recs[seq-1].Hash, seq,
			recs[seq-1].Time.Format("2006-01-02T15:04:05Z07:00"), verifier.DID())
		if seq == 12 {
			want = strings.Replace(want, "09:00:12Z", "09:00:13Z", 1) // Checkpoint() read the clock again
		}
		if string(payload) != want {
			t.Fatalf("checkpoint %d payload:\n got %s\nwant %s", seq, payload, want)
		}
	}
	if rep := mustVerify(t, db); rep.Checkpoints != 3 {
		t.Fatalf("report %+v", rep)
	}
}

// TestTamper changes the store behind the log's back, one way per case, and
// checks that Verify names the first bad record and what happened to it.
func TestTamper(t *testing.T) {
	V, M := verifier.DID(), mallory.DID()
	tests := []struct {
		name   string
		tamper func(t *testing.T, db *badger.DB, recs []audit.Record)
		want   string
	}{
		{"edit one field", func(t *testing.T, db *badger.DB, _ []audit.Record) {
			v := get(t, db, recKey(7))
			set(t, db, recKey(7), bytes.Replace(v, []byte(`"decision":"DENY"`), []byte(`"decision":"ALLOW"`), 1))
		}, "record 7 was altered (hash mismatch)"},
		{"edit and recompute the hash", func(t *testing.T, db *badger.DB, _ []audit.Record) {
			v, _ := rehash(t, get(t, db, recKey(7)), func(m map[string]any) { m["decision"] = "ALLOW" })
			set(t, db, recKey(7), v)
		}, "record 7 was altered or replaced (record 8 does not link to it)"},
		{"edit the last record and recompute the hash", func(t *testing.T, db *badger.DB, _ []audit.Record) {
			v, _ := rehash(t, get(t, db, recKey(12)), func(m map[string]any) { m["liable"] = bob })
			set(t, db, recKey(12), v)
		}, "record 12 was altered (the head's hash does not match)"},
		{"rewrite the chain and the head", func(t *testing.T, db *badger.DB, _ []audit.Record) {
			rewrite(t, db, 7, 12, func(m map[string]any) { m["decision"] = "ALLOW" })
		}, "records 6 to 10 were rewritten (checkpoint 10 does not match record 10)"},
		{"rewrite as another verifier and sign its checkpoint", func(t *testing.T, db *badger.DB, _ []audit.Record) {
			h := rewrite(t, db, 7, 12, func(m map[string]any) { m["decision"] = "ALLOW"; m["verifier"] = M })
			set(t, db, cpKey(10), jws(cpHeader("EdDSA", mallory.VerificationMethod()), cpPayload(10, h[10], M), ed25519Sign(mallory)))
		}, fmt.Sprintf("record 7 was altered (verifier %s is not the log's verifier %s)", M, V)},
		{"a record naming no verifier", func(t *testing.T, db *badger.DB, _ []audit.Record) {
			v, _ := rehash(t, get(t, db, recKey(1)), func(m map[string]any) { m["verifier"] = "" })
			set(t, db, recKey(1), v)
		}, "record 1 was altered (it names no verifier)"},
		{"malformed value", func(t *testing.T, db *badger.DB, _ []audit.Record) {
			set(t, db, recKey(7), []byte(`{"seq":7`))
		}, "record 7 was altered (malformed: unexpected EOF)"},
		{"unknown field", func(t *testing.T, db *badger.DB, _ []audit.Record) {
			set(t, db, recKey(7), bytes.Replace(get(t, db, recKey(7)), []byte(`{`), []byte(`{"evil":1,`), 1))
		}, `record 7 was altered (malformed: json: unknown field "evil")`},
		{"not canonical", func(t *testing.T, db *badger.DB, _ []audit.Record) {
			var buf bytes.Buffer
			json.Indent(&buf, get(t, db, recKey(7)), "", " ")
			set(t, db, recKey(7), buf.Bytes())
		}, "record 7 was altered (not in canonical form)"},
		{"delete a record", func(t *testing.T, db *badger.DB, _ []audit.Record) {
			del(t, db, recKey(7))
		}, "record 7 is missing"},
		{"delete the first record", func(t *testing.T, db *badger.DB, _ []audit.Record) {
			del(t, db, recKey(1))
		}, "record 1 is missing"},
		{"swap two records", func(t *testing.T, db *badger.DB, _ []audit.Record) {
			a, b := get(t, db, recKey(7)), get(t, db, recKey(8))
			set(t, db, recKey(7), b)
			set(t, db, recKey(8), a)
		}, "record 7 is out of order (it holds record 8)"},
		{"a key that is not an audit key", func(t *testing.T, db *badger.DB, _ []audit.Record) {
			set(t, db, "audit/rec/7", get(t, db, recKey(7)))
		}, `key "audit/rec/7" is not an audit key`},
		{"truncate the tail, head kept", func(t *testing.T, db *badger.DB, _ []audit.Record) {
			del(t, db, recKey(11), recKey(12))
		}, "log truncated after record 10 (head 12)"},
		{"truncate past a checkpoint, head kept", func(t *testing.T, db *badger.DB, _ []audit.Record) {
			del(t, db, recKey(9), recKey(10), recKey(11), recKey(12))
		}, "log truncated after record 8 (checkpoint 10 / head 12)"},
		{"truncate past a checkpoint, head moved back", func(t *testing.T, db *badger.DB, recs []audit.Record) {
			del(t, db, recKey(9), recKey(10), recKey(11), recKey(12))
			set(t, db, "audit/head", headJSON(8, recs[7].Hash))
		}, "log truncated after record 8 (checkpoint 10 / head 8)"},
		{"head removed", func(t *testing.T, db *badger.DB, _ []audit.Record) {
			del(t, db, "audit/head")
		}, "the log head is missing (last record 12)"},
		{"head malformed", func(t *testing.T, db *badger.DB, _ []audit.Record) {
			set(t, db, "audit/head", []byte(`{"seq":"12"}`))
		}, "the log head is malformed (json: cannot unmarshal string into Go struct field head.seq of type uint64)"},
		{"record added outside the log", func(t *testing.T, db *badger.DB, recs []audit.Record) {
			v, _ := rehash(t, get(t, db, recKey(12)), func(m map[string]any) { m["seq"] = json.Number("13"); m["prev"] = recs[11].Hash })
			set(t, db, recKey(13), v)
		}, "record 13 was added outside the log (head 12)"},
		{"checkpoint forged with another key", func(t *testing.T, db *badger.DB, recs []audit.Record) {
			set(t, db, cpKey(10), jws(cpHeader("EdDSA", mallory.VerificationMethod()), cpPayload(10, recs[9].Hash, M), ed25519Sign(mallory)))
		}, fmt.Sprintf("checkpoint 10 signature invalid (signed by %s, not by the log's verifier %s)", M, V)},
		{"checkpoint forged with another key under the verifier's kid", func(t *testing.T, db *badger.DB, recs []audit.Record) {
			set(t, db, cpKey(10), jws(cpHeader("EdDSA", verifier.VerificationMethod()), cpPayload(10, recs[9].Hash, V), ed25519Sign(mallory)))
		}, "checkpoint 10 signature invalid"},
		{"checkpoint beyond the records forged with another key", func(t *testing.T, db *badger.DB, _ []audit.Record) {
			set(t, db, cpKey(20), jws(cpHeader("EdDSA", mallory.VerificationMethod()), cpPayload(20, "00", M), ed25519Sign(mallory)))
		}, fmt.Sprintf("checkpoint 20 signature invalid (signed by %s, not by the log's verifier %s)", M, V)},
		{"checkpoint with alg none", func(t *testing.T, db *badger.DB, recs []audit.Record) {
			set(t, db, cpKey(10), jws(cpHeader("none", verifier.VerificationMethod()), cpPayload(10, recs[9].Hash, V), func([]byte) []byte { return nil }))
		}, `checkpoint 10 signature invalid (algorithm "none" refused)`},
		{"checkpoint with HS256 keyed by the public key", func(t *testing.T, db *badger.DB, recs []audit.Record) {
			set(t, db, cpKey(10), jws(cpHeader("HS256", verifier.VerificationMethod()), cpPayload(10, recs[9].Hash, V), hs256(verifier.PublicKey())))
		}, `checkpoint 10 signature invalid (algorithm "HS256" refused)`},
		{"checkpoint of another type", func(t *testing.T, db *badger.DB, recs []audit.Record) {
			h := cpHeader("EdDSA", verifier.VerificationMethod())
			h["typ"] = "JWT"
			set(t, db, cpKey(10), jws(h, cpPayload(10, recs[9].Hash, V), ed25519Sign(verifier)))
		}, fmt.Sprintf(`checkpoint 10 signature invalid (typ "JWT", want %q)`, audit.CheckpointType)},
		{"checkpoint moved", func(t *testing.T, db *badger.DB, _ []audit.Record) {
			set(t, db, cpKey(5), get(t, db, cpKey(10)))
		}, "checkpoint 5 is out of order (it holds checkpoint 10)"},
		{"checkpoint truncated", func(t *testing.T, db *badger.DB, _ []audit.Record) {
			v := get(t, db, cpKey(10))
			set(t, db, cpKey(10), v[:len(v)-3])
		}, "checkpoint 10 signature invalid"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db := openDB(t, t.TempDir())
			recs := appendN(t, db, newLog(t, db, 5), 12)
			mustVerify(t, db)
			tt.tamper(t, db, recs)
			_, err := audit.Verify(context.Background(), db, did.KeyResolver{})
			var te *audit.TamperError
			if !errors.Is(err, audit.ErrTampered) || !errors.As(err, &te) || te.Problem != tt.want {
				t.Fatalf("got %v\nwant %s", err, tt.want)
			}
			if err.Error() != "audit: log tampered: "+tt.want {
				t.Fatalf("message %q", err.Error())
			}
		})
	}
}

func hs256(secret []byte) func([]byte) []byte {
	return func(b []byte) []byte { m := hmac.New(sha256.New, secret); m.Write(b); return m.Sum(nil) }
}

// countingResolver counts resolutions, to show which checks come first.
type countingResolver struct{ n atomic.Int64 }

func (c *countingResolver) Resolve(ctx context.Context, id string) (*did.Document, error) {
	c.n.Add(1)
	return did.KeyResolver{}.Resolve(ctx, id)
}

// TestRefusedAlgorithmUsesNoKey checks that a checkpoint in a refused
// algorithm is turned away before any key is resolved.
func TestRefusedAlgorithmUsesNoKey(t *testing.T) {
	for _, alg := range []string{"none", "HS256", "ES256", "RS256", ""} {
		t.Run(alg, func(t *testing.T) {
			db := openDB(t, t.TempDir())
			l := newLog(t, db, 1000)
			recs := appendN(t, db, l, 3)
			header := cpHeader(alg, verifier.VerificationMethod())
			if alg == "" {
				delete(header, "alg")
			}
			set(t, db, cpKey(3), jws(header, cpPayload(3, recs[2].Hash, verifier.DID()), hs256(verifier.PublicKey())))
			var r countingResolver
			_, err := audit.Verify(context.Background(), db, &r)
			want := fmt.Sprintf("audit: log tampered: checkpoint 3 signature invalid (algorithm %q refused)", alg)
			if err == nil || err.Error() != want || r.n.Load() != 0 {
				t.Fatalf("got %v after %d resolutions, want %s after none", err, r.n.Load(), want)
			}
			if _, err := l.Checkpoint(); err != nil { // a real one replaces it
				t.Fatal(err)
			}
			if rep, err := audit.Verify(context.Background(), db, &r); err != nil || rep.Checkpoints != 1 || r.n.Load() != 1 {
				t.Fatalf("after a real checkpoint: %+v, %v, %d resolutions", rep, err, r.n.Load())
			}
		})
	}
}

func TestVerifyRefusesNoResolver(t *testing.T) {
	db := openDB(t, t.TempDir())
	if _, err := audit.Verify(context.Background(), db, nil); err == nil || err.Error() != "audit: verify needs a store and a DID resolver" {
		t.Fatalf("got %v", err)
	}
}

func TestTamperRightAfterCheckpoint(t *testing.T) {
	db := openDB(t, t.TempDir())
	appendN(t, db, newLog(t, db, 1), 3)
	rewrite(t, db, 3, 3, func(m map[string]any) { m["decision"] = "DENY" })
	_, err := audit.Verify(context.Background(), db, did.KeyResolver{})
	if want := "audit: log tampered: record 3 was rewritten (checkpoint 3 does not match it)"; err == nil || err.Error() != want {
		t.Fatalf("got %v, want %s", err, want)
	}
}
