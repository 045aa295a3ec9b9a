package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/fsnotify/fsnotify"

	"github.com/aieval/aieval/eval"
	"github.com/aieval/aieval/eval/results"
	"github.com/aieval/aieval/internal/text"
)

// watchMaxLines caps the status lines of one screen; past it only the
// tests that did not pass are listed.
const watchMaxLines = 40

// watchMaxProblems caps the problems shown of a broken save.
const watchMaxProblems = 10

// cmdWatch is the local loop: run the suites, then on every save rerun
// only the tests the edit affects (see eval.Suite.Fingerprints) and show
// them. It runs until SIGINT (st.stop) or ctx ends, and exits 0.
func cmdWatch(ctx context.Context, args []string, st *state) error {
	f := runFlags{models: kvFlag{}}
	fs := newFlags("watch", st)
	f.evalFlags(fs, st)
	debounce := fs.Duration("debounce", 200*time.Millisecond, "wait this long after the last write of a burst before rerunning")
	poll := fs.Duration("poll", 0, "poll the files every `DUR` instead of file-system events (network drives, containers)")
	paths, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if st.getenv("CI") != "" {
		return inputErr(errors.New("watch is interactive and does not run under CI ($CI is set); use 'aieval run' there"))
	}
	if *debounce < 0 || *poll < 0 {
		return inputErr(errors.New("--debounce and --poll must not be negative"))
	}
	opts, err := f.options(st)
	if err != nil {
		return inputErr(err)
	}
	if paths, err = suitePaths(paths); err != nil {
		return err
	}
	// The first load must succeed: later a broken save is shown and
	// waited out, but a watch that starts broken has nothing to compare.
	suites, err := loadSuites(paths)
	if err != nil {
		return err
	}
	if err := eval.Preflight(suites, opts, opts.Warn); err != nil {
		return inputErr(err)
	}
	if err := resolveCacheDir(&opts, suites); err != nil {
		return err
	}
	if err := checkKeys(ctx, st, suites, opts); err != nil {
		return err
	}

	w := &watcher{st: st, paths: paths, opts: opts, status: map[string]*results.TestResult{}}
	src, err := newFileEvents(*poll, opts.Warn)
	if err != nil {
		return &exitError{code: results.ExitErrored, err: err}
	}
	defer src.close()
	w.src = src

	w.adopt(suites)
	all := map[string][]string{}
	for _, s := range suites {
		all[s.Path] = slices.Sorted(maps.Keys(w.prints[s.Path]))
	}
	w.rerun(ctx, suites, "first run", all)
	for {
		changed, ok := w.wait(ctx, *debounce)
		if !ok {
			fmt.Fprintln(st.stdout, "aieval watch: stopped")
			return nil
		}
		w.reload(ctx, changed)
	}
}

// watcher holds the state of one watch between saves.
type watcher struct {
	st    *state
	paths []string // the suites as given
	opts  eval.Options
	src   fileEvents

	prints map[string]map[string]string   // suite path -> test -> fingerprint, of the last good load
	order  []string                       // suite paths in load order
	status map[string]*results.TestResult // test ID -> its last result
	files  []string                       // absolute paths of every file the suites read
}

// adopt makes suites the current state and watches what they read.
func (w *watcher) adopt(suites []*eval.Suite) {
	w.prints = map[string]map[string]string{}
	w.order = w.order[:0]
	set := map[string]bool{}
	for _, s := range suites {
		w.prints[s.Path] = s.Fingerprints()
		w.order = append(w.order, s.Path)
		for _, f := range s.Files() {
			set[absPath(f)] = true
		}
	}
	w.setFiles(set)
}

// setFiles watches set plus the suites as given (which a broken load
// still names).
func (w *watcher) setFiles(set map[string]bool) {
	for _, p := range w.paths {
		set[absPath(p)] = true
	}
	w.files = slices.Sorted(maps.Keys(set))
	w.src.watch(w.files)
}

// wait blocks until files changed and then no write came for debounce
// (editors write a temp file, rename, touch: one burst, one rerun). It
// returns the files changed, or false when the watch is stopped.
func (w *watcher) wait(ctx context.Context, debounce time.Duration) ([]string, bool) {
	select {
	case <-w.src.ready():
	case <-w.st.stop:
		return nil, false
	case <-ctx.Done():
		return nil, false
	}
	t := time.NewTimer(debounce)
	defer t.Stop()
	for {
		select {
		case <-w.src.ready():
			t.Reset(debounce)
		case <-t.C:
			return w.src.take(), true
		case <-w.st.stop:
			return nil, false
		case <-ctx.Done():
			return nil, false
		}
	}
}

// reload loads the suites again after changed files, and reruns the tests
// whose fingerprint changed.
func (w *watcher) reload(ctx context.Context, changed []string) {
	what := describeChanged(changed)
	suites, err := loadSuites(w.paths)
	if err != nil {
		// Keep the last good state: once the file is fixed, the diff is
		// against what last ran.
		w.clear()
		fmt.Fprintf(w.st.stdout, "aieval watch · %s · %s\n", time.Now().Format("15:04:05"), what)
		problems := strings.Split(strings.TrimSpace(err.Error()), "\n")
		for i, p := range problems {
			if i == watchMaxProblems {
				fmt.Fprintf(w.st.stdout, "  … %d more\n", len(problems)-i)
				break
			}
			fmt.Fprintln(w.st.stdout, "  "+text.OneLine(strings.TrimPrefix(p, "aieval: "), 0))
		}
		fmt.Fprintln(w.st.stdout, "fix the file and save; the tests rerun then")
		fmt.Fprintf(w.st.stdout, "watching %s · Ctrl-C to quit\n", plural(len(w.files), "file"))
		return
	}
	before := w.prints
	w.adopt(suites)
	affected := map[string][]string{}
	for _, path := range w.order {
		if names := eval.Affected(before[path], w.prints[path]); len(names) > 0 {
			affected[path] = names
		}
	}
	w.rerun(ctx, suites, what+" · ", affected)
}

// rerun runs the affected tests (suite path -> names) of suites and shows
// them.
func (w *watcher) rerun(ctx context.Context, suites []*eval.Suite, what string, affected map[string][]string) {
	pick := map[string]bool{}
	for path, names := range affected {
		for _, n := range names {
			if w.opts.Filter == nil || w.opts.Filter.MatchString(n) {
				pick[path+"::"+n] = true
			}
		}
	}
	started := time.Now()
	var ran []*results.TestResult
	var runErr error
	if len(pick) > 0 {
		ran, runErr = w.run(ctx, suites, pick)
	}
	w.clear()
	n := len(pick)
	label := plural(n, "test") + " affected"
	if what == "first run" {
		label = " · " + plural(n, "test")
	}
	fmt.Fprintf(w.st.stdout, "aieval watch · %s · %s%s\n", started.Format("15:04:05"), what, label)
	if runErr != nil {
		fmt.Fprintln(w.st.stdout, "  "+text.OneLine(runErr.Error(), 0))
	}
	w.lines(ran)
	if n > 0 {
		fmt.Fprintf(w.st.stdout, "reran %s in %s\n", plural(len(ran), "test"), time.Since(started).Round(time.Millisecond))
	}
	fmt.Fprintln(w.st.stdout, w.totals())
	fmt.Fprintf(w.st.stdout, "watching %s · Ctrl-C to quit\n", plural(len(w.files), "file"))
}

// run evaluates the picked tests (IDs) of suites.
func (w *watcher) run(ctx context.Context, suites []*eval.Suite, pick map[string]bool) ([]*results.TestResult, error) {
	opts := w.opts
	opts.Select = func(suite, test string) bool { return pick[suite+"::"+test] }
	dir, err := os.MkdirTemp("", "aieval-watch-*")
	if err != nil {
		return nil, fmt.Errorf("results spool: %w", err)
	}
	defer os.RemoveAll(dir)
	opts.SpoolDir = dir
	res, err := eval.Run(ctx, suites, opts)
	if err != nil {
		return nil, fmt.Errorf("run: %w", err)
	}
	var out []*results.TestResult
	err = res.Each(func(t *results.TestResult) error {
		c := *t
		w.status[c.ID()] = &c
		out = append(out, &c)
		return nil
	})
	return out, err
}

// lines prints one status line per test, only the ones that did not pass
// when there are too many.
func (w *watcher) lines(ran []*results.TestResult) {
	show := ran
	if len(ran) > watchMaxLines {
		show = nil
		for _, t := range ran {
			if t.Status != results.StatusPass && len(show) < watchMaxLines {
				show = append(show, t)
			}
		}
	}
	for _, t := range show {
		w.line(t)
	}
	if hidden := len(ran) - len(show); hidden > 0 {
		fmt.Fprintf(w.st.stdout, "  … %s more not listed\n", plural(hidden, "test"))
	}
}

func (w *watcher) line(t *results.TestResult) {
	word := map[results.Status]string{results.StatusPass: "PASS", results.StatusFail: "FAIL", results.StatusError: "ERROR", results.StatusSkip: "SKIP"}[t.Status]
	if color(w.st) {
		code := map[results.Status]string{results.StatusPass: "\x1b[32m", results.StatusFail: "\x1b[31m", results.StatusError: "\x1b[35m", results.StatusSkip: "\x1b[33m"}[t.Status]
		word = code + fmt.Sprintf("%-5s", word) + "\x1b[0m"
	} else {
		word = fmt.Sprintf("%-5s", word)
	}
	l := "  " + word + " "
	if len(w.order) > 1 { // one suite needs no name on every line
		l += text.OneLine(t.Suite, 0) + " › "
	}
	l += text.OneLine(t.Name, 0)
	if t.Cached {
		l += " (cached)"
	} else if t.Status == results.StatusPass || t.Status == results.StatusFail {
		l += fmt.Sprintf(" %.0fms", text.Finite(t.LatencyMS))
	}
	if t.Status != results.StatusPass && t.Reason != "" {
		l += " · " + text.OneLine(t.Reason, 160)
	}
	fmt.Fprintln(w.st.stdout, l)
}

// totals counts the last result of every test the suites hold now.
func (w *watcher) totals() string {
	var s results.Summary
	for _, path := range w.order {
		for _, name := range slices.Sorted(maps.Keys(w.prints[path])) {
			if t, ok := w.status[path+"::"+name]; ok {
				s.Add(t)
			}
		}
	}
	parts := []string{plural(s.Total, "test"), fmt.Sprintf("%d passed", s.Passed), fmt.Sprintf("%d failed", s.Failed)}
	if s.Errors > 0 {
		parts = append(parts, fmt.Sprintf("%d errors", s.Errors))
	}
	if s.Skipped > 0 {
		parts = append(parts, fmt.Sprintf("%d skipped", s.Skipped))
	}
	return "totals: " + strings.Join(parts, " · ")
}

// clear starts a new screen on a terminal; elsewhere screens append.
func (w *watcher) clear() {
	if w.st.isTTY {
		io.WriteString(w.st.stdout, "\x1b[H\x1b[2J")
	}
}

func describeChanged(files []string) string {
	if len(files) == 0 {
		return "changed"
	}
	names := make([]string, len(files))
	for i, f := range files {
		names[i] = suiteID(f)
	}
	sort.Strings(names)
	if len(names) > 3 {
		return strings.Join(names[:3], ", ") + fmt.Sprintf(" and %d more changed", len(names)-3)
	}
	return strings.Join(names, ", ") + " changed"
}

func absPath(p string) string {
	if a, err := filepath.Abs(p); err == nil {
		return a
	}
	return filepath.Clean(p)
}

// fileEvents reports writes to a set of files: ready fires (coalesced)
// after a change, take returns the files changed since the last take.
type fileEvents interface {
	watch(files []string)
	ready() <-chan struct{}
	take() []string
	close()
}

// newFileEvents watches with fsnotify, or polls every poll when set or
// when fsnotify cannot start (no inotify instances left, say).
func newFileEvents(poll time.Duration, warn func(string)) (fileEvents, error) {
	if poll == 0 {
		fw, err := fsnotify.NewWatcher()
		if err == nil {
			n := &notifyEvents{pending: pending{signal: make(chan struct{}, 1)}, fw: fw, dirs: map[string]bool{}, warn: warn, warned: map[string]bool{}}
			go n.forward(warn)
			return n, nil
		}
		warn(fmt.Sprintf("file events unavailable (%v); polling every 500ms", err))
		poll = 500 * time.Millisecond
	}
	p := &pollEvents{pending: pending{signal: make(chan struct{}, 1)}, every: poll, done: make(chan struct{}), seen: map[string]fileStamp{}}
	go p.loop()
	return p, nil
}

// pending is the set of changed files shared by both sources.
type pending struct {
	mu      sync.Mutex
	files   map[string]bool // watched files
	changed map[string]bool
	signal  chan struct{}
}

func (p *pending) ready() <-chan struct{} { return p.signal }

func (p *pending) take() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := slices.Sorted(maps.Keys(p.changed))
	p.changed = nil
	return out
}

// note records a change of path when it is a watched file.
func (p *pending) note(path string) {
	p.mu.Lock()
	hit := p.files[path]
	if hit {
		if p.changed == nil {
			p.changed = map[string]bool{}
		}
		p.changed[path] = true
	}
	p.mu.Unlock()
	if hit {
		select {
		case p.signal <- struct{}{}:
		default:
		}
	}
}

func (p *pending) set(files []string) {
	p.mu.Lock()
	p.files = map[string]bool{}
	for _, f := range files {
		p.files[f] = true
	}
	p.mu.Unlock()
}

// notifyEvents watches the directories of the files, not the files:
// editors that save by writing a new file and renaming it over the old
// one replace the inode a file watch would follow, while the directory
// sees the new name appear.
type notifyEvents struct {
	pending
	fw     *fsnotify.Watcher
	dirs   map[string]bool
	warn   func(string)
	warned map[string]bool // directories already warned about
}

func (n *notifyEvents) watch(files []string) {
	n.set(files)
	want := map[string]bool{}
	for _, f := range files {
		want[filepath.Dir(f)] = true
	}
	for d := range n.dirs {
		if !want[d] {
			_ = n.fw.Remove(d)
			delete(n.dirs, d)
		}
	}
	for d := range want {
		// Added again each time: a directory removed and made anew (a
		// branch switch) needs a new watch; adding a watched one is a no-op.
		if err := n.fw.Add(d); err == nil {
			n.dirs[d] = true
		} else if !n.warned[d] {
			// Out of inotify watches, say: saves there go unseen.
			n.warned[d] = true
			n.warn(fmt.Sprintf("cannot watch %s (%v); rerun with --poll 500ms", suiteID(d), err))
		}
	}
}

func (n *notifyEvents) forward(warn func(string)) {
	for {
		select {
		case ev, ok := <-n.fw.Events:
			if !ok {
				return
			}
			if ev.Op&(fsnotify.Write|fsnotify.Create|fsnotify.Rename|fsnotify.Remove) != 0 {
				n.note(filepath.Clean(ev.Name))
			}
		case err, ok := <-n.fw.Errors:
			if !ok {
				return
			}
			warn("file events: " + err.Error())
		}
	}
}

func (n *notifyEvents) close() { n.fw.Close() }

// pollEvents compares each file's size and modification time every tick.
type pollEvents struct {
	pending
	every time.Duration
	done  chan struct{}
	seen  map[string]fileStamp // under mu
}

type fileStamp struct {
	size, mtime int64
	ok          bool
}

func stampOf(path string) fileStamp {
	fi, err := os.Stat(path)
	if err != nil {
		return fileStamp{}
	}
	return fileStamp{size: fi.Size(), mtime: fi.ModTime().UnixNano(), ok: true}
}

// watch stamps the files new to the set now, so a write before the next
// tick is seen.
func (p *pollEvents) watch(files []string) {
	p.set(files)
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, f := range files {
		if _, ok := p.seen[f]; !ok {
			p.seen[f] = stampOf(f)
		}
	}
}

func (p *pollEvents) loop() {
	t := time.NewTicker(p.every)
	defer t.Stop()
	for {
		select {
		case <-p.done:
			return
		case <-t.C:
		}
		var changed []string
		p.mu.Lock()
		for f := range p.files {
			if now := stampOf(f); now != p.seen[f] {
				p.seen[f] = now
				changed = append(changed, f)
			}
		}
		p.mu.Unlock()
		for _, f := range changed {
			p.note(f)
		}
	}
}

func (p *pollEvents) close() { close(p.done) }
