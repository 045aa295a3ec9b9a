package promptfoo

import (
	"bytes"
	"encoding/csv"
	"path/filepath"
	"strings"
)

// A promptfoo eval sends every test's vars to every prompt, which ignores
// those it does not read. aieval refuses a parameter its prompt does not
// read (a typo would pass silently), so each suite gets the tests with
// the variables of its own prompt only.

// forPrompt is t with only the params prompt (reading reads) uses; a
// note says what was left out, once per variable and prompt.
func (sw *suiteWriter) forPrompt(t *testOut, reads map[string]bool, prompt string) *testOut {
	c := *t
	if len(t.Params) == 0 {
		return &c
	}
	extra := assertReads(t.Assert)
	c.Params = map[string]any{}
	for k, v := range t.Params {
		if reads[k] || extra[k] {
			c.Params[k] = v
			continue
		}
		sw.leftOut(k, prompt)
	}
	if len(c.Params) == 0 {
		c.Params = nil
	}
	return &c
}

func (sw *suiteWriter) leftOut(v, prompt string) {
	key := v + "\x00" + prompt
	if sw.noted == nil {
		sw.noted = map[string]bool{}
	}
	if !sw.noted[key] {
		sw.noted[key] = true
		sw.im.note("", 0, "var %s is not read by prompt %s: left out of that prompt's suite", v, prompt)
	}
}

func assertReads(asserts []*assertOut) map[string]bool {
	extra := map[string]bool{}
	for _, a := range asserts {
		for _, p := range paramTypes[strings.TrimPrefix(a.Type, "not-")] {
			extra[p] = true
		}
	}
	return extra
}

// cellTests are the tests of one prompt's suite: inline tests filtered by
// forPrompt, CSV files referenced as they are when the prompt reads every
// variable column, else as a copy without the others.
func (sw *suiteWriter) cellTests(tests any, reads map[string]bool, prompt string) any {
	if ref, ok := tests.(string); ok {
		return sw.cellCSV(ref, reads, prompt)
	}
	list, _ := tests.([]any)
	out := make([]any, 0, len(list))
	for _, t := range list {
		switch x := t.(type) {
		case string:
			out = append(out, sw.cellCSV(x, reads, prompt))
		case *testOut:
			out = append(out, sw.forPrompt(x, reads, prompt))
		}
	}
	return out
}

// special CSV columns aieval reads itself (README: cases files).
func specialColumn(c string) bool {
	switch c {
	case "name", "prompt", "skip", "__description", "__metric", "__threshold":
		return true
	}
	return strings.HasPrefix(c, "__") || strings.HasPrefix(c, "assert_")
}

// cellCSV references the cases file ref (relative to the output
// directory) for one prompt.
func (sw *suiteWriter) cellCSV(ref string, reads map[string]bool, prompt string) string {
	path := filepath.Join(sw.im.out, strings.TrimPrefix(ref, "file://"))
	data, err := sw.im.readOut(path)
	if err != nil {
		return ref // aieval validate names the problem
	}
	r := csv.NewReader(bytes.NewReader(data))
	r.FieldsPerRecord = -1
	rows, err := r.ReadAll()
	if err != nil || len(rows) == 0 {
		return ref
	}
	head := rows[0]
	var keep []int
	var varCols []int
	hasName := false
	drop := false
	for i, c := range head {
		c = strings.TrimSpace(c)
		if c == "name" || c == "__description" {
			hasName = true
		}
		if !specialColumn(c) {
			varCols = append(varCols, i)
			if !reads[c] {
				sw.leftOut(c, prompt)
				drop = true
				continue
			}
		}
		keep = append(keep, i)
	}
	if !drop {
		return ref
	}
	out := [][]string{}
	for ri, row := range rows {
		var rec []string
		if !hasName {
			if ri == 0 {
				rec = append(rec, "name")
			} else {
				// The name the whole row would have had: its values
				// joined, so names stay those of the original file.
				var vals []string
				for _, i := range varCols {
					if i < len(row) {
						vals = append(vals, row[i])
					}
				}
				rec = append(rec, strings.Join(vals, ", "))
			}
		}
		for _, i := range keep {
			if i < len(row) {
				rec = append(rec, row[i])
			} else {
				rec = append(rec, "")
			}
		}
		out = append(out, rec)
	}
	base := strings.TrimSuffix(path, filepath.Ext(path))
	dst := base + "." + prompt + ".csv"
	var buf bytes.Buffer
	if err := csv.NewWriter(&buf).WriteAll(out); err != nil {
		sw.im.note("", 0, "write %s: %v", dst, err)
		return ref
	}
	sw.im.put(dst, buf.Bytes())
	return "file://" + sw.im.rel(dst)
}
