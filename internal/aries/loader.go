package aries

import (
	"encoding/json"
	"fmt"

	"github.com/piprate/json-gold/ld"
)

// staticLoader is a json-gold document loader that serves only the contexts
// it was built with: a context that is not embedded is an error, and nothing
// is ever fetched from the network.
type staticLoader struct {
	docs map[string]*ld.RemoteDocument
}

func newStaticLoader(contexts map[string][]byte) (*staticLoader, error) {
	l := &staticLoader{docs: make(map[string]*ld.RemoteDocument, len(contexts))}
	for url, raw := range contexts {
		var doc any
		if err := json.Unmarshal(raw, &doc); err != nil {
			return nil, fmt.Errorf("aries: context %s: %w", url, err)
		}
		l.docs[url] = &ld.RemoteDocument{DocumentURL: url, Document: doc}
	}
	return l, nil
}

// LoadDocument implements ld.DocumentLoader.
func (l *staticLoader) LoadDocument(url string) (*ld.RemoteDocument, error) {
	d, ok := l.docs[url]
	if !ok {
		return nil, fmt.Errorf("%w: %s", ErrUnknownContext, url)
	}
	return d, nil
}
