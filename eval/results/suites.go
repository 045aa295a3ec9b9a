package results

// SuiteTotal is the totals of one suite (or of the whole run, Info.Path
// "TOTAL"), counted by the one Summary.Add.
type SuiteTotal struct {
	Info SuiteInfo
	Summary
}

// Tally totals tests per suite as they are seen, in the order of the run's
// suites and then of any suite met only in tests (merged or partial
// results), first seen first, so output never depends on map order.
type Tally struct {
	order  []*SuiteTotal
	byPath map[string]*SuiteTotal
	total  *SuiteTotal
}

// NewTally starts the totals of r's suites, all zero.
func NewTally(r *Results) *Tally {
	t := &Tally{byPath: map[string]*SuiteTotal{}, total: &SuiteTotal{Info: SuiteInfo{Path: "TOTAL"}}}
	for _, s := range r.Suites {
		if _, dup := t.byPath[s.Path]; dup {
			continue
		}
		st := &SuiteTotal{Info: s}
		t.byPath[s.Path] = st
		t.order = append(t.order, st)
	}
	return t
}

// Add counts one test.
func (t *Tally) Add(tr *TestResult) {
	st, ok := t.byPath[tr.Suite]
	if !ok {
		st = &SuiteTotal{Info: SuiteInfo{Path: tr.Suite, Config: tr.Config, ConfigName: tr.ConfigName}}
		t.byPath[tr.Suite] = st
		t.order = append(t.order, st)
	}
	st.addCounts(tr)
	t.total.Add(tr)
}

// Suites returns the per-suite totals and the run's total.
func (t *Tally) Suites() ([]*SuiteTotal, *SuiteTotal) { return t.order, t.total }

// Suites returns the per-suite totals of r: from what Count recorded when
// that covers every test of known suites (a large run then needs no pass
// over its spool), else from one pass over the tests.
func Suites(r *Results) ([]*SuiteTotal, *SuiteTotal, error) {
	if order, total, ok := counted(r); ok {
		return order, total, nil
	}
	t := NewTally(r)
	err := r.Each(func(tr *TestResult) error { t.Add(tr); return nil })
	order, total := t.Suites()
	return order, total, err
}

func counted(r *Results) ([]*SuiteTotal, *SuiteTotal, bool) {
	if r.bySuite == nil {
		return nil, nil, false
	}
	seen := map[string]bool{}
	var order []*SuiteTotal
	n := 0
	for _, info := range r.Suites {
		if seen[info.Path] {
			continue
		}
		seen[info.Path] = true
		st := &SuiteTotal{Info: info}
		if s := r.bySuite[info.Path]; s != nil {
			st.Summary = *s
		}
		n += st.Total
		order = append(order, st)
	}
	if n != r.Summary.Total || len(seen) < len(r.bySuite) {
		return nil, nil, false
	}
	return order, &SuiteTotal{Info: SuiteInfo{Path: "TOTAL"}, Summary: r.Summary}, true
}
