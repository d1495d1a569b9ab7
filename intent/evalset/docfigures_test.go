package evalset_test

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/mandate-dev/mandate/intent"
	"github.com/mandate-dev/mandate/intent/cel"
	"github.com/mandate-dev/mandate/intent/evalset"
	"github.com/mandate-dev/mandate/intent/lexical"
)

// TestDocFigures: the figures in docs/INTENT.md are what the eval command
// prints for the shipped cases, byte for byte.
func TestDocFigures(t *testing.T) {
	doc, err := os.ReadFile("../../docs/INTENT.md")
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Open("../../examples/intent/cases.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	cases, err := evalset.Load(f)
	if err != nil {
		t.Fatal(err)
	}
	lex, err := lexical.New(lexical.Config{})
	if err != nil {
		t.Fatal(err)
	}
	c, err := cel.New(cel.Config{})
	if err != nil {
		t.Fatal(err)
	}
	for _, ch := range []intent.Checker{lex, c} {
		t.Run(ch.Name(), func(t *testing.T) {
			var got strings.Builder
			if err := evalset.Run(context.Background(), ch, cases, 10*time.Second).WriteText(&got); err != nil {
				t.Fatal(err)
			}
			want := docBlock(t, string(doc), "<!-- intent-eval: "+ch.Name()+" -->")
			if got.String() != want {
				t.Fatalf("docs/INTENT.md shows\n%s\nthe code prints\n%s", want, got.String())
			}
		})
	}
}

// docBlock is the text block after marker, without its command line.
func docBlock(t *testing.T, doc, marker string) string {
	t.Helper()
	_, rest, ok := strings.Cut(doc, marker+"\n```text\n")
	if !ok {
		t.Fatalf("docs/INTENT.md has no block %s", marker)
	}
	block, _, ok := strings.Cut(rest, "```\n")
	if !ok {
		t.Fatalf("block %s is not closed", marker)
	}
	_, body, _ := strings.Cut(block, "\n") // drop "$ mandate intent eval …"
	return body
}
