package main

import (
	"fmt"
	"io"

	"github.com/aieval/aieval/assertions"
	"github.com/aieval/aieval/reporters"
)

// listAssertions prints every registered assertion type with its one-line
// help, from the registry, for `validate --list-assertions`.
func listAssertions(w io.Writer) {
	names := assertions.Names()
	width := 0
	for _, n := range names {
		width = max(width, len(n))
	}
	for _, n := range names {
		fmt.Fprintf(w, "%-*s  %s\n", width, n, assertions.Describe(n))
	}
	fmt.Fprintln(w, "\nEvery type can be negated with the not- prefix (not-contains, not-is-json, ...).")
}

// wrapList writes label and the items, wrapped at 100 columns, for --help.
func wrapList(w io.Writer, label string, items []string) {
	line := label
	for i, it := range items {
		sep := " "
		if i < len(items)-1 {
			it += ","
		}
		if len(line)+len(sep)+len(it) > 100 {
			fmt.Fprintln(w, line)
			line = " "
		}
		line += sep + it
	}
	fmt.Fprintln(w, line)
}

// helpLists is the part of --help fed by the registries.
func helpLists(w io.Writer) {
	fmt.Fprintln(w)
	wrapList(w, "Assertion types (aieval validate --list-assertions):", assertions.Names())
	wrapList(w, "Report formats:", reporters.Names())
}
