// Package heapwatch measures a process's own memory and CPU for the
// benchmarks: the largest heap and live heap over a span, read with
// runtime/metrics (no stop-the-world), and the CPU time used so far.
package heapwatch

import (
	"runtime/metrics"
	"sync"
	"syscall"
	"time"
)

// Peak records, until the returned func is called, the largest heap
// (peak: objects, garbage included) and the largest heap a GC found live
// (live), into the pointers given. A nil live is not recorded.
func Peak(peak, live *uint64) (stop func()) {
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}, {Name: "/gc/heap/live:bytes"}}
		t := time.NewTicker(2 * time.Millisecond)
		defer t.Stop()
		for {
			metrics.Read(s)
			*peak = max(*peak, s[0].Value.Uint64())
			if live != nil {
				*live = max(*live, s[1].Value.Uint64())
			}
			select {
			case <-done:
				return
			case <-t.C:
			}
		}
	}()
	return func() { close(done); wg.Wait() }
}

// Live is the heap the last GC found live.
func Live() uint64 {
	s := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}

// CPU is the process's user and system CPU time so far.
func CPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
