package eval

// selection is the tests a run selected, by ordinal in report order,
// without a struct per test where it can: a lazy suite's rows are a range
// (every row) or a list of row numbers, and their matrix models follow by
// arithmetic. A 1M-row cases file selected 48 MB of structs before.
type selection struct {
	segs []segment
	n    int
}

// segment is one suite's run of selections.
type segment struct {
	first int // ordinal of its first selection
	sr    *suiteRun
	lazy  bool
	held  []selected // a held suite's: one per test and matrix model
	// A lazy suite's: count rows, each once per matrix model: rows 0 to
	// count-1, or those listed in rows.
	rows   []int32
	count  int
	matrix []string
}

func (g *segment) len() int {
	if !g.lazy {
		return len(g.held)
	}
	return g.count * max(len(g.matrix), 1)
}

func (s *selection) len() int { return s.n }

// add appends a segment.
func (s *selection) add(g segment) {
	if g.len() == 0 {
		return
	}
	g.first = s.n
	s.n += g.len()
	s.segs = append(s.segs, g)
}

// at is selection ord.
func (s *selection) at(ord int) selected {
	lo, hi := 0, len(s.segs) // the last segment starting at or before ord
	for hi-lo > 1 {
		m := (lo + hi) / 2
		if s.segs[m].first <= ord {
			lo = m
		} else {
			hi = m
		}
	}
	g := &s.segs[lo]
	k := ord - g.first
	if !g.lazy {
		return g.held[k]
	}
	mn := max(len(g.matrix), 1)
	row := k / mn
	if g.rows != nil {
		row = int(g.rows[row])
	}
	sel := selected{sr: g.sr, row: int32(row)}
	if len(g.matrix) > 0 {
		mi := k % mn
		sel.model, sel.mi, sel.mn = g.matrix[mi], int32(mi), int32(mn)
	}
	return sel
}

// push appends one selection, in order; a lazy row's matrix models come
// whole, its first model (mi 0) standing for them all.
func (s *selection) push(sel selected) {
	lazy := sel.t == nil
	var g *segment
	if n := len(s.segs); n > 0 && s.segs[n-1].sr == sel.sr && s.segs[n-1].lazy == lazy {
		g = &s.segs[n-1]
	} else {
		s.segs = append(s.segs, segment{first: s.n, sr: sel.sr, lazy: lazy})
		g = &s.segs[len(s.segs)-1]
		if lazy {
			g.matrix, g.rows = sel.sr.s.Matrix, []int32{}
		}
	}
	if !lazy {
		g.held = append(g.held, sel)
		s.n++
		return
	}
	if sel.mi > 0 {
		return
	}
	g.rows = append(g.rows, sel.row)
	g.count++
	s.n += max(len(g.matrix), 1)
}

// lazyRows selects the rows of a lazy suite that want keeps.
func lazyRows(sr *suiteRun, rows int, want func(row int) bool) segment {
	g := segment{sr: sr, lazy: true, matrix: sr.s.Matrix}
	for i := range rows {
		if !want(i) {
			if g.rows == nil && g.count == i { // the first row left out
				g.rows = make([]int32, i, rows/2+i)
				for j := range g.rows {
					g.rows[j] = int32(j)
				}
			}
			continue
		}
		if g.rows != nil {
			g.rows = append(g.rows, int32(i))
		}
		g.count++
	}
	return g
}
