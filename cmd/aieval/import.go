package main

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/aieval/aieval/assertions"
	"github.com/aieval/aieval/internal/promptfoo"
	"github.com/aieval/aieval/internal/text"
)

// cmdImport converts another tool's config: `aieval import promptfoo
// promptfooconfig.yaml [--out DIR]` writes an aiconfig and suites, lists
// what it could not map, and validates what it wrote.
func cmdImport(ctx context.Context, args []string, st *state) error {
	fl := newFlags("import", st)
	out := fl.String("out", "", "directory to write the aiconfig and suites to (default: the config's directory)")
	force := fl.Bool("force", false, "overwrite files that exist")
	fl.Usage = func() {
		fmt.Fprintln(st.stderr, "Usage: aieval import promptfoo promptfooconfig.yaml [--out DIR] [--force]")
		fl.PrintDefaults()
	}
	pos, err := parseFlags(fl, args)
	if err != nil {
		return err
	}
	if len(pos) != 2 || pos[0] != "promptfoo" {
		return inputErr(errors.New("usage: aieval import promptfoo promptfooconfig.yaml [--out DIR] (promptfoo is the only format imported)"))
	}
	res, err := promptfoo.Import(pos[1], promptfoo.Options{Out: *out, Types: assertions.Names(), Force: *force})
	if err != nil {
		return inputErr(err)
	}
	fmt.Fprintf(st.stdout, "wrote %s\n", res.Config)
	for _, s := range res.Suites {
		fmt.Fprintf(st.stdout, "wrote %s\n", s)
	}
	if len(res.Notes) > 0 {
		fmt.Fprintf(st.stdout, "\nnot mapped or changed (%d):\n", len(res.Notes))
		for _, n := range res.Notes {
			fmt.Fprintln(st.stdout, "  "+text.OneLine(n.String(), 0))
		}
	}
	bad := 0
	for _, s := range res.Suites {
		problems, _, _ := validateFile(s, false)
		for _, msg := range problems {
			fmt.Fprintln(st.stderr, text.OneLine(msg, 0))
		}
		if len(problems) > 0 {
			bad++
		}
	}
	if bad > 0 {
		return inputErr(fmt.Errorf("%d of %d written suites do not validate: fix them (or the promptfoo config) and run aieval validate", bad, len(res.Suites)))
	}
	// The next command: the suites, and how to smoke-run them offline.
	var echo []string
	for _, m := range res.Models {
		echo = append(echo, "--model "+m+"=echo")
	}
	fmt.Fprintf(st.stdout, "\nvalid. Next: aieval run %s\n", strings.Join(res.Suites, " "))
	fmt.Fprintf(st.stdout, "Offline, on the echo model: aieval run %s %s\n", strings.Join(echo, " "), strings.Join(res.Suites, " "))
	return nil
}
