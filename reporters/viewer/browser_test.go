package viewer

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// probeJS drives the viewer as a person would, waiting for each view to
// load, and writes what it saw into <pre id="probe">, which --dump-dom
// prints. It is served from the page's origin: the viewer's CSP allows no
// inline script.
const probeJS = `(function () {
  var out = [];
  function done() { var pre = document.createElement("pre"); pre.id = "probe"; pre.textContent = out.join(" "); document.body.appendChild(pre); }
  function wait(sel, fn, n) {
    n = n || 0;
    var e = document.querySelector(sel);
    if (e) { return fn(e); }
    if (n > 400) { out.push("timeout:" + sel); return done(); }
    setTimeout(function () { wait(sel, fn, n + 1); }, 25);
  }
  function vis(sel) { return Array.prototype.filter.call(document.querySelectorAll(sel), function (r) { return !r.hidden; }).length; }
  function names() { return Array.prototype.map.call(document.querySelectorAll("tr.grid-row"), function (r) { return r.querySelector("td.name").textContent; }).join("|"); }
  function click(sel) { document.querySelector(sel).click(); }
  function type(v) { var f = document.getElementById("filter"); f.value = v; f.dispatchEvent(new Event("input")); }
  function roles(box) { return Array.prototype.map.call(box.querySelectorAll(".role"), function (e) { return e.textContent; }).join(","); }

  wait("tr.run-row", function () {
    out.push("runs=" + document.querySelectorAll("tr.run-row").length);
    location.hash = "#/run/f2";
    wait("tr.grid-row", grid);
  });
  function grid() {
    out.push("rows=" + vis("tr.grid-row") + " models=" + document.querySelectorAll("th.model").length);
    click('button.status-filter[data-status="fail"]');
    out.push("fail=" + document.getElementById("shown").textContent);
    click('button.status-filter[data-status="all"]');
    type("DOG"); out.push("dog=" + vis("tr.grid-row"));
    type("");
    var s = document.getElementById("sort"); s.value = "score"; s.dispatchEvent(new Event("change"));
    out.push("byscore=" + names());
    click('th[data-sort="name"]'); click('th[data-sort="name"]');
    out.push("namedesc=" + names());
    click('td.cell[data-idx="1"]');
    wait(".detail .request", function (req) {
      out.push("request=" + roles(req));
      out.push("system=" + JSON.stringify(req.querySelector(".msg.system pre").textContent));
      out.push("settings=" + (req.querySelector("pre.settings").textContent.indexOf('"temperature": 0.2') >= 0));
      location.hash = "#/compare/f1/f2";
      wait("tr.pair-row", cmp);
    });
  }
  function cmp() {
    out.push("headline=" + JSON.stringify(document.getElementById("headline").textContent));
    click('button.status-filter[data-status="regression"]');
    out.push("regressions=" + vis("tr.pair-row"));
    click("tr.pair-row");
    wait(".sbs", function (sbs) {
      out.push("del=" + sbs.querySelector(".side.base del").textContent + " ins=" + sbs.querySelector(".side.head ins").textContent);
      done();
    });
  }
})();
`

func chromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("AIEVAL_BROWSER_TEST") == "require" {
		t.Fatal("chromium not found (AIEVAL_BROWSER_TEST=require)")
	}
	t.Skip("chromium not found; apt-get install chromium")
	return ""
}

// TestViewerInChromium opens the viewer in headless Chromium and drives
// it: the run list, a run's grid filtered by status and text and sorted,
// a test's full request, and two runs compared with the output diff.
// Skipped without chromium unless AIEVAL_BROWSER_TEST=require.
func TestViewerInChromium(t *testing.T) {
	bin := chromium(t)
	// The viewer as served, with the probe added from its own origin.
	v := New(Options{}, fixtureFiles(t))
	v.page = []byte(strings.Replace(string(v.page), "</body>", `<script src="/probe.js"></script></body>`, 1))
	v.mux.HandleFunc("GET /probe.js", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/javascript")
		w.Write([]byte(probeJS))
	})
	srv := httptest.NewServer(v)
	defer srv.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, bin, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
		"--no-first-run", "--user-data-dir="+t.TempDir(), "--virtual-time-budget=30000", "--dump-dom", srv.URL+"/").Output()
	if err != nil {
		t.Fatalf("chromium: %v", err)
	}
	m := regexp.MustCompile(`<pre id="probe">([^<]*)</pre>`).FindSubmatch(out)
	if m == nil {
		t.Fatalf("the probe did not finish (a script error?):\n%.3000s", out)
	}
	want := `runs=2 rows=4 models=2 fail=1 dog=1 byscore=added|ordered|lists sights|broken namedesc=ordered|lists sights|broken|added ` +
		`request=system,user,assistant,user,settings system="You are a travel agent." settings=true ` +
		`headline="1 regression, 1 fixed, 1 new, 1 removed; 1 unchanged" regressions=1 del=cat ins=dog`
	got := strings.ReplaceAll(string(m[1]), "&quot;", `"`)
	if got != want {
		t.Errorf("in the browser:\n got %s\nwant %s", got, want)
	}
	// AIEVAL_VIEW_SCREENSHOTS=DIR keeps a picture of where the probe ends
	// (the comparison, a diff open), to look at when changing the page.
	if dir := os.Getenv("AIEVAL_VIEW_SCREENSHOTS"); dir != "" {
		png := filepath.Join(dir, "viewer-compare.png")
		if err := exec.CommandContext(ctx, bin, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
			"--no-first-run", "--user-data-dir="+t.TempDir(), "--hide-scrollbars", "--window-size=1400,1200",
			"--virtual-time-budget=30000", "--screenshot="+png, srv.URL+"/").Run(); err != nil {
			t.Errorf("screenshot: %v", err)
		}
		t.Logf("screenshot: %s", png)
	}
}
