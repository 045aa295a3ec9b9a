package main

import (
	"strings"
	"testing"
)

// validate knows what run will do: a suite whose prompt's model aieval
// cannot route warns, and --strict (warnings as errors) fails it, for the
// suite as for its aiconfig; run would error every such test.
func TestValidateStrictUnroutableModel(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "u.aiconfig.json", `{"name":"u","schema_version":"latest","metadata":{"models":{"dall-e-3":{"model":"dall-e-3"}},"default_model":"dall-e-3"},"prompts":[{"name":"p","input":"draw"}]}`)
	suite := write(t, dir, "u.eval.yaml", "config: u.aiconfig.json\ntests:\n  - name: t\n    prompt: p\n    assert:\n      - type: contains\n        value: x\n")
	c := newCLI(t)
	if o := c.run("validate", suite); o.code != 0 || !strings.Contains(o.stderr, "cannot run") {
		t.Errorf("validate: exit %d, want 0 with a warning naming the model\n%s", o.code, o.stderr)
	}
	for _, f := range []string{suite, dir + "/u.aiconfig.json"} {
		if o := c.run("validate", "--strict", f); o.code != 2 || !strings.Contains(o.stderr, "dall-e-3") {
			t.Errorf("validate --strict %s: exit %d, want 2 naming the model\n%s", f, o.code, o.stderr)
		}
	}
}
