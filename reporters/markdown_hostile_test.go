package reporters

import (
	"bytes"
	"strings"
	"testing"

	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/extension"
	gmhtml "github.com/yuin/goldmark/renderer/html"

	"github.com/aieval/aieval/eval/results"
)

// Model text in the step summary is shown as code: rendered the way
// GitHub renders Markdown (GFM, raw HTML allowed), no link, image, emphasis
// or HTML from it is live.
func TestMarkdownShowsModelTextAsCode(t *testing.T) {
	hostile := "**bold** [click](https://evil.example) ![img](https://evil.example/x.png) <img src=x onerror=alert(1)> @octocat | pipe ` tick"
	r := &results.Results{Version: results.ResultsVersion, Suites: []results.SuiteInfo{{Path: "s.eval.yaml"}}}
	tr := results.TestResult{Suite: "s.eval.yaml", Name: "t", Status: results.StatusFail, Reason: hostile,
		Assertions: []results.AssertionResult{{Type: "contains", Reason: "found " + hostile, Diff: "- " + hostile + "\n+ ok"}}}
	r.Tests = append(r.Tests, tr)
	r.Summary.Add(&r.Tests[0])
	var md bytes.Buffer
	rep, err := Get("markdown", Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := rep.Report(&md, r); err != nil {
		t.Fatal(err)
	}
	var page bytes.Buffer
	gm := goldmark.New(goldmark.WithExtensions(extension.GFM), goldmark.WithRendererOptions(gmhtml.WithUnsafe()))
	if err := gm.Convert(md.Bytes(), &page); err != nil {
		t.Fatal(err)
	}
	html := page.String()
	for _, live := range []string{"<a href", "<img ", "<strong>bold</strong>"} {
		if strings.Contains(html, live) {
			t.Errorf("model text is live in the summary (%s):\n%s", live, html)
		}
	}
	if !strings.Contains(html, "<code>") {
		t.Errorf("model text not shown as code:\n%s", html)
	}
}
