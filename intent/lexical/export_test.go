package lexical

// Content exposes the word pipeline (normalise, stop words, stem, synonyms)
// to the tests.
func Content(s string) []string { return content(normalise(s)) }
