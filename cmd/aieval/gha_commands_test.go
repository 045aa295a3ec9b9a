package main

import (
	"path/filepath"
	"strings"
	"testing"
)

// forgedCommands are the workflow-command forms a model might write to
// take over a CI job: each at line start, indented (the runner trims
// leading white space), the legacy ##[ syntax (matched anywhere in a
// line), and an attempt to stop aieval's own stop-commands block early.
const forgedCommands = `Here is my answer.
::warning file=README.md,line=1::pwned
   ::add-mask::secret-value
	::set-env name=EVIL::1
::error::forged error
::stop-commands::mytoken
::mytoken::
::group::hidden
mid-line ##[error]legacy syntax
##[warning]at line start`

// TestModelTextRunsNoWorkflowCommand: a GitHub run whose model output
// holds every command form, parsed as the Actions runner parses a step's
// output, runs no command but aieval's own annotations and its
// stop-commands pair.
func TestModelTextRunsNoWorkflowCommand(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "hostile.aiconfig.json", `{
  "name": "hostile", "schema_version": "latest",
  "metadata": {"models": {"echo": {"model": "echo"}}, "default_model": "echo"},
  "prompts": [{"name": "answer", "input": `+jsonString(forgedCommands)+`}]
}`)
	suite := write(t, dir, "hostile.eval.yaml", `config: hostile.aiconfig.json
tests:
  - name: forged
    prompt: answer
    assert:
      - type: equals
        value: "a different answer"
`)
	c := newCLI(t, "GITHUB_ACTIONS", "true", "GITHUB_STEP_SUMMARY", filepath.Join(dir, "summary.md"),
		"GITHUB_OUTPUT", filepath.Join(dir, "out.txt"), "GITHUB_WORKSPACE", dir)
	for _, args := range [][]string{
		{"run", "--no-history", "--cache-mode", "off", "--verbose", suite},
		{"prompt", filepath.Join(dir, "hostile.aiconfig.json"), "answer"},
	} {
		o := c.run(args...)
		if args[0] == "run" && o.code != 1 {
			t.Fatalf("run: exit %d, want 1\n%s\n%s", o.code, o.stdout, o.stderr)
		}
		if !strings.Contains(o.stdout, "pwned") {
			t.Fatalf("%s: the model text is not in the output at all:\n%s", args[0], o.stdout)
		}
		for _, stream := range []struct{ name, text string }{{"stdout", o.stdout}, {"stderr", o.stderr}} {
			for _, cmd := range runnerCommands(stream.text) {
				if !strings.HasPrefix(cmd, "::error file=") && !strings.HasPrefix(cmd, "::notice::") {
					t.Errorf("%s %s: the runner would execute %q\n%s", args[0], stream.name, cmd, stream.text)
				}
			}
		}
	}
}

// runnerCommands returns the lines the GitHub Actions runner would execute
// as workflow commands: leading white space trimmed, a line starting with
// "::" (or holding the legacy "##[" anywhere), except inside a
// ::stop-commands::TOKEN ... ::TOKEN:: block. The stop-commands lines
// themselves are aieval's and not returned.
func runnerCommands(out string) []string {
	var cmds []string
	token := ""
	for _, line := range strings.Split(out, "\n") {
		l := strings.TrimLeft(line, " \t")
		if token != "" {
			if l == "::"+token+"::" {
				token = ""
			}
			continue
		}
		if rest, ok := strings.CutPrefix(l, "::stop-commands::"); ok {
			token = strings.TrimSpace(rest)
			continue
		}
		if strings.HasPrefix(l, "::") || strings.Contains(l, "##[") {
			cmds = append(cmds, l)
		}
	}
	return cmds
}

func jsonString(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`, "\t", `\t`)
	return `"` + r.Replace(s) + `"`
}
