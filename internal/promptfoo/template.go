package promptfoo

import (
	"regexp"
	"strings"

	"gopkg.in/yaml.v3"
)

// promptfoo renders prompts with Nunjucks, aiconfig with Handlebars. The
// common part maps: {{ var }} and {{ var.field }} (written {{{var}}}, since
// Nunjucks in promptfoo does not HTML-escape and Handlebars' {{var}}
// does), and {% if var %}…{% else %}…{% endif %}. Filters are dropped
// (noted); loops, other tags and expressions are kept as text and noted.

var (
	tagRe     = regexp.MustCompile(`(?s)\{\{-?\s*(.*?)\s*-?\}\}|\{%-?\s*(.*?)\s*-?%\}|\{#.*?#\}`)
	varPathRe = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$`)
	ifRe      = regexp.MustCompile(`^if\s+(not\s+)?([A-Za-z_][A-Za-z0-9_.]*)$`)
)

// template converts one Nunjucks template; what: "prompt x", for notes,
// which name file and the line (s starts on line first of it) or, for
// inline text, at's line.
func (im *importer) template(s, file string, first int, at *yaml.Node, what string) string {
	line := func(off int) int {
		if file != "" {
			return first + strings.Count(s[:off], "\n")
		}
		if at != nil {
			return at.Line
		}
		return 0
	}
	noteFile := file
	if noteFile == "" {
		noteFile = im.file
	}
	var b strings.Builder
	last := 0
	var open []string // the block helpers open: "if" or "unless"
	for _, m := range tagRe.FindAllStringSubmatchIndex(s, -1) {
		b.WriteString(s[last:m[0]])
		last = m[1]
		whole := s[m[0]:m[1]]
		switch {
		case strings.HasPrefix(whole, "{#"):
			// A comment: nothing to send.
		case m[2] >= 0: // {{ expr }}
			expr := s[m[2]:m[3]]
			name, filters, _ := strings.Cut(expr, "|")
			name = strings.TrimSpace(name)
			if !varPathRe.MatchString(name) {
				im.note(noteFile, line(m[0]), "%s: Nunjucks expression %s is not converted (kept as text); write it as a variable the test sets", what, whole)
				b.WriteString(whole)
				continue
			}
			if filters != "" {
				im.note(noteFile, line(m[0]), "%s: filter |%s on %s dropped (Handlebars has no Nunjucks filters)", what, strings.TrimSpace(filters), name)
			}
			b.WriteString("{{{" + name + "}}}")
		default: // {% tag %}
			tag := strings.TrimSpace(s[m[4]:m[5]])
			switch ifm := ifRe.FindStringSubmatch(tag); {
			case ifm != nil:
				helper := "if"
				if ifm[1] != "" {
					helper = "unless"
				}
				open = append(open, helper)
				b.WriteString("{{#" + helper + " " + ifm[2] + "}}")
				continue
			case tag == "else" && len(open) > 0:
				b.WriteString("{{else}}")
				continue
			case tag == "endif" && len(open) > 0:
				b.WriteString("{{/" + open[len(open)-1] + "}}")
				open = open[:len(open)-1]
				continue
			}
			im.note(noteFile, line(m[0]), "%s: Nunjucks tag %s is not converted (kept as text); only {%% if var %%}, {%% else %%} and {%% endif %%} map", what, whole)
			b.WriteString(whole)
		}
	}
	b.WriteString(s[last:])
	return b.String()
}

// templateVars are the variables a converted template reads (the first
// part of each {{{a.b}}} and of each #if), to drop test vars no prompt
// reads.
func templateVars(s string) map[string]bool {
	out := map[string]bool{}
	for _, m := range regexp.MustCompile(`\{\{\{([A-Za-z_][A-Za-z0-9_]*)|\{\{#(?:if|unless) ([A-Za-z_][A-Za-z0-9_]*)`).FindAllStringSubmatch(s, -1) {
		out[m[1]+m[2]] = true
	}
	return out
}
