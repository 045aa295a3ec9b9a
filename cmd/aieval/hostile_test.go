package main

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime/debug"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aieval/aieval/eval"
	"github.com/aieval/aieval/internal/fakeopenai"
)

// hostileDir holds the committed corpus of broken aiconfigs and suites.
const hostileDir = "../../testdata/hostile"

// hostileCase is one broken file and what the one line about it must say.
type hostileCase struct {
	file  string // path of the file given to the command
	names string // file the message must name; "" means file itself
	line  int    // line the message must point at; 0 when the parser cannot know
	want  string // a part of the message
	// problems is how many lines validate prints: it lists every problem of
	// a file, one line each, where run reports only the first. 0 means 1.
	problems int
}

// hostileCorpus lists every file of testdata/hostile with its expected
// message; TestHostileCorpusListed keeps the two in step.
var hostileCorpus = []hostileCase{
	// aiconfigs
	{file: "truncated.aiconfig.json", line: 6, want: "unexpected end of file"},
	{file: "truncated.aiconfig.yaml", line: 5, want: "invalid YAML"},
	{file: "empty.aiconfig.json", want: "invalid JSON"},
	{file: "top-level-array.aiconfig.json", line: 1, want: "top level is not an object"},
	{file: "prompts-string.aiconfig.json", line: 5, want: "prompts: Invalid type"},
	{file: "input-number.aiconfig.json", line: 6, want: "prompts.0.input: Invalid type"},
	{file: "models-list.aiconfig.json", line: 6, want: "metadata.models: Invalid type"},
	{file: "parameters-string.aiconfig.yaml", line: 5, want: "metadata.parameters: Invalid type"},
	{file: "huge-int-setting.aiconfig.json", line: 8, want: "max_tokens: number 1180591620717411303424 is out of range"},
	{file: "huge-float-setting.aiconfig.yaml", line: 12, want: "temperature: number 1e400 is out of range"},
	{file: "alias-bomb.aiconfig.yaml", line: 1, want: "too many values"},
	{file: "duplicate-key.aiconfig.json", line: 6, want: `duplicate key "input"`},
	{file: "duplicate-key.aiconfig.yaml", line: 5, want: `duplicate key "default_model" (first at line 4)`},
	{file: "chain-cycle.aiconfig.json", line: 6, want: "is the prompt itself"},
	{file: "chain-later.aiconfig.json", line: 6, want: "comes after it"},
	{file: "bad-template.aiconfig.json", line: 6, want: "invalid Handlebars template"},

	// suites
	{file: "truncated.eval.yaml", line: 5, want: "invalid YAML"},
	{file: "empty.eval.yaml", want: "empty file"},
	{file: "typo-asert.eval.yaml", line: 5, want: `unknown field "asert" in test "mentions tea" (did you mean assert?)`},
	// The typo also leaves the test without a prompt: validate lists both
	// (sorted by line), run names the typo first.
	{file: "typo-promt.eval.yaml", line: 4, want: `unknown field "promt"`, problems: 2},
	{file: "typo-top-level.eval.yaml", line: 1, want: `unknown field "descripton" in the suite (did you mean description?)`},
	{file: "duplicate-key.eval.yaml", line: 5, want: `duplicate key "prompt" (first at line 4)`},
	{file: "traversal-cases.eval.yaml", line: 2, want: "leaves the suite's directory"},
	{file: "traversal-schema-absolute.eval.yaml", line: 6, want: "absolute paths are not allowed"},
	{file: "traversal-schema-relative.eval.yaml", line: 6, want: "escapes the suite directory"},
	{file: "missing-config.eval.yaml", line: 1, want: "no-such.aiconfig.json: file not found"},
	{file: "config-is-directory.eval.yaml", line: 1, want: "is a directory"},
	{file: "missing-cases-file.eval.yaml", line: 2, want: "file not found"},
	{file: "bad-regex.eval.yaml", line: 6, want: `bad regex "tea(s"`},
	{file: "unknown-assertion.eval.yaml", line: 6, want: `unknown assertion type "containz" (did you mean contains?)`},
	{file: "unknown-prompt.eval.yaml", line: 4, want: `unknown prompt "fatcs" (did you mean facts?)`},
	{file: "chain-later.eval.yaml", names: "chain-later.aiconfig.json", line: 6, want: "comes after it"},
	{file: "missing-param.eval.yaml", names: "support/needs-param.aiconfig.json", line: 6, want: `parameter "who" is defined nowhere`},
	{file: "types-tests.eval.yaml", line: 2, want: "tests must be a list"},
	{file: "types-params.eval.yaml", line: 5, want: "params must be a mapping"},
	{file: "types-models.eval.yaml", line: 2, want: "models must be a mapping"},
	{file: "types-assert.eval.yaml", line: 5, want: "assert must be a list"},
	{file: "types-config.eval.yaml", line: 1, want: "config must be a string"},
	{file: "huge-repeat.eval.yaml", line: 5, want: "repeat must be a whole number"},
	{file: "huge-threshold.eval.yaml", line: 5, want: "threshold must be a number from 0 to 1"},
	{file: "alias-bomb.eval.yaml", line: 4, want: "too many nodes after expanding aliases"},
	{file: "api-key-in-suite.eval.yaml", line: 5, want: "api_key is not allowed"},
	// files that are not regular files (committed symlinks to a device)
	{file: "dev-zero.aiconfig.json", want: "it is a symbolic link to /dev/zero (a character device), not a regular file"},
	{file: "config-dev-zero.eval.yaml", names: "dev-zero.aiconfig.json", want: "not a regular file"},
	{file: "dev-zero-cases.yaml", want: "not a regular file"},
	{file: "cases-dev-zero.eval.yaml", line: 2, want: "leaves the suite's directory through a symbolic link"},
	// json-schema $refs: never fetched, never out of the suite directory
	{file: "schema-ref-http.eval.yaml", line: 6, want: "it is never fetched"},
	{file: "schema-ref-dev-zero.eval.yaml", line: 6, want: "escapes the suite directory"},
	{file: "schema-ref-escape.eval.yaml", line: 6, want: "escapes the suite directory"},
}

// TestHostileCorpus: every broken file gives exit 2 and one line naming the
// file (and line) under validate, and under run for suites; no panic, no
// hang, no model call.
func TestHostileCorpus(t *testing.T) {
	cases := append([]hostileCase(nil), hostileCorpus...)
	for i := range cases {
		c := &cases[i]
		if c.names == "" {
			c.names = c.file
		}
		c.file = filepath.Join(hostileDir, c.file)
		c.names = filepath.Join(hostileDir, c.names)
	}
	cases = append(cases, generatedHostile(t)...)
	srv := fakeopenai.New()
	defer srv.Close()
	c := newCLI(t, "OPENAI_BASE_URL", srv.URL(), "OPENAI_API_KEY", "sk-hostile")
	for _, hc := range cases {
		t.Run(filepath.Base(hc.file), func(t *testing.T) {
			o := runDeadline(t, c, "validate", hc.file)
			checkHostile(t, o, hc, max(hc.problems, 1))
			if eval.IsSuiteFile(hc.file) {
				o = runDeadline(t, c, "run", "--cache-mode", "off", "--no-history", "--no-progress", hc.file)
				checkHostile(t, o, hc, 1)
			}
		})
	}
	if n := srv.Requests(); n != 0 {
		t.Errorf("%d model calls for invalid input; want none", n)
	}
}

// TestHostileCorpusListed fails when a file is added to testdata/hostile
// without an expectation, or an expectation names a missing file.
func TestHostileCorpusListed(t *testing.T) {
	entries, err := os.ReadDir(hostileDir)
	if err != nil {
		t.Fatal(err)
	}
	listed := map[string]bool{}
	for _, c := range hostileCorpus {
		listed[c.file] = true
	}
	for _, e := range entries {
		if e.IsDir() {
			continue
		}
		if !listed[e.Name()] {
			t.Errorf("testdata/hostile/%s has no entry in hostileCorpus", e.Name())
		}
		delete(listed, e.Name())
	}
	for name := range listed {
		t.Errorf("hostileCorpus lists %s, which is not in testdata/hostile", name)
	}
}

// generatedHostile writes the cases too big or too binary to commit.
func generatedHostile(t *testing.T) []hostileCase {
	dir := t.TempDir()
	shop, err := os.ReadFile(filepath.Join(hostileDir, "support", "shop.aiconfig.json"))
	if err != nil {
		t.Fatal(err)
	}
	write(t, dir, "shop.aiconfig.json", string(shop))
	deep := strings.Repeat("[", 10000) + strings.Repeat("]", 10000)
	rng := rand.New(rand.NewPCG(1, 2))
	noise := make([]byte, 512)
	for i := range noise {
		noise[i] = byte(rng.IntN(256))
	}
	noise[7], noise[100] = 0, 0
	// A valid-looking document of two million values: the loader's value
	// budget must stop it, not memory.
	wide := `{"name":"wide","schema_version":"latest","metadata":{"default_model":"echo","parameters":{"w":[` +
		strings.TrimSuffix(strings.Repeat("0,", 2_000_000), ",") + `]}},"prompts":[]}`
	big := "config: shop.aiconfig.json\n# " + strings.Repeat("x", 11<<20) + "\ntests: []\n"
	files := []struct{ name, content, want string }{
		{"deep.aiconfig.json", `{"name":"deep","schema_version":"latest","metadata":{"parameters":{"d":` + deep + `}},"prompts":[]}`, "nested too deeply"},
		{"deep.aiconfig.yaml", "name: deep\nschema_version: latest\nmetadata:\n  parameters:\n    d: " + deep + "\nprompts: []\n", "nested too deeply"},
		{"deep.eval.yaml", "config: shop.aiconfig.json\nparams:\n  d: " + deep + "\ntests: []\n", "nested deeper than"},
		{"deep100.eval.yaml", "config: shop.aiconfig.json\nparams:\n  d: " + strings.Repeat("[", 100) + strings.Repeat("]", 100) + "\ntests: []\n", "nested deeper than"},
		{"binary.aiconfig.json", string(noise), "invalid JSON"},
		{"binary.aiconfig.yaml", string(noise), ""},
		{"binary.eval.yaml", string(noise), "not a text file"},
		{"nul.eval.yaml", "config: shop.aiconfig.json\x00\ntests: []\n", "not a text file"},
		{"wide.aiconfig.json", wide, "too many values"},
		{"big.eval.yaml", big, "larger than 10 MB"},
	}
	var out []hostileCase
	for _, f := range files {
		p := write(t, dir, f.name, f.content)
		out = append(out, hostileCase{file: p, names: p, line: generatedLine(f.name), want: f.want})
	}
	for _, name := range []string{"directory.aiconfig.json", "directory.eval.yaml"} {
		p := filepath.Join(dir, name)
		if err := os.Mkdir(p, 0o755); err != nil {
			t.Fatal(err)
		}
		out = append(out, hostileCase{file: p, names: p, want: "is a directory"})
	}
	return out
}

// generatedLine is the line the parser can point at in a generated case: the
// aiconfig loader reports document-wide limits at line 1; the suite loader
// points at the nested value.
func generatedLine(name string) int {
	switch name {
	case "deep.aiconfig.json", "deep.aiconfig.yaml", "wide.aiconfig.json", "binary.aiconfig.json", "binary.aiconfig.yaml":
		return 1
	case "deep.eval.yaml", "deep100.eval.yaml":
		return 3
	}
	return 0 // binary suite, NUL, oversized: no line to point at
}

// runDeadline runs one command line, failing the test if it does not
// finish by a deadline (a hang) or panics.
func runDeadline(t *testing.T, c *cli, args ...string) outcome {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	done := make(chan outcome, 1)
	go func() {
		defer func() {
			if r := recover(); r != nil {
				done <- outcome{code: -1, stderr: fmt.Sprintf("panic: %v\n%s", r, debug.Stack())}
			}
		}()
		var out, errb bytes.Buffer
		st := &state{stdout: &out, stderr: &errb, stdin: strings.NewReader(""), getenv: func(k string) string { return c.env[k] }}
		code := run(ctx, args, st)
		done <- outcome{code, out.String(), errb.String()}
	}()
	select {
	case o := <-done:
		return o
	case <-ctx.Done():
		t.Fatalf("aieval %s did not finish in time", strings.Join(args, " "))
		return outcome{}
	}
}

// checkHostile asserts exit 2, n lines on stderr besides warnings, the
// first naming the file (and line) and saying what is wrong.
func checkHostile(t *testing.T, o outcome, hc hostileCase, n int) {
	t.Helper()
	if strings.Contains(o.stderr, "panic:") || strings.Contains(o.stderr, "goroutine ") {
		t.Fatalf("panic or goroutine dump:\n%s", o.stderr)
	}
	if strings.Contains(o.stderr+o.stdout, "sk-do-not-echo-this") {
		t.Errorf("a key written in a suite was echoed:\n%s", o.stderr)
	}
	if o.code != 2 {
		t.Errorf("exit %d, want 2\nstdout: %s\nstderr: %s", o.code, o.stdout, o.stderr)
	}
	var lines []string
	for _, l := range strings.Split(strings.TrimRight(o.stderr, "\n"), "\n") {
		if l != "" && !strings.HasPrefix(l, "warning:") && !strings.HasPrefix(l, "aieval: warning:") {
			lines = append(lines, l)
		}
	}
	if len(lines) != n {
		t.Fatalf("%d lines on stderr, want %d:\n%s", len(lines), n, o.stderr)
	}
	at := hc.names + ": "
	if hc.line > 0 {
		at = fmt.Sprintf("%s:%d: ", hc.names, hc.line)
	}
	found := false
	for _, l := range lines {
		l = strings.TrimPrefix(l, "aieval: ")
		found = found || strings.HasPrefix(l, at) && strings.Contains(l, hc.want)
	}
	if !found {
		t.Errorf("no line starts with %q and says %q:\n%s", at, hc.want, o.stderr)
	}
	for _, l := range lines {
		if !strings.Contains(l, filepath.Base(hc.names)) {
			t.Errorf("line does not name the file %s: %s", hc.names, l)
		}
	}
}

// TestDuplicateKeysAreNotGuessed: JSON readers disagree on which copy of
// a key wins, so a duplicate is an error everywhere the file is read, not
// only in validate: prompt refuses it too.
func TestDuplicateKeysAreNotGuessed(t *testing.T) {
	for _, f := range []string{"duplicate-key.aiconfig.json", "duplicate-key.aiconfig.yaml"} {
		o := runDeadline(t, newCLI(t), "prompt", filepath.Join(hostileDir, f), "a")
		if o.code != 2 || !strings.Contains(o.stderr, "duplicate key") || strings.Count(o.stderr, "\n") != 1 {
			t.Errorf("%s: %+v", f, o)
		}
	}
}

// TestHugeParamsRenderAsWritten: a huge number where any value is allowed
// (a parameter) is not an error; it renders as written, without a crash.
func TestHugeParamsRenderAsWritten(t *testing.T) {
	dir := t.TempDir()
	cfg := write(t, dir, "n.aiconfig.json", `{"name":"n","schema_version":"latest",
 "metadata":{"default_model":"echo","models":{"echo":{}},"parameters":{"f":1e400,"i":1180591620717411303424}},
 "prompts":[{"name":"p","input":"{{f}} {{i}}"}]}`)
	o := runDeadline(t, newCLI(t), "prompt", cfg, "p")
	if o.code != 0 || strings.TrimSpace(o.stdout) != "1e400 1180591620717411303424" {
		t.Errorf("%+v", o)
	}
}

// TestCorruptCacheEntry: a torn cache entry (as after a kill -9 in the
// middle of a write on a filesystem without atomic rename) is ignored with
// a warning, and the test calls the model again and re-records it.
func TestCorruptCacheEntry(t *testing.T) {
	srv := fakeopenai.New()
	defer srv.Close()
	dir := t.TempDir()
	write(t, dir, "shop.aiconfig.json", chainConfig)
	suite := write(t, dir, "one.eval.yaml", `config: shop.aiconfig.json
tests:
  - name: facts mention the item
    prompt: facts
    assert:
      - type: icontains
        value: tea
`)
	cacheDir := filepath.Join(dir, "cache")
	c := newCLI(t, "OPENAI_BASE_URL", srv.URL(), "OPENAI_API_KEY", "k")
	args := []string{"run", "--cache", cacheDir, "--no-history", "--no-progress", suite}
	if o := c.run(args...); o.code != 0 || srv.Requests() != 1 {
		t.Fatalf("first run: exit %d, %d requests\n%s%s", o.code, srv.Requests(), o.stdout, o.stderr)
	}
	entries := cacheFiles(t, cacheDir)
	if len(entries) != 1 {
		t.Fatalf("cache holds %d entries, want 1: %v", len(entries), entries)
	}
	data, err := os.ReadFile(entries[0])
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(entries[0], data[:len(data)/2], 0o644); err != nil {
		t.Fatal(err)
	}
	o := c.run(args...)
	if o.code != 0 {
		t.Fatalf("second run exits %d, want 0 (a corrupt entry is not fatal)\n%s%s", o.code, o.stdout, o.stderr)
	}
	if !strings.Contains(o.stderr, "warning") || !strings.Contains(o.stderr, "corrupt cache entry") {
		t.Errorf("no warning about the corrupt entry:\n%s", o.stderr)
	}
	if srv.Requests() != 2 {
		t.Errorf("%d requests, want 2: the corrupt entry must be re-recorded from the model", srv.Requests())
	}
	// Re-recorded: a third run replays it without a warning or a call.
	o = c.run(args...)
	if o.code != 0 || strings.Contains(o.stderr, "corrupt") || srv.Requests() != 2 {
		t.Errorf("third run: exit %d, %d requests\n%s", o.code, srv.Requests(), o.stderr)
	}
}

// cacheFiles lists the regular files of a cache directory, sorted.
func cacheFiles(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && !strings.HasPrefix(d.Name(), ".") && strings.HasSuffix(d.Name(), ".json") {
			out = append(out, p)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(out)
	return out
}
