package main

import (
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/aieval/aieval/eval"
	"github.com/aieval/aieval/internal/text"
	"github.com/aieval/aieval/runtime"
)

//go:embed templates/workflow.yml
var workflowTemplate string

const starterConfig = `{
  "name": "hello",
  "schema_version": "latest",
  "metadata": {
    "parameters": { "city": "Paris" },
    "models": { "echo": {} },
    "default_model": "echo"
  },
  "prompts": [
    { "name": "greet", "input": "Write one sentence welcoming a visitor to {{city}}." }
  ]
}
`

func cmdInit(ctx context.Context, args []string, st *state) error {
	fl := newFlags("init", st)
	force := fl.Bool("force", false, "overwrite existing files")
	dir := fl.String("dir", ".", "repository root to write into")
	var verbose bool
	fl.BoolVar(&verbose, "v", false, "also list the .json/.yaml files that are not aiconfigs and why")
	fl.BoolVar(&verbose, "verbose", false, "same as -v")
	if _, err := parseFlags(fl, args); err != nil {
		return err
	}
	files := map[string]string{
		filepath.Join(*dir, ".github", "workflows", "aieval.yml"): workflowTemplate,
		filepath.Join(*dir, ".aieval", "cache", ".gitkeep"):       "",
	}
	suites, err := starterSuites(*dir, files, st, verbose)
	if err != nil {
		return inputErr(err)
	}
	if len(suites) == 0 {
		cfgPath := filepath.Join(*dir, "prompts", "hello.aiconfig.json")
		files[cfgPath] = starterConfig
		suitePath := filepath.Join(*dir, "prompts", "hello.eval.yaml")
		files[suitePath] = "# aieval suite: run it with 'aieval run'. Format: see the aieval README.\n" +
			"description: Starter suite for hello.aiconfig.json\nconfig: hello.aiconfig.json\ntests:\n" + smokeTest("greet")
		suites = append(suites, suitePath)
	}
	paths := make([]string, 0, len(files))
	for path := range files {
		paths = append(paths, path)
	}
	sort.Strings(paths) // the same report on every run
	for _, path := range paths {
		content := files[path]
		if _, err := os.Stat(path); err == nil && !*force {
			fmt.Fprintf(st.stdout, "kept     %s (exists; --force overwrites)\n", path)
			continue
		}
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return fmt.Errorf("init: %w", err)
		}
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			return fmt.Errorf("init: %w", err)
		}
		fmt.Fprintf(st.stdout, "wrote    %s\n", path)
	}
	sort.Strings(suites)
	// A few suites are named; more are what run finds below the directory.
	which := " " + strings.Join(suites, " ")
	if len(suites) > 3 {
		which = ""
		if filepath.Clean(*dir) != "." {
			which = " # in " + *dir
		}
	}
	fmt.Fprintf(st.stdout, "\nNext: aieval run%s\n", which)
	fmt.Fprintln(st.stdout, "      (run calls the models: set their keys, e.g. OPENAI_API_KEY; --model NAME=echo tries a prompt offline)")
	return nil
}

// starterSuites adds to files one starter suite per aiconfig found below dir
// (by content, see eval.AIConfigShape) that loads, and returns their paths.
// Each suite fills every parameter its aiconfig defines nowhere and checks
// each prompt answers something.
func starterSuites(dir string, files map[string]string, st *state, verbose bool) ([]string, error) {
	if _, err := os.Stat(dir); errors.Is(err, fs.ErrNotExist) {
		return nil, nil // a new directory: init creates it
	}
	var skipped func(path, why string)
	if verbose {
		skipped = func(path, why string) { fmt.Fprintf(st.stdout, "skip     %s: %s\n", path, why) }
	}
	configs, err := eval.FindAIConfigs(dir, skipped)
	if err != nil {
		return nil, err
	}
	var suites []string
	for _, path := range configs {
		cfg, err := runtime.Load(path)
		if err != nil {
			fmt.Fprintf(st.stdout, "skip     %s: not a valid aiconfig: %s\n", path, text.OneLine(err.Error(), 0))
			continue
		}
		if len(cfg.PromptNames()) == 0 {
			fmt.Fprintf(st.stdout, "skip     %s: it has no prompts to test\n", path)
			continue
		}
		text, problem := starterSuite(cfg, filepath.Base(path))
		if problem != "" {
			// The suite would not load: say what to fix in the aiconfig.
			fmt.Fprintf(st.stdout, "skip     %s: a suite cannot test it yet: %s\n", path, problem)
			continue
		}
		suitePath := starterSuitePath(path, files)
		files[suitePath] = text
		suites = append(suites, suitePath)
	}
	return suites, nil
}

// starterSuitePath names the suite of an aiconfig: its name without the
// extension (and .aiconfig) plus .eval.yaml, unless another aiconfig of the
// same name took that (x.aiconfig.json and x.aiconfig.yaml).
func starterSuitePath(cfgPath string, files map[string]string) string {
	base := strings.TrimSuffix(cfgPath, filepath.Ext(cfgPath))
	p := strings.TrimSuffix(base, ".aiconfig") + ".eval.yaml"
	if _, taken := files[p]; taken {
		p = base + "-" + strings.TrimPrefix(filepath.Ext(cfgPath), ".") + ".eval.yaml"
	}
	return p
}

// undefinedRE and unknownModelRE take the name out of runtime's findings.
var (
	undefinedRE    = regexp.MustCompile(`parameter ("(?:[^"\\]|\\.)*") is defined nowhere`)
	unknownModelRE = regexp.MustCompile(`uses unknown model ("(?:[^"\\]|\\.)*")`)
)

// starterSuite is the suite text for cfg (at rel from the suite), or why a
// suite of cfg would not load: findings a bare aiconfig only warns about
// (duplicate prompt names, dotted chain references) stop a suite.
func starterSuite(cfg *runtime.Config, rel string) (string, string) {
	missing, models := map[string]bool{}, map[string]bool{}
	for _, d := range runtime.Validate(cfg, nil) {
		re, into := undefinedRE, missing
		switch d.Code {
		case runtime.CodeUndefinedParam:
		case runtime.CodeUnknownModel:
			re, into = unknownModelRE, models
		default:
			continue
		}
		if m := re.FindStringSubmatch(d.Message); m != nil {
			if name, err := strconv.Unquote(m[1]); err == nil {
				into[name] = true
			}
		}
	}
	params, modelNames := sortedSet(missing), sortedSet(models)
	for _, d := range runtime.ValidateWith(cfg, runtime.ValidateOptions{Known: params, Models: modelNames}) {
		if d.Severity == runtime.SeverityError {
			return "", d.Error()
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "# aieval starter suite for %s: run it with 'aieval run'. Format: see the aieval README.\n", rel)
	fmt.Fprintf(&b, "description: %s\n", yamlQuote("Starter suite for "+rel))
	fmt.Fprintf(&b, "config: %s\n", yamlQuote(rel))
	if len(params) > 0 {
		b.WriteString("params: # used by the prompts but defined nowhere in the aiconfig: put real values here\n")
		for _, n := range params {
			fmt.Fprintf(&b, "  %s: %s\n", yamlQuote(n), yamlQuote("example "+n))
		}
	}
	if len(modelNames) > 0 {
		b.WriteString("models: # not declared in the aiconfig: give the endpoint serving each (base_url, api_key_env)\n")
		for _, n := range modelNames {
			fmt.Fprintf(&b, "  %s: {}\n", yamlQuote(n))
		}
	}
	b.WriteString("tests:\n")
	seen := map[string]bool{}
	for _, p := range cfg.PromptNames() {
		if seen[p] {
			continue // a repeated name runs its first prompt only
		}
		seen[p] = true
		b.WriteString(smokeTest(p))
	}
	return b.String(), ""
}

func sortedSet(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// smokeTest checks that prompt answers something that is not a refusal
// boilerplate.
func smokeTest(prompt string) string {
	return fmt.Sprintf("  - name: %s\n    prompt: %s\n    assert:\n      - type: length\n        value: { min: 1 }\n      - type: not-icontains\n        value: \"as an ai language model\"\n",
		yamlQuote(prompt+" answers"), yamlQuote(prompt))
}

// plainYAML are scalars YAML reads back as the same string unquoted.
var plainYAML = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_./-]*$`)

// yamlQuote writes s as a YAML scalar: plain when that reads back as s,
// else double-quoted (JSON's escapes are YAML's).
func yamlQuote(s string) string {
	if plainYAML.MatchString(s) {
		if _, isBool := parseYAMLWord(s); !isBool {
			return s
		}
	}
	b, _ := json.Marshal(s)
	return string(b)
}

// parseYAMLWord reports words YAML would read as something else than a
// string (true, no, null, ~...).
func parseYAMLWord(s string) (string, bool) {
	switch strings.ToLower(s) {
	case "true", "false", "yes", "no", "on", "off", "y", "n", "null", "~":
		return s, true
	}
	return s, false
}
