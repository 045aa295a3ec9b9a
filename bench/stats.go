//go:build linux || darwin

package main

import (
	"cmp"
	"slices"
	"time"
)

// runSummary condenses the K measured runs of one setting. The host is
// noisy (a shared VM moves efficiency by 1-2% and CPU by 25% between
// runs), so one run is no figure: the table shows the median run and the
// spread around it.
type runSummary struct {
	Mid      int           // index of the run with the median wall time
	CPU      time.Duration // median user+sys CPU over the runs
	MaxRSSKB int64         // largest peak RSS over the runs
	MinWall  time.Duration
	MaxWall  time.Duration
}

// summarize reads K launcher reports; it needs at least one.
func summarize(us []usage) runSummary {
	if len(us) == 0 {
		return runSummary{}
	}
	walls := make([]time.Duration, len(us))
	cpus := make([]time.Duration, len(us))
	s := runSummary{MinWall: us[0].wall(), MaxWall: us[0].wall()}
	for i, u := range us {
		walls[i], cpus[i] = u.wall(), u.cpu()
		s.MaxRSSKB = max(s.MaxRSSKB, u.MaxRSSKB)
		s.MinWall = min(s.MinWall, u.wall())
		s.MaxWall = max(s.MaxWall, u.wall())
	}
	s.Mid = medianIndex(walls)
	s.CPU = median(cpus)
	return s
}

// medianIndex returns the index of the median of ds. With an even count it
// takes the lower middle one, so the row shows a run that really happened
// (its start-up and tail belong to that same run); ties keep input order.
// It returns -1 for no values.
func medianIndex(ds []time.Duration) int {
	if len(ds) == 0 {
		return -1
	}
	idx := make([]int, len(ds))
	for i := range idx {
		idx[i] = i
	}
	slices.SortStableFunc(idx, func(a, b int) int { return cmp.Compare(ds[a], ds[b]) })
	return idx[(len(idx)-1)/2]
}

// median is the middle value of ds, the mean of the two middle ones for an
// even count, 0 for none.
func median(ds []time.Duration) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}
