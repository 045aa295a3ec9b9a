package results

import (
	"fmt"
	"sort"
)

// Merge joins shard results into one run, in the order a single run
// reports: suites in first-seen order, tests by suite then line.
func Merge(parts []*Results) (*Results, error) {
	out := &Results{Version: ResultsVersion}
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
	return out, nil
}
