package eval

import (
	"bufio"
	"bytes"
	"io"
	"os"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// YAMLRowsMin is the size above which a .yaml/.yml cases file is read one
// test at a time, like a .jsonl file: parsed whole, a 10k-test YAML file
// cost ~70 MB of node trees and parser state (100 MB peak RSS), and more
// than 10 MB was refused. Tests may lower it.
var YAMLRowsMin int64 = 256 << 10

// yamlRowsHint ends the messages about a cases file read item by item.
const yamlRowsHint = "a YAML cases file over 256 KB is read one test at a time: each test is a '- ' item at column 0 that stands alone (no anchors shared between tests, one document); or convert it to .jsonl"

// yamlRows splits a YAML cases file whose root is a block sequence written
// at column 0 into its items: an item starts at a line beginning with "-"
// and runs to the next one. Each item is then parsed on its own, as the
// one entry of a sequence, which gives the nodes the whole file's parse
// gives as long as no item leans on another (an alias to an earlier
// item's anchor) and no quoted or flow scalar spans into a line starting
// with "-" at column 0: both make that item fail to parse, and the message
// says so.
type yamlRows struct {
	sc      *bufio.Scanner
	line    int    // lines read
	next    []byte // the line that starts the next item (with its newline)
	nextAt  int
	started bool
	done    bool
	item    []byte
	problem string // the file is not a column-0 list: why (then no more rows)
	probAt  int
}

func newYAMLRows(r io.Reader) *yamlRows {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), maxYAMLBytes)
	return &yamlRows{sc: sc}
}

// itemStart reports whether a line starts a sequence item at column 0.
func itemStart(b []byte) bool {
	return len(b) > 0 && b[0] == '-' && (len(b) == 1 || b[1] == ' ' || b[1] == '\t' || b[1] == '\r') &&
		!bytes.HasPrefix(b, []byte("---"))
}

// scan returns the next item: its first line and its text, which stays
// valid until the next call. ok is false at the end or on a problem.
func (y *yamlRows) scan() (line int, item []byte, ok bool) {
	if y.done {
		return 0, nil, false
	}
	for !y.started { // before the first item: blank lines, comments, one "---"
		if !y.sc.Scan() {
			y.done = true
			return 0, nil, false
		}
		y.line++
		b := y.sc.Bytes()
		t := bytes.TrimSpace(b)
		switch {
		case itemStart(b):
			y.started = true
			y.next, y.nextAt = append(append(y.next[:0], b...), '\n'), y.line
		case len(t) == 0 || t[0] == '#' || string(t) == "---":
		default:
			y.fail(y.line, "a cases file must be a list of tests, each a '- ' item at column 0")
			return 0, nil, false
		}
	}
	if y.next == nil {
		y.done = true
		return 0, nil, false
	}
	y.item = append(y.item[:0], y.next...)
	line = y.nextAt
	y.next = y.next[:0]
	for {
		if !y.sc.Scan() {
			y.next = nil
			break
		}
		y.line++
		b := y.sc.Bytes()
		if itemStart(b) {
			y.next, y.nextAt = append(y.next, b...), y.line
			y.next = append(y.next, '\n')
			break
		}
		if len(b) > 0 && (bytes.HasPrefix(b, []byte("---")) || bytes.HasPrefix(b, []byte("...")) || b[0] == '%') {
			y.fail(y.line, "a second YAML document or a directive; keep one list of tests in the file")
			return 0, nil, false
		}
		y.item = append(append(y.item, b...), '\n')
	}
	return line, y.item, true
}

func (y *yamlRows) fail(line int, msg string) {
	y.done, y.problem, y.probAt = true, msg+" ("+yamlRowsHint+")", line
}

// err is the scanner's error, if reading stopped on one.
func (y *yamlRows) err() error { return y.sc.Err() }

// yamlCasesLarge reports whether path is a YAML cases file to read by rows.
func yamlCasesLarge(path string) bool {
	switch strings.ToLower(path[strings.LastIndexByte(path, '.')+1:]) {
	case "yaml", "yml":
	default:
		return false
	}
	st, err := os.Stat(path)
	return err == nil && st.Mode().IsRegular() && st.Size() > YAMLRowsMin
}

// casesYAMLRows reads a large YAML cases file item by item; each is a
// test, given to emit with a hash of its text (see lazyCases).
func (l *loader) casesYAMLRows(path string, s *Suite, emit func(*rawTest, uint64, int)) {
	f, ok := l.openCases(path)
	if !ok {
		return
	}
	defer f.Close()
	y := newYAMLRows(f)
	for !l.full() {
		line, b, ok := y.scan()
		if !ok {
			break
		}
		if t := l.yamlRow(b, line, s); t != nil {
			emit(t, rowSum(nil, b), len(b))
		}
	}
	if y.problem != "" {
		l.errf(y.probAt, "%s", y.problem)
	}
	if err := y.err(); err != nil {
		l.errf(0, "read cases: %v", err)
	}
}

// yamlRow parses one item of a YAML cases file that starts at line.
func (l *loader) yamlRow(b []byte, line int, s *Suite) *rawTest {
	if root, ok := l.yfast.parse(b, line); ok { // the usual shape, without yaml.v3
		if t, ok := l.testFast(root.Content[0]); ok {
			return t
		}
		l.visits = aliasFactor*(countNodes(root)+1) + aliasSlack // as parse counts
		return l.test(root.Content[0], "test", testKeys, s)
	}
	mark := len(l.problems)
	root := l.parse(b)
	for i := mark; i < len(l.problems); i++ { // the item's lines are the file's from line on
		p := &l.problems[i]
		if p.Line > 0 {
			p.Line += line - 1
		}
		p.Msg = strings.Replace(p.Msg, "(fix the syntax)", "(fix the syntax; "+yamlRowsHint+")", 1)
	}
	if root == nil {
		return nil
	}
	shiftLines(root, line-1)
	if root.Kind != yaml.SequenceNode || len(root.Content) != 1 {
		l.errf(line, "expected one test in this item, got %s (%s)", itemsOf(root), yamlRowsHint)
		return nil
	}
	return l.test(root.Content[0], "test", testKeys, s)
}

func itemsOf(n *yaml.Node) string {
	if n.Kind == yaml.SequenceNode {
		return strconv.Itoa(len(n.Content)) + " items"
	}
	return kindName(n)
}

// shiftLines moves every node down by d lines. Aliases point into the same
// item, so each node is shifted once.
func shiftLines(n *yaml.Node, d int) {
	n.Line += d
	for _, c := range n.Content {
		shiftLines(c, d)
	}
}
