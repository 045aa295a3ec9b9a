package main

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aieval/aieval/internal/fakeopenai"
)

// TestFIFOInputs: a FIFO (git cannot hold one, so it is made here) as the
// suite, the aiconfig or a cases file is exit 2 with one line, at once,
// under validate and run; before, reading it waited for a writer forever.
func TestFIFOInputs(t *testing.T) {
	dir := t.TempDir()
	shop, err := os.ReadFile(filepath.Join(hostileDir, "support", "shop.aiconfig.json"))
	if err != nil {
		t.Fatal(err)
	}
	write(t, dir, "shop.aiconfig.json", string(shop))
	fifo := func(name string) string {
		p := filepath.Join(dir, name)
		if err := syscall.Mkfifo(p, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	cases := []hostileCase{
		{file: fifo("fifo.eval.yaml"), want: "read suite: it is a FIFO (named pipe), not a regular file"},
		{file: fifo("fifo.aiconfig.json"), want: "it is a FIFO (named pipe), not a regular file"},
		{file: write(t, dir, "config-fifo.eval.yaml", "config: fifo.aiconfig.json\ntests:\n  - name: t\n    prompt: facts\n"),
			names: filepath.Join(dir, "fifo.aiconfig.json"), want: "it is a FIFO"},
		{file: write(t, dir, "cases-fifo.eval.yaml", "config: shop.aiconfig.json\ntests: file://cases.jsonl\n"),
			names: filepath.Join(dir, "cases.jsonl"), want: "read cases: it is a FIFO"},
		{file: write(t, dir, "cases-yaml-fifo.eval.yaml", "config: shop.aiconfig.json\ntests: file://cases.yaml\n"),
			names: filepath.Join(dir, "cases.yaml"), want: "read cases: it is a FIFO"},
	}
	fifo("cases.jsonl")
	fifo("cases.yaml")
	c := newCLI(t)
	for _, hc := range cases {
		if hc.names == "" {
			hc.names = hc.file
		}
		t.Run(filepath.Base(hc.file), func(t *testing.T) {
			start := time.Now()
			checkHostile(t, runDeadline(t, c, "validate", hc.file), hc, 1)
			if strings.HasSuffix(hc.file, ".eval.yaml") {
				checkHostile(t, runDeadline(t, c, "run", "--cache-mode", "off", "--no-history", "--no-progress", hc.file), hc, 1)
			}
			if d := time.Since(start); d > 2*time.Second {
				t.Errorf("took %v", d)
			}
		})
	}
}

// TestCacheEntryLinkedToDevZero: a committed cache entry that is a link to
// /dev/zero crashed even --offline --cache-mode read-only with out of
// memory; now the test errors (a miss, exit 3) with one warning, quickly.
func TestCacheEntryLinkedToDevZero(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "shop.aiconfig.json", chainConfig)
	suite := write(t, dir, "one.eval.yaml", "config: shop.aiconfig.json\ntests:\n  - name: facts mention the item\n    prompt: facts\n    assert:\n      - type: icontains\n        value: tea\n")
	srv := fakeopenai.New()
	defer srv.Close()
	c := newCLI(t, "OPENAI_BASE_URL", srv.URL(), "OPENAI_API_KEY", "sk-cache-test-key")
	cacheDir := filepath.Join(dir, "cache")
	if o := c.run("run", "--cache", cacheDir, "--no-history", "--no-progress", suite); o.code != 0 {
		t.Fatalf("recording run: %+v", o)
	}
	entries := cacheFiles(t, cacheDir)
	if len(entries) != 1 {
		t.Fatalf("entries %v", entries)
	}
	os.Remove(entries[0])
	if err := os.Symlink("/dev/zero", entries[0]); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	o := runDeadline(t, c, "run", "--offline", "--cache-mode", "read-only", "--cache", cacheDir, "--no-history", "--no-progress", suite)
	if o.code != 3 || time.Since(start) > 2*time.Second {
		t.Fatalf("exit %d after %v, want 3 at once\n%s%s", o.code, time.Since(start), o.stdout, o.stderr)
	}
	if n := strings.Count(o.stderr, "not a regular file"); n != 1 {
		t.Errorf("%d warnings about the entry, want 1:\n%s", n, o.stderr)
	}
}

// TestCacheSymlinkedShardThroughCLI: a committed shard directory linking
// out of the cache gets no file; the run still passes, with one warning.
func TestCacheSymlinkedShardThroughCLI(t *testing.T) {
	dir, outside := t.TempDir(), t.TempDir()
	write(t, dir, "shop.aiconfig.json", chainConfig)
	suite := write(t, dir, "one.eval.yaml", "config: shop.aiconfig.json\ntests:\n  - name: t\n    prompt: facts\n")
	srv := fakeopenai.New()
	defer srv.Close()
	cacheDir := filepath.Join(dir, "cache")
	os.MkdirAll(cacheDir, 0o755)
	// Every shard a link: whatever the key, its shard is one.
	for i := 0; i < 256; i++ {
		os.Symlink(outside, filepath.Join(cacheDir, hex2(i)))
	}
	c := newCLI(t, "OPENAI_BASE_URL", srv.URL(), "OPENAI_API_KEY", "sk-cache-test-key")
	o := runDeadline(t, c, "run", "--cache", cacheDir, "--no-history", "--no-progress", suite)
	if o.code != 0 {
		t.Fatalf("exit %d\n%s%s", o.code, o.stdout, o.stderr)
	}
	if got, _ := os.ReadDir(outside); len(got) != 0 {
		t.Errorf("%d files written through the link", len(got))
	}
	if n := strings.Count(o.stderr, "is a symbolic link"); n != 1 {
		t.Errorf("%d warnings, want 1:\n%s", n, o.stderr)
	}
}

func hex2(i int) string { const h = "0123456789abcdef"; return string([]byte{h[i>>4], h[i&15]}) }
