package eval

import (
	"bytes"
	"fmt"
	"hash/maphash"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/aieval/aieval/internal/safefile"
	"github.com/aieval/aieval/internal/text"
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

// lazyCases is what a suite keeps of a large cases file: per row its
// name, line and a hash of its text, about 11 bytes and the part of its
// name it does not share with its block's first (a 1M-row file: ~13 MB).
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

// rowIndex holds each row's name and line in about three bytes and the
// part of the name that differs from its block's first (case-000041 in a
// block starting at case-000032: "41"): per row the length of the prefix
// it shares with that first name, the length of the rest and the rest,
// the lengths in a byte each (a longer rest, rare, in a map); a line is
// its step from the row before in a byte (a larger one in a map); every
// rowBlock-th row's offset in names and line are kept whole, to find a
// row in at most rowBlock steps of one byte.
type rowIndex struct {
	names    []byte  // the rests, back to back
	restLen  []uint8 // 255: see longLen
	shared   []uint8
	lineStep []uint8 // 255: see longLine
	longLen  map[int]int
	longLine map[int]int
	blockOff []uint32 // offset in names of row k*rowBlock's name
	blockAt  []int32  // line of row k*rowBlock
	last     int      // line of the last row added
	first    int      // length of the current block's first name
}

const rowBlock = 32

func (x *rowIndex) add(name string, line int) {
	i := len(x.lineStep)
	shared := 0
	if i%rowBlock == 0 {
		x.blockOff = append(x.blockOff, uint32(len(x.names)))
		x.blockAt = append(x.blockAt, int32(line))
		x.first = len(name)
	} else {
		first := x.names[x.blockOff[len(x.blockOff)-1]:][:x.first]
		for shared < len(name) && shared < len(first) && shared < 254 && name[shared] == first[shared] {
			shared++
		}
	}
	rest := name[shared:]
	x.names = append(x.names, rest...)
	x.shared = append(x.shared, uint8(shared))
	if n := len(rest); n < 255 {
		x.restLen = append(x.restLen, uint8(n))
	} else {
		x.restLen = append(x.restLen, 255)
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

// grow makes room for about n more rows whose names' rests take about
// nameBytes, so the index does not overshoot by append's growth (and hold
// the old and the new array at once) while a large file loads.
func (x *rowIndex) grow(n, nameBytes int) {
	x.names = slices.Grow(x.names, nameBytes)
	x.restLen = slices.Grow(x.restLen, n)
	x.shared = slices.Grow(x.shared, n)
	x.lineStep = slices.Grow(x.lineStep, n)
	x.blockOff = slices.Grow(x.blockOff, n/rowBlock+1)
	x.blockAt = slices.Grow(x.blockAt, n/rowBlock+1)
}

// clip drops spare capacity once the last row is in, when worth a copy.
func (x *rowIndex) clip() {
	x.names = clipSpare(x.names)
	x.restLen = clipSpare(x.restLen)
	x.shared = clipSpare(x.shared)
	x.lineStep = clipSpare(x.lineStep)
	x.blockOff = clipSpare(x.blockOff)
	x.blockAt = clipSpare(x.blockAt)
}

// clipSpare copies s to an exact-size array when more than 1/8 of it is
// spare.
func clipSpare[S ~[]E, E any](s S) S {
	if cap(s)-len(s) <= cap(s)/8 {
		return s
	}
	return append(S(nil), s...)
}

func (x *rowIndex) len() int { return len(x.lineStep) }

func (x *rowIndex) restLenOf(i int) int {
	if n := x.restLen[i]; n < 255 {
		return int(n)
	}
	return x.longLen[i]
}

// parts returns row i's name as its block's first name's prefix and rest.
func (x *rowIndex) parts(i int) (prefix, rest []byte) {
	k := i / rowBlock
	start := int(x.blockOff[k])
	off := start
	for j := k * rowBlock; j < i; j++ {
		off += x.restLenOf(j)
	}
	return x.names[start : start+int(x.shared[i])], x.names[off : off+x.restLenOf(i)]
}

// appendName appends row i's name to buf[:0].
func (x *rowIndex) appendName(buf []byte, i int) []byte {
	prefix, rest := x.parts(i)
	return append(append(buf[:0], prefix...), rest...)
}

// name is row i's name.
func (x *rowIndex) name(i int) string {
	prefix, rest := x.parts(i)
	if len(prefix) == 0 {
		return string(rest)
	}
	return string(prefix) + string(rest)
}

// each calls fn with every row's name in order (valid during the call).
func (x *rowIndex) each(fn func(i int, name []byte)) {
	var buf []byte
	off, start := 0, 0
	for i := range x.len() {
		if i%rowBlock == 0 {
			start = off
		}
		n := x.restLenOf(i)
		buf = append(append(buf[:0], x.names[start:start+int(x.shared[i])]...), x.names[off:off+n]...)
		off += n
		fn(i, buf)
	}
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

// dupHashes returns the hashes of the names (rows in skip left out) that
// occur more than once, nil when none does. The hashes are sorted in
// parts of about dupPart rows' worth, each part the hashes of one value
// modulo the number of parts, found in one more walk of the names, so that this check costs ~2 MB at
// any size instead of 8 bytes a row held while the index grows.
func (x *rowIndex) dupHashes(seed maphash.Seed, skip map[int]bool) map[uint64]bool {
	n := x.len() - len(skip)
	parts := 1 + n/dupPart
	var dups map[uint64]bool
	hs := make([]uint64, 0, min(n, dupPart+dupPart/8))
	for p := range uint64(parts) {
		hs = hs[:0]
		x.each(func(i int, name []byte) {
			if h := maphash.Bytes(seed, name); h%uint64(parts) == p && !skip[i] {
				hs = append(hs, h)
			}
		})
		slices.Sort(hs)
		for i := 1; i < len(hs); i++ {
			if hs[i] == hs[i-1] {
				if dups == nil {
					dups = map[uint64]bool{}
				}
				dups[hs[i]] = true
			}
		}
	}
	return dups
}

// dupPart is the number of rows whose hashes dupHashes sorts at once
// (2 MB). Tests may lower it.
var dupPart = 1 << 18

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
	// Names are checked for repeats after the pass, by hashes of the
	// index's names (see dupHashes; a map from hash to first line was ~40 B
	// a row at its peak, 40 MB at a million rows). Only when one repeats is
	// the file read again, with the repeated names' first lines, for the
	// exact messages.
	mark, rowParams := len(l.problems), maps.Clone(l.rowParams)
	tests, c, dups := l.streamCasesPass(ref, s, defs, nil)
	if dups == nil {
		return tests, c
	}
	l.problems, l.rowParams = l.problems[:mark], rowParams
	tests, c, _ = l.streamCasesPass(ref, s, defs, dups)
	return tests, c
}

// streamCasesPass is one pass of streamCases. Without dups, a repeated
// name is not reported: the hashes of those that repeat are returned and
// the caller passes again with them.
func (l *loader) streamCasesPass(ref *yaml.Node, s *Suite, defs *rawTest, dups map[uint64]bool) (_ []*Test, _ *lazyCases, repeated map[uint64]bool) {
	prompts := promptNames(s)
	// finish runs after every row is read, so its problems come after
	// the rows' own: hold them back to keep that order.
	var later []Problem
	report := func(file string, line int, format string, args ...any) {
		if len(later) < maxProblems {
			later = append(later, Problem{File: file, Line: line, Msg: text.OneLine(fmt.Sprintf(format, args...), 0)})
		}
	}
	c := &lazyCases{suiteLine: ref.Line, defs: defs}
	var seen map[string]int32 // exact pass: first line of each repeated name
	if dups != nil {
		seen = map[string]int32{}
	}
	var noName map[int]bool // rows without a name: not in the repeats check
	var size, read, nameBytes int64
	var tests []*Test
	l.rowsReread = false
	l.casesEachAhead(ref, s, func(r *rawTest, sum uint64, n int) {
		if c.path == "" {
			c.path = r.file
			if st, err := os.Stat(r.file); err == nil {
				size = st.Size()
			}
		}
		read, nameBytes = read+int64(n), nameBytes+int64(len(r.name))
		if rows := len(c.sums); read > 0 && size > read && (rows == 256 || (rows > 256 && rows == cap(c.sums))) {
			// Room for the rest of the file at its rows' sizes so far.
			more := int(min(float64(size-read)/float64(read)*float64(rows)*1.05, 1<<28)) + 64
			c.sums = slices.Grow(c.sums, more)
			c.rows.grow(more, int(float64(more)*float64(nameBytes)/float64(rows)/2))
		}
		switch {
		case !r.hasName:
			report(r.file, r.line, "test without a name: add name: (unique within the suite)")
			if noName == nil {
				noName = map[int]bool{}
			}
			noName[len(c.sums)] = true
		case dups != nil && dups[maphash.String(l.nameSeed(), r.name)]:
			if first, dup := seen[r.name]; dup {
				report(r.file, r.at(r.nameLine), "duplicate test name %q (first at %s:%d); test names must be unique within a suite", r.name, r.file, first)
			} else {
				seen[r.name] = int32(r.line)
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
	if dups == nil {
		if d := c.rows.dupHashes(l.nameSeed(), noName); d != nil {
			return nil, nil, d
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
		return tests, nil, nil
	}
	c.rows.clip()
	c.sums = clipSpare(c.sums)
	c.csv = strings.EqualFold(filepath.Ext(c.path), ".csv")
	c.yaml = !c.csv && !strings.EqualFold(filepath.Ext(c.path), ".jsonl")
	return nil, c, nil
}

// nameSeed is the seed of the name hashes of the repeats check, one per
// loader so that both passes of streamCases agree.
func (l *loader) nameSeed() maphash.Seed {
	if !l.seeded {
		l.seed, l.seeded = maphash.MakeSeed(), true
	}
	return l.seed
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
	name    []byte // of the row asked for
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
	cur.name = c.rows.appendName(cur.name, i)
	stubOf := func() *Test { // only when the row cannot run
		return &Test{Name: string(cur.name), Line: c.suiteLine, File: c.path, FileLine: c.rows.line(i), Repeat: 1}
	}
	changed := func(line int) string {
		return fmt.Sprintf("%s:%d: the cases file changed after the suite was loaded (test %q); run again", c.path, line, cur.name)
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
				return stubOf(), cur.broken
			}
			return stubOf(), changed(c.rows.line(i))
		}
		cur.row++
	}
	if rowSum(cur.header, b, rec...) != c.sums[i] {
		return stubOf(), changed(line)
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
		return stubOf(), l.problems[0].String()
	}
	if t == nil || t.Name != string(cur.name) {
		return stubOf(), changed(line)
	}
	return t, ""
}
