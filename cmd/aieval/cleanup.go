package main

import "sync"

// Cleanups registered here run on every way out of the process: the
// deferred path of the code that registered them, the normal exit of main
// and the exit on a second signal (which does not unwind the stack). The
// baseline's temporary git worktree must not outlive a cancelled CI job.
var cleanups struct {
	mu   sync.Mutex
	next int
	fns  map[int]func()
}

// registerCleanup records fn and returns a function that runs it at most
// once and removes it from the registry; defer that.
func registerCleanup(fn func()) (done func()) {
	var once sync.Once
	run := func() { once.Do(fn) }
	cleanups.mu.Lock()
	if cleanups.fns == nil {
		cleanups.fns = map[int]func(){}
	}
	id := cleanups.next
	cleanups.next++
	cleanups.fns[id] = run
	cleanups.mu.Unlock()
	return func() {
		cleanups.mu.Lock()
		delete(cleanups.fns, id)
		cleanups.mu.Unlock()
		run()
	}
}

// runCleanups runs every registered cleanup not yet run, newest first.
func runCleanups() {
	cleanups.mu.Lock()
	fns := cleanups.fns
	cleanups.fns = nil
	next := cleanups.next
	cleanups.mu.Unlock()
	for id := next - 1; id >= 0; id-- {
		if fn := fns[id]; fn != nil {
			fn()
		}
	}
}
