package compare

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/aieval/aieval/internal/text"
	"github.com/sergi/go-diff/diffmatchpatch"
)

// maxDiffInput bounds each side fed to the diff: the rendering is capped
// far below it anyway, and diff time grows with the product of lengths.
const maxDiffInput = 32 << 10

type opKind int8

const (
	opEqual opKind = iota
	opDelete
	opInsert
)

type op struct {
	kind opKind
	text string
}

// tokens splits s into words, runs of whitespace and single other
// characters, so a diff never cuts a word in half.
func tokens(s string) []string {
	var out []string
	for len(s) > 0 {
		r, n := utf8.DecodeRuneInString(s)
		class := charClass(r)
		if class == 2 { // punctuation: one at a time
			out = append(out, s[:n])
			s = s[n:]
			continue
		}
		i := n
		for i < len(s) {
			r2, n2 := utf8.DecodeRuneInString(s[i:])
			if charClass(r2) != class {
				break
			}
			i += n2
		}
		out = append(out, s[:i])
		s = s[i:]
	}
	return out
}

func charClass(r rune) int {
	switch {
	case unicode.IsSpace(r):
		return 0
	case unicode.IsLetter(r) || unicode.IsDigit(r) || r == '_' || unicode.Is(unicode.Mn, r):
		return 1
	}
	return 2
}

// tokenRune gives token number i a rune in the private use areas, so
// go-diff's character diff becomes a token diff (its line-mode trick,
// applied to words) and no token maps to a surrogate or invalid rune.
func tokenRune(i int) rune {
	if i < 0xF900-0xE000 {
		return rune(0xE000 + i)
	}
	return rune(0xF0000 + i - (0xF900 - 0xE000))
}

// wordDiff diffs a (base) against b (head) word by word.
func wordDiff(a, b string) []op {
	// Cleaned here so every renderer (terminal, Markdown, JSON) gets text
	// without escape sequences a model may have produced.
	a, b = text.Sanitize(head(a, maxDiffInput)), text.Sanitize(head(b, maxDiffInput))
	index := map[string]int{}
	var vocab []string
	encode := func(s string) []rune {
		toks := tokens(s)
		rs := make([]rune, len(toks))
		for i, t := range toks {
			n, ok := index[t]
			if !ok {
				n = len(vocab)
				index[t] = n
				vocab = append(vocab, t)
			}
			rs[i] = tokenRune(n)
		}
		return rs
	}
	ra, rb := encode(a), encode(b)
	dmp := diffmatchpatch.New()
	diffs := dmp.DiffMainRunes(ra, rb, false)
	diffs = dmp.DiffCleanupSemantic(diffs)

	ops := make([]op, 0, len(diffs))
	for _, d := range diffs {
		var sb strings.Builder
		for _, r := range d.Text {
			sb.WriteString(vocab[runeToken(r)])
		}
		k := opEqual
		switch d.Type {
		case diffmatchpatch.DiffDelete:
			k = opDelete
		case diffmatchpatch.DiffInsert:
			k = opInsert
		}
		ops = append(ops, op{kind: k, text: sb.String()})
	}
	return ops
}

func runeToken(r rune) int {
	if r >= 0xF0000 {
		return int(r-0xF0000) + (0xF900 - 0xE000)
	}
	return int(r - 0xE000)
}

// context kept on each side of a change when a long equal run is elided.
const keep = 60

// render writes ops as git's word diff, [-old-]{+new+}, eliding the middle
// of long unchanged stretches and capping the result at limit bytes.
func render(ops []op, limit int) string {
	return renderWith(ops, limit, "[-", "-]", "{+", "+}")
}

func renderWith(ops []op, limit int, delOpen, delClose, insOpen, insClose string) string {
	var sb strings.Builder
	for i, o := range ops {
		switch o.kind {
		case opEqual:
			t := o.text
			first, last := i == 0, i == len(ops)-1
			switch {
			case first && len(t) > keep:
				t = "…" + tail(t, keep)
			case last && len(t) > keep:
				t = head(t, keep) + "…"
			case len(t) > 2*keep+10:
				t = head(t, keep) + " … " + tail(t, keep)
			}
			sb.WriteString(t)
		case opDelete:
			sb.WriteString(delOpen + o.text + delClose)
		case opInsert:
			sb.WriteString(insOpen + o.text + insClose)
		}
		if sb.Len() > limit {
			break
		}
	}
	s := sb.String()
	if len(s) > limit {
		s = head(s, limit) + "\n… (diff truncated)"
	}
	return s
}

// head and tail cut at rune boundaries.
func head(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	i := len(s) - n
	for i < len(s) && !utf8.RuneStart(s[i]) {
		i++
	}
	return s[i:]
}
