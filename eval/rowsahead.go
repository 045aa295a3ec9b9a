package eval

import (
	"slices"
	"sync"
	"sync/atomic"

	"gopkg.in/yaml.v3"
)

// readAhead turns casesEachAhead's second goroutine on; tests turn it off
// to hold the two to the same result.
var readAhead = true

// casesEachAhead is casesEach for the validation pass of a row file
// (streamCasesPass): the file is read and each row parsed on a second
// goroutine while emit checks and indexes the rows already parsed on this
// one, so the two halves of the pass share the machine's cores (100k JSONL
// rows: 105 ms of wall against 142 on two cores; YAML, whose parsing is
// most of the pass, gains little). emit sees the rows in file order, as
// casesEach gives them.
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
	free := make(chan []row, 6)
	go func() {
		defer close(full) // after casesEach has restored the loader
		var b []row
		l.casesEach(ref, s, func(t *rawTest, sum uint64, size int) {
			if b == nil {
				select {
				case b = <-free:
				default:
					b = make([]row, 0, batch)
				}
			}
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
		clear(b)
		select {
		case free <- b[:0]:
		default:
		}
	}
}

// yamlParsers is how many goroutines parse a large YAML cases file's
// items (yamlItemsAhead): its parsing is four fifths of the pass.
const yamlParsers = 2

// yamlItemsAhead is casesYAMLRows' loop with the items parsed on
// yamlParsers goroutines, each with a loader of its own (as a lazy
// cursor has), while this one scans the file and emits the rows in file
// order with the problems each row's parse found, as the loop in line
// does. Items stand alone (see yamlRows), so a row parses the same on any
// loader.
func (l *loader) yamlItemsAhead(y *yamlRows, s *Suite, emit func(*rawTest, uint64, int)) {
	type item struct {
		line int
		size int
		text []byte
		t    *rawTest
		sum  uint64
		prob []Problem
	}
	type job struct {
		items []item
		buf   []byte // the items' text, back to back
		done  chan struct{}
	}
	const batch = 32
	work := make(chan *job, 2*yamlParsers)
	order := make(chan *job, 4*yamlParsers)
	var stop atomic.Bool // the problems are full: scan no further
	var parsers sync.WaitGroup
	defer parsers.Wait() // none outlives the call: they read the suite
	file, suitePath := l.file, l.suitePath
	for range yamlParsers {
		parsers.Add(1)
		go func() {
			defer parsers.Done()
			p := &loader{file: file, suitePath: suitePath}
			for j := range work {
				for i := range j.items {
					it := &j.items[i]
					p.problems = p.problems[:0]
					it.t = p.yamlRow(it.text, it.line, s)
					it.sum = rowSum(nil, it.text)
					if len(p.problems) > 0 {
						it.prob = slices.Clone(p.problems)
					}
					p.bombed = false // reported once by the merge below
				}
				close(j.done)
			}
		}()
	}
	send := func(j *job) {
		off := 0
		for i := range j.items {
			it := &j.items[i]
			it.text, off = j.buf[off:off+it.size:off+it.size], off+it.size
		}
		work <- j
		order <- j
	}
	go func() {
		defer close(work)
		defer close(order)
		var j *job
		for !stop.Load() {
			line, b, ok := y.scan()
			if !ok {
				break
			}
			if j == nil {
				j = &job{items: make([]item, 0, batch), done: make(chan struct{})}
			}
			j.items = append(j.items, item{line: line, size: len(b)})
			j.buf = append(j.buf, b...)
			if len(j.items) == batch {
				send(j)
				j = nil
			}
		}
		if j != nil {
			send(j)
		}
	}()
	for j := range order { // to the end, so that the scanner and parsers finish
		<-j.done
		for _, it := range j.items {
			if l.full() { // as the loop in line stops reading
				stop.Store(true)
				break
			}
			for _, p := range it.prob {
				if p.Msg == bombMsg {
					if l.bombed { // reported once, as one loader does
						continue
					}
					l.bombed = true
				}
				if !l.full() {
					l.problems = append(l.problems, p)
				}
			}
			if it.t != nil {
				emit(it.t, it.sum, len(it.text))
			}
		}
	}
}
