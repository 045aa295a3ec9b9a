//go:build linux || darwin

package main

import (
	"bufio"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"os"
)

// jsonReport is the part of the --json artifact the bench checks.
type jsonReport struct {
	Summary struct {
		Total   int `json:"total"`
		Passed  int `json:"passed"`
		Failed  int `json:"failed"`
		Errors  int `json:"errors"`
		Skipped int `json:"skipped"`
		Cached  int `json:"cached"`
	} `json:"summary"`
	Tests []struct {
		Name   string `json:"name"`
		Status string `json:"status"`
		Reason string `json:"reason"`
		Cached bool   `json:"cached"`
	} `json:"tests"`
}

// checkJSON verifies that path holds n distinct tests, all passing, and,
// when cached, all served from the cache.
func checkJSON(path string, n int, cached bool) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("open json report: %w", err)
	}
	defer f.Close()
	var r jsonReport
	if err := json.NewDecoder(bufio.NewReaderSize(f, 256<<10)).Decode(&r); err != nil {
		return fmt.Errorf("decode json report %s: %w", path, err)
	}
	if len(r.Tests) != n {
		return fmt.Errorf("json report %s: %d tests, want %d", path, len(r.Tests), n)
	}
	seen := make(map[string]struct{}, n)
	pass, fromCache := 0, 0
	var firstBad string
	for _, t := range r.Tests {
		seen[t.Name] = struct{}{}
		if t.Status == "pass" {
			pass++
		} else if firstBad == "" {
			firstBad = fmt.Sprintf("%s is %s: %s", t.Name, t.Status, t.Reason)
		}
		if t.Cached {
			fromCache++
		}
	}
	switch {
	case len(seen) != n:
		return fmt.Errorf("json report %s: %d distinct test names, want %d", path, len(seen), n)
	case pass != n:
		return fmt.Errorf("json report %s: %d passing tests, want %d (first: %s)", path, pass, n, firstBad)
	case r.Summary.Total != n || r.Summary.Passed != n:
		return fmt.Errorf("json report %s: summary total %d passed %d, want %d", path, r.Summary.Total, r.Summary.Passed, n)
	case cached && fromCache != n:
		return fmt.Errorf("json report %s: %d tests from the cache, want %d", path, fromCache, n)
	}
	return nil
}

// checkJUnit verifies that path is well-formed XML with n testcases and no
// failure or error elements.
func checkJUnit(path string, n int) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("open junit report: %w", err)
	}
	defer f.Close()
	dec := xml.NewDecoder(bufio.NewReaderSize(f, 256<<10))
	cases, bad := 0, 0
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return fmt.Errorf("parse junit report %s: %w", path, err)
		}
		if se, ok := tok.(xml.StartElement); ok {
			switch se.Name.Local {
			case "testcase":
				cases++
			case "failure", "error":
				bad++
			}
		}
	}
	if cases != n || bad != 0 {
		return fmt.Errorf("junit report %s: %d testcases with %d failures/errors, want %d and 0", path, cases, bad, n)
	}
	return nil
}
