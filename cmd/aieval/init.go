package main

import (
	"context"
	_ "embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

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

const starterSuite = `# aieval suite: run it with 'aieval run'. Format: see the aieval README.
description: %s
config: %s
tests:
  - name: %s answers
    prompt: %s
    assert:
      - type: not-icontains
        value: "as an ai"
      - type: length
        value: { min: 1 }
`

func cmdInit(ctx context.Context, args []string, st *state) error {
	fl := newFlags("init", st)
	force := fl.Bool("force", false, "overwrite existing files")
	dir := fl.String("dir", ".", "repository root to write into")
	if _, err := parseFlags(fl, args); err != nil {
		return err
	}
	cfgPath, prompt, err := starterTarget(*dir)
	if err != nil {
		return inputErr(err)
	}
	files := map[string]string{
		filepath.Join(*dir, ".github", "workflows", "aieval.yml"): workflowTemplate,
		filepath.Join(*dir, ".aieval", "cache", ".gitkeep"):       "",
	}
	if cfgPath == "" {
		cfgPath = filepath.Join(*dir, "prompts", "hello.aiconfig.json")
		prompt = "greet"
		files[cfgPath] = starterConfig
	}
	suitePath := strings.TrimSuffix(strings.TrimSuffix(cfgPath, filepath.Ext(cfgPath)), ".aiconfig") + ".eval.yaml"
	rel, _ := filepath.Rel(filepath.Dir(suitePath), cfgPath)
	files[suitePath] = fmt.Sprintf(starterSuite, "Starter suite for "+filepath.Base(cfgPath), rel, prompt, prompt)
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
	fmt.Fprintf(st.stdout, "\nNext: aieval run %s\n", suitePath)
	return nil
}

// starterTarget picks the first aiconfig of the repository and its first
// prompt, so the starter suite tests something real.
func starterTarget(dir string) (string, string, error) {
	if _, err := os.Stat(dir); errors.Is(err, fs.ErrNotExist) {
		return "", "", nil // a new directory: init creates it
	}
	files, err := findConfigFiles(dir)
	if err != nil {
		return "", "", err
	}
	for _, f := range files {
		if !isAIConfig(f) {
			continue
		}
		cfg, err := runtime.Load(f)
		if err != nil {
			continue
		}
		if names := cfg.PromptNames(); len(names) > 0 {
			return f, names[0], nil
		}
	}
	return "", "", nil
}
