package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/aieval/aieval/eval/results"
	"github.com/aieval/aieval/internal/safefile"
	"github.com/aieval/aieval/internal/text"
)

// state is everything the process touches, so the whole CLI runs in-process
// in tests.
type state struct {
	stdout io.Writer
	stderr io.Writer
	stdin  io.Reader
	getenv func(string) string
	isTTY  bool
	stop   <-chan struct{} // closed on the first SIGINT/SIGTERM
}

// exitError carries an exit code up to run, which alone maps errors to codes.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

// inputErr marks err as invalid usage or input (exit 2).
func inputErr(err error) error { return &exitError{code: results.ExitInput, err: err} }

type command struct {
	name    string
	summary string
	run     func(ctx context.Context, args []string, st *state) error
}

func commands() []command {
	return []command{
		{"run", "run suites and report (no argument: every *.eval.yaml below .)", cmdRun},
		{"watch", "rerun the tests an edit affects, on every save (local loop)", cmdWatch},
		{"validate", "check aiconfig and suite files without calling a model", cmdValidate},
		{"prompt", "run one prompt of an aiconfig and print its output", cmdPrompt},
		{"compare", "list regressions between two results files", cmdCompare},
		{"report", "render a results file (--html, --junit, --markdown)", cmdReport},
		{"merge", "merge results files of shards into one", cmdMerge},
		{"history", "show pass rate and cost per run", cmdHistory},
		{"view", "serve a local web viewer of runs (results files, history)", cmdView},
		{"cache", "manage the record/replay cache (prune)", cmdCache},
		{"github", "comment a pull request with the results (github comment RESULTS.json)", cmdGitHub},
		{"init", "write a starter suite and GitHub workflow", cmdInit},
		{"import", "convert a promptfoo config to an aiconfig and suites (import promptfoo FILE)", cmdImport},
		{"version", "print the version", cmdVersion},
	}
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "aieval: evaluate AIConfig prompts in CI")
	fmt.Fprintln(w, "\nUsage: aieval COMMAND [flags] [args]\n\nCommands:")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-9s %s\n", c.name, c.summary)
	}
	helpLists(w)
	fmt.Fprintln(w, "\nRun 'aieval COMMAND -h' for a command's flags.")
	fmt.Fprintln(w, "Exit codes: 0 all passed, 1 a test failed or regressed, 2 invalid input, 3 a test could not be evaluated.")
}

// run executes one command line and returns the process exit code.
func run(ctx context.Context, args []string, st *state) int {
	if len(args) == 0 {
		usage(st.stderr)
		return results.ExitInput
	}
	name := args[0]
	switch name {
	case "-h", "--help", "help":
		usage(st.stdout)
		return 0
	case "-v", "--version":
		name = "version"
	}
	for _, c := range commands() {
		if c.name != name {
			continue
		}
		// A cap that cannot be read is refused, not silently replaced by
		// the default.
		if v := st.getenv(safefile.EnvVar); v != "" {
			if _, err := safefile.ParseMB(v); err != nil {
				return exitCode(inputErr(fmt.Errorf("%s: %w", safefile.EnvVar, err)), st)
			}
		}
		err := c.run(ctx, args[1:], st)
		return exitCode(err, st)
	}
	fmt.Fprintf(st.stderr, "aieval: unknown command %q (run 'aieval help' for the list)\n", name)
	return results.ExitInput
}

func exitCode(err error, st *state) int {
	if err == nil {
		return 0
	}
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	var ee *exitError
	if errors.As(err, &ee) {
		if ee.err != nil && ee.err.Error() != "" {
			fmt.Fprintln(st.stderr, "aieval: "+text.OneLine(ee.err.Error(), 0))
		}
		return ee.code
	}
	fmt.Fprintln(st.stderr, "aieval: "+text.OneLine(err.Error(), 0))
	return results.ExitInput
}

// newFlags builds a FlagSet whose errors are input errors, not exits.
func newFlags(name string, st *state) *flag.FlagSet {
	fs := flag.NewFlagSet("aieval "+name, flag.ContinueOnError)
	fs.SetOutput(st.stderr)
	return fs
}

// parseFlags parses, allowing flags after positional arguments
// (aieval run suite.eval.yaml --junit out.xml), as users expect.
func parseFlags(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, err
			}
			return nil, inputErr(err)
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		if args[0] == "--" {
			return append(pos, args[1:]...), nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}

// kvFlag collects repeated k=v flags (--param, --model).
type kvFlag map[string]string

func (k kvFlag) String() string { return "" }
func (k kvFlag) Set(s string) error {
	key, val, ok := strings.Cut(s, "=")
	if !ok || key == "" {
		return fmt.Errorf("want KEY=VALUE, got %q", s)
	}
	k[key] = val
	return nil
}

// warn prints one warning line on stderr.
func warn(st *state, msg string) { fmt.Fprintln(st.stderr, "aieval: warning: "+text.OneLine(msg, 0)) }
