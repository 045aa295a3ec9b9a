package eval

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"unicode/utf8"

	"gopkg.in/yaml.v3"

	"github.com/aieval/aieval/assertions"

	"github.com/aieval/aieval/internal/safefile"
)

// casesRef loads the tests of a `file://cases.(yaml|yml|json|jsonl|csv)`
// reference. Errors point into the cases file; the tests' Line is the
// reference's line in the suite.
func (l *loader) casesRef(n *yaml.Node, s *Suite) []*rawTest {
	var raws []*rawTest
	l.casesEach(n, s, func(t *rawTest, _ uint64) { raws = append(raws, t) })
	return raws
}

// casesEach gives every test of a cases file reference to emit, in file
// order, with a hash of its row's text.
func (l *loader) casesEach(n *yaml.Node, s *Suite, emit func(*rawTest, uint64)) {
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
	add := func(t *rawTest, sum uint64) {
		t.suiteLine = n.Line
		emit(t, sum)
	}
	switch ext := strings.ToLower(filepath.Ext(path)); ext {
	case ".yaml", ".yml", ".json":
		for _, t := range l.casesYAML(path, s) {
			add(t, 0)
		}
	case ".jsonl":
		l.casesJSONL(path, s, add)
	case ".csv":
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
func (l *loader) casesJSONL(path string, s *Suite, emit func(*rawTest, uint64)) {
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
			emit(t, rowSum(nil, b))
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
	// encoding/json, not the YAML parser: a row is plain JSON, and the
	// YAML parser cost ~35 KB of garbage per row on 100k-row files.
	node, ok := l.json.parse(b, line)
	var err error
	if !ok { // the exact result or message
		node, err = jsonNode(b, line)
	}
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		err = errors.New("the line ends inside the JSON object (one whole object per line)")
	}
	if err != nil {
		l.errf(line, "invalid JSON: %v", err)
		return nil
	}
	l.visits = aliasFactor*countNodes(node) + aliasSlack
	return l.test(node, "test", testKeys, s)
}

// rowSum hashes a row's text (after the CSV header's, if any).
func rowSum(header []string, row []byte, fields ...string) uint64 {
	h := fnv.New64a()
	for _, x := range header {
		h.Write([]byte(x))
		h.Write([]byte{0})
	}
	h.Write([]byte{1})
	h.Write(row)
	for _, x := range fields {
		h.Write([]byte(x))
		h.Write([]byte{0})
	}
	return h.Sum64()
}

// casesCSV reads a header row then one test per row. Columns: name, prompt,
// skip, assert_<type> (an assertion of that type whose value is the cell;
// empty cells add none); every other column is a parameter.
func (l *loader) casesCSV(path string, s *Suite, emit func(*rawTest, uint64)) {
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
			emit(t, rowSum(header, nil, rec...))
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
	hasName := false
	for i, h := range header {
		header[i] = strings.TrimSpace(h)
		hasName = hasName || header[i] == "name"
		if typ, isAssert := strings.CutPrefix(header[i], "assert_"); isAssert && typ == "" {
			l.errf(1, "column %d: assert_ needs an assertion type, like assert_contains", i+1)
		}
	}
	if !hasName {
		l.errf(1, "missing column \"name\": every test needs a unique name")
		return nil, nil, false
	}
	return r, header, true
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
	t := &rawTest{file: l.file, line: line}
	for i, h := range header {
		v := rec[i]
		switch typ, isAssert := strings.CutPrefix(h, "assert_"); {
		case h == "name":
			t.name, t.hasName, t.nameLine = v, true, line
			if strings.TrimSpace(v) == "" {
				l.errf(line, "test name is empty; give every test a unique name")
			}
		case h == "prompt":
			t.prompt, t.promptLine = v, line
		case h == "skip":
			if r := strings.TrimSpace(v); r != "" && r != "false" {
				if r == "true" {
					r = "skipped"
				}
				t.skip = &r
			}
		case isAssert:
			if v == "" || typ == "" {
				continue
			}
			spec := assertions.Spec{Type: typ, Value: v, Weight: 1, Dir: s.Dir, File: l.file, Line: line}
			if a := l.build(spec, fmt.Sprintf("test %q", t.name)); a != nil {
				t.asserts = append(t.asserts, a)
			}
		case h != "":
			if t.params == nil {
				t.params = map[string]any{}
			}
			t.params[h] = v
		}
	}
	return t
}

// csvErr drops encoding/csv's "record on line N:" prefix: we add the line.
func csvErr(err error) string {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return fmt.Sprintf("line %d: %v", pe.Line, pe.Err)
	}
	return err.Error()
}

// jsonNode decodes one JSON value into the yaml.Node tree the loader
// checks, keeping key order; every node gets line.
func jsonNode(b []byte, line int) (*yaml.Node, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	n, err := jsonValue(dec, line, 0)
	if err != nil {
		return nil, err
	}
	// b is trimmed: anything after the value is trailing data. (A second
	// Token() would allocate a scanner error per row to say so.)
	if dec.InputOffset() != int64(len(b)) {
		return nil, errors.New("trailing data after the JSON object")
	}
	return n, nil
}

func jsonValue(dec *json.Decoder, line, depth int) (*yaml.Node, error) {
	if depth > maxDepth {
		return nil, fmt.Errorf("nested deeper than %d levels", maxDepth)
	}
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	scalar := func(tag, v string) *yaml.Node {
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: tag, Value: v, Line: line}
	}
	switch v := tok.(type) {
	case json.Delim:
		kind, end := yaml.MappingNode, json.Delim('}')
		if v == '[' {
			kind, end = yaml.SequenceNode, ']'
		}
		n := &yaml.Node{Kind: kind, Line: line, Style: yaml.FlowStyle}
		for dec.More() {
			if kind == yaml.MappingNode {
				k, err := dec.Token()
				if err != nil {
					return nil, err
				}
				n.Content = append(n.Content, scalar("!!str", k.(string)))
			}
			child, err := jsonValue(dec, line, depth+1)
			if err != nil {
				return nil, err
			}
			n.Content = append(n.Content, child)
		}
		if t, err := dec.Token(); err != nil || t != end {
			return nil, fmt.Errorf("unterminated %c", v)
		}
		return n, nil
	case string:
		return scalar("!!str", v), nil
	case json.Number:
		if _, err := strconv.ParseInt(v.String(), 10, 64); err == nil {
			return scalar("!!int", v.String()), nil
		}
		return scalar("!!float", v.String()), nil
	case bool:
		return scalar("!!bool", strconv.FormatBool(v)), nil
	case nil:
		return scalar("!!null", "null"), nil
	}
	return nil, fmt.Errorf("unexpected token %v", tok)
}
