// Package jsonnode is the one JSON → yaml.Node converter of aieval: the
// aiconfig loader, the suite loader and cases files (JSONL rows) all check
// JSON as the same node tree they check YAML as, keeping key order and line
// numbers. Parse is exact (encoding/json's grammar and messages); Row is a
// fast path for the many small rows of a cases file that gives the same
// tree, or says it cannot and leaves the row to Parse.
package jsonnode

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// Limits bound what one document may cost.
type Limits struct {
	MaxDepth  int // nesting; 0 means DefaultMaxDepth
	MaxValues int // nodes; 0 means no bound
}

// DefaultMaxDepth bounds nesting when Limits.MaxDepth is 0.
const DefaultMaxDepth = 200

// Error is a problem at a line of the document (1-based, counted from the
// line Parse was given).
type Error struct {
	Line   int
	Offset int64 // byte offset in the data where it was found
	Err    error // a *json.SyntaxError, io.ErrUnexpectedEOF, ErrDepth, ErrTooLarge, ErrTrailing
}

func (e *Error) Error() string { return e.Err.Error() }
func (e *Error) Unwrap() error { return e.Err }

var (
	ErrDepth    = errors.New("nested too deeply")
	ErrTooLarge = errors.New("document has too many values")
	ErrTrailing = errors.New("trailing data after the value")
)

// Lines maps byte offsets of data to line numbers starting at first.
type Lines struct {
	starts []int
	first  int
}

// NewLines indexes the line starts of data.
func NewLines(data []byte, first int) Lines {
	starts := []int{0}
	for i, b := range data {
		if b == '\n' {
			starts = append(starts, i+1)
		}
	}
	return Lines{starts: starts, first: first}
}

// At is the line of byte offset off.
func (li Lines) At(off int64) int {
	return li.first - 1 + sort.Search(len(li.starts), func(i int) bool { return int64(li.starts[i]) > off })
}

// Parse decodes one JSON value into a node tree; every node carries its
// line, counted from first.
func Parse(data []byte, first int, lim Limits) (*yaml.Node, error) {
	maxDepth := lim.MaxDepth
	if maxDepth <= 0 {
		maxDepth = DefaultMaxDepth
	}
	li := NewLines(data, first)
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	fail := func(err error) error {
		var se *json.SyntaxError
		off := dec.InputOffset()
		if errors.As(err, &se) {
			off = se.Offset
		}
		return &Error{Line: li.At(max(off-1, 0)), Offset: off, Err: err}
	}
	nodes := 0
	var build func(depth int) (*yaml.Node, error)
	build = func(depth int) (*yaml.Node, error) {
		if depth > maxDepth {
			return nil, fail(ErrDepth)
		}
		if nodes++; lim.MaxValues > 0 && nodes > lim.MaxValues {
			return nil, fail(ErrTooLarge)
		}
		tok, err := dec.Token()
		if err != nil {
			return nil, fail(err)
		}
		line := li.At(dec.InputOffset() - 1)
		scalar := func(tag, v string) *yaml.Node {
			return &yaml.Node{Kind: yaml.ScalarNode, Tag: tag, Value: v, Line: line}
		}
		switch t := tok.(type) {
		case json.Delim:
			n := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", Line: line}
			if t == '[' {
				n.Kind, n.Tag = yaml.SequenceNode, "!!seq"
			}
			for dec.More() {
				if n.Kind == yaml.MappingNode {
					ktok, err := dec.Token()
					if err != nil {
						return nil, fail(err)
					}
					key, _ := ktok.(string)
					n.Content = append(n.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: key, Line: li.At(dec.InputOffset() - 1)})
				}
				v, err := build(depth + 1)
				if err != nil {
					return nil, err
				}
				n.Content = append(n.Content, v)
			}
			if _, err := dec.Token(); err != nil { // the closing } or ]
				return nil, fail(err)
			}
			return n, nil
		case string:
			return scalar("!!str", t), nil
		case json.Number:
			return scalar(numberTag(t.String()), t.String()), nil
		case bool:
			return scalar("!!bool", strconv.FormatBool(t)), nil
		case nil:
			return scalar("!!null", "null"), nil
		}
		return nil, fail(fmt.Errorf("unexpected token %v", tok))
	}
	root, err := build(0)
	if err != nil {
		return nil, err
	}
	// Anything but white space after the value is trailing data. (A second
	// Token() would allocate a scanner error to say so.)
	if rest := bytes.TrimSpace(data[dec.InputOffset():]); len(rest) > 0 {
		off := dec.InputOffset() + int64(bytes.Index(data[dec.InputOffset():], rest[:1]))
		return nil, &Error{Line: li.At(off), Offset: off, Err: ErrTrailing}
	}
	return root, nil
}

// numberTag is !!int for a whole number as written (whatever its size:
// the checks that read it say when it is out of range, and a parameter
// renders as written), !!float for one with a fraction or exponent.
func numberTag(lit string) string {
	if strings.ContainsAny(lit, ".eE") {
		return "!!float"
	}
	return "!!int"
}

// IsEOF reports whether err says the document ended inside a value.
func IsEOF(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF)
}
