package eval

import "gopkg.in/yaml.v3"

// readAhead turns casesEachAhead's second goroutine on; tests turn it off
// to hold the two to the same result.
var readAhead = true

// casesEachAhead is casesEach for the validation pass of a row file
// (streamCasesPass): the file is read and each row parsed on a second
// goroutine while emit checks and indexes the rows already parsed on this
// one, so the two halves of the pass share the machine's cores (two
// cores: 100k JSONL rows in 105 ms of wall against 142; YAML, whose
// parsing is four fifths of the pass, 9 % at 10k rows). emit sees the
// rows in file order, as casesEach gives them.
//
// The reading goroutine owns the loader's parsing state (problems, the
// file, the interned assertions, the parsers' memory) until it is done;
// emit touches only the pass's own state and the loader's rowParams,
// execAny and name seed, which the parser never reads. A row's rawTest
// holds no parser memory (strings, plain values and interned assertions),
// so it may cross goroutines.
func (l *loader) casesEachAhead(ref *yaml.Node, s *Suite, emit func(*rawTest, uint64, int)) {
	if !readAhead {
		l.casesEach(ref, s, emit)
		return
	}
	type row struct {
		t    *rawTest
		sum  uint64
		size int
	}
	const batch = 64 // rows a hand-over: one channel operation for many rows
	full := make(chan []row, 4)
	go func() {
		defer close(full) // after casesEach has restored the loader
		var b []row
		l.casesEach(ref, s, func(t *rawTest, sum uint64, size int) {
			b = append(b, row{t, sum, size})
			if len(b) == batch {
				full <- b
				b = nil
			}
		})
		if len(b) > 0 {
			full <- b
		}
	}()
	for b := range full {
		for _, r := range b {
			emit(r.t, r.sum, r.size)
		}
	}
}
