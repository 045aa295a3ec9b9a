package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/aieval/aieval/eval"
	"github.com/aieval/aieval/eval/results"
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
		return "", fmt.Errorf("git %s: %s", strings.Join(args, " "), oneLine(msg))
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
// worktree) with the same cache, so unchanged prompts replay and only
// changed ones would call a model. Suites missing at ref are skipped: their
// tests show as new.
func baselineFromRef(ctx context.Context, ref string, suites []*eval.Suite, opts eval.Options) (*results.Results, error) {
	root, err := git(ctx, ".", "rev-parse", "--show-toplevel")
	if err != nil {
		return nil, fmt.Errorf("baseline %s: %w", ref, err)
	}
	commit, err := verifyCommit(ctx, root, ref)
	if err != nil {
		return nil, err
	}
	tmp, err := os.MkdirTemp("", "aieval-base-*")
	if err != nil {
		return nil, fmt.Errorf("baseline %s: %w", ref, err)
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
		return nil, fmt.Errorf("baseline %s: %w", ref, err)
	}

	var base []*eval.Suite
	for _, s := range suites {
		abs, err := filepath.Abs(s.Path)
		if err != nil {
			return nil, fmt.Errorf("baseline %s: %w", ref, err)
		}
		rel, err := filepath.Rel(root, abs)
		if err != nil || strings.HasPrefix(rel, "..") {
			continue
		}
		p := filepath.Join(wt, rel)
		if _, err := os.Stat(p); err != nil {
			continue
		}
		bs, err := eval.LoadSuite(p)
		if err != nil {
			// A base that no longer loads has nothing to compare against.
			continue
		}
		bs.Path = s.Path // same test identity as the head run
		base = append(base, bs)
	}
	if opts.CacheMode == "refresh" {
		opts.CacheMode = "read-write"
	}
	opts.Observer = nil
	res, err := eval.Run(ctx, base, opts)
	if err != nil {
		return nil, fmt.Errorf("baseline %s: %w", ref, err)
	}
	return res, nil
}
