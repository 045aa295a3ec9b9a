package text

import "strings"

// CodeSpan shows s as an inline Markdown code span on one line, cut to max
// runes (0 = no cut): no Markdown, HTML, mention or link inside it is live,
// however many backticks it holds.
func CodeSpan(s string, max int) string {
	s = OneLine(s, max)
	if s == "" {
		return ""
	}
	fence := strings.Repeat("`", longestRun(s, '`')+1)
	if strings.HasPrefix(s, "`") || strings.HasSuffix(s, "`") || strings.HasPrefix(s, " ") {
		s = " " + s + " "
	}
	return fence + s + fence
}

// CodeBlock shows s as a fenced Markdown code block that no line of s can
// close, ending with a blank line.
func CodeBlock(lang, s string) string {
	s = strings.TrimRight(Sanitize(s), "\n")
	s = strings.ReplaceAll(s, "\r\n", "\n")
	fence := strings.Repeat("`", max(3, longestRun(s, '`')+1))
	return fence + lang + "\n" + s + "\n" + fence + "\n\n"
}

func longestRun(s string, c byte) int {
	best, n := 0, 0
	for i := 0; i < len(s); i++ {
		if s[i] == c {
			n++
			best = max(best, n)
		} else {
			n = 0
		}
	}
	return best
}
