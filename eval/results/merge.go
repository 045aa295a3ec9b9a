package results

import (
	"fmt"
	"sort"
)

// Merge joins shard results into one run, in the order a single run
// reports: suites in first-seen order, tests by suite then line. The parts
// must be shards 1..n of one n, each once, of one run group: a missing
// shard would drop its tests (and their failures) from the verdict.
func Merge(parts []*Results) (*Results, error) {
	if err := checkShards(parts); err != nil {
		return nil, err
	}
	out := &Results{Version: ResultsVersion, RunGroup: parts[0].RunGroup, Gate: parts[0].Gate}
	suiteIdx := map[string]int{}
	seen := map[string]string{}
	for i, p := range parts {
		if i == 0 || p.StartedAt.Before(out.StartedAt) {
			out.StartedAt = p.StartedAt
		}
		if out.GitSHA == "" {
			out.GitSHA, out.GitRef = p.GitSHA, p.GitRef
		}
		out.Interrupted = out.Interrupted || p.Interrupted
		if p.Summary.DurationMS > out.Summary.DurationMS {
			out.Summary.DurationMS = p.Summary.DurationMS
		}
		for _, s := range p.Suites {
			if _, ok := suiteIdx[s.Path]; !ok {
				suiteIdx[s.Path] = len(out.Suites)
				out.Suites = append(out.Suites, s)
			}
		}
		for _, t := range p.Tests {
			if prev, dup := seen[t.ID()]; dup {
				return nil, fmt.Errorf("merge: test %q is in both %s and shard %d (shards must not overlap)", t.ID(), prev, i+1)
			}
			seen[t.ID()] = fmt.Sprintf("shard %d", i+1)
			out.Tests = append(out.Tests, t)
		}
	}
	sort.SliceStable(out.Tests, func(a, b int) bool {
		ta, tb := &out.Tests[a], &out.Tests[b]
		if sa, sb := suiteIdx[ta.Suite], suiteIdx[tb.Suite]; sa != sb {
			return sa < sb
		}
		return ta.Line < tb.Line
	})
	dur := out.Summary.DurationMS
	out.Summary = Summary{DurationMS: dur}
	for i := range out.Tests {
		out.Tests[i].Shard = ""
		out.Summary.Add(&out.Tests[i])
	}
	out.Summary.Finish()
	return out, nil
}

// checkShards refuses a set of parts that is not exactly one run's shards.
func checkShards(parts []*Results) error {
	if len(parts) == 0 {
		return fmt.Errorf("merge: no results to merge")
	}
	n := 0
	at := map[int]int{} // shard index -> part
	for i, p := range parts {
		if p.Shard == nil {
			return fmt.Errorf("merge: results %d of %d records no shard (run each part with --shard i/n)", i+1, len(parts))
		}
		if n == 0 {
			n = p.Shard.Count
		}
		if p.Shard.Count != n || p.Shard.Index < 1 || p.Shard.Index > p.Shard.Count {
			return fmt.Errorf("merge: results %d is shard %s, results 1 is of %d shards (merge the shards of one run)", i+1, p.Shard, n)
		}
		if p.RunGroup != parts[0].RunGroup {
			return fmt.Errorf("merge: results %d belongs to run %q, results 1 to run %q (merge the shards of one run)", i+1, p.RunGroup, parts[0].RunGroup)
		}
		if prev, dup := at[p.Shard.Index]; dup {
			return fmt.Errorf("merge: results %d and %d are both shard %s (shards must not overlap)", prev+1, i+1, p.Shard)
		}
		at[p.Shard.Index] = i
	}
	var missing []int
	for k := 1; k <= n; k++ {
		if _, ok := at[k]; !ok {
			missing = append(missing, k)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("merge: shard %s missing: %d of %d shards given (merge every shard of the run)", shardList(missing, n), len(parts), n)
	}
	return nil
}

func shardList(idx []int, n int) string {
	s := ""
	for i, k := range idx {
		if i > 0 {
			s += ", "
		}
		s += fmt.Sprintf("%d/%d", k, n)
	}
	return s
}

// Errored lists the IDs of prev's tests that ended in error: what
// `run --retry-errors` runs again.
func Errored(prev *Results) (map[string]bool, error) {
	ids := map[string]bool{}
	err := prev.Each(func(t *TestResult) error {
		if t.Status == StatusError {
			ids[t.ID()] = true
		}
		return nil
	})
	return ids, err
}

// Retried merges a rerun of prev's errored tests into prev: every test of
// prev in its order, each one the rerun ran replaced by its new result
// (matched by ID), with totals and statistics counted again. The header
// (run id, start, git, gate) is the rerun's; the wall time adds up. A test
// of the rerun that prev lacks is appended.
func Retried(prev, rerun *Results) (*Results, error) {
	fresh := map[string]*TestResult{}
	var order []string
	err := rerun.Each(func(t *TestResult) error {
		c := *t
		if _, dup := fresh[c.ID()]; !dup {
			order = append(order, c.ID())
		}
		fresh[c.ID()] = &c
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("retry errors: %w", err)
	}
	out := &Results{Version: ResultsVersion, RunID: rerun.RunID, StartedAt: rerun.StartedAt, GitSHA: rerun.GitSHA,
		GitRef: rerun.GitRef, Interrupted: rerun.Interrupted, Shard: prev.Shard, RunGroup: prev.RunGroup, Gate: rerun.Gate}
	if out.Gate == nil {
		out.Gate = prev.Gate
	}
	// prev's suites in prev's order, each as the rerun saw it if it did.
	newer := map[string]SuiteInfo{}
	for _, s := range rerun.Suites {
		newer[s.Path] = s
	}
	seenSuite := map[string]bool{}
	for _, list := range [][]SuiteInfo{prev.Suites, rerun.Suites} {
		for _, s := range list {
			if !seenSuite[s.Path] {
				seenSuite[s.Path] = true
				if n, ok := newer[s.Path]; ok {
					s = n
				}
				out.Suites = append(out.Suites, s)
			}
		}
	}
	used := map[string]bool{}
	err = prev.Each(func(t *TestResult) error {
		if f, ok := fresh[t.ID()]; ok && !used[t.ID()] {
			used[t.ID()] = true
			out.Tests = append(out.Tests, *f)
			return nil
		}
		out.Tests = append(out.Tests, *t)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("retry errors: %w", err)
	}
	for _, id := range order {
		if !used[id] {
			out.Tests = append(out.Tests, *fresh[id])
		}
	}
	for i := range out.Tests {
		out.Count(&out.Tests[i])
	}
	out.Summary.Finish()
	out.Summary.DurationMS = prev.Summary.DurationMS + rerun.Summary.DurationMS
	return out, nil
}
