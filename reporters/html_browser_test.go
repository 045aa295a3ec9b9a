package reporters

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"github.com/aieval/aieval/eval/results"
)

// probeJS drives the page as a person would and writes what it saw into
// <pre id="probe">, which --dump-dom prints.
const probeJS = `<script>
window.addEventListener("load", function () {
  var out = [];
  function vis() { return Array.prototype.filter.call(document.querySelectorAll("tr.test-row"), function (r) { return !r.hidden; }).length; }
  out.push("all=" + vis() + " pass=" + document.getElementById("count-pass").textContent);
  document.querySelector('button.status-filter[data-status="fail"]').click();
  out.push("fail=" + vis() + " shown=" + document.getElementById("shown").textContent);
  document.querySelector('button.status-filter[data-status="all"]').click();
  var f = document.getElementById("filter"); f.value = "RUBRIC"; f.dispatchEvent(new Event("input"));
  out.push("rubric=" + vis());
  f.value = ""; f.dispatchEvent(new Event("input"));
  var row = document.querySelector('tr.test-row[data-idx="2"]'); row.click();
  var d = row.nextElementSibling;
  out.push("open=" + !d.hidden + " del=" + d.querySelector("del").textContent + " ins=" + d.querySelector("ins").textContent);
  row.click(); out.push("closed=" + d.hidden);
  var req = row.nextElementSibling.querySelectorAll(".request .role");
  out.push("request=" + Array.prototype.map.call(req, function (e) { return e.textContent; }).join(","));
  var nasty = document.querySelector('tr.test-row[data-idx="4"]'); nasty.click();
  out.push("nasty=" + (nasty.nextElementSibling.textContent.indexOf("cdata end ]]> inside") >= 0));
  var pre = document.createElement("pre"); pre.id = "probe"; pre.textContent = out.join(" "); document.body.appendChild(pre);
});
</script>`

// TestHTMLInChromium opens the report in headless Chromium: the counts
// show, the status buttons and the text filter filter, a row opens its
// details with the baseline diff. Skipped without chromium unless
// AIEVAL_BROWSER_TEST=require.
func TestHTMLInChromium(t *testing.T) {
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
	fx := fixture(true)
	fx.Tests[2].Request = &results.Request{
		Messages: []results.Message{{Role: "system", Content: "be brief"}, {Role: "user", Content: "hi"}},
		Settings: map[string]any{"temperature": 0.2},
	}
	page := append(render(t, "html", Options{Baseline: baselineFixture()}, fx), probeJS...)
	path := filepath.Join(t.TempDir(), "report.html")
	if err := os.WriteFile(path, page, 0o644); err != nil {
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
	want := "all=10 pass=4 fail=4 shown=4 rubric=2 open=true del=2 ins=3 closed=true request=system,user,settings nasty=true"
	if got := string(m[1]); got != want {
		t.Errorf("in the browser:\n got %s\nwant %s", got, want)
	}
}
