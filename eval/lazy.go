package eval

import (
	"bytes"
	"fmt"
	"hash/fnv"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/aieval/aieval/internal/safefile"
)

// LazyThreshold is the number of rows above which the tests of a .jsonl or
// .csv cases file are validated at load but not kept: Suite.Tests is nil
// and each test is built again from its row when it runs, so 100k tests do
// not hold 100k Test structs, parameter maps and assertion slices. Tests
// may lower it.
var LazyThreshold = 1000

// TestCount is the number of tests of the suite, whether they are held in
// Tests or, for a large cases file (see LazyThreshold), read when run.
func (s *Suite) TestCount() int {
	if s.lazy != nil {
		return len(s.lazy.sums)
	}
	return len(s.Tests)
}

// lazyCases is what a suite keeps of a large cases file: per row its name,
// line and a hash of its text, about 10 bytes and the name's instead of
// ~600 (a 1M-row file: ~18 MB).
type lazyCases struct {
	path      string
	csv       bool
	yaml      bool
	suiteLine int      // line of the file:// reference in the suite
	defs      *rawTest // the suite's defaults
	rows      rowIndex
	sums      []uint64 // rowSum at load: a row edited since reads as changed
}

func (c *lazyCases) name(i int) string { return c.rows.name(i) }

// rowIndex holds each row's name and line in two bytes and the name's:
// names back to back, each one's length and its line's step from the row
// before in a byte (a larger one, rare, in a map), and every rowBlock-th
// row's name offset and line, to find a row in at most rowBlock steps.
type rowIndex struct {
	names    strings.Builder
	nameLen  []uint8 // 255: see longLen
	lineStep []uint8 // 255: see longLine
	longLen  map[int]int
	longLine map[int]int
	blockOff []uint32 // offset in names of row k*rowBlock's name
	blockAt  []int32  // line of row k*rowBlock
	last     int      // line of the last row added
}

const rowBlock = 64

func (x *rowIndex) add(name string, line int) {
	i := len(x.nameLen)
	if i%rowBlock == 0 {
		x.blockOff = append(x.blockOff, uint32(x.names.Len()))
		x.blockAt = append(x.blockAt, int32(line))
	}
	x.names.WriteString(name)
	if n := len(name); n < 255 {
		x.nameLen = append(x.nameLen, uint8(n))
	} else {
		x.nameLen = append(x.nameLen, 255)
		if x.longLen == nil {
			x.longLen = map[int]int{}
		}
		x.longLen[i] = n
	}
	if d := line - x.last; d >= 0 && d < 255 {
		x.lineStep = append(x.lineStep, uint8(d))
	} else {
		x.lineStep = append(x.lineStep, 255)
		if x.longLine == nil {
			x.longLine = map[int]int{}
		}
		x.longLine[i] = line
	}
	x.last = line
}

func (x *rowIndex) len() int { return len(x.nameLen) }

func (x *rowIndex) nameLenOf(i int) int {
	if n := x.nameLen[i]; n < 255 {
		return int(n)
	}
	return x.longLen[i]
}

// name is row i's name.
func (x *rowIndex) name(i int) string {
	k := i / rowBlock
	off := int(x.blockOff[k])
	for j := k * rowBlock; j < i; j++ {
		off += x.nameLenOf(j)
	}
	return x.names.String()[off : off+x.nameLenOf(i)]
}

// line is row i's line.
func (x *rowIndex) line(i int) int {
	k := i / rowBlock
	line := int(x.blockAt[k])
	for j := k*rowBlock + 1; j <= i; j++ {
		if d := x.lineStep[j]; d < 255 {
			line += int(d)
		} else {
			line = x.longLine[j]
		}
	}
	return line
}

// rowCasesRef returns the reference when tests: is one file:// reference to
// a .jsonl or .csv file (alone or as the only list entry), the case that
// can be streamed; nil otherwise.
func rowCasesRef(n *yaml.Node) *yaml.Node {
	d := n
	if d != nil && d.Kind == yaml.SequenceNode && len(d.Content) == 1 {
		d = d.Content[0]
	}
	if d == nil || d.Kind != yaml.ScalarNode || d.Tag != "!!str" {
		return nil
	}
	rel, ok := strings.CutPrefix(d.Value, "file://")
	if !ok {
		return nil
	}
	switch strings.ToLower(filepath.Ext(rel)) {
	case ".jsonl", ".csv", ".yaml", ".yml": // YAML: by rows when large (yamlCasesLarge)
		return d
	}
	return nil
}

// streamCases validates a row-oriented cases file in one pass, with the
// same checks and messages as finish, keeping the tests only when there are
// at most LazyThreshold of them; otherwise it returns the lazy source.
func (l *loader) streamCases(ref *yaml.Node, s *Suite, defs *rawTest) ([]*Test, *lazyCases) {
	if defs == nil {
		defs = &rawTest{}
	}
	// Names are checked for repeats by their hashes alone, sorted after
	// the pass (8 B a row; a map from hash to first line was ~40 B a row
	// at its peak, 40 MB at a million rows). Only when one repeats is the
	// file read again with that map, for the exact messages.
	mark, rowParams := len(l.problems), maps.Clone(l.rowParams)
	tests, c, dup := l.streamCasesPass(ref, s, defs, false)
	if !dup {
		return tests, c
	}
	l.problems, l.rowParams = l.problems[:mark], rowParams
	tests, c, _ = l.streamCasesPass(ref, s, defs, true)
	return tests, c
}

// streamCasesPass is one pass of streamCases. Without exact, a repeated
// name is not reported: dup says one occurs and the caller passes again.
func (l *loader) streamCasesPass(ref *yaml.Node, s *Suite, defs *rawTest, exact bool) (_ []*Test, _ *lazyCases, dup bool) {
	prompts := promptNames(s)
	// finish runs after every row is read, so its problems come after
	// the rows' own: hold them back to keep that order.
	var later []Problem
	report := func(file string, line int, format string, args ...any) {
		if len(later) < maxProblems {
			later = append(later, Problem{File: file, Line: line, Msg: oneLine(fmt.Sprintf(format, args...))})
		}
	}
	c := &lazyCases{suiteLine: ref.Line, defs: defs}
	// First line of each name by hash: a 64-bit collision between two
	// distinct names of one file is ~1e-10 at 100k rows.
	var seen map[uint64]int32 // exact pass
	var hashes []uint64       // first pass
	if exact {
		seen = map[uint64]int32{}
	}
	var tests []*Test
	l.rowsReread = false
	l.casesEach(ref, s, func(r *rawTest, sum uint64) {
		c.path = r.file
		h := nameHash(r.name)
		switch {
		case !r.hasName:
			report(r.file, r.line, "test without a name: add name: (unique within the suite)")
		case !exact:
			hashes = append(hashes, h)
		default:
			if first, dup := seen[h]; dup {
				report(r.file, r.at(r.nameLine), "duplicate test name %q (first at %s:%d); test names must be unique within a suite", r.name, r.file, first)
			} else {
				seen[h] = int32(r.line)
			}
		}
		t := finishTest(&Test{Name: r.name, Line: r.suiteLine, File: r.file, FileLine: r.line}, s, defs, r, prompts, report)
		l.noteUse(t)
		for k := range t.Params {
			if l.rowParams == nil {
				l.rowParams = map[string]bool{}
			}
			l.rowParams[k] = true
		}
		c.rows.add(r.name, r.line)
		c.sums = append(c.sums, sum)
		if len(c.sums) <= LazyThreshold || !l.rowsReread {
			tests = append(tests, t)
		} else {
			tests = nil
		}
	})
	if !exact {
		slices.Sort(hashes)
		for i := 1; i < len(hashes); i++ {
			if hashes[i] == hashes[i-1] {
				return nil, nil, true
			}
		}
	}
	for _, p := range later {
		if l.full() {
			break
		}
		l.problems = append(l.problems, p)
	}
	if len(c.sums) <= LazyThreshold || !l.rowsReread {
		if tests == nil {
			tests = []*Test{}
		}
		return tests, nil, false
	}
	c.csv = strings.EqualFold(filepath.Ext(c.path), ".csv")
	c.yaml = !c.csv && !strings.EqualFold(filepath.Ext(c.path), ".jsonl")
	return nil, c, false
}

func nameHash(name string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(name))
	return h.Sum64()
}

// lazyCursor reads a lazy suite's rows in order while it runs.
type lazyCursor struct {
	c       *lazyCases
	s       *Suite
	l       *loader // one per cursor: rows share interned assertions
	prompts []string
	f       *os.File
	next    func() (line int, b []byte, rec []string, ok bool)
	header  []string
	row     int    // index of the next row to read
	broken  string // why no further row can be read
}

func (c *lazyCases) open(s *Suite) *lazyCursor {
	cur := &lazyCursor{c: c, s: s, l: &loader{file: c.path, suitePath: s.Path}, prompts: promptNames(s)}
	f, err := safefile.Open(c.path)
	if err != nil {
		cur.broken = fmt.Sprintf("%s: read cases: %s", c.path, describeFSError(err))
		return cur
	}
	cur.f = f
	if c.yaml {
		y := newYAMLRows(f)
		cur.next = func() (int, []byte, []string, bool) {
			line, b, ok := y.scan()
			if !ok {
				switch {
				case y.problem != "":
					cur.broken = fmt.Sprintf("%s:%d: %s", c.path, y.probAt, y.problem)
				case y.err() != nil:
					cur.broken = fmt.Sprintf("%s: read cases: %v", c.path, y.err())
				}
			}
			return line, b, nil, ok
		}
		return cur
	}
	if !c.csv {
		sc := newJSONLScanner(f)
		line := 0
		cur.next = func() (int, []byte, []string, bool) {
			for sc.Scan() {
				line++
				if b := bytes.TrimSpace(sc.Bytes()); len(b) > 0 {
					return line, b, nil, true
				}
			}
			if err := sc.Err(); err != nil {
				cur.broken = fmt.Sprintf("%s: read cases: %v", c.path, err)
			}
			return 0, nil, nil, false
		}
		return cur
	}
	r, header, ok := cur.l.csvHeader(f)
	if !ok {
		cur.broken = cur.l.problems[0].String()
		return cur
	}
	cur.header = header
	cur.next = func() (int, []byte, []string, bool) {
		rec, err := r.Read()
		if err != nil {
			if err != io.EOF {
				cur.broken = fmt.Sprintf("%s: %s", c.path, csvErr(err))
			}
			return 0, nil, nil, false
		}
		line, _ := r.FieldPos(0)
		return line, nil, rec, true
	}
	return cur
}

func (cur *lazyCursor) close() {
	if cur != nil && cur.f != nil {
		cur.f.Close()
	}
}

// test builds row i's test (rows are asked for in increasing order). When
// the row is gone, edited or no longer valid since the suite was loaded,
// it returns a stand-in test and the reason, which the run reports as an
// error of that test.
func (cur *lazyCursor) test(i int) (*Test, string) {
	c := cur.c
	stub := &Test{Name: c.name(i), Line: c.suiteLine, File: c.path, FileLine: c.rows.line(i), Repeat: 1}
	changed := func(line int) string {
		return fmt.Sprintf("%s:%d: the cases file changed after the suite was loaded (test %q); run again", c.path, line, stub.Name)
	}
	var line int
	var b []byte
	var rec []string
	for cur.row <= i {
		ok := false
		if cur.broken == "" {
			line, b, rec, ok = cur.next()
		}
		if !ok {
			if cur.broken != "" {
				return stub, cur.broken
			}
			return stub, changed(stub.FileLine)
		}
		cur.row++
	}
	if rowSum(cur.header, b, rec...) != c.sums[i] {
		return stub, changed(line)
	}
	l := cur.l
	l.problems = l.problems[:0]
	var r *rawTest
	switch {
	case c.csv:
		r = l.csvRecord(cur.header, rec, line, cur.s)
	case c.yaml:
		r = l.yamlRow(b, line, cur.s)
	default:
		r = l.jsonlRow(b, line, cur.s)
	}
	var t *Test
	if r != nil {
		r.suiteLine = c.suiteLine
		t = finishTest(&Test{Name: r.name, Line: r.suiteLine, File: r.file, FileLine: r.line}, cur.s, c.defs, r, cur.prompts, l.errAt)
	}
	if len(l.problems) > 0 {
		return stub, l.problems[0].String()
	}
	if t == nil || t.Name != stub.Name {
		return stub, changed(line)
	}
	return t, ""
}
