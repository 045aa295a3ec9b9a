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
