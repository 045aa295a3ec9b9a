package reporters

import (
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/aieval/aieval/eval/results"
)

// Reporter renders a run to w: a finished one, or a live view of one that
// is still going (results.Live, what `aieval run` gives), whose tests
// come in while the models answer. On a live view a reporter reads the
// tests with one Each (or EachLine) and everything else but Suites only
// once that returns: a header holding totals is written after the tests,
// which wait in a SpillBuffer meanwhile.
type Reporter interface {
	Report(w io.Writer, r *results.Results) error
}

// Options shared by reporters.
type Options struct {
	Color   bool // ANSI colours (console); off under NO_COLOR or when not a TTY
	Verbose bool // console: show passing tests too
	// MaxOutput caps outputs written into reports (JUnit system-out); 0 = default.
	MaxOutput int
	// Baseline, when set, lets reporters show per-test changes.
	Baseline *results.Results
	// Hostname for JUnit testsuites; "" leaves it out so files are
	// reproducible. The caller injects os.Hostname() when wanted.
	Hostname string
	// Quiet (console): only failures and the totals line, no table.
	Quiet bool
	// FilePath maps a suite path to the file GitHub annotations name
	// (relative to $GITHUB_WORKSPACE); "" leaves the file out. nil keeps
	// the suite path.
	FilePath func(suite string) string
	// JUnitFlavor adds to the JUnit file what some consumers read and the
	// strict XSD refuses (see JUnitFlavors); "" writes the strict file.
	JUnitFlavor string
}

var table = map[string]func(Options) Reporter{}

// register is called by each reporter's file in init.
func register(name string, f func(Options) Reporter) { table[name] = f }

// Get returns the reporter called name.
func Get(name string, opts Options) (Reporter, error) {
	f, ok := table[name]
	if !ok {
		return nil, fmt.Errorf("unknown reporter %q (known: %s)", name, strings.Join(Names(), ", "))
	}
	return f(opts), nil
}

// Names lists reporter names, sorted, for --help.
func Names() []string {
	names := make([]string, 0, len(table))
	for n := range table {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}
