package credentials

import (
	"embed"
	"fmt"
	"sync"

	"github.com/mandate-dev/mandate/internal/aries"
)

// The JSON-LD contexts a PoA credential may use, embedded so that none is
// ever fetched from the network. credentials-v1, ed25519-2020-v1,
// bitstring-status-list-v1 and vc-status-list-2021-v1 are the published
// W3C/W3C-CCG documents, byte for byte (copied from shared/vectors/jsonld-contexts,
// whose context-map.json gives their sources and SHA-256 hashes; a test
// checks them); poa-v1 is Mandate's.
//
//go:embed contexts/*.jsonld
var contextFiles embed.FS

var contextURLs = map[string]string{
	ContextCredentialsV1:  "contexts/credentials-v1.jsonld",
	ContextEd25519_2020:   "contexts/ed25519-2020-v1.jsonld",
	ContextPoAV1:          "contexts/poa-v1.jsonld",
	ContextStatusV1:       "contexts/bitstring-status-list-v1.jsonld",
	ContextStatusList2021: "contexts/vc-status-list-2021-v1.jsonld",
}

// Contexts returns the embedded JSON-LD contexts by URL.
func Contexts() map[string][]byte {
	out := make(map[string][]byte, len(contextURLs))
	for url, file := range contextURLs {
		b, err := contextFiles.ReadFile(file)
		if err != nil {
			panic(fmt.Sprintf("credentials: embedded context %s missing: %v", file, err)) // build defect
		}
		out[url] = b
	}
	return out
}

// engine is the linked-data proof engine over the embedded contexts; it is
// stateless after construction, so one is shared.
var engine = sync.OnceValues(func() (*aries.LD, error) { return aries.NewLD(Contexts()) })

// LD returns the shared JSON-LD engine (for the presentation package).
func LD() (*aries.LD, error) { return engine() }
