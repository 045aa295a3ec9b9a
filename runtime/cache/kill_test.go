package cache

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/aieval/aieval/runtime/llm"
)

// TestKillDuringWrites kills a process mid-write with SIGKILL and checks
// that every entry left behind is whole: writes go through temp files.
func TestKillDuringWrites(t *testing.T) {
	if dir := os.Getenv("AIEVAL_CACHE_KILL_DIR"); dir != "" {
		big := strings.Repeat("torn files would show here. ", 10000) // ~280 KB per entry
		for i := 0; ; i++ {
			req := request(strings.Repeat("q", i%50))
			req.Sample = i
			_ = WriteEntry(dir, req, &llm.Response{Text: big}, "")
		}
	}
	if runtime.GOOS == "windows" {
		t.Skip("no SIGKILL")
	}
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^TestKillDuringWrites$")
	cmd.Env = append(os.Environ(), "AIEVAL_CACHE_KILL_DIR="+dir)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for entries(t, dir) < 3 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(37 * time.Millisecond) // land somewhere inside a write
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()

	files, _ := filepath.Glob(filepath.Join(dir, "??", "*.json"))
	if len(files) < 3 {
		t.Fatalf("child wrote %d entries", len(files))
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		k := strings.TrimSuffix(filepath.Base(f), ".json")
		if _, err := decodeEntry(data, k); err != nil {
			t.Errorf("torn entry %s: %v", f, err)
		}
	}
}
