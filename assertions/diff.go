package assertions

import (
	"strings"
	"time"
	"unicode/utf8"

	"github.com/sergi/go-diff/diffmatchpatch"
)

// Diff rendering for failed text comparisons: plain text, removed text as
// [-...-] and added text as {+...+}, unchanged runs elided to a little
// context so the change stays visible in a console or a JUnit body.

const (
	maxDiffBytes   = 2048  // whole rendered diff
	maxDiffInput   = 10000 // runes of each side fed to the differ
	diffContext    = 40    // runes of unchanged text kept around a change
	maxChangeRunes = 600   // one removed or added run
)

// TextDiff renders expected vs actual; "" when they are equal.
func TextDiff(expected, actual string) string {
	if expected == actual {
		return ""
	}
	// Huge outputs only need a readable picture, not an exact minimal diff.
	expected, cutE := clipRunes(expected, maxDiffInput)
	actual, cutA := clipRunes(actual, maxDiffInput)
	dmp := diffmatchpatch.New()
	dmp.DiffTimeout = 250 * time.Millisecond // a coarser diff beats a slow report
	diffs := dmp.DiffCleanupSemantic(dmp.DiffMain(expected, actual, false))

	var b strings.Builder
	for i, d := range diffs {
		switch d.Type {
		case diffmatchpatch.DiffEqual:
			b.WriteString(elide(d.Text, i == 0, i == len(diffs)-1))
		case diffmatchpatch.DiffDelete:
			b.WriteString("[-" + middleCut(d.Text, maxChangeRunes) + "-]")
		case diffmatchpatch.DiffInsert:
			b.WriteString("{+" + middleCut(d.Text, maxChangeRunes) + "+}")
		}
		if b.Len() > maxDiffBytes {
			break
		}
	}
	out := b.String()
	if len(out) > maxDiffBytes {
		out = truncBytes(out, maxDiffBytes) + "\n… (diff truncated)"
	} else if cutE || cutA {
		out += "\n… (only the first 10000 characters compared)"
	}
	return out
}

// elide keeps context next to changes: the tail of a leading run, the head
// of a trailing run, both ends of a run between changes.
func elide(s string, first, last bool) string {
	n := utf8.RuneCountInString(s)
	switch {
	case first && last:
		return s
	case first:
		if n > diffContext {
			return "…" + string([]rune(s)[n-diffContext:])
		}
	case last:
		if n > diffContext {
			return string([]rune(s)[:diffContext]) + "…"
		}
	default:
		if n > 2*diffContext+10 {
			r := []rune(s)
			return string(r[:diffContext]) + " … " + string(r[n-diffContext:])
		}
	}
	return s
}

// middleCut keeps both ends of a long run.
func middleCut(s string, n int) string {
	c := utf8.RuneCountInString(s)
	if c <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n/2]) + " … " + string(r[c-n/2:])
}

func clipRunes(s string, n int) (string, bool) {
	if utf8.RuneCountInString(s) <= n {
		return s, false
	}
	return string([]rune(s)[:n]), true
}

// truncBytes cuts s to at most n bytes on a rune boundary.
func truncBytes(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
