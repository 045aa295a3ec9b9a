package main

// The composite action's "Install aieval" step against a release layout
// served on loopback, as GitHub serves releases/download/TAG/FILE: the
// binary of the action's own ref, its checksum, the tool cache, and the
// time a runner without Go takes to reach its tests.

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aieval/aieval/eval/results"
	"gopkg.in/yaml.v3"
)

const relTag = "v9.8.7" // a version no real release has, so a wrong binary shows

// relServer serves /OWNER/REPO/releases/download/TAG/FILE from files and
// counts the requests per file name.
type relServer struct {
	*httptest.Server
	mu    sync.Mutex
	files map[string][]byte // name -> content, for relTag
	hits  map[string]int
}

func newRelServer(t *testing.T, files map[string][]byte) *relServer {
	s := &relServer{files: files, hits: map[string]int{}}
	prefix := "/aieval/aieval/releases/download/" + relTag + "/"
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet {
			http.Error(w, "method", http.StatusMethodNotAllowed)
			return
		}
		if r.Header.Get("Authorization") != "" {
			t.Errorf("a release download carried an Authorization header")
		}
		name, ok := strings.CutPrefix(r.URL.Path, prefix)
		s.mu.Lock()
		defer s.mu.Unlock()
		data, found := s.files[name]
		if !ok || !found {
			http.NotFound(w, r)
			return
		}
		s.hits[name]++
		w.Header().Set("Content-Type", "application/octet-stream")
		w.Write(data)
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *relServer) requests() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, c := range s.hits {
		n += c
	}
	return n
}

// relBinary builds aieval with the release's version embedded, as
// .goreleaser.yaml's ldflags do.
func relBinary(t *testing.T) []byte {
	t.Helper()
	out := filepath.Join(t.TempDir(), "aieval")
	cmd := exec.Command("go", "build", "-trimpath", "-ldflags=-s -w -X main.version="+relTag, "-o", out, ".")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, b)
	}
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// relTarGz and relZip lay the binary out as GoReleaser's archives do: at
// the root, next to README.md.
func relTarGz(t *testing.T, bin []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	for _, f := range []struct {
		name string
		mode int64
		data []byte
	}{{"README.md", 0o644, []byte("# aieval\n")}, {"aieval", 0o755, bin}} {
		if err := tw.WriteHeader(&tar.Header{Name: f.name, Mode: f.mode, Size: int64(len(f.data)), Typeflag: tar.TypeReg}); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write(f.data); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := gz.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func relZip(t *testing.T, bin []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	h := &zip.FileHeader{Name: "aieval.exe", Method: zip.Deflate}
	h.SetMode(0o755)
	w, err := zw.CreateHeader(h)
	if err != nil {
		t.Fatal(err)
	}
	w.Write(bin)
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func sha256Hex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// relGoArch is the release arch of this machine and the RUNNER_ARCH GitHub
// sets for it.
func relGoArch(t *testing.T) (goarch, runnerArch string) {
	switch runtime.GOARCH {
	case "amd64":
		return "amd64", "X64"
	case "arm64":
		return "arm64", "ARM64"
	}
	t.Skipf("no release binary for %s", runtime.GOARCH)
	return "", ""
}

// pathWithoutGo is PATH less every directory holding a go command: a
// runner image without Go.
func pathWithoutGo(t *testing.T) string {
	t.Helper()
	var keep []string
	for _, d := range filepath.SplitList(os.Getenv("PATH")) {
		if fi, err := os.Stat(filepath.Join(d, "go")); err == nil && !fi.IsDir() {
			continue
		}
		keep = append(keep, d)
	}
	p := strings.Join(keep, string(os.PathListSeparator))
	cmd := exec.Command("bash", "--noprofile", "--norc", "-c", "command -v go")
	cmd.Env = []string{"PATH=" + p}
	if err := cmd.Run(); err == nil {
		t.Fatal("go is still on the PATH without go")
	}
	return p
}

type relStep struct {
	dir, runnerTemp, toolCache, actionPath string
	env                                    []string
}

// run runs the action's install script as GitHub runs a bash step.
func (s relStep) run(t *testing.T, script string, extra ...string) (string, map[string]string, int, time.Duration) {
	t.Helper()
	output := filepath.Join(s.runnerTemp, "github-output")
	os.WriteFile(output, nil, 0o644)
	cmd := exec.Command("bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", script)
	cmd.Dir = s.dir
	cmd.Env = append(append(append(gateCleanEnv(), s.env...),
		"RUNNER_TEMP="+s.runnerTemp, "RUNNER_TOOL_CACHE="+s.toolCache, "GITHUB_ACTION_PATH="+s.actionPath,
		"GITHUB_OUTPUT="+output, "GITHUB_SERVER_URL=http://127.0.0.1:9", // never reached: RELEASE_URL wins
		"NO_PROXY=127.0.0.1,localhost", "no_proxy=127.0.0.1,localhost"), extra...)
	start := time.Now()
	out, err := cmd.CombinedOutput()
	took := time.Since(start)
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	outputs := map[string]string{}
	data, _ := os.ReadFile(output)
	for _, l := range strings.Split(string(data), "\n") {
		if k, v, ok := strings.Cut(l, "="); ok {
			outputs[k] = v
		}
	}
	return string(out), outputs, code, took
}

func TestActionInstallRelease(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	for _, tool := range []string{"bash", "curl", "tar", "sha256sum"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s not installed", tool)
		}
	}
	goarch, runnerArch := relGoArch(t)
	script := gateActionScript(t, "Install aieval")
	bin := relBinary(t)
	tgz := relTarGz(t, bin)
	tgzName := fmt.Sprintf("aieval_%s_linux_%s.tar.gz", strings.TrimPrefix(relTag, "v"), goarch)
	zipData := relZip(t, bin)
	zipName := fmt.Sprintf("aieval_%s_windows_%s.zip", strings.TrimPrefix(relTag, "v"), goarch)
	checksums := func(tgzSum string) []byte {
		// The other platforms' lines are there as in a real checksums.txt.
		return fmt.Appendf(nil, "%s  aieval_9.8.7_darwin_arm64.tar.gz\n%s  %s\n%s  %s\n",
			strings.Repeat("0", 64), tgzSum, tgzName, sha256Hex(zipData), zipName)
	}
	noGo := pathWithoutGo(t)
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	runnerOS := "Linux"
	if runtime.GOOS != "linux" {
		t.Skipf("the test serves a linux binary; this is %s", runtime.GOOS)
	}

	newStep := func(t *testing.T, srv *relServer, ref, toolCache string) relStep {
		if toolCache == "" {
			toolCache = t.TempDir()
		}
		action := t.TempDir() // the action's checkout: only VERSION is read from it
		os.WriteFile(filepath.Join(action, "VERSION"), []byte(relTag+"\n"), 0o644)
		return relStep{dir: t.TempDir(), runnerTemp: t.TempDir(), toolCache: toolCache, actionPath: action, env: []string{
			"PATH=" + noGo, "RUNNER_OS=" + runnerOS, "RUNNER_ARCH=" + runnerArch,
			"ACTION_REF=" + ref, "ACTION_REPOSITORY=aieval/aieval",
			"RELEASE_URL=" + srv.URL + "/aieval/aieval/releases/download",
		}}
	}
	installed := func(t *testing.T, s relStep, exe string) {
		t.Helper()
		out, err := exec.Command(filepath.Join(s.runnerTemp, exe), "version").Output()
		if err != nil || strings.TrimSpace(string(out)) != "aieval "+relTag {
			t.Errorf("RUNNER_TEMP/%s version: %q, %v; want the release's aieval %s", exe, out, err, relTag)
		}
	}

	t.Run("release tag downloads, verifies, caches", func(t *testing.T) {
		srv := newRelServer(t, map[string][]byte{"checksums.txt": checksums(sha256Hex(tgz)), tgzName: tgz})
		s := newStep(t, srv, relTag, "")
		out, outputs, code, took := s.run(t, script)
		if code != 0 {
			t.Fatalf("step exit %d\n%s", code, out)
		}
		t.Logf("install from the release server: %s", took.Round(time.Millisecond))
		installed(t, s, "aieval")
		if outputs["version"] != relTag {
			t.Errorf("output version=%q, want %s", outputs["version"], relTag)
		}
		if !strings.Contains(out, "sha256 verified") {
			t.Errorf("no verification line:\n%s", out)
		}
		cached := filepath.Join(s.toolCache, "aieval", "9.8.7", "x64")
		if runnerArch == "ARM64" {
			cached = filepath.Join(s.toolCache, "aieval", "9.8.7", "arm64")
		}
		if _, err := os.Stat(filepath.Join(cached, "aieval")); err != nil {
			t.Errorf("not in the tool cache: %v", err)
		}
		if _, err := os.Stat(cached + ".complete"); err != nil {
			t.Errorf("no tool cache marker: %v", err)
		}
		if n := srv.requests(); n != 2 {
			t.Errorf("%d requests, want 2 (checksums.txt and the archive)", n)
		}

		// A second job on the same runner: the tool cache, no download.
		again := s
		again.runnerTemp = t.TempDir()
		out, _, code, took = again.run(t, script)
		if code != 0 {
			t.Fatalf("cached step exit %d\n%s", code, out)
		}
		t.Logf("install from the tool cache: %s", took.Round(time.Millisecond))
		installed(t, again, "aieval")
		if n := srv.requests(); n != 2 {
			t.Errorf("the cached run downloaded: %d requests in all, want 2", n)
		}
		if !strings.Contains(out, "from the tool cache") {
			t.Errorf("no tool cache line:\n%s", out)
		}
	})

	t.Run("major tag resolves through VERSION", func(t *testing.T) {
		srv := newRelServer(t, map[string][]byte{"checksums.txt": checksums(sha256Hex(tgz)), tgzName: tgz})
		s := newStep(t, srv, "v9", "")
		out, outputs, code, _ := s.run(t, script)
		if code != 0 || outputs["version"] != relTag {
			t.Fatalf("step exit %d, version %q\n%s", code, outputs["version"], out)
		}
		installed(t, s, "aieval")
	})

	t.Run("windows zip", func(t *testing.T) {
		if _, err := exec.LookPath("unzip"); err != nil {
			t.Skip("unzip not installed")
		}
		// The Linux binary named aieval.exe stands in for the Windows one:
		// what is checked is the zip path and the .exe name.
		srv := newRelServer(t, map[string][]byte{"checksums.txt": checksums(sha256Hex(tgz)), zipName: zipData})
		s := newStep(t, srv, relTag, "")
		out, _, code, _ := s.run(t, script, "RUNNER_OS=Windows")
		if code != 0 {
			t.Fatalf("step exit %d\n%s", code, out)
		}
		installed(t, s, "aieval.exe")
	})

	t.Run("wrong checksum fails and installs nothing", func(t *testing.T) {
		srv := newRelServer(t, map[string][]byte{"checksums.txt": checksums(sha256Hex([]byte("another archive"))), tgzName: tgz})
		s := newStep(t, srv, relTag, "")
		out, outputs, code, _ := s.run(t, script)
		if code == 0 {
			t.Fatalf("step passed with a wrong checksum\n%s", out)
		}
		if !strings.Contains(out, "::error title=aieval install::checksum mismatch for "+tgzName) {
			t.Errorf("no checksum error:\n%s", out)
		}
		if _, err := os.Stat(filepath.Join(s.runnerTemp, "aieval")); err == nil {
			t.Error("a binary was installed into RUNNER_TEMP: the next step would run it")
		}
		if m, _ := filepath.Glob(filepath.Join(s.toolCache, "aieval", "*", "*")); len(m) != 0 {
			t.Errorf("the tool cache holds %v", m)
		}
		if len(outputs) != 0 {
			t.Errorf("outputs set: %v", outputs)
		}
		// Nor does a later job trust it: it downloads and fails again.
		out, _, code, _ = s.run(t, script)
		if code == 0 || srv.requests() != 4 {
			t.Errorf("second try: exit %d, %d requests (want a failure and 4)\n%s", code, srv.requests(), out)
		}
	})

	t.Run("platform missing from checksums fails", func(t *testing.T) {
		srv := newRelServer(t, map[string][]byte{"checksums.txt": []byte(strings.Repeat("0", 64) + "  aieval_9.8.7_darwin_arm64.tar.gz\n"), tgzName: tgz})
		s := newStep(t, srv, relTag, "")
		out, _, code, _ := s.run(t, script)
		if code == 0 || !strings.Contains(out, "lists no "+tgzName) {
			t.Errorf("exit %d\n%s", code, out)
		}
	})

	t.Run("no release tag and no Go fails clearly", func(t *testing.T) {
		for _, ref := range []string{"main", "0123456789abcdef0123456789abcdef01234567", ""} {
			srv := newRelServer(t, map[string][]byte{})
			s := newStep(t, srv, ref, "")
			out, _, code, _ := s.run(t, script)
			if code == 0 || !strings.Contains(out, "is not a release tag, and building from source needs Go") {
				t.Errorf("ref %q: exit %d\n%s", ref, code, out)
			}
			if srv.requests() != 0 {
				t.Errorf("ref %q downloaded", ref)
			}
		}
		// A tag without a release (its workflow still running) is no
		// release either.
		srv := newRelServer(t, map[string][]byte{})
		s := newStep(t, srv, "v9.9.9", "")
		out, _, code, _ := s.run(t, script)
		if code == 0 || !strings.Contains(out, "no release v9.9.9 at ") {
			t.Errorf("missing release: exit %d\n%s", code, out)
		}
	})

	// Done-when of issue 15: on a runner without Go, the action's own time
	// to its first test, here the install step plus the whole offline run of
	// the README's first suite, each test replayed from the committed cache.
	t.Run("time to first test without Go", func(t *testing.T) {
		srv := newRelServer(t, map[string][]byte{"checksums.txt": checksums(sha256Hex(tgz)), tgzName: tgz})
		s := newStep(t, srv, relTag, "")
		s.dir = root
		start := time.Now()
		out, _, code, installTook := s.run(t, script)
		if code != 0 {
			t.Fatalf("install exit %d\n%s", code, out)
		}
		outDir := t.TempDir()
		out, _, code, runTook := s.run(t, gateActionScript(t, "Run suites"),
			"GITHUB_ACTIONS=true", "GITHUB_STEP_SUMMARY="+filepath.Join(outDir, "summary.md"),
			"SUITES=examples/travel/travel.eval.yaml", "CACHE_DIR=", "CACHE_MODE=read-only", "OFFLINE=true",
			"BASELINE_REF=", "FAIL_ON=failure", "EXTRA_ARGS=--no-history", "OUT="+outDir,
			"XDG_CACHE_HOME="+filepath.Join(outDir, "xdg"))
		total := time.Since(start)
		if code != 0 {
			t.Fatalf("run exit %d\n%s", code, out)
		}
		res, err := results.ReadFile(filepath.Join(outDir, "results.json"))
		if err != nil {
			t.Fatal(err)
		}
		if res.Summary.Total == 0 || res.Summary.Passed != res.Summary.Total {
			t.Fatalf("the run's summary: %+v", res.Summary)
		}
		t.Logf("runner without Go: install %s, run %s, install to last of %d tests %s (budget 15s)",
			installTook.Round(time.Millisecond), runTook.Round(time.Millisecond), res.Summary.Total, total.Round(time.Millisecond))
		if total > 15*time.Second {
			t.Errorf("install and run took %s, over the 15 s budget", total)
		}
	})
}

// TestGoreleaserConfig: goreleaser check runs outside the tests (it takes
// minutes to install); this holds .goreleaser.yaml to what the action
// downloads: the six targets, static, the version in main.version, the
// archive names and checksums.txt.
func TestGoreleaserConfig(t *testing.T) {
	data, err := os.ReadFile("../../.goreleaser.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var cfg struct {
		Version int
		Builds  []struct {
			Main    string
			Binary  string
			Env     []string
			Goos    []string
			Goarch  []string
			Ldflags []string
		}
		Archives []struct {
			NameTemplate    string `yaml:"name_template"`
			Formats         []string
			FormatOverrides []struct {
				Goos    string
				Formats []string
			} `yaml:"format_overrides"`
		}
		Checksum struct {
			NameTemplate string `yaml:"name_template"`
			Algorithm    string
		}
	}
	if err := yaml.Unmarshal(data, &cfg); err != nil {
		t.Fatalf(".goreleaser.yaml: %v", err)
	}
	if cfg.Version != 2 || len(cfg.Builds) != 1 || len(cfg.Archives) != 1 {
		t.Fatalf("want version 2, one build, one archive: %+v", cfg)
	}
	b, a := cfg.Builds[0], cfg.Archives[0]
	if b.Main != "./cmd/aieval" || b.Binary != "aieval" || !slices.Contains(b.Env, "CGO_ENABLED=0") {
		t.Errorf("build: %+v", b)
	}
	slices.Sort(b.Goos)
	slices.Sort(b.Goarch)
	if fmt.Sprint(b.Goos) != "[darwin linux windows]" || fmt.Sprint(b.Goarch) != "[amd64 arm64]" {
		t.Errorf("targets %v x %v", b.Goos, b.Goarch)
	}
	if len(b.Ldflags) != 1 || !strings.Contains(b.Ldflags[0], "-X main.version={{ .Tag }}") {
		t.Errorf("ldflags %v do not embed the tag in main.version", b.Ldflags)
	}
	// The names the install step builds: aieval_${version}_${os}_${arch}.
	if a.NameTemplate != "{{ .ProjectName }}_{{ .Version }}_{{ .Os }}_{{ .Arch }}" || fmt.Sprint(a.Formats) != "[tar.gz]" ||
		len(a.FormatOverrides) != 1 || a.FormatOverrides[0].Goos != "windows" || fmt.Sprint(a.FormatOverrides[0].Formats) != "[zip]" {
		t.Errorf("archives: %+v", a)
	}
	if cfg.Checksum.NameTemplate != "checksums.txt" || cfg.Checksum.Algorithm != "sha256" {
		t.Errorf("checksum: %+v", cfg.Checksum)
	}
	script := gateActionScript(t, "Install aieval")
	for _, want := range []string{"asset=aieval_${version}_${os}_${arch}.tar.gz", "asset=aieval_${version}_${os}_${arch}.zip", `"$base/checksums.txt"`} {
		if !strings.Contains(script, want) {
			t.Errorf("the install step has no %s", want)
		}
	}
}
