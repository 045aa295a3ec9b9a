//go:build linux || darwin

package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/aieval/aieval/internal/fakeopenai"
)

// config is one bench invocation.
type config struct {
	Ns          []int
	Conc        int
	Latency     time.Duration
	Asserts     int
	VersionRuns int
	Runs        int    // measured runs of each N and of the floor
	ReplayN     int    // tests in the replay measure; 0 skips it
	Bin         string // prebuilt aieval; "" builds ./cmd/aieval
	Keep        bool   // keep the temp dir
	Floor       bool   // also measure a bare HTTP client (the host's best case)
	Cases       string // cases file format of the scale runs: jsonl or yaml
	Log         io.Writer
}

// scaleSet is one N of the scale table: K runs of the same suite.
type scaleSet struct {
	N, Conc int
	Ideal   time.Duration
	Runs    []scaleResult
	Floor   *floorResult // the bare client making the same N calls, run before each aieval run; nil: -floor=false
}

// usages lists the launcher reports of runs.
func usages(runs []scaleResult) []usage {
	us := make([]usage, len(runs))
	for i, r := range runs {
		us[i] = r.Use
	}
	return us
}

// scaleResult is one run of one N.
type scaleResult struct {
	N, Conc  int
	Latency  time.Duration
	Ideal    time.Duration
	Use      usage
	Startup  time.Duration // launch until the first request reached the server
	Tail     time.Duration // last answer sent until the child exited
	Requests int64
}

// replayResult is the record-then-replay measure.
type replayResult struct {
	N           int
	Uncached    usage // the same run as Record with --cache-mode off
	Record      usage
	FileFloor   usage // a bare loop creating FileFloorN files of the entries' mean size as aieval writes one
	FileFloorN  int
	Replay      usage
	NewRequests int64
}

// report is everything the bench measured.
type report struct {
	Cfg         config
	Scale       []scaleSet
	Version     time.Duration // median
	VersionRuns int
	Replay      *replayResult
}

// harness holds what the runs share.
type harness struct {
	cfg  config
	tmp  string
	bin  string
	self string // launcher executable (this program)
	env  []string
}

// runBench measures everything cfg asks for. It returns what it measured so
// far along with the first harness failure.
func runBench(ctx context.Context, cfg config) (*report, error) {
	rep := &report{Cfg: cfg}
	tmp, err := os.MkdirTemp("", "aieval-bench-")
	if err != nil {
		return rep, fmt.Errorf("create temp dir: %w", err)
	}
	if cfg.Keep {
		fmt.Fprintf(cfg.Log, "bench: keeping %s\n", tmp)
	} else {
		defer os.RemoveAll(tmp)
	}
	self, err := os.Executable()
	if err != nil {
		return rep, fmt.Errorf("find own executable: %w", err)
	}
	h := &harness{cfg: cfg, tmp: tmp, self: self, bin: cfg.Bin}
	if h.bin == "" {
		if h.bin, err = buildAieval(ctx, tmp, cfg.Log); err != nil {
			return rep, err
		}
	}

	srv := fakeopenai.New(fakeopenai.WithLatency(cfg.Latency), fakeopenai.WithKeep(0))
	defer srv.Close()
	h.env = childEnv(os.Environ(), srv.URL(), tmp)
	runs := max(cfg.Runs, 1)
	for _, n := range cfg.Ns {
		set, err := h.scale(ctx, srv, n, runs)
		if err != nil {
			return rep, fmt.Errorf("scale n=%d: %w", n, err)
		}
		rep.Scale = append(rep.Scale, set)
	}
	if cfg.VersionRuns > 0 {
		if rep.Version, err = h.version(ctx, cfg.VersionRuns); err != nil {
			return rep, err
		}
		rep.VersionRuns = cfg.VersionRuns
	}
	if cfg.ReplayN > 0 {
		if rep.Replay, err = h.replay(ctx, cfg.ReplayN); err != nil {
			return rep, fmt.Errorf("replay: %w", err)
		}
	}
	return rep, nil
}

// actionBuild is how action.yml builds aieval.
const actionBuild = `CGO_ENABLED=0 go build -trimpath -ldflags="-s -w"`

// buildAieval builds ./cmd/aieval of the enclosing module into dir.
func buildAieval(ctx context.Context, dir string, log io.Writer) (string, error) {
	out, err := exec.CommandContext(ctx, "go", "env", "GOMOD").Output()
	gomod := strings.TrimSpace(string(out))
	if err != nil || gomod == "" || gomod == os.DevNull {
		return "", fmt.Errorf("find module root: run the bench inside the aieval module (go env GOMOD: %q, %v)", gomod, err)
	}
	bin := filepath.Join(dir, "aieval")
	// Built as action.yml builds it for CI, aieval's home: static and
	// stripped, which starts ~3 ms sooner than a cgo-linked default build.
	fmt.Fprintln(log, "bench: building ./cmd/aieval as the GitHub action does ("+actionBuild+")")
	cmd := exec.CommandContext(ctx, "go", "build", "-trimpath", "-ldflags=-s -w", "-o", bin, "./cmd/aieval")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	cmd.Dir = filepath.Dir(gomod)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("build aieval: %v: %s", err, strings.TrimSpace(stderr.String()))
	}
	return bin, nil
}

// childEnv is the parent's environment minus whatever could change what
// aieval does (CI annotations, its own defaults, a real endpoint), plus the
// fake endpoint and a HOME inside the temp dir so no user cache is touched.
func childEnv(parent []string, baseURL, tmp string) []string {
	var env []string
	for _, kv := range parent {
		k, _, _ := strings.Cut(kv, "=")
		switch {
		case k == "AIEVAL_CPUPROFILE", k == "AIEVAL_TRACE": // kept: profiling the child is the point
		case strings.HasPrefix(k, "AIEVAL_"), strings.HasPrefix(k, "OPENAI_"), strings.HasPrefix(k, "GITHUB_"),
			k == "CI", k == "HOME", k == "XDG_CACHE_HOME", k == launchEnv:
			continue
		}
		env = append(env, kv)
	}
	home := filepath.Join(tmp, "home")
	os.MkdirAll(home, 0o755) // best effort: only a fallback cache would land there
	return append(env,
		"OPENAI_BASE_URL="+baseURL,
		"OPENAI_API_KEY=sk-bench-not-a-real-key",
		"HOME="+home,
		"XDG_CACHE_HOME="+filepath.Join(home, ".cache"),
		"NO_COLOR=1",
	)
}

// idealWall is ceil(n/c) rounds of one latency each.
func idealWall(n, c int, latency time.Duration) time.Duration {
	if c < 1 {
		c = 1
	}
	return time.Duration((n+c-1)/c) * latency
}

// runArgs are the flags of a measured `aieval run`.
func runArgs(dir string, extra ...string) []string {
	args := []string{"run", "--no-progress", "--quiet",
		"--json", filepath.Join(dir, "out.json"), "--junit", filepath.Join(dir, "out.xml"),
		"--html", filepath.Join(dir, "out.html"), "--markdown", filepath.Join(dir, "out.md")}
	args = append(args, extra...)
	return append(args, filepath.Join(dir, suiteFile))
}

// scale runs one N k times against srv (one generated suite, fresh reports
// each run) and checks every run's outcome.
func (h *harness) scale(ctx context.Context, srv *fakeopenai.Server, n, k int) (scaleSet, error) {
	dir := filepath.Join(h.tmp, fmt.Sprintf("n%d", n))
	set := scaleSet{N: n, Conc: h.cfg.Conc, Ideal: idealWall(n, h.cfg.Conc, h.cfg.Latency)}
	if _, err := writeSuiteAs(dir, n, h.cfg.Asserts, h.cfg.Cases); err != nil {
		return set, err
	}
	if h.cfg.Floor {
		set.Floor = &floorResult{N: n, Conc: h.cfg.Conc, Ideal: set.Ideal}
	}
	for run := range k {
		// The bare client makes the same N calls just before each aieval
		// run, so both meet the same host conditions.
		if set.Floor != nil {
			fr, err := h.floorRun(ctx, srv, n)
			if err != nil {
				set.Floor = nil // a partial floor is no baseline
				return set, err
			}
			set.Floor.Runs = append(set.Floor.Runs, fr)
			fmt.Fprintf(h.cfg.Log, "bench: floor N=%d run %d/%d: wall %s, CPU %s\n", n, run+1, k, seconds(fr.Use.wall()), fr.Use.cpu())
		}
		fmt.Fprintf(h.cfg.Log, "bench: N=%d C=%d latency=%s (ideal %s), run %d/%d\n",
			n, h.cfg.Conc, h.cfg.Latency, set.Ideal, run+1, k)
		r, err := h.scaleRun(ctx, srv, dir, n, set.Ideal)
		if err != nil {
			return set, fmt.Errorf("run %d/%d: %w", run+1, k, err)
		}
		set.Runs = append(set.Runs, r)
		fmt.Fprintf(h.cfg.Log, "bench: N=%d run %d/%d: wall %s, CPU %s\n", n, run+1, k, seconds(r.Use.wall()), r.Use.cpu())
	}
	return set, nil
}

// scaleRun runs the suite in dir once and checks the outcome.
func (h *harness) scaleRun(ctx context.Context, srv *fakeopenai.Server, dir string, n int, ideal time.Duration) (scaleResult, error) {
	// A report left by the previous run must not pass for this one's.
	for _, f := range []string{"out.json", "out.xml", "out.html", "out.md"} {
		if err := os.Remove(filepath.Join(dir, f)); err != nil && !os.IsNotExist(err) {
			return scaleResult{}, fmt.Errorf("remove old report: %w", err)
		}
	}
	before := srv.Requests()
	w := watchRequests(srv, before, int64(n))
	start := time.Now()
	u, err := h.measure(ctx, dir, 2*ideal+2*time.Minute,
		runArgs(dir, "--cache-mode", "off", "--concurrency", fmt.Sprint(h.cfg.Conc))...)
	end := time.Now()
	first, last := w.stop()
	if err != nil {
		return scaleResult{}, err
	}
	r := scaleResult{N: n, Conc: h.cfg.Conc, Latency: h.cfg.Latency, Ideal: ideal, Use: u,
		Requests: srv.Requests() - before}
	r.Startup, r.Tail = edges(u, start, end, first, last, h.cfg.Latency)
	if r.Requests != int64(n) {
		return r, fmt.Errorf("server got %d requests, want %d", r.Requests, n)
	}
	if err := checkJSON(filepath.Join(dir, "out.json"), n, false); err != nil {
		return r, err
	}
	if err := checkJUnit(filepath.Join(dir, "out.xml"), n); err != nil {
		return r, err
	}
	for _, f := range []string{"out.html", "out.md"} {
		if st, err := os.Stat(filepath.Join(dir, f)); err != nil || st.Size() == 0 {
			return r, fmt.Errorf("report %s missing or empty (%v)", f, err)
		}
	}
	return r, nil
}

// edges is a child's start-up (launch until the first request reached the
// server) and tail (the last answer until exit), from the child's own start
// and end when the launcher recorded them, else from the launcher's (start,
// end); 0 for what the request watch did not see.
func edges(u usage, start, end, first, last time.Time, latency time.Duration) (startup, tail time.Duration) {
	if u.StartNS > 0 {
		start, end = time.Unix(0, u.StartNS), time.Unix(0, u.EndNS)
	}
	if !first.IsZero() {
		startup = first.Sub(start)
	}
	if !last.IsZero() {
		tail = max(0, end.Sub(last.Add(latency)))
	}
	return startup, tail
}

// measure runs aieval with args in dir through the launcher and returns
// its usage; a non-zero exit is a harness failure.
func (h *harness) measure(ctx context.Context, dir string, timeout time.Duration, args ...string) (usage, error) {
	return h.measureCmd(ctx, dir, timeout, "aieval "+args[0], h.bin, args...)
}

// measureCmd runs bin with args in dir through the launcher and returns its
// usage; name says what ran in errors.
func (h *harness) measureCmd(ctx context.Context, dir string, timeout time.Duration, name, bin string, args ...string) (usage, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	usagePath := filepath.Join(dir, "usage.json")
	os.Remove(usagePath)
	cmd := exec.CommandContext(ctx, h.self, append([]string{bin}, args...)...)
	cmd.Dir = dir
	cmd.Env = append(slices.Clip(h.env), launchEnv+"="+usagePath)
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	cmd.WaitDelay = 10 * time.Second
	var stdout, stderr tailBuffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if ctx.Err() != nil {
		return usage{}, fmt.Errorf("%s: no exit after %s: %s", name, timeout, stderr.String())
	}
	if err != nil {
		return usage{}, fmt.Errorf("launch %s: %v: %s", name, err, stderr.String())
	}
	u, err := readUsage(usagePath)
	if err != nil {
		return u, err
	}
	if u.Exit != 0 {
		return u, fmt.Errorf("%s exited %d: %s", name, u.Exit,
			strings.TrimSpace(stderr.String()+" "+stdout.String()))
	}
	return u, nil
}

// version times `aieval version` runs and returns the median wall time.
func (h *harness) version(ctx context.Context, runs int) (time.Duration, error) {
	walls := make([]time.Duration, 0, runs)
	for range runs {
		cmd := exec.CommandContext(ctx, h.bin, "version")
		cmd.Env, cmd.Dir = h.env, h.tmp
		start := time.Now()
		out, err := cmd.Output()
		walls = append(walls, time.Since(start))
		if err != nil {
			return 0, fmt.Errorf("aieval version: %w", err)
		}
		if !strings.HasPrefix(string(out), "aieval ") {
			return 0, fmt.Errorf("aieval version printed %q, want \"aieval ...\"", out)
		}
	}
	return median(walls), nil
}

// replay records n tests into a cache, then replays them with --offline.
// It has its own server without latency: recording is not what is measured,
// and the cache key must see the same endpoint in both runs.
func (h *harness) replay(ctx context.Context, n int) (*replayResult, error) {
	srv := fakeopenai.New(fakeopenai.WithKeep(0))
	defer srv.Close()
	saved := h.env
	h.env = childEnv(os.Environ(), srv.URL(), h.tmp)
	defer func() { h.env = saved }()

	dir := filepath.Join(h.tmp, fmt.Sprintf("replay%d", n))
	if _, err := writeSuite(dir, n, h.cfg.Asserts); err != nil {
		return nil, err
	}
	cache := filepath.Join(dir, "cache")
	r := &replayResult{N: n}
	fmt.Fprintf(h.cfg.Log, "bench: replay N=%d: recording\n", n)
	var err error
	r.Record, err = h.measure(ctx, dir, 10*time.Minute,
		runArgs(dir, "--cache", cache, "--cache-mode", "read-write", "--concurrency", "64")...)
	if err != nil {
		return nil, fmt.Errorf("record: %w", err)
	}
	if got := srv.Requests(); got != int64(n) {
		return nil, fmt.Errorf("record: server got %d requests, want %d", got, n)
	}
	if err := checkJSON(filepath.Join(dir, "out.json"), n, false); err != nil {
		return nil, fmt.Errorf("record: %w", err)
	}
	// What the kernel alone charges for as many entry files of that size,
	// made with the calls aieval makes for each (a bare loop as a child).
	files, bytes, err := dirStats(cache)
	if err != nil || files < n {
		return nil, fmt.Errorf("record: cache %s holds %d entry files, want %d (%v)", cache, files, n, err)
	}
	// Per file is what it shows: up to 20,000 of them say it.
	r.FileFloorN = min(n, 20000)
	r.FileFloor, err = h.measureCmd(ctx, dir, 10*time.Minute, "file floor", h.self,
		fileFloorArg, filepath.Join(dir, "filefloor"), strconv.Itoa(r.FileFloorN), strconv.FormatInt(bytes/int64(files), 10))
	if err != nil {
		return nil, fmt.Errorf("file floor: %w", err)
	}
	// The same run without a cache: what recording adds is the difference.
	fmt.Fprintf(h.cfg.Log, "bench: replay N=%d: the same run uncached\n", n)
	r.Uncached, err = h.measure(ctx, dir, 10*time.Minute,
		runArgs(dir, "--cache-mode", "off", "--concurrency", "64")...)
	if err != nil {
		return nil, fmt.Errorf("uncached: %w", err)
	}
	fmt.Fprintf(h.cfg.Log, "bench: replay N=%d: replaying offline\n", n)
	before := srv.Requests()
	r.Replay, err = h.measure(ctx, dir, 30*time.Minute,
		runArgs(dir, "--offline", "--cache", cache, "--concurrency", fmt.Sprint(h.cfg.Conc))...)
	r.NewRequests = srv.Requests() - before
	if err != nil {
		return r, err
	}
	if r.NewRequests != 0 {
		return r, fmt.Errorf("server got %d requests during an offline replay, want 0", r.NewRequests)
	}
	if err := checkJSON(filepath.Join(dir, "out.json"), n, true); err != nil {
		return r, err
	}
	return r, checkJUnit(filepath.Join(dir, "out.xml"), n)
}

// requestWatch notes when the first request and the n-th request reached
// the server, by polling its counter (the server has no hook, and a 1 ms
// poll is finer than anything measured here).
type requestWatch struct {
	done        chan struct{}
	wg          sync.WaitGroup
	first, last time.Time
}

func watchRequests(srv *fakeopenai.Server, base, n int64) *requestWatch {
	w := &requestWatch{done: make(chan struct{})}
	w.wg.Add(1)
	go func() {
		defer w.wg.Done()
		t := time.NewTicker(time.Millisecond)
		defer t.Stop()
		for {
			got := srv.Requests() - base
			now := time.Now()
			if got > 0 && w.first.IsZero() {
				w.first = now
			}
			if got >= n {
				w.last = now
				return
			}
			select {
			case <-w.done:
				return
			case <-t.C:
			}
		}
	}()
	return w
}

// stop ends the watch and returns the first and last arrival times (zero
// when not seen).
func (w *requestWatch) stop() (first, last time.Time) {
	close(w.done)
	w.wg.Wait()
	return w.first, w.last
}

// tailBuffer keeps the last 4 KiB written, enough for an error message
// without holding a 100k-test console dump.
type tailBuffer struct {
	mu  sync.Mutex
	buf []byte
}

const tailMax = 4 << 10

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, p...)
	if len(t.buf) > tailMax {
		t.buf = append(t.buf[:0], t.buf[len(t.buf)-tailMax:]...)
	}
	return len(p), nil
}

func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return strings.TrimSpace(string(t.buf))
}
