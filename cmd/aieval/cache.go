package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/aieval/aieval/eval"
	"github.com/aieval/aieval/internal/text"
	"github.com/aieval/aieval/runtime/cache"
)

func cmdCache(ctx context.Context, args []string, st *state) error {
	if len(args) == 0 || args[0] != "prune" {
		return inputErr(errors.New("usage: aieval cache prune [--cache DIR] [--dry-run] [--keep-ref REF] [SUITE...]"))
	}
	fl := newFlags("cache prune", st)
	dir := fl.String("cache", st.getenv("AIEVAL_CACHE_DIR"), "cache `DIR` (default: the nearest .aieval/cache above the first suite)")
	dry := fl.Bool("dry-run", false, "only report how many entries are in use; remove nothing")
	keepRef := fl.String("keep-ref", "", "also keep the entries the suites use as they are at git `REF` (default: the default branch, e.g. origin/main; \"none\" keeps only what the suites here use)")
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
	// prompts, their chained dependencies, graders, embeddings and every
	// repeat.
	keep, err := usedEntries(ctx, st, suites, *dir)
	if err != nil {
		return err
	}
	here := len(keep)
	// A pull request branch must not drop what its base branch replays
	// from: --baseline-ref would then find the base unavailable.
	ref := *keepRef
	if ref == "" {
		ref = defaultBranch(ctx)
	}
	kept := fmt.Sprintf("%d used by the suites here", here)
	if ref != "" && ref != "none" {
		var refKeys map[string]bool
		err := atRef(ctx, ref, func(root, wt string) error {
			base, _ := suitesAtRef(root, wt, suites)
			if len(base) == 0 {
				return nil
			}
			var err error
			refKeys, err = usedEntries(ctx, st, base, *dir)
			return err
		})
		if err != nil {
			if *keepRef != "" {
				return inputErr(fmt.Errorf("cache prune --keep-ref %s: %w", ref, err))
			}
			fmt.Fprintf(st.stderr, "aieval: warning: cannot read the suites at %s (%s); keeping only what the suites here use\n", ref, text.OneLine(err.Error(), 0))
		}
		more := 0
		for k := range refKeys {
			if !keep[k] {
				keep[k] = true
				more++
			}
		}
		kept += fmt.Sprintf(" and %d more used by the suites at %s", more, ref)
	}
	c, err := cache.Open(*dir, cache.ReadOnly, cache.Options{})
	if err != nil {
		return fmt.Errorf("cache prune: %w", err)
	}
	if *dry {
		fmt.Fprintf(st.stdout, "%d entries in use in %s: %s (dry run: nothing removed)\n", len(keep), *dir, kept)
		return nil
	}
	removed, err := c.Prune(keep)
	if err != nil {
		return fmt.Errorf("cache prune: %w", err)
	}
	fmt.Fprintf(st.stdout, "removed %d unused entries, kept %d in %s: %s\n", removed, len(keep), *dir, kept)
	return nil
}

// usedEntries replays suites offline from dir and returns the keys they
// used.
func usedEntries(ctx context.Context, st *state, suites []*eval.Suite, dir string) (map[string]bool, error) {
	spool, err := os.MkdirTemp("", "aieval-prune-*")
	if err != nil {
		return nil, fmt.Errorf("cache prune: %w", err)
	}
	defer os.RemoveAll(spool)
	var used *cache.Cache
	_, err = eval.Run(ctx, suites, eval.Options{
		SpoolDir:    spool,
		Concurrency: 8,
		CacheDir:    dir,
		CacheMode:   "read-only",
		Offline:     true,
		Getenv:      st.getenv,
		OnCacheDone: func(c *cache.Cache) { used = c },
	})
	if err != nil {
		return nil, fmt.Errorf("cache prune: %w", err)
	}
	if used == nil {
		return nil, fmt.Errorf("cache prune: the cache %s was not opened", dir)
	}
	if ctx.Err() != nil {
		return nil, fmt.Errorf("cache prune: interrupted; nothing removed")
	}
	return used.Used(), nil
}
