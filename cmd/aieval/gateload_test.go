package main

// The loading side of the gate, through the CLI: what the suite says is what
// runs. No selected test, an unread parameter, a promptfoo column read as a
// parameter, a spreadsheet's FALSE, a NaN, an aiconfig under another name:
// each used to pass silently.

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/aieval/aieval/eval"
	"github.com/aieval/aieval/eval/results"
	"github.com/aieval/aieval/runtime"
)

// loadConfig runs on the echo model: the output is the resolved prompt.
// "ask" reads {{question}}, "follow" chains on ask and reads {{order_by}},
// and both have the system prompt of the echo model, which reads {{tone}}.
const loadConfig = `{
  "name": "load",
  "schema_version": "latest",
  "metadata": {
    "parameters": {"question": "hello world", "order_by": "price", "tone": "brief"},
    "models": {"echo": {"system_prompt": "Be {{tone}}."}},
    "default_model": "echo"
  },
  "prompts": [
    {"name": "ask", "input": "Q: {{question}}"},
    {"name": "follow", "input": "Sort by {{order_by}}: {{ask.output}}", "metadata": {"remember_chat_context": false}}
  ]
}`

// loadProject writes the aiconfig and the given files into a fresh
// directory and returns it.
func loadProject(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	write(t, dir, "load.aiconfig.json", loadConfig)
	for name, content := range files {
		write(t, dir, name, content)
	}
	return dir
}

const loadSuiteHead = "config: load.aiconfig.json\n"

func loadRun(t *testing.T, dir string, args ...string) (outcome, *results.Results) {
	t.Helper()
	js := filepath.Join(dir, "out", "results.json")
	o := newCLI(t).run(append([]string{"run", "--no-history", "--cache-mode", "off", "--json", js}, args...)...)
	var res *results.Results
	if b, err := os.ReadFile(js); err == nil {
		res = &results.Results{}
		if err := json.Unmarshal(b, res); err != nil {
			t.Fatalf("results.json: %v", err)
		}
	}
	return o, res
}

func wantExit(t *testing.T, o outcome, code int, substrings ...string) {
	t.Helper()
	if o.code != code {
		t.Errorf("exit %d, want %d\nstdout: %s\nstderr: %s", o.code, code, o.stdout, o.stderr)
		return
	}
	for _, s := range substrings {
		if !strings.Contains(o.stderr, s) {
			t.Errorf("stderr lacks %q:\n%s", s, o.stderr)
		}
	}
}

// TestNoSelectedTest: a run of no test is an input error, whatever the
// reason; an empty shard of a sharded run is a warning.
func TestNoSelectedTest(t *testing.T) {
	one := loadSuiteHead + "tests:\n  - name: asks\n    prompt: ask\n    assert: [{type: contains, value: hello}]\n"
	dir := loadProject(t, map[string]string{
		"one.eval.yaml":   one,
		"empty.eval.yaml": loadSuiteHead + "tests: []\n",
		"rows.eval.yaml":  loadSuiteHead + "tests: file://rows.csv\n",
		"rows.csv":        "name,prompt\n",
		"yrows.eval.yaml": loadSuiteHead + "tests: [file://rows.yaml]\n",
		"rows.yaml":       "[]\n",
	})
	suite := func(name string) string { return filepath.Join(dir, name) }
	o, _ := loadRun(t, dir, "--filter", "nomatch", suite("one.eval.yaml"))
	wantExit(t, o, 2, `--filter "nomatch" matches none of the 1 tests`)
	o, _ = loadRun(t, dir, suite("empty.eval.yaml"))
	wantExit(t, o, 2, "empty.eval.yaml:2: tests is empty")
	o, _ = loadRun(t, dir, suite("rows.eval.yaml"))
	wantExit(t, o, 2, "rows.csv: the cases file has no tests", "rows.eval.yaml:2")
	o, _ = loadRun(t, dir, suite("yrows.eval.yaml"))
	wantExit(t, o, 2, "rows.yaml: the cases file has no tests")

	// The shard that holds no test warns and passes; the other runs it.
	id := suiteID(suite("one.eval.yaml"))
	full := eval.ShardOf(id, "asks", 2)
	empty := 3 - full
	o, res := loadRun(t, dir, "--shard", []string{"", "1/2", "2/2"}[empty], suite("one.eval.yaml"))
	wantExit(t, o, 0, "selects none of the 1 tests")
	if res == nil || res.Summary.Total != 0 {
		t.Errorf("empty shard results: %+v", res)
	}
	o, res = loadRun(t, dir, "--shard", []string{"", "1/2", "2/2"}[full], suite("one.eval.yaml"))
	wantExit(t, o, 0)
	if res == nil || res.Summary.Passed != 1 {
		t.Errorf("full shard results: %+v", res)
	}
}

// TestLoadBoundsNumbers: a value that overflows or is not finite stops the
// load naming the field and FILE:LINE; --repeat 2147483648 no longer wraps
// to 0 runs and a pass.
func TestLoadBoundsNumbers(t *testing.T) {
	failing := "  - name: fails\n    prompt: ask\n    assert: [{type: equals, value: nope}]\n"
	cases := []struct {
		name, suite string
		args        []string
		want        []string
	}{
		{"--repeat past int32", loadSuiteHead + "tests:\n" + failing, []string{"--repeat", "2147483648"}, []string{"--repeat must be from 1 to 10000, got 2147483648"}},
		{"--max-cost NaN", loadSuiteHead + "tests:\n" + failing, []string{"--max-cost", "NaN"}, []string{"--max-cost must be a finite number"}},
		{"repeat: past int32", loadSuiteHead + "tests:\n" + failing + "    repeat: 2147483648\n", nil, []string{"s.eval.yaml:6:", "repeat must be a whole number from 1 to 10000"}},
		{"NaN param", loadSuiteHead + "params: {question: .nan}\ntests:\n" + failing, nil, []string{"s.eval.yaml:2: params: .nan is not a finite number"}},
		{"Inf test param", loadSuiteHead + "tests:\n" + failing + "    params: {question: -.inf}\n", nil, []string{"s.eval.yaml:6:", "-.inf is not a finite number"}},
		{"NaN threshold", loadSuiteHead + "tests:\n" + failing + "    threshold: .nan\n", nil, []string{"s.eval.yaml:6:", "threshold must be a number from 0 to 1"}},
		{"NaN pass_rate", loadSuiteHead + "tests:\n" + failing + "    repeat: 2\n    pass_rate: .nan\n", nil, []string{"s.eval.yaml:7:", "pass_rate must be"}},
		{"huge weight", loadSuiteHead + "tests:\n  - name: w\n    prompt: ask\n    assert:\n      - {type: contains, value: Q, weight: 1e308}\n", nil, []string{"s.eval.yaml:6:", "weight must be from 0 to 1e+06"}},
		{"Inf assertion threshold", loadSuiteHead + "tests:\n  - name: w\n    prompt: ask\n    assert:\n      - {type: similar, value: Q, threshold: .inf}\n", nil, []string{"s.eval.yaml:6:", "threshold must be a number"}},
		{"huge price", loadSuiteHead + "prices:\n  echo: {input: 1e300, output: 1}\ntests:\n" + failing, nil, []string{"s.eval.yaml:3:", "prices.echo.input must be from 0 to 1e+06"}},
		{"NaN price", loadSuiteHead + "prices:\n  echo: {input: .nan, output: 1}\ntests:\n" + failing, nil, []string{"s.eval.yaml:3:", "prices.echo.input must be a number"}},
		{"NaN assertion value", loadSuiteHead + "tests:\n  - name: w\n    prompt: ask\n    assert:\n      - {type: equals, value: .nan}\n", nil, []string{"s.eval.yaml:6:", "equals: value: .nan is not a finite number"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := loadProject(t, map[string]string{"s.eval.yaml": tc.suite})
			o, res := loadRun(t, dir, append(tc.args, filepath.Join(dir, "s.eval.yaml"))...)
			wantExit(t, o, 2, tc.want...)
			if res != nil {
				t.Errorf("results written for an invalid input: %+v", res.Summary)
			}
		})
	}
}

// TestReportsSurviveUnwritableTempDir: with a TMPDIR the spool cannot be
// made in, the run still writes every report file named by a flag (the
// results were in memory all along), and without report flags still
// reports and exits by the verdict.
func TestReportsSurviveUnwritableTempDir(t *testing.T) {
	dir := loadProject(t, map[string]string{"s.eval.yaml": loadSuiteHead + "tests:\n" +
		"  - name: asks\n    prompt: ask\n    assert: [{type: contains, value: hello}]\n" +
		"  - name: fails\n    prompt: ask\n    assert: [{type: equals, value: nope}]\n"})
	notDir := write(t, dir, "not-a-dir", "a file where TMPDIR should be a directory\n")
	t.Setenv("TMPDIR", notDir)
	junit := filepath.Join(dir, "reports", "junit.xml")
	o, res := loadRun(t, dir, "--junit", junit, filepath.Join(dir, "s.eval.yaml"))
	wantExit(t, o, 1, "results spool")
	if res == nil || res.Summary.Passed != 1 || res.Summary.Failed != 1 || len(res.Tests) != 2 {
		t.Fatalf("results: %+v", res)
	}
	if b, err := os.ReadFile(junit); err != nil || !strings.Contains(string(b), `name="fails"`) {
		t.Errorf("junit: %v\n%s", err, b)
	}
	entries, _ := os.ReadDir(filepath.Join(dir, "out"))
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), "aieval-") {
			t.Errorf("spool file left in the reports' directory: %s", e.Name())
		}
	}
	o = newCLI(t).run("run", "--no-history", "--cache-mode", "off", filepath.Join(dir, "s.eval.yaml"))
	if o.code != 1 || !strings.Contains(o.stdout, "1 failed") {
		t.Errorf("without report files: exit %d\n%s%s", o.code, o.stdout, o.stderr)
	}
}

// TestUnreadParams: a parameter no template of the test's prompt (its
// chain, chat context, system prompt) and no assertion reads is an error
// with a did-you-mean; one that is read anywhere along is fine.
func TestUnreadParams(t *testing.T) {
	test := func(prompt, params, asserts string) string {
		return "  - name: t\n    prompt: " + prompt + "\n    params: " + params + "\n    assert: " + asserts + "\n"
	}
	contains := "[{type: contains, value: Q}]"
	cases := []struct {
		name, suite string
		code        int
		want        string
	}{
		{"typo in a test", loadSuiteHead + "tests:\n" + test("follow", "{orderby: cost}", contains), 2,
			`s.eval.yaml:5: test "t": parameter "orderby" is not read by prompt "follow"`},
		{"the did-you-mean", loadSuiteHead + "tests:\n" + test("follow", "{orderby: cost}", contains), 2, "(did you mean order_by?)"},
		{"typo in the suite", loadSuiteHead + "params: {questoin: hi}\ntests:\n" + test("ask", "{}", contains), 2,
			`s.eval.yaml:2: params: parameter "questoin" is not read by any prompt`},
		{"typo in defaults", loadSuiteHead + "defaults:\n  params: {tones: dry}\ntests:\n" + test("ask", "{}", contains), 2,
			`s.eval.yaml:3: defaults: parameter "tones" is not read`},
		{"read by the prompt", loadSuiteHead + "tests:\n" + test("ask", "{question: why}", "[{type: contains, value: 'Q: why'}]"), 0, ""},
		{"read by the system prompt", loadSuiteHead + "tests:\n" + test("ask", "{tone: dry}", "[{type: contains, value: Q}]"), 0, ""},
		{"read by the chained prompt", loadSuiteHead + "tests:\n" + test("follow", "{question: why}", "[{type: contains, value: 'Q: why'}]"), 0, ""},
		{"read by an exec assertion", loadSuiteHead + "tests:\n" + test("ask", "{extra: 1}", "[{type: exec, value: 'true'}]"), 0, ""},
		{"unread by this test's prompt", loadSuiteHead + "tests:\n" + test("ask", "{order_by: cost}", contains), 2,
			`parameter "order_by" is not read by prompt "ask"`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := loadProject(t, map[string]string{"s.eval.yaml": tc.suite})
			o, _ := loadRun(t, dir, filepath.Join(dir, "s.eval.yaml"))
			wantExit(t, o, tc.code, tc.want)
		})
	}
}

// TestPromptfooExpectedColumns: promptfoo's __expected grammar, cell by
// cell, on the echo model (output "Q: hello world" for question "hello
// world"); code 1 is a failing assertion, 2 a refused cell.
func TestPromptfooExpectedColumns(t *testing.T) {
	cases := []struct {
		cell string
		code int
		want string
	}{
		{"icontains: HELLO", 0, ""},
		{"icontains: absent", 1, ""},
		{"contains: hello", 0, ""},
		{"not-contains: hello", 1, ""},
		{"not-icontains: can't help", 0, ""},
		{"regex: ^Q: h.llo", 0, ""},
		{"is-json", 1, ""},
		{"not-is-json", 0, ""},
		{"equals: Q: hello world", 0, ""},
		{"Q: hello world", 0, ""}, // a bare value means equals
		{"hello", 1, ""},
		{"starts-with: Q:", 0, ""},
		{"ends-with: world", 0, ""},
		{"contains-any: nope, hello", 0, ""},
		{"contains-all: hello,nope", 1, ""},
		{`icontains-all: ["HELLO","World"]`, 0, ""},
		{"levenshtein(2): Q: hello worl", 0, ""},
		{"similar(0.8): Q: hello world", 0, ""},
		{"word-count: 3", 0, ""},
		{"length(2)", 1, ""},
		{`length: {"min": 1}`, 0, ""},
		{"latency(60000)", 0, ""},
		{"javascript: output.length < 10", 2, "javascript assertions are not supported: use an exec assertion"},
		{"python: file://judge.py", 2, "python assertions are not supported"},
		{"classifier: hello", 2, "promptfoo's classifier assertion has no aieval equivalent"},
		{"similar(x): hello", 2, "the threshold in parentheses must be a number"},
		{"regex: (", 2, "regex"},
	}
	for _, tc := range cases {
		t.Run(tc.cell, func(t *testing.T) {
			dir := loadProject(t, map[string]string{
				"s.eval.yaml": loadSuiteHead + "defaults: {prompt: ask}\ntests: file://cases.csv\n",
				"cases.csv":   "question,__expected\n\"hello world\"," + csvQuote(tc.cell) + "\n",
			})
			o, res := loadRun(t, dir, filepath.Join(dir, "s.eval.yaml"))
			wantExit(t, o, tc.code, tc.want)
			if tc.code == 2 && !strings.Contains(o.stderr, "cases.csv:2:") {
				t.Errorf("the error does not name the cases file's line:\n%s", o.stderr)
			}
			if tc.code < 2 && (res == nil || len(res.Tests) != 1 || len(res.Tests[0].Assertions) != 1) {
				t.Errorf("want one test with one assertion: %+v", res)
			}
		})
	}
}

func csvQuote(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }

// TestCSVColumns: the other promptfoo columns, numbered __expectedN, list
// cells, unknown columns, and the test name from __description.
func TestCSVColumns(t *testing.T) {
	cases := []struct {
		name, csv string
		code      int
		want      string
		check     func(t *testing.T, res *results.Results)
	}{
		{"__expected1..N and __metric", "__description,question,__expected1,__expected2,__metric\nboth,hello world,contains: hello,icontains: WORLD,relevance\n", 0, "",
			func(t *testing.T, res *results.Results) {
				tr := res.Tests[0]
				if tr.Name != "both" || len(tr.Assertions) != 2 || tr.Assertions[1].Metric != "relevance" {
					t.Errorf("test: %+v", tr)
				}
			}},
		{"__threshold", "name,question,__expected1,__expected2,__threshold\nhalf,hello world,contains: hello,contains: nope,0.5\n", 0, "", nil},
		{"__threshold out of range", "name,question,__expected,__threshold\nt,hello world,contains: hello,2\n", 2, "cases.csv:2: test \"t\": __threshold \"2\" must be a number from 0 to 1", nil},
		{"JSON list in an assert_ cell", "name,question,assert_contains-any\nt,hello world,\"[\"\"nope\"\",\"\"hello\"\"]\"\n", 0, "", nil},
		{"unknown column", "name,questoin\nt,hello world\n", 2, `cases.csv:2: test "t": column "questoin" is not read by prompt "ask"`, nil},
		{"unknown column's did-you-mean", "name,questoin\nt,hello world\n", 2, "(did you mean question?)", nil},
		{"__prefix", "name,question,__prefix\nt,hello world,Answer:\n", 2, "cases.csv:1: column 3: promptfoo's __prefix is not supported", nil},
		{"unknown special column", "name,question,__expectd\nt,hello world,x\n", 2, `unknown special column "__expectd" (did you mean __expected?)`, nil},
		{"name and __description", "name,__description,question\nt,d,hello world\n", 2, `columns "name" and "__description" both name the test`, nil},
		{"__expected0", "name,question,__expected0\nt,hello world,x\n", 2, `unknown special column "__expected0"`, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := loadProject(t, map[string]string{
				"s.eval.yaml": loadSuiteHead + "defaults: {prompt: ask}\ntests: file://cases.csv\n",
				"cases.csv":   tc.csv,
			})
			o, res := loadRun(t, dir, filepath.Join(dir, "s.eval.yaml"))
			wantExit(t, o, tc.code, tc.want)
			if tc.check != nil && res != nil && o.code == tc.code {
				tc.check(t, res)
			}
		})
	}
}

// TestBooleanCells: what a spreadsheet writes for false never skips; what
// it writes for true does; anything else is an error naming the cell. A
// YAML or JSONL skip: "no" is false too.
func TestBooleanCells(t *testing.T) {
	var csv strings.Builder
	csv.WriteString("name,question,skip\n")
	runs := []string{"FALSE", "false", "no", "No", "0", "off", "OFF", ""}
	skips := []string{"TRUE", "true", "yes", "YES", "1", "on", "On"}
	for i, v := range runs {
		csv.WriteString("run" + string(rune('a'+i)) + ",hello world," + v + "\n")
	}
	for i, v := range skips {
		csv.WriteString("skip" + string(rune('a'+i)) + ",hello world," + v + "\n")
	}
	dir := loadProject(t, map[string]string{
		"s.eval.yaml":   loadSuiteHead + "defaults: {prompt: ask, assert: [{type: contains, value: hello}]}\ntests: file://cases.csv\n",
		"cases.csv":     csv.String(),
		"y.eval.yaml":   loadSuiteHead + "defaults: {prompt: ask, assert: [{type: contains, value: hello}]}\ntests:\n  - {name: yno, skip: \"no\"}\n  - {name: yoff, skip: Off}\n  - {name: yyes, skip: \"YES\"}\n  - {name: reason, skip: flaky upstream}\n",
		"j.eval.yaml":   loadSuiteHead + "defaults: {prompt: ask, assert: [{type: contains, value: hello}]}\ntests: file://rows.jsonl\n",
		"rows.jsonl":    `{"name": "jfalse", "skip": "FALSE"}` + "\n" + `{"name": "jtrue", "skip": "true"}` + "\n",
		"bad.eval.yaml": loadSuiteHead + "defaults: {prompt: ask}\ntests: file://bad.csv\n",
		"bad.csv":       "name,question,skip\nt,hello world,maybe\n",
	})
	o, res := loadRun(t, dir, filepath.Join(dir, "s.eval.yaml"))
	wantExit(t, o, 0)
	if res == nil || res.Summary.Passed != len(runs) || res.Summary.Skipped != len(skips) {
		t.Fatalf("csv: %+v", res)
	}
	for _, tr := range res.Tests {
		if strings.HasPrefix(tr.Name, "run") != (tr.Status == results.StatusPass) {
			t.Errorf("%s: %s", tr.Name, tr.Status)
		}
	}
	o, res = loadRun(t, dir, filepath.Join(dir, "y.eval.yaml"))
	wantExit(t, o, 0)
	if res == nil || res.Summary.Passed != 2 || res.Summary.Skipped != 2 {
		t.Errorf("yaml: %+v", res)
	}
	o, res = loadRun(t, dir, filepath.Join(dir, "j.eval.yaml"))
	wantExit(t, o, 0)
	if res == nil || res.Summary.Passed != 1 || res.Summary.Skipped != 1 {
		t.Errorf("jsonl: %+v", res)
	}
	o, _ = loadRun(t, dir, filepath.Join(dir, "bad.eval.yaml"))
	wantExit(t, o, 2, `bad.csv:2: test "t": skip cell "maybe" must be true/false, yes/no, on/off or 1/0`)
}

// TestCasesErrorsNameTheCasesFile: a broken row is reported at its own
// file and line, for each cases format.
func TestCasesErrorsNameTheCasesFile(t *testing.T) {
	dir := loadProject(t, map[string]string{
		"c.eval.yaml": loadSuiteHead + "defaults: {prompt: ask}\ntests: file://c.csv\n",
		"c.csv":       "name,question,assert_regex\nok,hello world,hello\nbad,hello world,(\n",
		"j.eval.yaml": loadSuiteHead + "defaults: {prompt: ask}\ntests: [file://j.jsonl]\n",
		"j.jsonl":     `{"name": "ok"}` + "\n\n" + `{"name": "bad", "prompt": "nope"}` + "\n",
		"y.eval.yaml": loadSuiteHead + "tests:\n  - file://y.yaml\n",
		"y.yaml":      "- name: ok\n  prompt: ask\n- name: bad\n  prompt: ask\n  assert: [{type: nope}]\n",
	})
	for suite, want := range map[string]string{"c.eval.yaml": "c.csv:3:", "j.eval.yaml": "j.jsonl:3:", "y.eval.yaml": "y.yaml:5:"} {
		o, _ := loadRun(t, dir, filepath.Join(dir, suite))
		wantExit(t, o, 2, want)
		if strings.Contains(o.stderr, suite+":") {
			t.Errorf("%s: the error names the suite, not the cases file:\n%s", suite, o.stderr)
		}
	}
}

// TestDiscoverByContent: validate and init with no argument find aiconfigs
// by their shape whatever the file name, and -v says what they skipped.
func TestDiscoverByContent(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "prompts/chained_gpt_config.json", loadConfig)
	write(t, dir, "prompts/aiconfig.yaml", "name: y\nschema_version: latest\nmetadata: {models: {echo: {}}, default_model: echo}\nprompts:\n  - {name: hi, input: hi}\n")
	write(t, dir, "package.json", `{"name": "web", "version": "1.0.0"}`)
	write(t, dir, "data/list.yaml", "- 1\n- 2\n")
	write(t, dir, "data/prompts.json", `{"prompts": ["a"]}`)
	write(t, dir, "data/broken.json", `{"prompts": [`)
	write(t, dir, "bad/bad_config.json", `{"name": "x", "schema_version": "latest", "metadata": {}, "prompts": [{"name": 3}]}`)
	t.Chdir(dir)
	c := newCLI(t)
	o := c.run("validate", "-v")
	for _, want := range []string{
		"ok  prompts/aiconfig.yaml", "ok  prompts/chained_gpt_config.json",
		`skip package.json: no "prompts" key`, "skip data/list.yaml: its top level is not a mapping",
		`skip data/prompts.json: a "prompts" list but neither "schema_version" nor "metadata"`,
		"skip data/broken.json: not valid JSON or YAML",
	} {
		if !strings.Contains(o.stdout, want) {
			t.Errorf("validate -v lacks %q:\n%s", want, o.stdout)
		}
	}
	// A file with the shape but not the schema is reported, not skipped.
	if o.code != 2 || !strings.Contains(o.stderr, "bad/bad_config.json") {
		t.Errorf("validate: exit %d\n%s", o.code, o.stderr)
	}
	os.RemoveAll(filepath.Join(dir, "bad"))
	if o := c.run("validate"); o.code != 0 || strings.Contains(o.stdout, "skip") {
		t.Errorf("validate without -v: exit %d\n%s%s", o.code, o.stdout, o.stderr)
	}

	o = c.run("init")
	if o.code != 0 {
		t.Fatalf("init: exit %d\n%s%s", o.code, o.stdout, o.stderr)
	}
	for _, s := range []string{"prompts/chained_gpt_config.eval.yaml", "prompts/aiconfig.eval.yaml"} {
		if _, err := os.Stat(s); err != nil {
			t.Errorf("init wrote no suite for %s:\n%s", s, o.stdout)
		}
	}
	if _, err := os.Stat("prompts/hello.aiconfig.json"); err == nil {
		t.Error("init wrote the hello starter beside real aiconfigs")
	}
	if !strings.Contains(o.stdout, "Next: aieval run prompts/aiconfig.eval.yaml prompts/chained_gpt_config.eval.yaml") {
		t.Errorf("next command:\n%s", o.stdout)
	}
	if o := c.run("run", "--no-history", "--cache-mode", "off", "prompts/aiconfig.eval.yaml", "prompts/chained_gpt_config.eval.yaml"); o.code != 0 {
		t.Errorf("the printed next command: exit %d\n%s%s", o.code, o.stdout, o.stderr)
	}
}

// TestInitCorpus: init in a copy of the real aiconfig corpus writes a suite
// for every aiconfig a suite can load (validate --strict passes), fills
// every parameter defined nowhere, has a smoke test per prompt, and every
// suite it wrote runs on the echo model with exit 0 or 1, never 2.
func TestInitCorpus(t *testing.T) {
	src, err := filepath.Glob("../../runtime/testdata/corpus/*")
	if err != nil || len(src) < 40 {
		t.Fatalf("corpus: %d files, %v", len(src), err)
	}
	dir := t.TempDir()
	var configs []string
	for _, f := range src {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		write(t, dir, filepath.Base(f), string(b))
		if !strings.HasSuffix(f, ".md") {
			configs = append(configs, filepath.Base(f))
		}
	}
	t.Chdir(dir)
	c := newCLI(t)
	o := c.run("init")
	if o.code != 0 {
		t.Fatalf("init: exit %d\n%s%s", o.code, o.stdout, o.stderr)
	}
	suites, _ := filepath.Glob("*.eval.yaml")
	written := map[string]string{} // config -> suite
	for _, s := range suites {
		b, _ := os.ReadFile(s)
		m := regexp.MustCompile(`(?m)^config: "?([^"\n]+)"?$`).FindSubmatch(b)
		if m == nil {
			t.Fatalf("%s names no config:\n%s", s, b)
		}
		written[string(m[1])] = s
	}
	notNamed := 0
	for _, cfg := range configs {
		if !eval.IsAIConfigName(cfg) {
			notNamed++
		}
		strict := c.run("validate", "--strict", "--quiet", cfg)
		if _, ok := written[cfg]; !ok && strict.code == 0 {
			loaded, _ := runtime.Load(cfg)
			if loaded != nil && len(loaded.PromptNames()) > 0 {
				t.Errorf("no suite for %s, which validates:\n%s", cfg, o.stdout)
			}
		}
	}
	if notNamed < 15 || len(written) < 35 {
		t.Errorf("%d aiconfigs not named *.aiconfig.*, %d suites written of %d files", notNamed, len(written), len(configs))
	}

	for cfg, s := range written {
		loaded, err := runtime.Load(cfg)
		if err != nil {
			t.Fatalf("%s: %v", cfg, err)
		}
		b, _ := os.ReadFile(s)
		for _, p := range loaded.PromptNames() {
			if !strings.Contains(string(b), p+" answers") {
				t.Errorf("%s: no smoke test of prompt %q", s, p)
			}
		}
		// Every model the aiconfig names runs on echo.
		args := []string{"run", "--no-history", "--cache-mode", "off", "--quiet", s}
		meta := loaded.Metadata()
		models := []string{meta.DefaultModel}
		for m := range meta.Models {
			models = append(models, m)
		}
		for _, p := range loaded.Prompts() {
			models = append(models, p.Model)
		}
		slices.Sort(models)
		for _, m := range slices.Compact(models) {
			if m != "" && m != "echo" {
				args = append(args, "--model", m+"=echo")
			}
		}
		if o := c.run(args...); o.code != 0 && o.code != 1 {
			t.Errorf("%s: exit %d\n%s%s", s, o.code, o.stdout, o.stderr)
		}
	}
}

// TestWorkflowsHaveNoPathsFilter: the workflow init writes and the example
// run on every pull request: a paths: filter missed aiconfigs under other
// names, cases files, schemas, exec judges.
func TestWorkflowsHaveNoPathsFilter(t *testing.T) {
	example, err := os.ReadFile("../../examples/workflows/aieval.yml")
	if err != nil {
		t.Fatal(err)
	}
	for name, wf := range map[string]string{"template": workflowTemplate, "example": string(example)} {
		if regexp.MustCompile(`(?m)^\s+paths(-ignore)?:`).MatchString(wf) {
			t.Errorf("the %s workflow filters paths:\n%s", name, wf)
		}
		if !regexp.MustCompile(`(?m)^  pull_request:\s*$`).MatchString(wf) {
			t.Errorf("the %s workflow does not run on pull_request", name)
		}
	}
}

// TestLargePromptfooCSV: a cases file read lazily (more rows than
// eval.LazyThreshold) names its rows and reads __expected the same way.
func TestLargePromptfooCSV(t *testing.T) {
	defer func(n int) { eval.LazyThreshold = n }(eval.LazyThreshold)
	eval.LazyThreshold = 1
	dir := loadProject(t, map[string]string{
		"s.eval.yaml": loadSuiteHead + "defaults: {prompt: ask}\ntests: file://cases.csv\n",
		"cases.csv":   "question,__expected\nhello world,icontains: HELLO\ngood bye,icontains: BYE\nthird,icontains: nope\n",
	})
	o, res := loadRun(t, dir, filepath.Join(dir, "s.eval.yaml"))
	wantExit(t, o, 1)
	if res == nil || res.Summary.Passed != 2 || res.Summary.Failed != 1 {
		t.Fatalf("results: %+v", res)
	}
	var names []string
	for _, tr := range res.Tests {
		names = append(names, tr.Name)
	}
	if strings.Join(names, "|") != "hello world|good bye|third" {
		t.Errorf("names: %q", names)
	}
}
