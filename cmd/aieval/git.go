package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"

	"github.com/aieval/aieval/eval"
	"github.com/aieval/aieval/eval/results"
	"github.com/aieval/aieval/internal/text"
)

func git(ctx context.Context, dir string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, "git", args...)
	cmd.Dir = dir
	out, err := cmd.Output()
	if err != nil {
		msg := err.Error()
		if ee, ok := err.(*exec.ExitError); ok && len(ee.Stderr) > 0 {
			msg = strings.TrimSpace(string(ee.Stderr))
		}
		return "", fmt.Errorf("git %s: %s", strings.Join(args, " "), text.OneLine(msg, 0))
	}
	return strings.TrimSpace(string(out)), nil
}

// gitInfo names the commit a run evaluated, for results and history.
// GitHub's variables win: in a pull request the checkout is a merge commit.
func gitInfo(ctx context.Context, st *state) (sha, ref string) {
	sha, ref = st.getenv("GITHUB_SHA"), st.getenv("GITHUB_HEAD_REF")
	if ref == "" {
		ref = st.getenv("GITHUB_REF_NAME")
	}
	// One git process for what is missing (one answer line per HEAD):
	// starting it costs more than the answer.
	args := []string{"rev-parse"}
	if sha == "" {
		args = append(args, "HEAD")
	}
	if ref == "" {
		args = append(args, "--abbrev-ref", "HEAD")
	}
	want := strings.Count(strings.Join(args, " "), "HEAD")
	if want == 0 {
		return sha, ref
	}
	out, err := git(ctx, ".", args...)
	lines := strings.Split(out, "\n")
	if err != nil || len(lines) != want {
		return sha, ref
	}
	if sha == "" {
		sha, lines = strings.TrimSpace(lines[0]), lines[1:]
	}
	if ref == "" {
		ref = strings.TrimSpace(lines[0])
	}
	return sha, ref
}

// verifyCommit resolves a --baseline-ref to a commit id, so that what
// reaches later git commands is a hex id and never an option: a ref
// starting with '-' is refused outright, and --end-of-options keeps git
// from reading the rest as one.
func verifyCommit(ctx context.Context, root, ref string) (string, error) {
	if ref == "" || strings.HasPrefix(ref, "-") {
		return "", fmt.Errorf("--baseline-ref %q: a git ref may not be empty or start with '-' (name a branch, tag or commit, e.g. origin/main)", ref)
	}
	if strings.ContainsAny(ref, "\x00\n\r") {
		return "", fmt.Errorf("--baseline-ref %q: a git ref may not contain control characters", ref)
	}
	sha, err := git(ctx, root, "rev-parse", "--verify", "--quiet", "--end-of-options", ref+"^{commit}")
	if err != nil || !isCommitID(sha) {
		return "", fmt.Errorf("--baseline-ref %s is not a commit in this repository (fetch it first, e.g. git fetch origin %s)", ref, ref)
	}
	return sha, nil
}

func isCommitID(s string) bool {
	if len(s) != 40 && len(s) != 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// baselineFromRef runs the suites as they are at ref (a temporary git
// worktree), replayed offline from the cache as committed at ref, then the
// working cache: entries pruned or forged on the branch cannot change the
// baseline, and a base test that cannot be replayed is an error, which the
// comparison reports as "baseline unavailable" (never as a pass). Suites
// missing at ref are skipped: their tests show as new.
func baselineFromRef(ctx context.Context, ref string, suites []*eval.Suite, opts eval.Options) (*results.Results, error) {
	var res *results.Results
	err := atRef(ctx, ref, func(root, wt string) error {
		base, refCaches := suitesAtRef(root, wt, suites)
		// The working cache (--cache, or the project's), as committed at ref.
		if opts.CacheDir != "" {
			if rel, ok := inRepo(root, opts.CacheDir); ok {
				if c := filepath.Join(wt, rel); !slices.Contains(refCaches, c) {
					refCaches = append([]string{c}, refCaches...)
				}
			}
		}
		if opts.CacheDir == "" {
			opts.CacheDir = filepath.Join(wt, ".aieval", "cache") // read-only: never created
		}
		opts.CacheReadFirst = refCaches
		opts.CacheMode = "read-only"
		opts.Offline = true
		opts.Observer = nil
		opts.Rerun = nil // the baseline is the whole run at REF, as the merged results are
		var err error
		res, err = eval.Run(ctx, base, opts)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("baseline %s: %w", ref, err)
	}
	return res, nil
}

// atRef checks ref out in a temporary worktree for fn, then removes it.
// The ref is verified as a commit first, so only a commit id reaches git.
func atRef(ctx context.Context, ref string, fn func(root, wt string) error) error {
	root, err := git(ctx, ".", "rev-parse", "--show-toplevel")
	if err != nil {
		return err
	}
	if root, err = filepath.EvalSymlinks(root); err != nil {
		return err
	}
	commit, err := verifyCommit(ctx, root, ref)
	if err != nil {
		return err
	}
	tmp, err := os.MkdirTemp("", "aieval-base-*")
	if err != nil {
		return err
	}
	wt := filepath.Join(tmp, "wt")
	// Registered, not only deferred: a second signal exits without
	// unwinding, and the worktree (and its entry in .git) must still go.
	defer registerCleanup(func() {
		// --force twice also removes a locked worktree; prune drops the
		// entry if the directory went first.
		git(context.Background(), root, "worktree", "remove", "--force", "--force", "--end-of-options", wt) //nolint:errcheck // best effort
		os.RemoveAll(tmp)
		git(context.Background(), root, "worktree", "prune") //nolint:errcheck // best effort
	})()
	if _, err := git(ctx, root, "worktree", "add", "--detach", "--end-of-options", wt, commit); err != nil {
		return err
	}
	return fn(root, wt)
}

// suitesAtRef loads the suites as they are in the worktree wt of root,
// with their head paths (the same test identities), and the caches they
// would find there by themselves. A suite missing or broken at ref is
// left out: a base that does not load has nothing to compare against.
func suitesAtRef(root, wt string, suites []*eval.Suite) (base []*eval.Suite, caches []string) {
	for _, s := range suites {
		rel, ok := inRepo(root, s.Path)
		if !ok {
			continue
		}
		p := filepath.Join(wt, rel)
		if _, err := os.Stat(p); err != nil {
			continue
		}
		bs, err := eval.LoadSuite(p)
		if err != nil {
			continue
		}
		bs.Path = s.Path
		base = append(base, bs)
		if c := findProjectPathBelow(filepath.Dir(p), wt, "cache"); c != "" && !slices.Contains(caches, c) {
			caches = append(caches, c)
		}
	}
	return base, caches
}

// defaultBranch is the ref the repository's default branch is at: what
// origin/HEAD points to, else main or master; "" outside git or when none
// exists.
func defaultBranch(ctx context.Context) string {
	if ref, err := git(ctx, ".", "symbolic-ref", "--quiet", "--short", "refs/remotes/origin/HEAD"); err == nil && ref != "" {
		return ref
	}
	for _, b := range []string{"origin/main", "main", "origin/master", "master"} {
		if _, err := git(ctx, ".", "rev-parse", "--verify", "--quiet", b+"^{commit}"); err == nil {
			return b
		}
	}
	return ""
}

// inRepo is path relative to the repository root, when it is inside.
func inRepo(root, path string) (string, bool) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return "", false
	}
	if r, err := filepath.EvalSymlinks(filepath.Dir(abs)); err == nil {
		abs = filepath.Join(r, filepath.Base(abs))
	}
	rel, err := filepath.Rel(root, abs)
	if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return "", false
	}
	return rel, true
}

// findProjectPathBelow is findProjectPath that stops at top.
func findProjectPathBelow(dir, top, name string) string {
	for {
		p := filepath.Join(dir, ".aieval", name)
		if _, err := os.Stat(p); err == nil {
			return p
		}
		if dir == top || len(dir) <= len(top) {
			return ""
		}
		dir = filepath.Dir(dir)
	}
}
