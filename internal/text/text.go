// Package text holds the one implementation of each text job the reports,
// the comparison and the CLI share: making model text safe to print
// (Sanitize), folding it onto one line (OneLine), capping it (Cap) and the
// ANSI palette.
package text

import (
	"fmt"
	"math"
	"strings"
	"unicode/utf8"
)

// Sanitize makes model-controlled text safe for every report: ANSI escape
// sequences are removed, and invalid UTF-8 and every character XML 1.0
// forbids (NUL and the other C0 controls except tab, LF and CR; U+FFFE,
// U+FFFF; surrogates, which Go can only hold as invalid UTF-8) become
// U+FFFD. A model output full of terminal colour must neither break a
// JUnit file nor repaint a CI log.
func Sanitize(s string) string {
	if isClean(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); {
		c := s[i]
		if c == 0x1b {
			i += ansiLen(s[i:])
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size <= 1 || !XMLChar(r) {
			b.WriteRune(utf8.RuneError)
		} else {
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	return b.String()
}

// isClean reports, cheaply, whether s needs no change: the usual case.
func isClean(s string) bool {
	ascii := true
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= utf8.RuneSelf {
			ascii = false
		} else if c < 0x20 && c != '\t' && c != '\n' && c != '\r' {
			return false
		}
	}
	return ascii || utf8.ValidString(s) && !strings.ContainsAny(s, "\uFFFE\uFFFF")
}

// XMLChar is the Char production of XML 1.0.
func XMLChar(r rune) bool {
	return r == 0x09 || r == 0x0A || r == 0x0D ||
		r >= 0x20 && r <= 0xD7FF ||
		r >= 0xE000 && r <= 0xFFFD ||
		r >= 0x10000 && r <= 0x10FFFF
}

// ansiLen returns how many bytes of the escape sequence at the start of s
// (s[0] == ESC) to drop: CSI (ESC [ ... final), OSC (ESC ] ... BEL or ESC \)
// and two-byte escapes. A lone ESC drops just itself.
func ansiLen(s string) int {
	if len(s) < 2 {
		return len(s)
	}
	switch s[1] {
	case '[': // CSI: parameters 0x30-0x3F, intermediates 0x20-0x2F, final 0x40-0x7E
		i := 2
		for i < len(s) && s[i] >= 0x30 && s[i] <= 0x3F {
			i++
		}
		for i < len(s) && s[i] >= 0x20 && s[i] <= 0x2F {
			i++
		}
		if i < len(s) && s[i] >= 0x40 && s[i] <= 0x7E {
			return i + 1
		}
		return i
	case ']', 'P', '_', '^': // OSC, DCS, APC, PM: string up to BEL or ST
		for i := 2; i < len(s); i++ {
			if s[i] == 0x07 {
				return i + 1
			}
			if s[i] == 0x1b && i+1 < len(s) && s[i+1] == '\\' {
				return i + 2
			}
		}
		return len(s)
	}
	if s[1] >= 0x40 && s[1] <= 0x5F || s[1] >= 0x60 && s[1] <= 0x7E {
		return 2
	}
	return 1
}

// OneLine sanitizes s and folds it onto one line, cut to max runes
// (0 = no cut), for attributes, annotations titles and table cells.
func OneLine(s string, max int) string {
	s = Sanitize(s)
	if !foldedASCII(s) {
		s = strings.Join(strings.Fields(s), " ")
	}
	if max > 0 && len(s) > max && utf8.RuneCountInString(s) > max {
		r := []rune(s)
		s = string(r[:max-1]) + "…"
	}
	return s
}

// foldedASCII reports whether s is ASCII already on one line with single
// spaces, which strings.Fields and Join would give back unchanged: most
// names and reasons are, and reports fold several per test.
func foldedASCII(s string) bool {
	if s == "" {
		return true
	}
	if s[0] == ' ' || s[len(s)-1] == ' ' {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= utf8.RuneSelf, c < ' ' && (c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r'):
			return false
		case c == ' ' && s[i+1] == ' ':
			return false
		}
	}
	return true
}

// DefaultMax is the cap of Cap when max is 0.
const DefaultMax = 64 << 10

// Cap keeps at most max bytes of s: its head and its tail, cut on
// rune boundaries, with a note of what was left out in between. The end of
// an output (a final answer, a closing brace) matters as much as its start.
func Cap(s string, max int) string {
	if max <= 0 {
		max = DefaultMax
	}
	if len(s) <= max {
		return s
	}
	note := func(n int) string { return fmt.Sprintf("\n\n[... %d bytes omitted ...]\n\n", n) }
	// Reserve room for the longest note: the omitted count is below len(s).
	keep := max - len(note(len(s)))
	if keep < 2 {
		keep = 2
	}
	head := runeStart(s, keep/2)
	tail := len(s) - (keep - keep/2)
	for tail < len(s) && !utf8.RuneStart(s[tail]) {
		tail++ // forward, so the tail never grows past its share
	}
	if tail < head {
		tail = head
	}
	return s[:head] + note(tail-head) + s[tail:]
}

// runeStart moves i back to the start of the rune it falls in.
func runeStart(s string, i int) int {
	if i >= len(s) {
		return len(s)
	}
	for i > 0 && !utf8.RuneStart(s[i]) {
		i--
	}
	return i
}

// Finite turns NaN and infinities into 0: JSON cannot hold them, and one
// bad score must not cost the whole report.
func Finite(f float64) float64 {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return 0
	}
	return f
}

// ANSI SGR codes, the one palette of every coloured output.
const (
	Reset  = "\x1b[0m"
	Bold   = "\x1b[1m"
	Dim    = "\x1b[2m"
	Red    = "\x1b[31m"
	Green  = "\x1b[32m"
	Yellow = "\x1b[33m"
	Mag    = "\x1b[35m"
	Cyan   = "\x1b[36m"
)
