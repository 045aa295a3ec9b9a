//go:build linux || darwin

package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aieval/aieval/eval"
	"github.com/aieval/aieval/internal/fakeopenai"
)

// TestMain lets the test binary act as the launcher and the floor client,
// as the bench binary does, so the measuring path is the real one.
func TestMain(m *testing.M) {
	if code, ok := childMode(os.Args[1:]); ok {
		os.Exit(code)
	}
	// Under -race every child built from this binary (launcher, floor
	// client) would sleep 1 s at exit; the tests check mechanics, not speed.
	if _, ok := os.LookupEnv("GORACE"); !ok {
		os.Setenv("GORACE", "atexit_sleep_ms=0")
	}
	os.Exit(m.Run())
}

// TestBenchEndToEnd runs the whole harness on a small N: build, fake
// server, child runs, report checks, version, record and offline replay.
func TestBenchEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the aieval binary")
	}
	cfg := config{Ns: []int{200}, Conc: 20, Latency: 5 * time.Millisecond, Asserts: 3,
		VersionRuns: 3, Runs: 2, ReplayN: 200, Floor: true, Log: io.Discard}
	rep, err := runBench(context.Background(), cfg)
	var out bytes.Buffer
	printReport(&out, rep)
	t.Log("\n" + out.String())
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Scale) != 1 || len(rep.Scale[0].Runs) != 2 {
		t.Fatalf("scale results %+v, want one N with 2 runs", rep.Scale)
	}
	for i, r := range rep.Scale[0].Runs {
		if r.Requests != 200 || r.Use.MaxRSSKB <= 0 || r.Use.cpu() <= 0 {
			t.Errorf("run %d: %d requests, usage %+v: want 200 and RSS and CPU measured", i, r.Requests, r.Use)
		}
	}
	if rep.Replay == nil || rep.Replay.NewRequests != 0 {
		t.Errorf("replay %+v: want 0 new requests", rep.Replay)
	}
	fl := rep.Scale[0].Floor
	if fl == nil || fl.N != 200 || len(fl.Runs) != 2 {
		t.Fatalf("floor %+v, want 2 runs of 200 calls", fl)
	}
	for i, r := range fl.Runs {
		if u := r.Use; u.wall() <= 0 || u.cpu() <= 0 || u.MaxRSSKB <= 0 {
			t.Errorf("floor run %d usage %+v: want wall, CPU and RSS measured", i, u)
		}
		if r.Startup <= 0 {
			t.Errorf("floor run %d: start-up %v, want it measured", i, r.Startup)
		}
	}
	for _, want := range []string{"| 200 | 20 |", "floor: bare HTTP client, 200 calls", "ms per call",
		"-runs 2", "median of 2", "`aieval version`", "offline replay of 200", "the kernel's part"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("report lacks %q", want)
		}
	}
}

// TestLauncherMeasuresChildOnly guards the reason the launcher exists: the
// bench's own peak RSS must not show up as the child's.
func TestLauncherMeasuresChildOnly(t *testing.T) {
	ballast := make([]byte, 150<<20)
	for i := range ballast {
		ballast[i] = 1
	}
	h := testHarness(t, "")
	for _, tc := range []struct {
		script string
		exit   int
	}{{"exit 0", 0}, {"exit 3", 3}} {
		h.bin = writeScript(t, tc.script)
		u, err := h.measure(context.Background(), t.TempDir(), time.Minute, "run")
		if tc.exit == 0 && err != nil {
			t.Fatal(err)
		}
		if tc.exit != 0 && (err == nil || !strings.Contains(err.Error(), fmt.Sprintf("exited %d", tc.exit))) {
			t.Errorf("%s: error %v, want one naming exit %d", tc.script, err, tc.exit)
		}
		if u.Exit != tc.exit {
			t.Errorf("%s: exit %d, want %d", tc.script, u.Exit, tc.exit)
		}
		if mb := u.MaxRSSKB / 1024; mb <= 0 || mb > 50 {
			t.Errorf("%s: child peak RSS %d MB, want (0, 50]: the bench's 150 MB leaked in", tc.script, mb)
		}
	}
	_ = ballast[len(ballast)-1]
}

// TestHarnessFailsOnWrongRun checks that a binary that exits 0 without doing
// the work is a harness failure, not a fast result.
func TestHarnessFailsOnWrongRun(t *testing.T) {
	bin := writeScript(t, "exit 0")
	cfg := config{Ns: []int{5}, Conc: 2, Latency: time.Millisecond, Asserts: 3, Bin: bin, Log: io.Discard}
	_, err := runBench(context.Background(), cfg)
	if err == nil || !strings.Contains(err.Error(), "server got 0 requests, want 5") {
		t.Fatalf("error %v, want the missing requests named", err)
	}
}

func testHarness(t *testing.T, bin string) *harness {
	t.Helper()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	tmp := t.TempDir()
	return &harness{cfg: config{Log: io.Discard}, tmp: tmp, self: self, bin: bin,
		env: childEnv(os.Environ(), "http://127.0.0.1:1/v1", tmp)}
}

func writeScript(t *testing.T, body string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "fake-aieval")
	if err := os.WriteFile(path, []byte("#!/bin/sh\n"+body+"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestWriteSuite(t *testing.T) {
	for _, asserts := range []int{1, 3, 8} {
		dir := t.TempDir()
		if _, err := writeSuite(dir, 7, asserts); err != nil {
			t.Fatal(err)
		}
		f, err := os.Open(filepath.Join(dir, casesFile))
		if err != nil {
			t.Fatal(err)
		}
		names := map[string]bool{}
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			var c benchCase
			if err := json.Unmarshal(sc.Bytes(), &c); err != nil {
				t.Fatalf("line %q: %v", sc.Text(), err)
			}
			if len(c.Assert) != asserts || c.Params["q"] != c.Name {
				t.Errorf("case %+v: want %d assertions and q = name", c, asserts)
			}
			names[c.Name] = true
		}
		f.Close()
		if len(names) != 7 {
			t.Errorf("asserts=%d: %d distinct cases, want 7", asserts, len(names))
		}
		suite, _ := os.ReadFile(filepath.Join(dir, suiteFile))
		if !strings.Contains(string(suite), "tests: file://"+casesFile) {
			t.Errorf("suite %q does not reference the cases file", suite)
		}
	}
}

func TestCheckJSON(t *testing.T) {
	pass := func(name string, cached bool) string {
		return fmt.Sprintf(`{"name":%q,"status":"pass","cached":%v}`, name, cached)
	}
	tests := []struct {
		name, body string
		n          int
		cached     bool
		wantErr    string
	}{
		{"ok", `{"summary":{"total":2,"passed":2},"tests":[` + pass("a", false) + "," + pass("b", false) + `]}`, 2, false, ""},
		{"missing test", `{"summary":{"total":1,"passed":1},"tests":[` + pass("a", false) + `]}`, 2, false, "1 tests, want 2"},
		{"duplicate name", `{"summary":{"total":2,"passed":2},"tests":[` + pass("a", false) + "," + pass("a", false) + `]}`, 2, false, "distinct"},
		{"failing test", `{"summary":{"total":2,"passed":1},"tests":[` + pass("a", false) + `,{"name":"b","status":"fail","reason":"nope"}]}`, 2, false, "b is fail: nope"},
		{"summary disagrees", `{"summary":{"total":2,"passed":0},"tests":[` + pass("a", false) + "," + pass("b", false) + `]}`, 2, false, "summary"},
		{"not cached", `{"summary":{"total":2,"passed":2},"tests":[` + pass("a", true) + "," + pass("b", false) + `]}`, 2, true, "1 tests from the cache"},
		{"truncated", `{"summary":`, 2, false, "decode"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "out.json")
			os.WriteFile(path, []byte(tc.body), 0o644)
			err := checkJSON(path, tc.n, tc.cached)
			if tc.wantErr == "" && err != nil || tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)) {
				t.Errorf("error %v, want %q", err, tc.wantErr)
			}
		})
	}
}

func TestCheckJUnit(t *testing.T) {
	tests := []struct{ name, body, wantErr string }{
		{"ok", `<testsuites><testsuite><testcase name="a"/><testcase name="b"></testcase></testsuite></testsuites>`, ""},
		{"failure", `<testsuites><testsuite><testcase name="a"/><testcase name="b"><failure/></testcase></testsuite></testsuites>`, "1 failures"},
		{"short", `<testsuites><testsuite><testcase name="a"/></testsuite></testsuites>`, "1 testcases"},
		{"broken xml", `<testsuites><testsuite><testcase name="a"/>`, "parse junit"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "out.xml")
			os.WriteFile(path, []byte(tc.body), 0o644)
			err := checkJUnit(path, 2)
			if tc.wantErr == "" && err != nil || tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)) {
				t.Errorf("error %v, want %q", err, tc.wantErr)
			}
		})
	}
}

func TestParseConfig(t *testing.T) {
	tests := []struct {
		args    []string
		wantNs  []int
		wantErr string
	}{
		{nil, []int{1000, 10000}, ""},
		{[]string{"-n", "100k,1_000", "-c", "100", "-latency", "20ms"}, []int{100000, 1000}, ""},
		{[]string{"-n", "0"}, nil, "-n"},
		{[]string{"-n", "ten"}, nil, "not a positive count"},
		{[]string{"-c", "0"}, nil, "-c 0"},
		{[]string{"-asserts", "0"}, nil, "-asserts"},
		{[]string{"-runs", "0"}, nil, "-runs 0"},
		{[]string{"extra"}, nil, "unexpected argument"},
	}
	for _, tc := range tests {
		cfg, err := parseConfig(tc.args, io.Discard)
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("%v: error %v, want %q", tc.args, err, tc.wantErr)
			}
			continue
		}
		if err != nil || fmt.Sprint(cfg.Ns) != fmt.Sprint(tc.wantNs) {
			t.Errorf("%v: Ns %v, err %v; want %v", tc.args, cfg.Ns, err, tc.wantNs)
		}
	}
}

func TestIdealWall(t *testing.T) {
	tests := []struct {
		n, c int
		lat  time.Duration
		want time.Duration
	}{
		{1000, 10, 50 * time.Millisecond, 5 * time.Second},
		{1001, 10, 50 * time.Millisecond, 5050 * time.Millisecond},
		{100000, 100, 20 * time.Millisecond, 20 * time.Second},
		{5, 0, time.Second, 5 * time.Second},
	}
	for _, tc := range tests {
		if got := idealWall(tc.n, tc.c, tc.lat); got != tc.want {
			t.Errorf("idealWall(%d, %d, %s) = %s, want %s", tc.n, tc.c, tc.lat, got, tc.want)
		}
	}
}

// scaleRuns builds a scaleSet of N at C=10, 50 ms from one (wall, RSS, CPU)
// per run.
func scaleRuns(n int, runs ...usage) scaleSet {
	set := scaleSet{N: n, Conc: 10, Ideal: idealWall(n, 10, 50*time.Millisecond)}
	for i, u := range runs {
		set.Runs = append(set.Runs, scaleResult{N: n, Conc: 10, Latency: 50 * time.Millisecond, Ideal: set.Ideal,
			Use: u, Startup: time.Duration(i+1) * time.Millisecond, Tail: time.Duration(i+10) * time.Millisecond})
	}
	return set
}

func use(wall time.Duration, rssMB int64, cpu time.Duration) usage {
	return usage{WallNS: int64(wall), MaxRSSKB: rssMB * 1024, UserNS: int64(cpu)}
}

func TestPrintReportVerdicts(t *testing.T) {
	floor := func(cpuTotal time.Duration, set scaleSet) scaleSet {
		set.Floor = &floorResult{N: 1000, Conc: 10, Ideal: 5 * time.Second,
			Runs: scaleRuns(1000, use(5010*time.Millisecond, 9, cpuTotal)).Runs}
		return set
	}
	tests := []struct {
		name   string
		rep    report
		missed int
	}{
		{"all met", report{Scale: []scaleSet{scaleRuns(1000, use(5100*time.Millisecond, 20, 50*time.Millisecond))},
			Version: 5 * time.Millisecond, VersionRuns: 20,
			Replay: &replayResult{N: 10000, Replay: usage{WallNS: int64(time.Second)}}}, 0},
		{"slow, fat, hungry", report{Scale: []scaleSet{scaleRuns(1000, use(6*time.Second, 41, 300*time.Millisecond))}}, 3},
		{"40 MB at 100k too", report{Scale: []scaleSet{scaleRuns(100000, use(505*time.Second, 41, 5*time.Second))}}, 1},
		{"slow version, replay hit the server", report{Version: 25 * time.Millisecond, VersionRuns: 20,
			Replay: &replayResult{N: 10000, NewRequests: 3, Replay: usage{WallNS: int64(3 * time.Second)}}}, 3},
		// 0.15 ms per test in total, of which 0.1 ms is the HTTP exchange;
		// efficiency 0.980 against the floor's 0.998: 0.982 of it.
		{"CPU over total but harness CPU met; under the floor's efficiency", report{
			Scale: []scaleSet{floor(100*time.Millisecond, scaleRuns(1000, use(5100*time.Millisecond, 20, 150*time.Millisecond)))}}, 1},
		{"harness CPU missed", report{
			Scale: []scaleSet{floor(20*time.Millisecond, scaleRuns(1000, use(5020*time.Millisecond, 20, 150*time.Millisecond)))}}, 1},
		{"within 0.99 of the floor", report{
			Scale: []scaleSet{floor(100*time.Millisecond, scaleRuns(1000, use(5050*time.Millisecond, 20, 150*time.Millisecond)))}}, 0},
		{"no floor: total checked", report{
			Scale: []scaleSet{scaleRuns(1000, use(5100*time.Millisecond, 20, 150*time.Millisecond))}}, 1},
		// The median run by wall is 5.1 s (efficiency 0.980), not the 6 s one.
		{"median run, not the slowest", report{Scale: []scaleSet{scaleRuns(1000,
			use(6*time.Second, 20, 50*time.Millisecond), use(5100*time.Millisecond, 20, 50*time.Millisecond),
			use(5050*time.Millisecond, 20, 50*time.Millisecond))}}, 0},
	}
	for _, tc := range tests {
		var b bytes.Buffer
		tc.rep.Cfg = config{Ns: []int{1000}, Conc: 10, Latency: 50 * time.Millisecond, Asserts: 3, Runs: 3}
		got := printReport(&b, &tc.rep)
		if got != tc.missed || strings.Count(b.String(), "**MISSED**") != tc.missed {
			t.Errorf("%s: %d missed, want %d:\n%s", tc.name, got, tc.missed, b.String())
		}
		if (tc.missed == 0) != strings.Contains(b.String(), "All targets met") {
			t.Errorf("%s: closing line wrong:\n%s", tc.name, b.String())
		}
	}
}

// TestPrintReportColumns pins what each cell of a row shows.
func TestPrintReportColumns(t *testing.T) {
	rep := report{
		Cfg: config{Ns: []int{1000}, Conc: 10, Latency: 50 * time.Millisecond, Asserts: 3, Runs: 3},
		// Walls 5.2, 5.0, 5.1 s: median run is the third (start-up 3 ms, tail 12 ms).
		// CPU 150, 120, 130 ms: median 130 ms, 0.130 ms per test. RSS max 25 MB.
		Scale: []scaleSet{scaleRuns(1000,
			use(5200*time.Millisecond, 22, 150*time.Millisecond),
			use(5000*time.Millisecond, 25, 120*time.Millisecond),
			use(5100*time.Millisecond, 21, 130*time.Millisecond))},
	}
	// Floor CPU 40, 50, 60 ms over 1000 calls: 0.050 ms per call.
	rep.Scale[0].Floor = &floorResult{N: 1000, Conc: 10, Ideal: 5 * time.Second, Runs: scaleRuns(1000,
		use(5020*time.Millisecond, 8, 60*time.Millisecond),
		use(5010*time.Millisecond, 9, 50*time.Millisecond),
		use(5040*time.Millisecond, 7, 40*time.Millisecond)).Runs}
	var b bytes.Buffer
	if missed := printReport(&b, &rep); missed != 2 { // harness CPU 0.080 ms; 0.984 of the floor's
		t.Errorf("%d missed, want 2", missed)
	}
	out := b.String()
	for _, want := range []string{
		"-runs 3`",
		"| actual wall (median of 3) | efficiency | ÷ the bare client's (≥ 0.99) | peak RSS (max of 3, ≤ 40 MB) | CPU per test, total | harness CPU per test (≤ 0.06 ms) |",
		"| 1,000 | 10 | 5.00 s | 5.10 s | 0.980 (0.962–1.000) | 0.984 **MISSED** | 25.0 MB ok | 0.130 ms | 0.080 ms **MISSED** | 3 ms / 12 ms |",
		"| floor: bare HTTP client, 1,000 calls | 10 | 5.00 s | 5.02 s | 0.996 (0.992–0.998) | | 9.0 MB | 0.050 ms per call |",
		"Each row is 3 runs",
		"aieval's own work beyond the model call",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q:\n%s", want, out)
		}
	}
}

func TestMedianIndex(t *testing.T) {
	ms := time.Millisecond
	tests := []struct {
		name string
		in   []time.Duration
		want int
	}{
		{"none", nil, -1},
		{"one", []time.Duration{5 * ms}, 0},
		{"odd, sorted", []time.Duration{1 * ms, 2 * ms, 3 * ms}, 1},
		{"odd, slowest first", []time.Duration{9 * ms, 2 * ms, 3 * ms}, 2},
		{"odd, fastest last", []time.Duration{5 * ms, 7 * ms, 1 * ms, 6 * ms, 9 * ms}, 3},
		{"even takes the lower middle", []time.Duration{4 * ms, 1 * ms, 3 * ms, 2 * ms}, 3},
		{"ties keep input order", []time.Duration{2 * ms, 2 * ms, 2 * ms}, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := medianIndex(tc.in); got != tc.want {
				t.Errorf("medianIndex(%v) = %d, want %d", tc.in, got, tc.want)
			}
		})
	}
}

func TestSummarize(t *testing.T) {
	tests := []struct {
		name string
		in   []usage
		want runSummary
	}{
		{"none", nil, runSummary{}},
		{"one", []usage{use(5*time.Second, 20, 100*time.Millisecond)},
			runSummary{Mid: 0, CPU: 100 * time.Millisecond, MaxRSSKB: 20 << 10, MinWall: 5 * time.Second, MaxWall: 5 * time.Second}},
		// CPU median and RSS max are taken over all runs, not from the median-wall run.
		{"three", []usage{
			use(6*time.Second, 20, 300*time.Millisecond),
			use(5*time.Second, 30, 100*time.Millisecond),
			use(5500*time.Millisecond, 25, 400*time.Millisecond)},
			runSummary{Mid: 2, CPU: 300 * time.Millisecond, MaxRSSKB: 30 << 10, MinWall: 5 * time.Second, MaxWall: 6 * time.Second}},
		{"two: CPU is the mean of both", []usage{
			use(5*time.Second, 20, 100*time.Millisecond),
			use(6*time.Second, 10, 200*time.Millisecond)},
			runSummary{Mid: 0, CPU: 150 * time.Millisecond, MaxRSSKB: 20 << 10, MinWall: 5 * time.Second, MaxWall: 6 * time.Second}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := summarize(tc.in); got != tc.want {
				t.Errorf("summarize = %+v, want %+v", got, tc.want)
			}
		})
	}
}

// TestFloorChild runs the floor client as a launched child of the test
// binary against a real fake server and reads its usage back.
func TestFloorChild(t *testing.T) {
	srv := fakeopenai.New()
	defer srv.Close()
	h := testHarness(t, "")
	h.cfg.Conc = 4
	for i := range 2 {
		r, err := h.floorRun(context.Background(), srv, 20)
		if err != nil {
			t.Fatal(err)
		}
		if u := r.Use; u.wall() <= 0 || u.cpu() <= 0 || u.MaxRSSKB <= 0 || u.Exit != 0 {
			t.Errorf("run %d usage %+v: want wall, CPU and RSS measured, exit 0", i, u)
		}
		if r.Startup <= 0 || r.Startup > r.Use.wall() || r.Tail > r.Use.wall() {
			t.Errorf("run %d: start-up %v, tail %v of a %v run: want a start-up within the run", i, r.Startup, r.Tail, r.Use.wall())
		}
	}
	if got := srv.Requests(); got != 40 {
		t.Errorf("server saw %d requests, want 2 runs of 20", got)
	}
	if bodies := srv.Bodies(); len(bodies) != 40 || !strings.HasSuffix(bodies[0].LastUser(), "reply with the answer 42.") {
		t.Errorf("server recorded %d bodies, first %+v: want 40 aieval-like prompts", len(bodies), bodies)
	}

	// A floor client that cannot reach the server is a harness failure.
	dead := fakeopenai.New()
	dead.Close()
	if _, err := h.floorRun(context.Background(), dead, 5); err == nil ||
		!strings.Contains(err.Error(), "floor client exited 1") {
		t.Errorf("error %v, want the failed floor client named", err)
	}
}

func TestFloorClientArgs(t *testing.T) {
	for _, args := range [][]string{nil, {"http://x", "0", "1"}, {"http://x", "5", "c"}} {
		if code := floorClient(args); code != 2 {
			t.Errorf("floorClient(%q) = %d, want 2", args, code)
		}
	}
}

func TestSmallHelpers(t *testing.T) {
	if got := thousands(100000); got != "100,000" {
		t.Errorf("thousands = %q", got)
	}
	if got := thousands(999); got != "999" {
		t.Errorf("thousands = %q", got)
	}
	if got := median([]time.Duration{5, 1, 3, 100}); got != 4 {
		t.Errorf("median = %d, want 4", got)
	}
	if got := maxRSSKB(2048, "darwin"); got != 2 {
		t.Errorf("maxRSSKB darwin = %d, want 2", got)
	}
	if got := maxRSSKB(2048, "linux"); got != 2048 {
		t.Errorf("maxRSSKB linux = %d, want 2048", got)
	}
	env := childEnv([]string{"PATH=/bin", "OPENAI_API_KEY=real", "GITHUB_ACTIONS=true", "AIEVAL_JSON=x", "CI=1"}, "http://x/v1", t.TempDir())
	joined := strings.Join(env, "\n")
	for _, bad := range []string{"OPENAI_API_KEY=real", "GITHUB_ACTIONS", "AIEVAL_JSON", "CI=1"} {
		if strings.Contains(joined, bad) {
			t.Errorf("child env keeps %s", bad)
		}
	}
	if !strings.Contains(joined, "OPENAI_BASE_URL=http://x/v1") || !strings.Contains(joined, "PATH=/bin") {
		t.Errorf("child env %v lacks the endpoint or PATH", env)
	}
}

// The YAML cases file holds the tests the JSON Lines one holds.
func TestWriteSuiteYAML(t *testing.T) {
	load := func(format string) *eval.Suite {
		p, err := writeSuiteAs(t.TempDir(), 1200, 3, format)
		if err != nil {
			t.Fatal(err)
		}
		s, err := eval.LoadSuite(p)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	j, y := load("jsonl"), load("yaml")
	if j.TestCount() != 1200 || y.TestCount() != 1200 {
		t.Fatalf("tests: jsonl %d, yaml %d; want 1200", j.TestCount(), y.TestCount())
	}
}
