package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/aieval/aieval/eval"
	"github.com/aieval/aieval/runtime/cache"
)

func cmdCache(ctx context.Context, args []string, st *state) error {
	if len(args) == 0 || args[0] != "prune" {
		return inputErr(errors.New("usage: aieval cache prune [--cache DIR] [--dry-run] [SUITE...]"))
	}
	fl := newFlags("cache prune", st)
	dir := fl.String("cache", st.getenv("AIEVAL_CACHE_DIR"), "cache `DIR` (default: the nearest .aieval/cache above the first suite)")
	dry := fl.Bool("dry-run", false, "only report how many entries are in use; remove nothing")
	paths, err := parseFlags(fl, args[1:])
	if err != nil {
		return err
	}
	if len(paths) == 0 {
		if paths, err = eval.Discover("."); err != nil {
			return inputErr(err)
		}
		if len(paths) == 0 {
			return inputErr(errors.New("no *.eval.yaml found: prune needs the suites that use the cache"))
		}
	}
	suites, err := loadSuites(paths)
	if err != nil {
		return err
	}
	if *dir == "" {
		*dir = findProjectPath(filepath.Dir(suites[0].Path), "cache")
	}
	if *dir == "" {
		return inputErr(errors.New("no cache directory: pass --cache DIR"))
	}
	// Replaying every suite offline touches exactly the entries they use:
	// prompts, their chained dependencies, graders and every repeat.
	spool, err := os.MkdirTemp("", "aieval-prune-*")
	if err != nil {
		return fmt.Errorf("cache prune: %w", err)
	}
	defer os.RemoveAll(spool)
	var used *cache.Cache
	_, err = eval.Run(ctx, suites, eval.Options{
		SpoolDir:    spool,
		Concurrency: 8,
		CacheDir:    *dir,
		CacheMode:   "read-only",
		Offline:     true,
		Getenv:      st.getenv,
		OnCacheDone: func(c *cache.Cache) { used = c },
	})
	if err != nil {
		return fmt.Errorf("cache prune: %w", err)
	}
	if used == nil {
		return fmt.Errorf("cache prune: the cache %s was not opened", *dir)
	}
	if ctx.Err() != nil {
		return fmt.Errorf("cache prune: interrupted; nothing removed")
	}
	keep := used.Used()
	if *dry {
		fmt.Fprintf(st.stdout, "%d entries in use in %s (dry run: nothing removed)\n", len(keep), *dir)
		return nil
	}
	removed, err := used.Prune(keep)
	if err != nil {
		return fmt.Errorf("cache prune: %w", err)
	}
	fmt.Fprintf(st.stdout, "removed %d unused entries, kept %d in %s\n", removed, len(keep), *dir)
	return nil
}
