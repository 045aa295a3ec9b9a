package reporters

import (
	"bufio"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/aieval/aieval/eval/results"
	"github.com/aieval/aieval/internal/text"
)

func init() { register("github", func(o Options) Reporter { return &GitHub{opts: o} }) }

// GitHub writes workflow-command annotations for failed and errored tests.
// GitHub shows at most 10 error annotations per step, so only the worst 10
// are written (errors first, then failures by lowest score) and a notice
// counts the rest.
type GitHub struct{ opts Options }

// GitHubMaxAnnotations is GitHub's per-step limit on error annotations.
const GitHubMaxAnnotations = 10

// githubMaxMessage keeps one annotation readable; the step summary and
// the reports hold the rest.
const githubMaxMessage = 4000

// annotation holds what one ::error line needs, not the whole test, so
// picking the worst 10 of a large run keeps little in memory.
type annotation struct {
	seq     int // run order, the last tie-breaker
	errored bool
	score   float64
	file    string
	line    int
	title   string
	message string
}

// worse orders annotations worst first.
func (a *annotation) worse(b *annotation) bool {
	if a.errored != b.errored {
		return a.errored
	}
	if a.score != b.score {
		return a.score < b.score
	}
	return a.seq < b.seq
}

// Report writes the annotations.
func (g *GitHub) Report(w io.Writer, r *results.Results) error {
	var worst []*annotation // sorted worst first, at most GitHubMaxAnnotations
	bad, seq := 0, 0
	err := r.Each(func(t *results.TestResult) error {
		seq++
		if t.Status != results.StatusFail && t.Status != results.StatusError {
			return nil
		}
		bad++
		file, line := t.Where()
		a := &annotation{seq: seq, errored: t.Status == results.StatusError, score: text.Finite(t.Score), file: file, line: line}
		if len(worst) == GitHubMaxAnnotations && !a.worse(worst[len(worst)-1]) {
			return nil
		}
		a.title, a.message = annotationText(t)
		i := sort.Search(len(worst), func(i int) bool { return a.worse(worst[i]) })
		worst = append(worst, nil)
		copy(worst[i+1:], worst[i:])
		worst[i] = a
		if len(worst) > GitHubMaxAnnotations {
			worst = worst[:GitHubMaxAnnotations]
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("github report: %w", err)
	}
	bw := bufio.NewWriter(w)
	for _, a := range worst {
		file := a.file
		if g.opts.FilePath != nil {
			file = g.opts.FilePath(file)
		}
		// An annotation naming no file still shows on the run's page.
		var props string
		if file != "" {
			props = "file=" + escapeProperty(text.Sanitize(file))
			if a.line > 0 {
				props += fmt.Sprintf(",line=%d", a.line)
			}
			props += ","
		}
		props += "title=" + escapeProperty(a.title)
		fmt.Fprintf(bw, "::error %s::%s\n", props, escapeData(a.message))
	}
	if more := bad - len(worst); more > 0 {
		fmt.Fprintf(bw, "::notice::%s",
			escapeData(fmt.Sprintf("%d more failed or errored tests not annotated (GitHub shows at most %d per step); see the step summary or the JUnit/JSON reports", more, GitHubMaxAnnotations)))
		fmt.Fprintln(bw)
	}
	return bw.Flush()
}

// annotationText is the title and message of one test's annotation.
func annotationText(t *results.TestResult) (title, message string) {
	word := "failed"
	if t.Status == results.StatusError {
		word = "could not be evaluated"
	}
	title = text.OneLine(fmt.Sprintf("%s %s", t.Name, word), 200)
	var b strings.Builder
	reason := reasonOf(t)
	b.WriteString(reason)
	if l := passRateLine(t); l != "" {
		b.WriteString("\n" + l)
	}
	for _, a := range failedAssertions(t) {
		if a.Reason != reason {
			fmt.Fprintf(&b, "\n%s (score %.2f): %s", a.Type, text.Finite(a.Score), a.Reason)
		}
	}
	message = text.Sanitize(b.String())
	if r := []rune(message); len(r) > githubMaxMessage {
		message = string(r[:githubMaxMessage-1]) + "…"
	}
	return title, message
}

// escapeData escapes a workflow command's message: %, CR and LF.
// EscapeData escapes a workflow command's message, as the annotations do:
// what the CLI prints as a command of its own uses it too.
func EscapeData(s string) string { return escapeData(s) }

func escapeData(s string) string {
	return strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A", "##[", legacyBreak).Replace(s)
}

// legacyBreak replaces "##[" in model text: the runner also executes the
// legacy ##[command] syntax found anywhere in a line; a zero-width space
// keeps the text readable and inert.
const legacyBreak = "#\u200b#["

// escapeProperty escapes a workflow command's property value: as data,
// plus ':' and ','.
func escapeProperty(s string) string {
	return strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A", ":", "%3A", ",", "%2C", "##[", legacyBreak).Replace(s)
}

// StopCommands makes what is written to w until the returned func is
// called inert for the GitHub Actions runner: it executes no workflow
// command between `::stop-commands::TOKEN` and `::TOKEN::`. The token is
// random, so text from a model cannot end the block early.
func StopCommands(w io.Writer) (resume func()) {
	var b [16]byte
	rand.Read(b[:])
	token := "aieval-" + hex.EncodeToString(b[:])
	fmt.Fprintf(w, "::stop-commands::%s\n", token)
	return func() { fmt.Fprintf(w, "::%s::\n", token) }
}
