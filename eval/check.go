package eval

import (
	"fmt"
	"maps"
	"strconv"
	"strings"

	"github.com/aieval/aieval/assertions"
	"github.com/aieval/aieval/runtime"
)

// finish merges the defaults into every test and checks what needs the
// whole suite: unique names, prompts that exist.
func (l *loader) finish(s *Suite, defs *rawTest, raws []*rawTest) []*Test {
	if defs == nil {
		defs = &rawTest{}
	}
	prompts := promptNames(s)
	seen := make(map[string]string, len(raws))
	tests := make([]*Test, 0, len(raws))
	for _, r := range raws {
		if l.full() {
			break
		}
		t := &Test{Name: r.name, Line: r.suiteLine, File: r.file, FileLine: r.line}
		switch {
		case !r.hasName:
			l.errAt(r.file, r.line, "test without a name: add name: (unique within the suite)")
		case seen[r.name] != "":
			l.errAt(r.file, r.at(r.nameLine), "duplicate test name %q (first at %s); test names must be unique within a suite", r.name, seen[r.name])
		default:
			seen[r.name] = t.Source()
		}
		t = finishTest(t, s, defs, r, prompts, l.errAt)
		l.noteUse(t)
		tests = append(tests, t)
	}
	return tests
}

func promptNames(s *Suite) []string {
	if s.Config == nil {
		return nil
	}
	return s.Config.PromptNames()
}

// at is line, or the test's own line when line is unknown (0).
func (r *rawTest) at(line int) int {
	if line == 0 {
		return r.line
	}
	return line
}

// finishTest fills t (name and place already set) from r and the defaults,
// reporting a missing or unknown prompt.
func finishTest(t *Test, s *Suite, defs, r *rawTest, prompts []string, errAt func(string, int, string, ...any)) *Test {
	t.Prompt = r.prompt
	promptLine := r.at(r.promptLine)
	if t.Prompt == "" {
		t.Prompt = defs.prompt
		promptLine = r.line
	}
	// %q's text, made only for a message: a lazy suite finishes a test a
	// row at run time too.
	label := func() string { return "test " + strconv.Quote(r.name) }
	switch {
	case t.Prompt == "":
		errAt(r.file, r.line, "%s: missing prompt: name a prompt of the aiconfig (%s)", label(), listNames(prompts))
	case s.Config != nil:
		if _, ok := s.Config.Prompt(t.Prompt); !ok {
			errAt(r.file, promptLine, "%s: unknown prompt %q%s (prompts in %s: %s)", label(), t.Prompt,
				assertions.Suggest(t.Prompt, prompts), s.ConfigPath, listNames(prompts))
		}
	}
	t.Params = mergeParams(defs.params, r.params)
	t.Transform = r.transform
	if t.Transform == nil {
		t.Transform = defs.transform
	}
	t.Asserts = make([]*Assert, 0, len(defs.asserts)+len(r.asserts))
	t.Asserts = append(append(t.Asserts, defs.asserts...), r.asserts...)
	if reads, ok := s.reads[t.Prompt]; ok && !readsParams(t.Asserts) && !t.Transform.ReadsParams() {
		reads = withAssertReads(reads, t.Asserts)
		noun := "parameter"
		if r.csv {
			noun = "column"
		}
		for _, k := range unread(r.params, reads) {
			errAt(r.file, r.at(r.paramsLine), "%s: %s", label(), unreadParam(noun, k, t.Prompt, reads, r.csv))
		}
	}
	t.Threshold = r.threshold
	if t.Threshold == nil {
		t.Threshold = defs.threshold
	}
	t.Repeat = max(r.repeat, 0)
	if t.Repeat == 0 {
		t.Repeat = max(defs.repeat, 1)
	}
	t.PassRate = r.passRate
	if t.PassRate == 0 {
		t.PassRate = defs.passRate
	}
	t.Matrix = r.matrix
	if t.Matrix == nil {
		t.Matrix = defs.matrix
	}
	if t.Matrix == nil {
		t.Matrix = s.Matrix
	}
	if len(t.Matrix) < 2 {
		for _, a := range t.Asserts {
			if _, ok := a.Impl.(assertions.Comparer); ok {
				errAt(a.Spec.File, a.Spec.Line, "%s: %s compares the outputs of several models; run the test on at least two with matrix: [model, model] on the suite or the test", label(), a.Spec.Type)
			}
		}
	}
	t.PassK = r.passK
	if t.PassK == 0 {
		t.PassK = defs.passK
	}
	if t.PassK > t.Repeat {
		errAt(r.file, r.line, "%s: pass_k %d is above repeat %d: pass@k draws k of the test's runs", label(), t.PassK, t.Repeat)
	}
	switch {
	case r.skip != nil:
		t.Skip = *r.skip
	case defs.skip != nil:
		t.Skip = *defs.skip
	}
	return t
}

// unread is the keys of params that reads lacks, sorted; nil (and no
// sorting) when every one is read, as in a valid row.
func unread(params map[string]any, reads map[string]bool) []string {
	for k := range params {
		if !reads[k] {
			var out []string
			for _, k := range sortedKeys(params) {
				if !reads[k] {
					out = append(out, k)
				}
			}
			return out
		}
	}
	return nil
}

// readsParams reports whether an assertion reads the parameters (exec gets
// them on stdin), so no parameter of its test is unused.
func readsParams(asserts []*Assert) bool {
	for _, a := range asserts {
		if _, all := assertions.ParamsRead(a.Spec.Type); all || a.Transform.ReadsParams() {
			return true
		}
	}
	return false
}

// withAssertReads adds to a prompt's reads the parameters t's assertions
// read (the RAG metrics' query and context); reads itself is not changed.
func withAssertReads(reads map[string]bool, asserts []*Assert) map[string]bool {
	var extra []string
	for _, a := range asserts {
		names, _ := assertions.ParamsRead(a.Spec.Type)
		extra = append(extra, names...)
	}
	if len(extra) == 0 {
		return reads
	}
	out := maps.Clone(reads)
	for _, n := range extra {
		out[n] = true
	}
	return out
}

// unreadParam says why parameter k is refused: nothing reads it, so a typo
// (orderby for {{order_by}}) would silently leave the prompt's default.
func unreadParam(noun, k, prompt string, reads map[string]bool, csv bool) string {
	names := sortedKeys(reads)
	candidates := names
	if csv {
		candidates = append(append([]string(nil), names...), csvColumns...)
	}
	msg := fmt.Sprintf("%s %q is not read by prompt %q (its templates, the prompts it chains on, its system prompt) nor by any assertion%s; fix the name or remove it (the prompt reads: %s)",
		noun, k, prompt, assertions.Suggest(k, candidates), listNames(names))
	if csv {
		msg += "; other columns: " + strings.Join(csvColumns, ", ") + ", assert_<type>, __expected<N>"
	}
	return msg
}

// noteUse records what test t reads, for checkSharedParams.
func (l *loader) noteUse(t *Test) {
	l.execAny = l.execAny || readsParams(t.Asserts) || t.Transform.ReadsParams()
}

// checkSharedParams refuses a suite or defaults parameter that no prompt of
// the aiconfig reads (see unreadParam). Any prompt counts, tested or not:
// the aiconfig checks want every prompt's parameters defined.
func (l *loader) checkSharedParams(s *Suite, defs *rawTest) {
	if s.reads == nil || l.execAny || len(l.problems) > 0 {
		return
	}
	read := map[string]bool{}
	for _, reads := range s.reads {
		for k := range reads {
			read[k] = true
		}
	}
	names := sortedKeys(read)
	check := func(params map[string]any, line int, what string) {
		for _, k := range sortedKeys(params) {
			if !read[k] {
				l.errf(line, "%s: parameter %q is not read by any prompt of %s (their templates, system prompts) nor by any assertion%s; fix the name or remove it (they read: %s)",
					what, k, s.ConfigPath, assertions.Suggest(k, names), listNames(names))
			}
		}
	}
	check(s.Params, l.paramsLine, "params")
	if defs != nil {
		check(defs.params, defs.paramsLine, "defaults")
	}
}

// mergeParams returns over laid on base; nil when both are empty.
func mergeParams(base, over map[string]any) map[string]any {
	if len(base) == 0 {
		return over
	}
	if len(over) == 0 {
		return base
	}
	out := make(map[string]any, len(base)+len(over))
	maps.Copy(out, base)
	maps.Copy(out, over)
	return out
}

func listNames(names []string) string {
	if len(names) == 0 {
		return "none"
	}
	if len(names) > 12 {
		return strings.Join(names[:12], ", ") + ", ..."
	}
	return strings.Join(names, ", ")
}

// validateConfig runs the runtime's semantic checks with the parameters the
// suite supplies, so a parameter given by every test is not "undefined".
func (l *loader) validateConfig(s *Suite) {
	if s.Config == nil || l.full() {
		return
	}
	l.checkMatrix(s)
	known := map[string]bool{}
	for k := range s.Params {
		known[k] = true
	}
	for _, t := range s.Tests {
		for k := range t.Params {
			known[k] = true
		}
	}
	for k := range l.rowParams {
		known[k] = true
	}
	for _, d := range runtime.ValidateWith(s.Config, runtime.ValidateOptions{Known: sortedKeys(known), Models: sortedKeys(s.Models)}) {
		msg := d.Message
		if d.Prompt != "" && !strings.Contains(msg, d.Prompt) {
			msg = fmt.Sprintf("prompt %q: %s", d.Prompt, msg)
		}
		if d.Fix != "" {
			msg += " (" + d.Fix + ")"
		}
		file := d.File
		if file == "" {
			file = s.ConfigPath
		}
		if d.Severity == runtime.SeverityError {
			l.errAt(file, d.Line, "%s", msg)
		} else {
			s.Warnings = append(s.Warnings, Problem{File: file, Line: d.Line, Msg: msg}.String())
		}
	}
}

// checkMatrix refuses a matrix model aieval cannot call: one no parser
// claims, with no endpoint in the suite's models: mapping or the
// aiconfig's settings, would make every test on it an error.
func (l *loader) checkMatrix(s *Suite) {
	type use struct {
		file string
		line int
	}
	seen := map[string]use{}
	var order []string
	add := func(ms []string, u use) {
		for _, m := range ms {
			if _, ok := seen[m]; !ok {
				seen[m] = u
				order = append(order, m)
			}
		}
	}
	add(s.Matrix, use{s.Path, s.matrixLine})
	for _, t := range s.Tests {
		add(t.Matrix, use{t.File, t.FileLine})
	}
	if len(order) == 0 {
		return
	}
	meta := s.Config.Metadata()
	rt := runtime.New(runtime.Options{Endpoints: s.Models})
	for _, m := range order {
		if r := rt.RouteOf(&meta, m, meta.Models[m]); !r.Supported {
			u := seen[m]
			l.errAt(u.file, u.line, "matrix model %q: %s", m, r.Reason)
		}
	}
}
