package promptfoo

import (
	"errors"
	"fmt"
	"path/filepath"
	"regexp"
	"strings"

	"gopkg.in/yaml.v3"
)

// What is written: one aiconfig, and one suite per prompt running every
// test; with several providers the suite's matrix: runs each test on every
// provider's model (a promptfoo eval runs every test on each pair).

type aiconfigOut struct {
	Name          string       `json:"name"`
	Description   string       `json:"description,omitempty"`
	SchemaVersion string       `json:"schema_version"`
	Metadata      aiMeta       `json:"metadata"`
	Prompts       []aiPromptIO `json:"prompts"`
}

type aiMeta struct {
	// Parameters defaults every variable a prompt reads to "": a var a
	// test does not set renders empty, as in promptfoo's Nunjucks.
	Parameters   map[string]any            `json:"parameters,omitempty"`
	Models       map[string]map[string]any `json:"models"`
	DefaultModel string                    `json:"default_model,omitempty"`
}

type aiPromptIO struct {
	Name     string       `json:"name"`
	Input    string       `json:"input"`
	Metadata aiPromptMeta `json:"metadata"`
}

type aiPromptMeta struct {
	Model               aiModelRef `json:"model"`
	RememberChatContext bool       `json:"remember_chat_context"`
}

type aiModelRef struct {
	Name     string         `json:"name"`
	Settings map[string]any `json:"settings,omitempty"`
}

type suiteOut struct {
	Description string   `yaml:"description,omitempty"`
	Config      string   `yaml:"config"`
	Matrix      []string `yaml:"matrix,omitempty,flow"`
	Grader      string   `yaml:"grader,omitempty"`
	Defaults    *testOut `yaml:"defaults,omitempty"`
	Tests       any      `yaml:"tests"` // []*testOut, or "file://cases.csv"
}

type testOut struct {
	Name      string         `yaml:"name,omitempty"`
	Prompt    string         `yaml:"prompt,omitempty"`
	Params    map[string]any `yaml:"params,omitempty"`
	Transform any            `yaml:"transform,omitempty"`
	Threshold *float64       `yaml:"threshold,omitempty"`
	Repeat    int            `yaml:"repeat,omitempty"`
	Assert    []*assertOut   `yaml:"assert,omitempty"`
}

type assertOut struct {
	Type         string   `yaml:"type"`
	Value        any      `yaml:"value,omitempty"`
	Threshold    *float64 `yaml:"threshold,omitempty"`
	Weight       *float64 `yaml:"weight,omitempty"`
	Metric       string   `yaml:"metric,omitempty"`
	Provider     string   `yaml:"provider,omitempty"`
	RubricPrompt string   `yaml:"rubric_prompt,omitempty"`
	Transform    any      `yaml:"transform,omitempty"`
}

type suiteFile struct {
	file  string
	suite *suiteOut
}

type document struct {
	models   []string
	base     string
	aiconfig *aiconfigOut
	suites   []suiteFile
}

// topLevel says why each promptfoo key that is not converted is left out.
var topLevel = map[string]string{
	"tags":               "tags are not kept (aieval has no suite tags)",
	"outputPath":         "use aieval run --json/--html/--junit FILE",
	"sharing":            "aieval has no sharing service; publish the HTML report",
	"nunjucksFilters":    "custom Nunjucks filters are JavaScript; aieval templates are Handlebars",
	"env":                "set these variables in the environment (aieval reads keys only from there)",
	"derivedMetrics":     "derived metrics are JavaScript expressions; aieval reports each metric's mean",
	"extensions":         "extension hooks are JavaScript/Python; not run",
	"redteam":            "red-teaming is not part of aieval",
	"scenarios":          "scenarios are not converted: write their combinations as tests",
	"writeLatestResults": "aieval writes results only where --json says",
	"metadata":           "config metadata is not kept",
	"commandLineOptions": "use aieval run's flags",
	"targets":            "not converted (promptfoo's red-team alias of providers)",
}

var nonName = regexp.MustCompile(`[^A-Za-z0-9_-]+`)

// slug makes a name usable as a prompt or model name: no dots (a dotted
// name reads as a chain reference in a template), no spaces.
func slug(s string) string {
	s = strings.Trim(nonName.ReplaceAllString(s, "_"), "_")
	if s == "" {
		return "x"
	}
	return s
}

func (im *importer) convert(root *yaml.Node) (*document, error) {
	keys, f, at := fields(root)
	for _, k := range keys {
		switch k {
		case "description", "prompts", "providers", "tests", "defaultTest", "evaluateOptions":
		default:
			why, ok := topLevel[k]
			if !ok {
				why = "not a promptfoo key aieval knows"
			}
			im.noteAt(at[k], "%s: not mapped: %s", k, why)
		}
	}
	base := strings.TrimSuffix(filepath.Base(im.path), filepath.Ext(im.path))
	base = strings.TrimSuffix(base, ".promptfooconfig")
	if base == "promptfooconfig" || base == "" {
		base = slug(filepath.Base(filepath.Dir(mustAbs(im.path))))
	}
	desc := ""
	if n := f["description"]; n != nil {
		desc = n.Value
	}

	if f["prompts"] == nil {
		return nil, fmt.Errorf("%s: no prompts: promptfoo needs prompts:, and so does the aiconfig", im.path)
	}
	prompts := im.prompts(f["prompts"])
	if len(prompts) == 0 {
		return nil, fmt.Errorf("%s:%d: no prompt could be converted (see the notes above)", im.path, f["prompts"].Line)
	}
	models := &modelSet{byKey: map[string]map[string]any{}}
	var providers []string
	if n := f["providers"]; n != nil {
		providers = im.providers(n, models)
	} else if n := f["targets"]; n != nil {
		providers = im.providers(n, models)
	}
	if len(providers) == 0 {
		return nil, errors.New(im.path + ": no provider could be converted: add providers: (e.g. openai:gpt-4o-mini), or see the notes")
	}

	sw := &suiteWriter{im: im, models: models, reads: promptReads(prompts)}
	var defs *testOut
	if n := f["defaultTest"]; n != nil {
		defs = sw.defaultTest(n)
	}
	if n := f["evaluateOptions"]; n != nil {
		ks, ev, eat := fields(n)
		for _, k := range ks {
			if k == "repeat" {
				var r int
				if ev[k].Decode(&r) == nil && r > 1 {
					if defs == nil {
						defs = &testOut{}
					}
					defs.Repeat = r
				}
				continue
			}
			im.noteAt(eat[k], "evaluateOptions.%s: not mapped (aieval run has its own flags: --concurrency, --timeout, --cache-mode)", k)
		}
	}
	var tests any
	if n := f["tests"]; n != nil {
		tests = sw.tests(n)
	}
	if tests == nil {
		return nil, fmt.Errorf("%s: no test could be converted: an aieval suite needs at least one test", im.path)
	}

	cfg := &aiconfigOut{
		Name: base, Description: desc, SchemaVersion: "latest",
		Metadata: aiMeta{Models: models.byKey, DefaultModel: providers[0]},
	}
	if len(sw.reads) > 0 {
		cfg.Metadata.Parameters = map[string]any{}
		for k := range sw.reads {
			cfg.Metadata.Parameters[k] = ""
		}
	}
	doc := &document{base: base, aiconfig: cfg, models: models.order}
	// Several providers are promptfoo's prompts × providers grid: each
	// prompt's suite runs every test on each provider's model, side by
	// side (matrix:). The prompt itself names the first.
	var matrix []string
	if len(providers) > 1 {
		matrix = providers
	}
	for _, p := range prompts {
		ap := aiPromptIO{Name: p.name, Input: p.input, Metadata: aiPromptMeta{Model: aiModelRef{Name: providers[0]}}}
		if len(p.settings) > 0 {
			ap.Metadata.Model.Settings = p.settings
		}
		cfg.Prompts = append(cfg.Prompts, ap)

		file := base + ".eval.yaml"
		label := desc
		if len(prompts) > 1 {
			file = base + "." + p.name + ".eval.yaml"
			if label == "" {
				label = base
			}
			label += " (" + p.name + ")"
		}
		d := &testOut{Prompt: p.name}
		reads := promptReads([]promptIn{p})
		if defs != nil {
			d = sw.forPrompt(defs, reads, p.name)
			d.Prompt = p.name
		}
		doc.suites = append(doc.suites, suiteFile{file: file, suite: &suiteOut{
			Description: label, Config: base + ".aiconfig.json", Matrix: matrix, Grader: sw.grader, Defaults: d, Tests: sw.cellTests(tests, reads, p.name),
		}})
	}
	return doc, nil
}

func mustAbs(p string) string {
	if a, err := filepath.Abs(p); err == nil {
		return a
	}
	return p
}
