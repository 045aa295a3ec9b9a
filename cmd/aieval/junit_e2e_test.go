package main

import (
	"encoding/xml"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aieval/aieval/internal/fakeopenai"
)

// TestJUnitFromNastyRun: a real run with passes, failures, errors, skips
// and hostile outputs (ANSI escapes, NUL, "]]>", a 1 MB output) gives JUnit
// valid against the strict XSD.
func TestJUnitFromNastyRun(t *testing.T) {
	big := strings.Repeat("0123456789abcdef", 1<<16) // 1 MiB
	replies := map[string]string{
		"ansi":  "\x1b[31mred\x1b[0m text",
		"nul":   "before\x00after",
		"cdata": "x ]]> y <![CDATA[ z",
		"big":   big,
		"ctl":   "bell\x07 and \x1b]0;title\x07 and \ufffe",
	}
	srv := fakeopenai.New(
		fakeopenai.WithReply(func(req fakeopenai.ChatRequest) string {
			return replies[req.LastUser()]
		}),
		fakeopenai.WithFault(fakeopenai.FaultIf(func(req fakeopenai.ChatRequest) bool {
			return req.LastUser() == "boom"
		}, fakeopenai.Status(400, ""))),
	)
	defer srv.Close()
	dir := t.TempDir()
	write(t, dir, "probe.aiconfig.json", echoConfig)
	suite := write(t, dir, "nasty.eval.yaml", `description: nasty <outputs> & "quotes"
config: probe.aiconfig.json
tests:
  - {name: ansi passes, prompt: say, params: {reply: ansi}, assert: [{type: contains, value: red}]}
  - {name: nul fails, prompt: say, params: {reply: nul}, assert: [{type: equals, value: "before after"}]}
  - {name: cdata fails, prompt: say, params: {reply: cdata}, assert: [{type: equals, value: "x ]]> y"}]}
  - {name: big output, prompt: say, params: {reply: big}, assert: [{type: length, value: {min: 1000}}]}
  - {name: control chars, prompt: say, params: {reply: ctl}, assert: [{type: starts-with, value: "nope ]]>"}]}
  - {name: provider error, prompt: say, params: {reply: boom}, assert: [{type: contains, value: x}]}
  - {name: skipped one, prompt: say, params: {reply: ansi}, skip: "not today ]]> \u001b[1m"}
`)
	junit := filepath.Join(dir, "junit.xml")
	o := newCLI(t, "OPENAI_BASE_URL", srv.URL(), "OPENAI_API_KEY", "k").
		run("run", "--cache-mode", "off", "--retries", "0", "--junit", junit, suite)
	if o.code != 3 {
		t.Fatalf("exit %d, want 3 (one error)\n%s\n%s", o.code, o.stdout, o.stderr)
	}
	xmllint(t, junit)
	data, err := os.ReadFile(junit)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Suites []struct {
			Tests    int `xml:"tests,attr"`
			Failures int `xml:"failures,attr"`
			Errors   int `xml:"errors,attr"`
			Skipped  int `xml:"skipped,attr"`
		} `xml:"testsuite"`
	}
	if err := xml.Unmarshal(data, &doc); err != nil {
		t.Fatalf("JUnit does not parse: %v", err)
	}
	if len(doc.Suites) != 1 {
		t.Fatalf("%d testsuites, want 1", len(doc.Suites))
	}
	s := doc.Suites[0]
	if s.Tests != 7 || s.Failures != 3 || s.Errors != 1 || s.Skipped != 1 {
		t.Errorf("counts %+v, want 7 tests, 3 failures, 1 error, 1 skipped", s)
	}
	if strings.ContainsAny(string(data), "\x00\x1b\x07") {
		t.Error("JUnit holds raw control characters")
	}
	if len(data) > 600<<10 {
		t.Errorf("JUnit is %d bytes: the 1 MiB output was not capped", len(data))
	}
}
