package examples

import (
	"bytes"
	"context"
	"encoding/xml"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aieval/aieval/eval"
	"github.com/aieval/aieval/eval/results"
	"github.com/aieval/aieval/reporters"
)

var matrixModels = []string{"gpt-4o", "claude-3-5-sonnet", "llama3"}

// TestMatrixReportsSideBySide replays the three-model trip planner offline
// and checks every report shows each test x model with the per-model
// table: console, JUnit (valid against the strict XSD, one testcase per
// test x model), JSON, Markdown, and the HTML page in headless Chromium.
func TestMatrixReportsSideBySide(t *testing.T) {
	s, err := eval.LoadSuite(filepath.Join("matrix", "matrix.eval.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	res, err := eval.Run(context.Background(), []*eval.Suite{s}, eval.Options{
		Concurrency: 4, CacheDir: cacheDir, CacheMode: "read-only", Offline: true,
		SpoolDir: t.TempDir(), Getenv: func(string) string { return "" },
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := len(res.Summary.Models); got != 3 {
		t.Fatalf("per-model totals for %d models, want 3: %+v", got, res.Summary.Models)
	}
	for i, m := range res.Summary.Models {
		if m.Model != matrixModels[i] || m.Total != 2 {
			t.Errorf("model %d: %+v, want %s with 2 tests", i, m, matrixModels[i])
		}
	}
	if c := res.Summary.Models[1]; c.Passed != 2 || c.PassRate != 1 {
		t.Errorf("claude: %+v, want both tests passed", c)
	}
	render := func(name string) string {
		rep, err := reporters.Get(name, reporters.Options{})
		if err != nil {
			t.Fatal(err)
		}
		var b bytes.Buffer
		if err := rep.Report(&b, res); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		return b.String()
	}
	names := []string{}
	for _, test := range []string{"lists ten attractions", "itinerary ordered by price"} {
		for _, m := range matrixModels {
			names = append(names, test+" ["+m+"]")
		}
	}

	console := render("console")
	for _, want := range []string{"MODEL", "PASS RATE", "lists ten attractions [llama3]", "itinerary ordered by price [gpt-4o]"} {
		if !strings.Contains(console, want) {
			t.Errorf("console lacks %q:\n%s", want, console)
		}
	}
	if !regexp.MustCompile(`(?m)^claude-3-5-sonnet +2 +100% +2 +0 +0 `).MatchString(console) {
		t.Errorf("console has no per-model row for claude:\n%s", console)
	}

	md := render("markdown")
	if !strings.Contains(md, "| Model | Tests | Pass rate | Passed | Failed | Errors | Cost | Latency | Score |") ||
		!strings.Contains(md, "| llama3 | 2 | 0% | 0 | 2 | 0 |") {
		t.Errorf("markdown has no per-model table:\n%s", md)
	}

	junit := render("junit")
	var doc struct {
		Suites []struct {
			Cases []struct {
				Name string `xml:"name,attr"`
			} `xml:"testcase"`
		} `xml:"testsuite"`
	}
	if err := xml.Unmarshal([]byte(junit), &doc); err != nil || len(doc.Suites) != 1 {
		t.Fatalf("junit: %v\n%s", err, junit)
	}
	var cases []string
	for _, c := range doc.Suites[0].Cases {
		cases = append(cases, c.Name)
	}
	if strings.Join(cases, "|") != strings.Join(names, "|") {
		t.Errorf("junit testcases %q, want %q", cases, names)
	}
	dir := t.TempDir()
	xmlPath := filepath.Join(dir, "junit.xml")
	if err := os.WriteFile(xmlPath, []byte(junit), 0o644); err != nil {
		t.Fatal(err)
	}
	if bin, err := exec.LookPath("xmllint"); err == nil {
		xsd := filepath.Join("..", "reporters", "testdata", "junit.xsd")
		if out, err := exec.Command(bin, "--noout", "--schema", xsd, xmlPath).CombinedOutput(); err != nil {
			t.Errorf("xmllint: %v\n%s", err, out)
		}
	} else if os.Getenv("CI") != "" {
		t.Error("xmllint not found (CI is set)")
	}

	jsonPath := filepath.Join(dir, "results.json")
	if err := os.WriteFile(jsonPath, []byte(render("json")), 0o644); err != nil {
		t.Fatal(err)
	}
	back, err := results.ReadFile(jsonPath)
	if err != nil {
		t.Fatal(err)
	}
	if len(back.Summary.Models) != 3 || len(back.Tests) != 6 || back.Tests[2].Matrix != "llama3" || back.Tests[2].ID() != "matrix/matrix.eval.yaml::lists ten attractions [llama3]" {
		t.Errorf("json: models %+v, tests %d", back.Summary.Models, len(back.Tests))
	}

	htmlPage := render("html")
	for _, want := range []string{`<table id="models"`, "<td>claude-3-5-sonnet</td><td>2</td><td>100%</td>"} {
		if !strings.Contains(htmlPage, want) {
			t.Errorf("html lacks %q", want)
		}
	}
	chromium(t, htmlPage, `<script>
window.addEventListener("load", function () {
  var models = Array.prototype.map.call(document.querySelectorAll("#models tbody tr td:first-child"), function (td) { return td.textContent; });
  var rows = Array.prototype.map.call(document.querySelectorAll("tr.test-row"), function (r) { return r.textContent.indexOf("[llama3]") >= 0 ? "L" : "."; });
  var f = document.getElementById("filter"); f.value = "[llama3]"; f.dispatchEvent(new Event("input"));
  var shown = Array.prototype.filter.call(document.querySelectorAll("tr.test-row"), function (r) { return !r.hidden; }).length;
  var pre = document.createElement("pre"); pre.id = "probe";
  pre.textContent = "models=" + models.join(",") + " rows=" + rows.join("") + " llama3=" + shown;
  document.body.appendChild(pre);
});
</script>`, "models=gpt-4o,claude-3-5-sonnet,llama3 rows=..L..L llama3=2")
}

// chromium opens page (with probe appended) in headless Chromium and
// checks what the probe wrote into <pre id="probe">. Skipped without
// chromium unless AIEVAL_BROWSER_TEST=require.
func chromium(t *testing.T, page, probe, want string) {
	t.Helper()
	bin := ""
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			bin = p
			break
		}
	}
	if bin == "" {
		if os.Getenv("AIEVAL_BROWSER_TEST") == "require" {
			t.Fatal("chromium not found (AIEVAL_BROWSER_TEST=require)")
		}
		t.Skip("chromium not found; apt-get install chromium")
	}
	path := filepath.Join(t.TempDir(), "report.html")
	if err := os.WriteFile(path, []byte(page+probe), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, bin, "--headless", "--no-sandbox", "--disable-gpu",
		"--user-data-dir="+t.TempDir(), "--dump-dom", "file://"+path).Output()
	if err != nil {
		t.Fatalf("chromium: %v", err)
	}
	m := regexp.MustCompile(`<pre id="probe">([^<]*)</pre>`).FindSubmatch(out)
	if m == nil {
		t.Fatalf("the probe did not run (a script error?):\n%.2000s", out)
	}
	if got := string(m[1]); got != want {
		t.Errorf("in the browser:\n got %s\nwant %s", got, want)
	}
}
