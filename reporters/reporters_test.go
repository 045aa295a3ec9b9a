package reporters

import (
	"bytes"
	"reflect"
	"strings"
	"testing"
)

func TestNamesListsEveryReporter(t *testing.T) {
	want := []string{"console", "github", "html", "json", "junit", "markdown"}
	if got := Names(); !reflect.DeepEqual(got, want) {
		t.Fatalf("Names() = %v, want %v", got, want)
	}
	if _, err := Get("yaml", Options{}); err == nil || !strings.Contains(err.Error(), "known: console") {
		t.Fatalf("Get(yaml) error = %v, want one listing the known reporters", err)
	}
}

// goldenCases are the reporters and options the golden files pin down.
var goldenCases = []struct {
	golden, reporter string
	opts             Options
	big              bool
}{
	{"console", "console", Options{}, true},
	{"console-color-verbose", "console", Options{Color: true, Verbose: true}, false},
	// A small cap keeps the golden readable; the default cap is checked in junit_test.go.
	{"junit", "junit", Options{MaxOutput: 2048, Hostname: "ci-runner-1"}, true},
	{"junit-github", "junit", Options{MaxOutput: 2048, Hostname: "ci-runner-1", JUnitFlavor: JUnitFlavorGitHub}, true},
	{"json", "json", Options{}, false},
	{"github", "github", Options{}, true},
	{"markdown", "markdown", Options{}, true},
	{"html", "html", Options{}, false},
	{"html-baseline", "html", Options{Baseline: baselineFixture()}, false},
}

func TestGolden(t *testing.T) {
	for _, tc := range goldenCases {
		t.Run(tc.golden, func(t *testing.T) {
			golden(t, tc.golden, render(t, tc.reporter, tc.opts, fixture(tc.big)))
		})
	}
}

// A spooled run renders byte for byte as the same run held in memory (the
// JSON reporter copies spooled lines instead of decoding them).
func TestSpooledRunRendersTheSame(t *testing.T) {
	for _, tc := range goldenCases {
		t.Run(tc.golden, func(t *testing.T) {
			r := fixture(tc.big)
			mem := render(t, tc.reporter, tc.opts, r)
			disk := render(t, tc.reporter, tc.opts, spooled(t, r))
			if !bytes.Equal(mem, disk) {
				t.Fatalf("spooled output differs from in-memory output (%d vs %d bytes)", len(disk), len(mem))
			}
		})
	}
}

// No reporter but json (which escapes them) may pass control characters
// or ANSI escapes from model output through; console colour is its own.
func TestNoRawControlCharacters(t *testing.T) {
	for _, name := range []string{"console", "junit", "github", "markdown", "html"} {
		out := render(t, name, Options{}, fixture(true))
		for i, c := range out {
			if c < 0x20 && c != '\t' && c != '\n' && c != '\r' {
				t.Fatalf("%s: control byte %#x at offset %d: %q", name, c, i, out[max(0, i-20):min(len(out), i+20)])
			}
		}
		if !bytes.Equal(bytes.ToValidUTF8(out, nil), out) {
			t.Fatalf("%s: output is not valid UTF-8", name)
		}
	}
}
