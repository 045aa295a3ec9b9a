package cache

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aieval/aieval/runtime/llm"
)

// A committed shard directory that is a symlink must not carry writes out
// of the cache: the entry is not written, one warning per shard, and the
// answer still reaches the caller.
func TestSymlinkedShardRefused(t *testing.T) {
	dir, outside := t.TempDir(), t.TempDir()
	var warns []string
	c := open(t, dir, ReadWrite, Options{Warn: func(s string) { warns = append(warns, s) }})
	m := &fake{}
	// Two requests landing in one shard, found by trying.
	var reqs []*llm.Request
	shard := ""
	for i := 0; len(reqs) < 2; i++ {
		r := request(strings.Repeat("q", i))
		if k := Key(r); shard == "" || k[:2] == shard {
			shard = k[:2]
			reqs = append(reqs, r)
		}
	}
	if err := os.Symlink(outside, filepath.Join(dir, shard)); err != nil {
		t.Fatal(err)
	}
	for _, r := range reqs {
		resp, err := c.Wrap(m).Complete(context.Background(), r, nil)
		if err != nil || resp.Text == "" {
			t.Fatalf("answer lost: %v %+v", err, resp)
		}
	}
	if got, _ := os.ReadDir(outside); len(got) != 0 {
		t.Errorf("wrote %d files through the symlink", len(got))
	}
	if len(warns) != 1 || !strings.Contains(warns[0], "is a symbolic link") || !strings.Contains(warns[0], shard) {
		t.Errorf("warnings %q, want one naming the shard", warns)
	}
	if c.Stats().Writes != 0 {
		t.Errorf("writes counted: %+v", c.Stats())
	}
}

// A shard that is a regular file is refused the same way.
func TestShardNotADirectory(t *testing.T) {
	dir := t.TempDir()
	req := request("x")
	k := Key(req)
	os.WriteFile(filepath.Join(dir, k[:2]), []byte("x"), 0o644)
	err := WriteEntry(dir, req, &llm.Response{Text: "t"}, "")
	var se *shardError
	if !errors.As(err, &se) {
		t.Errorf("err = %v", err)
	}
}

// An entry that is a link to /dev/zero is a miss with one warning, fast,
// even offline and read-only; a read-write run replaces the link.
func TestEntryLinkedToDevZero(t *testing.T) {
	dir := t.TempDir()
	req := request("z")
	k := Key(req)
	os.MkdirAll(filepath.Join(dir, k[:2]), 0o755)
	p := filepath.Join(dir, k[:2], k+".json")
	if err := os.Symlink("/dev/zero", p); err != nil {
		t.Fatal(err)
	}
	var warns []string
	start := time.Now()
	_, err := open(t, dir, ReadOnly, Options{Offline: true, Warn: func(s string) { warns = append(warns, s) }}).Wrap(&fake{}).Complete(context.Background(), req, nil)
	var miss *MissError
	if !errors.As(err, &miss) || time.Since(start) > time.Second {
		t.Fatalf("err = %v after %v", err, time.Since(start))
	}
	if len(warns) != 1 || !strings.Contains(warns[0], "not a regular file") || strings.Contains(warns[0], "\n") {
		t.Errorf("warnings %q", warns)
	}
	if _, err := open(t, dir, ReadWrite, Options{}).Wrap(&fake{}).Complete(context.Background(), req, nil); err != nil {
		t.Fatal(err)
	}
	if st, err := os.Lstat(p); err != nil || !st.Mode().IsRegular() {
		t.Errorf("link not replaced by an entry: %v %v", st, err)
	}
}

// Every write failing (a read-only or vanished cache dir) is one warning
// per run, not one per test.
func TestUnwritableCacheWarnsOnce(t *testing.T) {
	root := t.TempDir()
	dir := filepath.Join(root, "cache")
	var warns []string
	c := open(t, dir, Refresh, Options{Warn: func(s string) { warns = append(warns, s) }}) // writes only
	// Replace the directory by a file: every write now fails (a chmod
	// would not stop root, which runs these tests in containers).
	os.RemoveAll(dir)
	os.WriteFile(dir, []byte("not a dir"), 0o644)
	for i := range 5 {
		if _, err := c.Wrap(&fake{}).Complete(context.Background(), request(strings.Repeat("w", i)), nil); err != nil {
			t.Fatal(err)
		}
	}
	if len(warns) != 1 || !strings.Contains(warns[0], "further write errors this run are not shown") {
		t.Errorf("warnings %q, want one", warns)
	}
}

func TestReadOnlyDirWarnsOnce(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("root ignores directory permissions")
	}
	dir := t.TempDir()
	var warns []string
	c := open(t, dir, ReadWrite, Options{Warn: func(s string) { warns = append(warns, s) }})
	os.Chmod(dir, 0o555)
	defer os.Chmod(dir, 0o755)
	for i := range 5 {
		c.Wrap(&fake{}).Complete(context.Background(), request(strings.Repeat("r", i)), nil)
	}
	if len(warns) != 1 {
		t.Errorf("warnings %q, want one", warns)
	}
}
