package main

import (
	"context"
	"errors"
	"fmt"
	"sort"

	"github.com/aieval/aieval/eval"
	"github.com/aieval/aieval/internal/text"
	"github.com/aieval/aieval/runtime"
)

func cmdValidate(ctx context.Context, args []string, st *state) error {
	fl := newFlags("validate", st)
	quiet := fl.Bool("quiet", false, "print only problems")
	strict := fl.Bool("strict", false, "treat warnings (undefined parameters, duplicate names, unknown models) as errors")
	list := fl.Bool("list-assertions", false, "list the assertion types and exit")
	var verbose bool
	fl.BoolVar(&verbose, "v", false, "list, per prompt, the provider, endpoint and key variable; with no FILE also the .json/.yaml files skipped and why")
	fl.BoolVar(&verbose, "verbose", false, "same as -v")
	paths, err := parseFlags(fl, args)
	if err != nil {
		return err
	}
	if *list {
		listAssertions(st.stdout)
		return nil
	}
	if len(paths) == 0 {
		var skipped func(path, why string)
		if verbose {
			skipped = func(path, why string) { fmt.Fprintf(st.stdout, "skip %s: %s\n", path, why) }
		}
		if paths, err = findConfigFiles(".", skipped); err != nil {
			return inputErr(err)
		}
		if len(paths) == 0 {
			return inputErr(errors.New("no aiconfig (a .json/.yaml file with a \"prompts\" list and \"schema_version\" or \"metadata\") or *.eval.yaml found below the current directory"))
		}
	}
	bad := 0
	for _, p := range paths {
		problems, warnings, loaded := validateFile(p, *strict)
		if len(problems) == 0 && loaded.suite != nil {
			// What run would stop on: an unset key a call needs.
			keys := suiteKeyProblems(ctx, st, p, loaded.suite)
			if *strict {
				problems = append(problems, keys...)
			} else {
				warnings = append(warnings, keys...)
			}
		}
		for _, msg := range warnings {
			fmt.Fprintln(st.stderr, "warning: "+text.OneLine(msg, 0))
		}
		for _, msg := range problems {
			fmt.Fprintln(st.stderr, text.OneLine(msg, 0))
		}
		if len(problems) > 0 {
			bad++
		} else if !*quiet {
			fmt.Fprintf(st.stdout, "ok  %s\n", p)
		}
		if verbose && len(problems) == 0 {
			printRoutes(st, loaded) // validate_routes.go
		}
	}
	if bad > 0 {
		// Each problem is already on its own line; a total only helps when
		// several files were checked.
		var err error
		if len(paths) > 1 {
			err = fmt.Errorf("%d of %d files invalid", bad, len(paths))
		}
		return &exitError{code: 2, err: err}
	}
	return nil
}

// validateFile returns the errors and warnings of one file, one line each.
// A suite is checked with everything it supplies, so a parameter its tests
// never define is an error. An aiconfig alone cannot know the parameters it
// will be run with, so there that is a warning (an error with --strict), as
// are duplicate prompt names the SDK tolerates: every real aiconfig the SDK
// runs passes. What loaded is returned for the checks after it (keys,
// routes), so a large cases file is not read again.
func validateFile(path string, strict bool) (errs, warns []string, loaded loadedFile) {
	if eval.IsSuiteFile(path) {
		s, err := eval.LoadSuite(path)
		var ie *eval.InputError
		if errors.As(err, &ie) {
			for _, p := range ie.Sorted() {
				errs = append(errs, p.String())
			}
			return errs, nil, loadedFile{}
		}
		if err != nil {
			return []string{err.Error()}, nil, loadedFile{}
		}
		// What run would warn of (a model aieval cannot route, ...) is
		// said here too; --strict makes it an error, as for an aiconfig.
		if strict {
			return s.Warnings, nil, loadedFile{suite: s}
		}
		return nil, s.Warnings, loadedFile{suite: s}
	}
	cfg, err := runtime.Load(path)
	if err != nil {
		return []string{err.Error()}, nil, loadedFile{}
	}
	for _, d := range runtime.Validate(cfg, nil) {
		if strict || d.Severity == runtime.SeverityError && !lenient[d.Code] {
			errs = append(errs, d.Error())
		} else {
			warns = append(warns, d.Error())
		}
	}
	return errs, warns, loadedFile{cfg: cfg}
}

// loadedFile is what validateFile loaded: a suite, or a bare aiconfig.
type loadedFile struct {
	suite *eval.Suite
	cfg   *runtime.Config
}

// lenient are the findings that stop a suite but only warn on a bare
// aiconfig (see validateFile).
var lenient = map[string]bool{
	runtime.CodeUndefinedParam:  true,
	runtime.CodeDuplicatePrompt: true,
	runtime.CodeUnknownModel:    true,
	runtime.CodeDottedPrompt:    true,
}

// findConfigFiles lists the suites and aiconfigs below root, aiconfigs by
// content whatever their name (see eval.AIConfigShape); skipped hears of
// the other JSON/YAML files.
func findConfigFiles(root string, skipped func(path, why string)) ([]string, error) {
	suites, err := eval.Discover(root)
	if err != nil {
		return nil, err
	}
	configs, err := eval.FindAIConfigs(root, skipped)
	if err != nil {
		return nil, err
	}
	out := append(suites, configs...)
	sort.Strings(out)
	return out, nil
}
