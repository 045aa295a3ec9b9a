package runtime

import (
	"context"
	"encoding/json"
	"regexp"
	"strings"
	"testing"
)

// FuzzResolve feeds the template resolver random templates, system prompts
// and parameter values. Nothing may panic; a resolve error must be one
// line; `{{{x}}}` must render any value exactly as given.
func FuzzResolve(f *testing.F) {
	for _, seed := range []struct{ tmpl, sys, key, val string }{
		{"Hello {{city}}", "", "city", "Rome & co"},
		{"{{{city}}}", "You are {{role}}.", "role", "<b>"},
		{"{{#each items}}{{this}},{{/each}}", "", "items", "x"},
		{"{{#if a}}yes{{else}}no{{/if}}", "", "a", ""},
		{"{{first.output}} then {{first.input}}", "", "first", "y"},
		{"{{#with obj}}{{k}}{{/with}}", "", "obj", "z"},
		{"{{> partial}}", "", "p", "q"},
		{"{{lookup obj 'k'}} {{log x}}", "", "x", "1"},
		{"{{#each}}", "", "", ""},
		{"{{", "}}", "{{", "}}"},
		{"{{../../x}} {{@root.x}} {{this.x}} {{[weird key]}}", "", "weird key", "v"},
		{"{{x}}", "", "x", "\x00\xff\ufffe"},
	} {
		f.Add(seed.tmpl, seed.sys, seed.key, seed.val)
	}
	f.Fuzz(func(t *testing.T, tmpl, sys, key, val string) {
		params := map[string]any{
			key:    val,
			"list": []any{val, 1.5, nil, true},
			"obj":  map[string]any{"k": val, key: []any{val}},
			"n":    1e300,
		}
		_ = TemplateRefs(tmpl)
		_ = TemplateRefs(sys)
		if out, err := render(tmpl, params); err == nil && !strings.Contains(tmpl, "{{") && out != tmpl {
			t.Fatalf("a template without tags changed: %q -> %q", tmpl, out)
		}
		if out, err := render("{{{x}}}", map[string]any{"x": val}); err != nil || out != val {
			t.Fatalf("{{{x}}} with %q: %q, %v", val, out, err)
		}

		// The whole path: an aiconfig with the template as the second
		// prompt's input and system prompt, chained to the first.
		doc := map[string]any{
			"name": "fuzz", "schema_version": "latest",
			"metadata": map[string]any{
				"parameters":    map[string]any{key: val},
				"models":        map[string]any{"echo": map[string]any{"system_prompt": sys}},
				"default_model": "echo",
			},
			"prompts": []any{
				map[string]any{"name": "first", "input": "first {{" + key + "}}"},
				map[string]any{"name": "second", "input": tmpl, "metadata": map[string]any{"parameters": params}},
			},
		}
		data, err := json.Marshal(doc)
		if err != nil {
			return
		}
		c, err := Parse(data, "fuzz.aiconfig.json")
		if err != nil {
			return
		}
		_ = Validate(c, nil)
		rt, _ := newTest(Options{})
		for _, name := range []string{"first", "second"} {
			_, err := rt.Resolve(context.Background(), c, name, RunOptions{Params: map[string]any{key: val, "extra": params}})
			if err != nil && strings.ContainsAny(err.Error(), "\r\n") {
				t.Fatalf("multi-line resolve error: %q", err)
			}
		}
		if _, err := rt.Run(context.Background(), c, "second", RunOptions{Params: params}); err != nil && strings.ContainsAny(err.Error(), "\r\n") {
			t.Fatalf("multi-line run error: %q", err)
		}
	})
}

// tagRE is the SDK's get_parameters_in_template pattern, which eachTag
// scans for by hand.
var tagRE = regexp.MustCompile(`(?s){{[{]?(.*?)[}]?}}`)

// FuzzEachTag: the hand-written tag scan finds exactly the SDK regexp's
// matches.
func FuzzEachTag(f *testing.F) {
	for _, s := range []string{"{{a}}", "{{{a}}}", "{{a {{b}}", "{{ x }}}}", "{{{{a}}}}", "}}{{", "{{#if a}}{{/if}}", "{{a}", "{{}}", "{{{}}}", "a{{b\n}}c{{{d}}e}}"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var want, got []string
		for _, m := range tagRE.FindAllStringSubmatch(s, -1) {
			want = append(want, m[1])
		}
		eachTag(s, func(tag string) { got = append(got, tag) })
		if strings.Join(want, "\x00") != strings.Join(got, "\x00") || len(want) != len(got) {
			t.Fatalf("eachTag(%q) = %q, regexp finds %q", s, got, want)
		}
	})
}
