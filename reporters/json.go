package reporters

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"time"

	"github.com/aieval/aieval/eval/results"
	"github.com/aieval/aieval/internal/text"
)

func init() { register("json", func(o Options) Reporter { return &JSON{opts: o} }) }

// JSON writes the regression artifact: the Results shape that ReadFile
// reads back. It streams: header fields, then the tests one at a time from
// Each, then the summary, so memory stays flat on a large run. Indented so
// a committed baseline diffs readably.
type JSON struct{ opts Options }

// jsonHeader is Results without Summary and Tests; same tags, same order.
type jsonHeader struct {
	Version     int                   `json:"version"`
	RunID       string                `json:"run_id,omitempty"`
	StartedAt   time.Time             `json:"started_at"`
	GitSHA      string                `json:"git_sha,omitempty"`
	GitRef      string                `json:"git_ref,omitempty"`
	Suites      []results.SuiteInfo   `json:"suites"`
	Interrupted bool                  `json:"interrupted,omitempty"`
	Shard       *results.ShardInfo    `json:"shard,omitempty"`
	RunGroup    string                `json:"run_group,omitempty"`
	Gate        *results.PassRateGate `json:"pass_rate_gate,omitempty"`
}

// Report writes the JSON results.
func (j *JSON) Report(w io.Writer, r *results.Results) error {
	if err := writeJSON(w, r); err != nil {
		return fmt.Errorf("json report: %w", err)
	}
	return nil
}

func writeJSON(w io.Writer, r *results.Results) error {
	bw := bufio.NewWriterSize(w, 64<<10)
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false) // outputs full of <, > and & stay readable

	// putHead writes the header as r has it now.
	putHead := func() ([]byte, error) {
		h, err := jsonHead(r)
		if err == nil {
			_, err = bw.Write(h)
		}
		return h, err
	}
	// A live view's header is final only at the end (interrupted, a git
	// commit that came late). Into a file, the header the view has at its
	// first test is written first and the tests after it, and the file's
	// start is rewritten in the rare run whose header changed by the end;
	// elsewhere the tests go to a spill that follows the header once they
	// are all in.
	body := bw
	var spill *SpillBuffer
	var file rewritable
	inPlace := false
	if r.Live() {
		file, inPlace = rewritableAtStart(w)
	}
	var head []byte // the header written at the first test, when inPlace
	switch {
	case inPlace: // the header goes in with the first test (emit)
	case r.Live():
		spill, _ = NewSpillBuffer(true)
		defer spill.Close()
		body = bufio.NewWriterSize(spill, 64<<10)
	default:
		if _, err := putHead(); err != nil {
			return err
		}
	}

	enc.SetIndent("    ", "  ")
	n := 0
	emit := func() error {
		if n > 0 {
			body.WriteByte(',')
		} else if inPlace {
			var err error
			if head, err = putHead(); err != nil {
				return err
			}
		}
		n++
		body.WriteString("\n    ")
		_, err := body.Write(bytes.TrimRight(buf.Bytes(), "\n"))
		return err
	}
	// A spooled test is already its compact JSON: indenting it gives the
	// bytes encoding it would, without decoding it first.
	spooled, err := r.EachLine(func(line []byte) error {
		buf.Reset()
		if err := indentCompact(&buf, line, "    ", "  "); err != nil {
			return fmt.Errorf("read results spool: %w", err)
		}
		return emit()
	})
	if !spooled {
		err = r.Each(func(t *results.TestResult) error {
			buf.Reset()
			if err := enc.Encode(finiteTest(t)); err != nil {
				return fmt.Errorf("encode test %s: %w", t.ID(), err)
			}
			return emit()
		})
	}
	if err != nil {
		return err
	}
	switch {
	case spill != nil:
		if err := body.Flush(); err != nil {
			return err
		}
		if _, err := putHead(); err != nil {
			return err
		}
		if err := bw.Flush(); err != nil {
			return err
		}
		if err := spill.CopyTo(bw); err != nil {
			return err
		}
	case inPlace && n == 0:
		if _, err := putHead(); err != nil {
			return err
		}
	case inPlace:
		final, err := jsonHead(r)
		if err != nil {
			return err
		}
		if !bytes.Equal(final, head) {
			if err := bw.Flush(); err != nil {
				return err
			}
			if err := replaceHead(file, int64(len(head)), final); err != nil {
				return err
			}
		}
	}
	if n > 0 {
		bw.WriteString("\n  ")
	}
	bw.WriteString("],\n  \"summary\": ")

	buf.Reset()
	enc.SetIndent("  ", "  ")
	if err := enc.Encode(finiteSummary(r.Summary)); err != nil {
		return err
	}
	bw.Write(bytes.TrimRight(buf.Bytes(), "\n"))
	bw.WriteString("\n}\n")
	return bw.Flush()
}

// rewritable is a report file whose start can be written again (an
// *os.File open for reading and writing).
type rewritable interface {
	io.Writer
	io.ReaderAt
	io.Seeker
	Truncate(size int64) error
}

// rewritableAtStart is w as a rewritable file, when it is one and nothing
// is written to it yet.
func rewritableAtStart(w io.Writer) (rewritable, bool) {
	f, ok := w.(rewritable)
	if !ok {
		return nil, false
	}
	off, err := f.Seek(0, io.SeekCurrent)
	return f, err == nil && off == 0
}

// replaceHead puts head in place of the file's first old bytes, keeping
// what follows them: the rest goes to a spill and back.
func replaceHead(f rewritable, old int64, head []byte) error {
	end, err := f.Seek(0, io.SeekCurrent)
	if err != nil {
		return err
	}
	rest, _ := NewSpillBuffer(true)
	defer rest.Close()
	if _, err := io.Copy(rest, io.NewSectionReader(f, old, end-old)); err != nil {
		return err
	}
	if err := f.Truncate(0); err != nil {
		return err
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return err
	}
	if _, err := f.Write(head); err != nil {
		return err
	}
	return rest.CopyTo(f)
}

// jsonHead is the header fields and the tests array's opening.
func jsonHead(r *results.Results) ([]byte, error) {
	version := r.Version
	if version == 0 {
		version = results.ResultsVersion
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(jsonHeader{version, r.RunID, r.StartedAt, r.GitSHA, r.GitRef, r.Suites, r.Interrupted, r.Shard, r.RunGroup, r.Gate}); err != nil {
		return nil, err
	}
	// Reopen the header object: drop its closing "}\n".
	head := bytes.TrimRight(bytes.TrimSuffix(bytes.TrimRight(buf.Bytes(), "\n"), []byte("}")), "\n")
	return append(head, ",\n  \"tests\": ["...), nil
}

// finiteTest returns t with NaN and infinite numbers zeroed, since
// encoding/json refuses them; t itself is left alone when already clean.
func finiteTest(t *results.TestResult) *results.TestResult {
	clean := func(f float64) bool { return f == text.Finite(f) }
	ok := clean(t.LatencyMS) && clean(t.Cost) && clean(t.Score) && (t.Threshold == nil || clean(*t.Threshold))
	for _, a := range t.Assertions {
		ok = ok && clean(a.Score) && clean(a.Weight)
	}
	if p := t.PassRate; p != nil {
		ok = ok && clean(p.Rate) && clean(p.Low) && clean(p.High) && clean(p.Required)
	}
	if ok {
		return t
	}
	c := *t
	c.LatencyMS, c.Cost, c.Score = text.Finite(c.LatencyMS), text.Finite(c.Cost), text.Finite(c.Score)
	if c.Threshold != nil {
		th := text.Finite(*c.Threshold)
		c.Threshold = &th
	}
	c.Assertions = append([]results.AssertionResult(nil), t.Assertions...)
	for i := range c.Assertions {
		c.Assertions[i].Score = text.Finite(c.Assertions[i].Score)
		c.Assertions[i].Weight = text.Finite(c.Assertions[i].Weight)
	}
	if t.PassRate != nil {
		p := *t.PassRate
		p.Rate, p.Low, p.High, p.Required = text.Finite(p.Rate), text.Finite(p.Low), text.Finite(p.High), text.Finite(p.Required)
		c.PassRate = &p
	}
	return &c
}

func finiteSummary(s results.Summary) results.Summary {
	s.DurationMS, s.Cost = text.Finite(s.DurationMS), text.Finite(s.Cost)
	if s.Metrics != nil {
		m := make(map[string]results.MetricSummary, len(s.Metrics))
		for k, v := range s.Metrics {
			v.Mean, v.Low, v.High = text.Finite(v.Mean), text.Finite(v.Low), text.Finite(v.High)
			m[k] = v
		}
		s.Metrics = m
	}
	if s.Models != nil {
		ms := make([]results.ModelSummary, len(s.Models))
		for i, v := range s.Models {
			v.PassRate, v.Cost, v.CostSaved = text.Finite(v.PassRate), text.Finite(v.Cost), text.Finite(v.CostSaved)
			v.LatencyMS, v.Score = text.Finite(v.LatencyMS), text.Finite(v.Score)
			ms[i] = v
		}
		s.Models = ms
	}
	return s
}
