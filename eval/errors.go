package eval

import (
	"fmt"
	"sort"
)

// Problem is one thing wrong with a suite, pointing at a file and line.
type Problem struct {
	File string
	Line int // 0 when unknown
	Msg  string
}

func (p Problem) String() string {
	switch {
	case p.File == "":
		return p.Msg
	case p.Line <= 0:
		return p.File + ": " + p.Msg
	}
	return fmt.Sprintf("%s:%d: %s", p.File, p.Line, p.Msg)
}

// InputError is a suite (or its aiconfig, or its cases file) that cannot be
// run: the contract's exit code 2. Every problem found is kept so `aieval
// validate` can list them all, one line each; Error is the first one found,
// on one line, as a run reports it.
type InputError struct {
	Problems []Problem
	// Suite is the suite file that was loaded: what `aieval validate` is
	// given to list every problem (a cases file or an aiconfig of the
	// problems is not a suite).
	Suite string
}

func (e *InputError) Error() string {
	// Discovery order: a typo'd field is found before what it causes.
	ps := e.Problems
	if len(ps) == 0 {
		return "invalid suite"
	}
	msg := ps[0].String()
	if n := len(ps) - 1; n > 0 {
		file := e.Suite
		if file == "" {
			file = ps[0].File
		}
		msg += fmt.Sprintf(" (and %d more problem%s: 'aieval validate %s' lists them)", n, plural(n), file)
	}
	return msg
}

// Sorted returns the problems by file and line.
func (e *InputError) Sorted() []Problem {
	ps := append([]Problem(nil), e.Problems...)
	sort.SliceStable(ps, func(i, j int) bool {
		if ps[i].File != ps[j].File {
			return ps[i].File < ps[j].File
		}
		return ps[i].Line < ps[j].Line
	})
	return ps
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

// maxProblems stops a hopeless file from printing thousands of lines.
const maxProblems = 50
