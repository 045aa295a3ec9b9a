package main

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

// TestMain points the user cache at a temp dir, so in-process runs that use
// the default cache never touch the developer's real one. XDG_CACHE_HOME also
// moves Go's build cache, so GOCACHE is pinned to the real one first: child
// `go build`s then reuse compiled packages instead of rebuilding the world.
func TestMain(m *testing.M) {
	if os.Getenv("GOCACHE") == "" {
		if out, err := exec.Command("go", "env", "GOCACHE").Output(); err == nil {
			os.Setenv("GOCACHE", strings.TrimSpace(string(out)))
		}
	}
	dir, err := os.MkdirTemp("", "aieval-test-cache-*")
	if err != nil {
		panic(err)
	}
	os.Setenv("XDG_CACHE_HOME", dir)
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}
