package compare

import (
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestWordDiff(t *testing.T) {
	tests := []struct {
		name, a, b, want string
	}{
		{"identical", "same text", "same text", "same text"},
		{"word replaced", "the quick brown fox", "the slow brown fox", "the [-quick-]{+slow+} brown fox"},
		{"word added", "a b", "a new b", "a {+new +}b"},
		{"word removed", "one two three", "one three", "one [-two -]three"},
		{"whole words, not letters", "color", "colour", "[-color-]{+colour+}"},
		{"punctuation", "Hi, Bob.", "Hi! Bob.", "Hi[-,-]{+!+} Bob."},
		{"unicode", "café crème", "café brûlée", "café [-crème-]{+brûlée+}"},
		{"empty base", "", "new", "{+new+}"},
		{"lines", "a\nb\nc", "a\nB\nc", "a\n[-b-]{+B+}\nc"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := render(wordDiff(tt.a, tt.b), 2048); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestWordDiffManyTokens(t *testing.T) {
	// More distinct tokens than the first private use area holds.
	var a, b strings.Builder
	for i := 0; i < 7000; i++ {
		a.WriteString(strconv.FormatInt(int64(i), 36) + " ")
	}
	if a.Len() > maxDiffInput {
		t.Fatal("input too long for the test's purpose")
	}
	b.WriteString(a.String() + "tail")
	ops := wordDiff(a.String(), b.String())
	if len(ops) != 2 || ops[0].text != a.String() || ops[1].kind != opInsert || ops[1].text != "tail" {
		t.Fatalf("%d ops, want equal then insert tail", len(ops))
	}
}

func itoa(i int) string { return strconv.Itoa(i) }

func TestRenderCapsAndElides(t *testing.T) {
	long := strings.Repeat("word ", 200)
	got := render(wordDiff(long+"end", long+"finish"), 2048)
	if !strings.HasPrefix(got, "…") || len(got) > 200 || !strings.HasSuffix(got, "[-end-]{+finish+}") {
		t.Errorf("long common prefix not elided: %q", got)
	}
	mid := render(wordDiff("a "+long+"b", "A "+long+"B"), 2048)
	if !strings.Contains(mid, " … ") || len(mid) > 300 {
		t.Errorf("long middle not elided: %q", mid)
	}
	var a, b strings.Builder
	for i := 0; i < 2000; i++ {
		a.WriteString("é" + itoa(i) + " ")
		b.WriteString("ü" + itoa(i) + " ")
	}
	capped := render(wordDiff(a.String(), b.String()), 2048)
	if len(capped) > 2048+40 || !strings.HasSuffix(capped, "(diff truncated)") || !utf8.ValidString(capped) {
		t.Errorf("cap: %d bytes, valid=%v, tail %q", len(capped), utf8.ValidString(capped), capped[len(capped)-30:])
	}
}

func TestWordDiffOps(t *testing.T) {
	got := WordDiff("the cat sat", "the dog sat")
	want := []DiffOp{{0, "the "}, {-1, "cat"}, {1, "dog"}, {0, " sat"}}
	if len(got) != len(want) {
		t.Fatalf("got %+v, want %+v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("op %d: got %+v, want %+v", i, got[i], want[i])
		}
	}
}
