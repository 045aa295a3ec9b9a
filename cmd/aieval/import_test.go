package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/aieval/aieval/eval/results"
	"gopkg.in/yaml.v3"
)

// The promptfoo configs in testdata/promptfoo cover the shapes users bring
// (see its README): each imports, validates, and runs on the echo model.
func TestImportPromptfooExamples(t *testing.T) {
	providers := []string{"local-gpt", "azure-my-deployment", "anthropic.claude-3-haiku-20240307-v1:0", "gemini-1.5-pro", "llama3"}
	for _, c := range []struct {
		dir    string
		suites int
		tests  int      // tests of all suites, each run once per matrix model
		models []string // the aiconfig's models, run on echo
		matrix []string // the providers, the suites' matrix
		notes  []string // substrings of the not-mapped list
	}{
		{"inline", 2, 8, []string{"gpt-4o-mini", "claude-3-5-sonnet-20241022", "gpt-4o"}, []string{"gpt-4o-mini", "claude-3-5-sonnet-20241022"}, []string{
			"promptfooconfig.yaml:38: assertion javascript: not mapped",
			`promptfooconfig.yaml:51: transform "output.toLowerCase()" is JavaScript: not mapped`,
			"evaluateOptions.maxConcurrency: not mapped",
		}},
		{"files", 3, 6, []string{"llama3", "gemini-pro"}, []string{"llama3", "gemini-pro"}, []string{
			"prompts/reply.txt:1: prompt reply_1: filter |upper on company dropped",
			"vertex:gemini-pro: mapped to the Gemini API",
			"var vip is not read by prompt chat: left out of that prompt's suite",
		}},
		{"providers", 1, 2, providers, providers, []string{
			"promptfooconfig.yaml:11: provider openai:chat:gpt-4o: config.apiKey not copied",
			"promptfooconfig.yaml:15: provider bedrock:anthropic.claude-3-haiku-20240307-v1:0: config.region not mapped",
			"promptfooconfig.yaml:22: provider http://example.com/api: custom providers",
			"tests.yaml:7: var extra is read by no prompt: dropped",
		}},
	} {
		t.Run(c.dir, func(t *testing.T) {
			out := t.TempDir()
			cli := newCLI(t)
			o := cli.run("import", "promptfoo", filepath.Join("testdata", "promptfoo", c.dir, "promptfooconfig.yaml"), "--out", out)
			if o.code != 0 {
				t.Fatalf("import: exit %d\n%s\n%s", o.code, o.stdout, o.stderr)
			}
			for _, n := range c.notes {
				if !strings.Contains(o.stdout, n) {
					t.Errorf("import output lacks the note %q:\n%s", n, o.stdout)
				}
			}
			if strings.Contains(o.stdout+o.stderr, "sk-not-copied") {
				t.Error("the import printed a key from the config")
			}
			suites, _ := filepath.Glob(filepath.Join(out, "*.eval.yaml"))
			if len(suites) != c.suites {
				t.Fatalf("%d suites written, want %d: %v", len(suites), c.suites, suites)
			}
			for _, f := range append(suites, filepath.Join(out, c.dir+".aiconfig.json")) {
				b, err := os.ReadFile(f)
				if err != nil {
					t.Fatal(err)
				}
				if strings.Contains(string(b), "sk-not-copied") {
					t.Errorf("%s holds the key of the promptfoo config", f)
				}
				// One suite per prompt, on every provider side by side.
				if strings.HasSuffix(f, ".eval.yaml") {
					var suite struct{ Matrix []string }
					if err := yaml.Unmarshal(b, &suite); err != nil {
						t.Fatal(err)
					}
					if !reflect.DeepEqual(suite.Matrix, c.matrix) {
						t.Errorf("%s: matrix %q, want %q", f, suite.Matrix, c.matrix)
					}
				}
			}
			if o := cli.run(append([]string{"validate"}, suites...)...); o.code != 0 {
				t.Fatalf("validate: exit %d\n%s", o.code, o.stderr)
			}
			jsonOut := filepath.Join(t.TempDir(), "r.json")
			args := []string{"run", "--cache-mode", "off", "--no-progress", "--quiet", "--json", jsonOut}
			for _, m := range c.models {
				args = append(args, "--model", m+"=echo")
			}
			o = cli.run(append(args, suites...)...)
			if o.code == results.ExitInput {
				t.Fatalf("run: exit %d (input error)\n%s\n%s", o.code, o.stdout, o.stderr)
			}
			var r struct {
				Summary results.Summary      `json:"summary"`
				Tests   []results.TestResult `json:"tests"`
			}
			b, err := os.ReadFile(jsonOut)
			if err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal(b, &r); err != nil {
				t.Fatal(err)
			}
			if want := c.tests * len(c.matrix); r.Summary.Total != want || len(r.Tests) != want {
				t.Errorf("ran %d results (%d in the summary), want %d tests × %d models", len(r.Tests), r.Summary.Total, c.tests, len(c.matrix))
			}
			// One result per test × model: every test has each matrix
			// model once, named "name [model]".
			perTest := map[string][]string{}
			var order []string
			for _, tr := range r.Tests {
				base, ok := strings.CutSuffix(tr.Name, results.MatrixSuffix(tr.Matrix))
				if tr.Matrix == "" || !ok {
					t.Errorf("%s: not a matrix result (matrix %q)", tr.Name, tr.Matrix)
					continue
				}
				id := tr.Suite + "::" + base
				if perTest[id] == nil {
					order = append(order, id)
				}
				perTest[id] = append(perTest[id], tr.Matrix)
			}
			if len(order) != c.tests {
				t.Errorf("%d tests, want %d: %v", len(order), c.tests, order)
			}
			for _, id := range order {
				if got := strings.Join(perTest[id], ", "); got != strings.Join(c.matrix, ", ") {
					t.Errorf("%s ran on [%s], want [%s]", id, got, strings.Join(c.matrix, ", "))
				}
			}
			for _, tr := range r.Tests {
				// echo answers with the prompt: graders on echo cannot give a
				// verdict, anything else must have been evaluated.
				if tr.Status == results.StatusError && !strings.Contains(tr.Reason, "grader") {
					t.Errorf("%s: %s", tr.Name, tr.Reason)
				}
				if tr.Provider != "echo" {
					t.Errorf("%s ran on %q, not echo", tr.Name, tr.Provider)
				}
			}
		})
	}
}

// With no --out the files go next to the promptfoo config, and the cases
// file is referenced where it is, not copied.
func TestImportPromptfooInPlace(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "promptfooconfig.yaml", "prompts: ['Summarize: {{text}}']\nproviders: [openai:gpt-4o-mini]\ntests: file://data/cases.csv\n")
	write(t, dir, "data/cases.csv", "text,__expected\nThe sky is blue,icontains: sky\n")
	cli := newCLI(t)
	o := cli.run("import", "promptfoo", filepath.Join(dir, "promptfooconfig.yaml"))
	if o.code != 0 {
		t.Fatalf("import: exit %d\n%s\n%s", o.code, o.stdout, o.stderr)
	}
	suite := filepath.Join(dir, filepath.Base(dir)+".eval.yaml")
	b, err := os.ReadFile(suite)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), "tests: file://data/cases.csv") {
		t.Errorf("suite does not reference the cases file in place:\n%s", b)
	}
	if strings.Contains(string(b), "matrix:") {
		t.Errorf("one provider wrote a matrix:\n%s", b)
	}
	if o := cli.run("run", "--cache-mode", "off", "--no-progress", "--model", "gpt-4o-mini=echo", suite); o.code != 0 {
		t.Errorf("run: exit %d\n%s\n%s", o.code, o.stdout, o.stderr)
	}
	// A second import would overwrite: refused, unless --force.
	write(t, dir, filepath.Base(dir)+".eval.yaml", "# edited by hand\n")
	if o := cli.run("import", "promptfoo", filepath.Join(dir, "promptfooconfig.yaml")); o.code != results.ExitInput || !strings.Contains(o.stderr, "exists") {
		t.Errorf("re-import: exit %d %q, want 2 and exists", o.code, o.stderr)
	}
	if b, _ := os.ReadFile(suite); string(b) != "# edited by hand\n" {
		t.Errorf("a refused import wrote %q", b)
	}
	if o := cli.run("import", "promptfoo", filepath.Join(dir, "promptfooconfig.yaml"), "--force"); o.code != 0 {
		t.Errorf("re-import --force: exit %d %q", o.code, o.stderr)
	}
}

func TestImportPromptfooErrors(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct{ config, want string }{
		{"providers: [openai:gpt-4o]\ntests: [{vars: {}}]\n", "no prompts"},
		{"prompts: [hi]\ntests: [{vars: {}}]\n", "no provider could be converted"},
		{"prompts: [hi]\nproviders: [file://p.js]\ntests: [{vars: {}}]\n", "no provider could be converted"},
		{"prompts: [file://gen.py]\nproviders: [openai:gpt-4o]\ntests: [{vars: {}}]\n", "no prompt could be converted"},
		{"prompts: [hi]\nproviders: [openai:gpt-4o]\n", "no test could be converted"},
		{"- a list\n", "top level must be a mapping"},
		{"prompts: [\n", "not valid YAML"},
	} {
		p := write(t, dir, "c.yaml", c.config)
		o := newCLI(t).run("import", "promptfoo", p, "--out", t.TempDir())
		if o.code != results.ExitInput || !strings.Contains(o.stderr, c.want) {
			t.Errorf("%q: exit %d %q, want 2 and %q", c.config, o.code, o.stderr, c.want)
		}
	}
	if o := newCLI(t).run("import", "langsmith", "x.yaml"); o.code != results.ExitInput || !strings.Contains(o.stderr, "promptfoo is the only format") {
		t.Errorf("unknown format: exit %d %q", o.code, o.stderr)
	}
	if o := newCLI(t).run("import", "promptfoo", filepath.Join(dir, "missing.yaml")); o.code != results.ExitInput || !strings.Contains(o.stderr, "file not found") {
		t.Errorf("missing file: exit %d %q", o.code, o.stderr)
	}
}

// A config whose suite does not validate (a CSV column aieval refuses)
// exits 2 and says why.
func TestImportPromptfooInvalidSuite(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "promptfooconfig.yaml", "prompts: ['Say {{x}}']\nproviders: [openai:gpt-4o-mini]\ntests: file://t.csv\n")
	write(t, dir, "t.csv", "x,__prefix\nhi,p\n")
	o := newCLI(t).run("import", "promptfoo", filepath.Join(dir, "promptfooconfig.yaml"))
	if o.code != results.ExitInput || !strings.Contains(o.stderr, "__prefix") || !strings.Contains(o.stderr, "do not validate") {
		t.Errorf("exit %d\n%s", o.code, o.stderr)
	}
}
