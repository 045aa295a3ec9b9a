package eval

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"hash/maphash"
	"io"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"gopkg.in/yaml.v3"

	"github.com/aieval/aieval/assertions"

	"github.com/aieval/aieval/internal/jsonnode"
	"github.com/aieval/aieval/internal/safefile"
)

// casesRef loads the tests of a `file://cases.(yaml|yml|json|jsonl|csv)`
// reference. Errors point into the cases file; the tests' Line is the
// reference's line in the suite.
func (l *loader) casesRef(n *yaml.Node, s *Suite) []*rawTest {
	var raws []*rawTest
	l.casesEach(n, s, func(t *rawTest, _ uint64, _ int) { raws = append(raws, t) })
	return raws
}

// casesEach gives every test of a cases file reference to emit, in file
// order, with a hash of its row's text and the text's length.
func (l *loader) casesEach(n *yaml.Node, s *Suite, emit func(*rawTest, uint64, int)) {
	rel, ok := strings.CutPrefix(n.Value, "file://")
	if !ok {
		l.errf(n.Line, "tests entry %q is neither a test nor a file:// reference (write file://cases.yaml)", truncate(n.Value, 40))
		return
	}
	path, err := insideDir(s.Dir, rel)
	if err != nil {
		l.errf(n.Line, "tests: file://%s: %v", rel, err)
		return
	}
	suiteFile, suiteVisits := l.file, l.visits
	l.file = path
	defer func() { l.file, l.visits = suiteFile, suiteVisits }()
	rows := 0
	add := func(t *rawTest, sum uint64, size int) {
		rows++
		t.suiteLine = n.Line
		emit(t, sum, size)
	}
	mark := len(l.problems)
	defer func() {
		if rows == 0 && len(l.problems) == mark {
			// An empty cases file would run nothing and pass.
			l.errAt(path, 0, "the cases file has no tests: add rows (referenced from %s:%d)", suiteFile, n.Line)
		}
	}()
	switch ext := strings.ToLower(filepath.Ext(path)); ext {
	case ".yaml", ".yml", ".json":
		if yamlCasesLarge(path) {
			l.rowsReread = true
			l.casesYAMLRows(path, s, add)
			break
		}
		for _, t := range l.casesYAML(path, s) {
			add(t, 0, 0)
		}
	case ".jsonl":
		l.rowsReread = true
		l.casesJSONL(path, s, add)
	case ".csv":
		l.rowsReread = true
		l.casesCSV(path, s, add)
	default:
		l.errAt(suiteFile, n.Line, "tests: file://%s: unsupported extension %q (use .yaml, .yml, .json, .jsonl or .csv)", rel, ext)
	}
}

// insideDir resolves rel against dir and refuses anything that leaves dir,
// including through a symbolic link: a suite must not read arbitrary files.
func insideDir(dir, rel string) (string, error) {
	if rel == "" {
		return "", errors.New("empty path")
	}
	if filepath.IsAbs(rel) || strings.HasPrefix(rel, "/") || filepath.VolumeName(rel) != "" {
		return "", errors.New("absolute paths are not allowed; give a path relative to the suite's directory")
	}
	path := filepath.Join(dir, rel)
	if r, err := filepath.Rel(dir, path); err != nil || r == ".." || strings.HasPrefix(r, ".."+string(filepath.Separator)) {
		return "", errors.New("path leaves the suite's directory; keep cases files next to the suite")
	}
	realDir, err := filepath.EvalSymlinks(dir)
	if err != nil {
		return "", fmt.Errorf("resolve suite directory: %s", describeFSError(err))
	}
	realPath, err := filepath.EvalSymlinks(path)
	if err != nil {
		return "", errors.New(describeFSError(err))
	}
	if r, err := filepath.Rel(realDir, realPath); err != nil || r == ".." || strings.HasPrefix(r, ".."+string(filepath.Separator)) {
		return "", errors.New("path leaves the suite's directory through a symbolic link")
	}
	return path, nil
}

func (l *loader) casesYAML(path string, s *Suite) []*rawTest {
	data, err := readLimited(path, maxYAMLBytes)
	if err != nil {
		l.errf(0, "read cases: %s", describeFSError(err))
		return nil
	}
	root := l.parse(data)
	if root == nil {
		return nil
	}
	if root.Kind != yaml.SequenceNode {
		l.errf(root.Line, "a cases file must be a list of tests, got %s", kindName(root))
		return nil
	}
	out := make([]*rawTest, 0, len(root.Content))
	for _, c := range root.Content {
		if l.full() {
			break
		}
		if t := l.test(c, "test", testKeys, s); t != nil {
			out = append(out, t)
		}
	}
	return out
}

// openCases opens a row-oriented cases file, refusing binary or huge ones.
func (l *loader) openCases(path string) (*os.File, bool) {
	f, err := safefile.Open(path)
	if err != nil {
		l.errf(0, "read cases: %s", describeFSError(err))
		return nil, false
	}
	if st, err := f.Stat(); err == nil && st.Size() > maxLinesBytes {
		f.Close()
		l.errf(0, "cases file is larger than %d MB; split it", maxLinesBytes>>20)
		return nil, false
	}
	return f, true
}

// casesJSONL reads one JSON object per line; each is a test, given to emit
// with a hash of its text (see lazyCases).
func (l *loader) casesJSONL(path string, s *Suite, emit func(*rawTest, uint64, int)) {
	f, ok := l.openCases(path)
	if !ok {
		return
	}
	defer f.Close()
	sc := newJSONLScanner(f)
	for line := 1; sc.Scan() && !l.full(); line++ {
		b := bytes.TrimSpace(sc.Bytes())
		if len(b) == 0 {
			continue
		}
		if t := l.jsonlRow(b, line, s); t != nil {
			emit(t, rowSum(nil, b), len(sc.Bytes())+1)
		}
	}
	if err := sc.Err(); err != nil {
		l.errf(0, "read cases: %v", err)
	}
}

func newJSONLScanner(f io.Reader) *bufio.Scanner {
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), maxYAMLBytes)
	return sc
}

// jsonlRow reads one non-blank, trimmed JSONL line as a test.
func (l *loader) jsonlRow(b []byte, line int, s *Suite) *rawTest {
	if b[0] != '{' || bytes.IndexByte(b, 0) >= 0 || !utf8.Valid(b) {
		l.errf(line, "each line must be a JSON object describing one test")
		return nil
	}
	t, rawAssert, ok := l.jsonlFast(b, line)
	if ok {
		return t
	}
	mark := len(l.problems)
	t = l.jsonlTree(b, line, s)
	if t != nil && rawAssert != nil && len(l.problems) == mark {
		l.noteRowAsserts(rawAssert, t.asserts)
	}
	return t
}

// jsonlTree reads a row as a node tree, checked as YAML is.
func (l *loader) jsonlTree(b []byte, line int, s *Suite) *rawTest {
	// encoding/json, not the YAML parser: a row is plain JSON, and the
	// YAML parser cost ~35 KB of garbage per row on 100k-row files.
	l.json.MaxDepth = maxDepth
	node, ok := l.json.Parse(b, line)
	var err error
	if !ok { // the exact result or message
		node, err = jsonnode.Parse(b, line, jsonnode.Limits{MaxDepth: maxDepth})
	}
	if jsonnode.IsEOF(err) {
		err = errors.New("the line ends inside the JSON object (one whole object per line)")
	}
	if err != nil {
		l.errf(line, "invalid JSON: %v", err)
		return nil
	}
	l.visits = aliasFactor*countNodes(node) + aliasSlack
	return l.test(node, "test", testKeys, s)
}

// rowSum hashes a row's text (after the CSV header's, if any). The hash
// lives as long as the process (a lazy row's check, watch's fingerprints),
// so its seed is the process's.
func rowSum(header []string, row []byte, fields ...string) uint64 {
	var h maphash.Hash
	h.SetSeed(rowSeed)
	for _, x := range header {
		h.WriteString(x)
		h.WriteByte(0)
	}
	h.WriteByte(1)
	h.Write(row)
	for _, x := range fields {
		h.WriteString(x)
		h.WriteByte(0)
	}
	return h.Sum64()
}

var rowSeed = maphash.MakeSeed()

// casesCSV reads a header row then one test per row. Columns: name, prompt,
// skip, assert_<type> (an assertion of that type whose value is the cell;
// empty cells add none); every other column is a parameter.
func (l *loader) casesCSV(path string, s *Suite, emit func(*rawTest, uint64, int)) {
	f, ok := l.openCases(path)
	if !ok {
		return
	}
	defer f.Close()
	r, header, ok := l.csvHeader(f)
	if !ok {
		return
	}
	for !l.full() {
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			l.errf(0, "%v", csvErr(err))
			return
		}
		line, _ := r.FieldPos(0)
		if t := l.csvRecord(header, rec, line, s); t != nil {
			size := len(rec) // separators
			for _, f := range rec {
				size += len(f)
			}
			emit(t, rowSum(header, nil, rec...), size)
		}
	}
}

// csvHeader reads and checks the header row.
func (l *loader) csvHeader(f io.Reader) (*csv.Reader, []string, bool) {
	r := csv.NewReader(bufio.NewReaderSize(f, 64<<10))
	r.ReuseRecord = true
	header, err := r.Read()
	if err != nil {
		l.errf(1, "read the CSV header: %v (the first row names the columns: name, prompt, assert_contains, ...)", csvErr(err))
		return nil, nil, false
	}
	header = append([]string(nil), header...)
	if len(header) > 0 {
		header[0] = strings.TrimPrefix(header[0], "\ufeff") // Excel's byte order mark
	}
	names := 0
	seen := map[string]bool{}
	for i, h := range header {
		h = strings.TrimSpace(h)
		header[i] = h
		if h == "name" || h == "__description" {
			names++
		}
		if seen[h] && h != "" {
			l.errf(1, "column %d: duplicate column %q; keep one", i+1, h)
		}
		seen[h] = true
		if typ, isAssert := strings.CutPrefix(h, "assert_"); isAssert && typ == "" {
			l.errf(1, "column %d: assert_ needs an assertion type, like assert_contains", i+1)
		}
		if msg := specialColumn(h); msg != "" {
			l.errf(1, "column %d: %s", i+1, msg)
		}
	}
	switch {
	case names == 0 && !slices.ContainsFunc(header, isParamColumn):
		l.errf(1, "missing column \"name\" (or promptfoo's __description): every test needs a unique name")
		return nil, nil, false
	case names > 1:
		l.errf(1, "columns \"name\" and \"__description\" both name the test; keep one")
		return nil, nil, false
	}
	return r, header, true
}

// isParamColumn reports whether CSV column h is a parameter.
func isParamColumn(h string) bool {
	return h != "" && !strings.HasPrefix(h, "__") && !strings.HasPrefix(h, "assert_") && !slices.Contains(csvColumns, h)
}

// csvColumns are the CSV columns that are not parameters (besides
// assert_<type> and __expected<N>).
var csvColumns = []string{"name", "prompt", "skip", "__expected", "__description", "__metric", "__threshold"}

// specialColumn returns why a __ column (promptfoo's special columns) is
// refused, "" when it is one aieval reads or not a __ column.
func specialColumn(h string) string {
	if !strings.HasPrefix(h, "__") {
		return ""
	}
	if _, ok := expectedColumn(h); ok || slices.Contains(csvColumns, h) {
		return ""
	}
	switch h {
	case "__prefix", "__suffix":
		return fmt.Sprintf("promptfoo's %s is not supported: aieval sends the aiconfig's prompt as written; put the text in the prompt's template (a parameter if it varies)", h)
	}
	return fmt.Sprintf("unknown special column %q%s (aieval reads %s and __expected1..N)", h, assertions.Suggest(h, csvColumns), strings.Join(csvColumns[3:], ", "))
}

// expectedColumn reports whether h is __expected or __expectedN (N >= 1).
func expectedColumn(h string) (int, bool) {
	rest, ok := strings.CutPrefix(h, "__expected")
	if !ok {
		return 0, false
	}
	if rest == "" {
		return 0, true
	}
	n, err := strconv.Atoi(rest)
	return n, err == nil && n >= 1 && rest[0] != '0'
}

// csvRecord reads one CSV record as a test; nil when it is not UTF-8.
func (l *loader) csvRecord(header, rec []string, line int, s *Suite) *rawTest {
	if !utf8.Valid([]byte(strings.Join(rec, ""))) {
		l.errf(line, "not UTF-8 text")
		return nil
	}
	return l.csvRow(header, rec, line, s)
}

func (l *loader) csvRow(header, rec []string, line int, s *Suite) *rawTest {
	t := &rawTest{file: l.file, line: line, paramsLine: line, csv: true}
	metric := ""
	for i, h := range header {
		if h == "__metric" {
			metric = strings.TrimSpace(rec[i])
		}
		if h == "name" || h == "__description" {
			t.name, t.hasName, t.nameLine = rec[i], true, line
		}
	}
	if !t.hasName {
		// promptfoo's CSVs have no name column: a row is named by its
		// parameter values, which stay its name when rows move.
		var vals []string
		for i, h := range header {
			if isParamColumn(h) {
				vals = append(vals, rec[i])
			}
		}
		t.name, t.hasName, t.nameLine = truncate(strings.Join(vals, ", "), 100), true, line
	}
	what := fmt.Sprintf("test %q", t.name)
	for i, h := range header {
		v := rec[i]
		_, isExpected := expectedColumn(h)
		switch typ, isAssert := strings.CutPrefix(h, "assert_"); {
		case h == "name" || h == "__description":
			if strings.TrimSpace(v) == "" {
				l.errf(line, "test name is empty; give every test a unique name")
			}
		case h == "prompt":
			t.prompt, t.promptLine = v, line
		case h == "skip":
			// Spreadsheets write FALSE, no, 0: none of them skips.
			if strings.TrimSpace(v) == "" {
				continue
			}
			b, ok := parseBool(v)
			if !ok {
				l.errf(line, "%s: skip cell %q must be %s (empty is false); a skip reason needs a YAML or JSONL test", what, truncate(v, 40), boolSpellings)
			} else if b {
				r := "skipped"
				t.skip = &r
			}
		case h == "__metric":
		case h == "__threshold":
			if strings.TrimSpace(v) == "" {
				continue
			}
			f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			if err != nil || math.IsNaN(f) || f < 0 || f > 1 {
				l.errf(line, "%s: __threshold %q must be a number from 0 to 1", what, truncate(v, 40))
				continue
			}
			t.threshold = &f
		case isExpected:
			if strings.TrimSpace(v) == "" {
				continue
			}
			spec, err := promptfooAssert(v)
			if err != nil {
				l.errf(line, "%s: column %s: %v", what, h, err)
				continue
			}
			spec.Weight, spec.Metric, spec.Dir, spec.File, spec.Line = 1, metric, s.Dir, l.file, line
			if a := l.build(spec, what+": column "+h); a != nil {
				t.asserts = append(t.asserts, a)
			}
		case isAssert:
			if v == "" || typ == "" {
				continue
			}
			spec := assertions.Spec{Type: typ, Value: cellValue(typ, v, false), Weight: 1, Metric: metric, Dir: s.Dir, File: l.file, Line: line}
			if a := l.build(spec, what); a != nil {
				t.asserts = append(t.asserts, a)
			}
		case h != "" && !strings.HasPrefix(h, "__"):
			if t.params == nil {
				t.params = map[string]any{}
			}
			t.params[h] = v
		}
	}
	return t
}

// listTypes take a list of strings as value.
var listTypes = map[string]bool{"contains-any": true, "contains-all": true, "icontains-any": true, "icontains-all": true}

// structuredTypes take a JSON object or list as value (or a number, as the
// threshold).
var structuredTypes = map[string]bool{"json-path": true, "length": true, "word-count": true, "tokens": true, "json-schema": true, "exec": true}

// cellValue is a CSV cell as the value of an assertion of type typ: a JSON
// list or object where the type takes one (["a","b"], {"min": 1}), for the
// list types also promptfoo's comma-separated list when commas is set;
// the text otherwise.
func cellValue(typ, cell string, commas bool) any {
	base := strings.TrimPrefix(typ, "not-")
	if !listTypes[base] && !structuredTypes[base] {
		return cell
	}
	if c := strings.TrimSpace(cell); strings.HasPrefix(c, "[") || strings.HasPrefix(c, "{") {
		var v any
		if err := json.Unmarshal([]byte(c), &v); err == nil {
			return v
		}
	}
	if listTypes[base] && commas {
		parts := strings.Split(cell, ",")
		out := make([]any, 0, len(parts))
		for _, p := range parts {
			if p = strings.TrimSpace(p); p != "" {
				out = append(out, p)
			}
		}
		return out
	}
	return cell
}

// promptfooTypes are promptfoo's assertion types, so that one aieval lacks
// is refused by name instead of read as an expected text.
var promptfooTypes = []string{
	"answer-relevance", "bleu", "classifier", "contains", "contains-all", "contains-any", "contains-html",
	"contains-json", "contains-sql", "contains-xml", "context-faithfulness", "context-recall",
	"context-relevance", "conversation-relevance", "cost", "equals", "factuality", "finish-reason",
	"g-eval", "gleu", "guardrails", "human", "icontains", "icontains-all", "icontains-any", "is-html",
	"is-json", "is-refusal", "is-sql", "is-valid-function-call", "is-valid-openai-function-call",
	"is-valid-openai-tools-call", "is-xml", "javascript", "latency", "levenshtein", "llm-rubric",
	"meteor", "model-graded-closedqa", "model-graded-factuality", "moderation", "perplexity",
	"perplexity-score", "pi", "python", "regex", "rouge-l", "rouge-n", "rouge-s", "ruby", "select-best",
	"similar", "starts-with", "webhook", "word-count",
}

// promptfooAssertRe is promptfoo's CSV assertion grammar:
// [not-]type[(threshold)][: value].
var promptfooAssertRe = regexp.MustCompile(`(?s)^(not-)?([A-Za-z][A-Za-z0-9_-]*)(?:\(([^)]*)\))?(?:\s*:(.*))?$`)

// promptfooAssert reads an __expected cell as promptfoo does: "contains:
// x", "not-icontains: x", "similar(0.8): x", "is-json", "grade: rubric",
// and a value that starts with no assertion type means equals.
func promptfooAssert(cell string) (assertions.Spec, error) {
	text := strings.TrimSpace(cell)
	idx := promptfooAssertRe.FindStringSubmatchIndex(text)
	if idx == nil {
		return assertions.Spec{Type: "equals", Value: cell}, nil
	}
	group := func(i int) string {
		if idx[2*i] < 0 {
			return ""
		}
		return text[idx[2*i]:idx[2*i+1]]
	}
	neg, typ, th, val := group(1), strings.ToLower(group(2)), group(3), strings.TrimSpace(group(4))
	hasValue := idx[8] >= 0
	switch typ {
	case "javascript", "python", "ruby", "fn", "eval":
		return assertions.Spec{}, fmt.Errorf("%s assertions are not supported: use an exec assertion (an assert_exec column, or type: exec in YAML) that runs your script", typ)
	case "grade":
		typ = "llm-rubric" // promptfoo's legacy spelling
	}
	if !slices.Contains(assertions.Names(), typ) {
		if slices.Contains(promptfooTypes, typ) {
			return assertions.Spec{}, fmt.Errorf("promptfoo's %s assertion has no aieval equivalent (aieval has: %s)", typ, strings.Join(assertions.Names(), ", "))
		}
		// Not an assertion type: the whole cell is the expected output.
		return assertions.Spec{Type: "equals", Value: cell}, nil
	}
	spec := assertions.Spec{Type: neg + typ}
	if hasValue {
		spec.Value = cellValue(typ, val, true)
	}
	if th != "" {
		f, err := strconv.ParseFloat(strings.TrimSpace(th), 64)
		if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
			return spec, fmt.Errorf("%s(%s): the threshold in parentheses must be a number", typ, th)
		}
		spec.Threshold = &f
	}
	switch typ {
	case "latency", "cost", "length", "word-count", "tokens":
		// promptfoo puts the limit in the value too: latency: 1000.
		if sv, isText := spec.Value.(string); isText && spec.Threshold == nil {
			if f, err := strconv.ParseFloat(sv, 64); err == nil && !math.IsNaN(f) && !math.IsInf(f, 0) {
				spec.Value, spec.Threshold = nil, &f
			}
		}
	}
	if sv, isText := spec.Value.(string); isText && sv == "" {
		spec.Value = nil
	}
	return spec, nil
}

// csvErr drops encoding/csv's "record on line N:" prefix: we add the line.
func csvErr(err error) string {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return fmt.Sprintf("line %d: %v", pe.Line, pe.Err)
	}
	return err.Error()
}
