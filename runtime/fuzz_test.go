package runtime

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzParse feeds the loader arbitrary bytes as JSON and YAML. It must never
// panic; whatever loads must validate, resolve and save without panicking.
func FuzzParse(f *testing.F) {
	for _, p := range corpusFiles(f) {
		data, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		if len(data) < 64<<10 {
			f.Add(data, strings.HasSuffix(p, ".yaml"))
		}
	}
	f.Add([]byte("a: &a [*a, *a]\n"), true)
	f.Add([]byte(`{"name":"x","schema_version":"latest","metadata":{},"prompts":[{"name":"p","input":"{{#each}}"}]}`), false)
	f.Fuzz(func(t *testing.T, data []byte, yml bool) {
		path := "fuzz.aiconfig.json"
		if yml {
			path = "fuzz.aiconfig.yaml"
		}
		c, err := Parse(data, path)
		if err != nil {
			if strings.Contains(err.Error(), "\n") {
				t.Fatalf("multi-line error: %q", err)
			}
			return
		}
		_ = Validate(c, nil)
		rt, _ := newTest(Options{})
		for _, name := range c.PromptNames() {
			_, _ = rt.Resolve(context.Background(), c, name, RunOptions{})
		}
		_ = c.Save(filepath.Join(t.TempDir(), filepath.Base(path)))
	})
}
