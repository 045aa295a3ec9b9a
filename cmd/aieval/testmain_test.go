package main

import (
	"os"
	"testing"
)

// TestMain points the user cache at a temp dir, so in-process runs that use
// the default cache never touch the developer's real one.
func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "aieval-test-cache-*")
	if err != nil {
		panic(err)
	}
	os.Setenv("XDG_CACHE_HOME", dir)
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}
