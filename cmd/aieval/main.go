// Command aieval evaluates prompts kept as AIConfig files, in CI.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/pprof"
	"runtime/trace"
	"syscall"
	"time"

	"golang.org/x/term"
)

// gracePeriod is how long in-flight model calls may finish after SIGINT.
const gracePeriod = 10 * time.Second

func main() {
	// `aieval version` is what scripts call to check the install: answer
	// before the set-up below, whose goroutines each cost a thread start.
	if a := os.Args[1:]; len(a) == 1 && (a[0] == "version" || a[0] == "--version" || a[0] == "-v") {
		fmt.Println("aieval " + versionString())
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	stop := make(chan struct{})
	// First signal: start no new test, give in-flight calls a grace period,
	// then cancel them; the reports of what finished are still written.
	// Second signal: leave at once.
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	go func() {
		<-sigs
		if len(os.Args) > 1 && os.Args[1] == "watch" {
			fmt.Fprintln(os.Stderr, "\naieval: stopping watch")
		} else {
			fmt.Fprintf(os.Stderr, "\naieval: interrupted; finishing in-flight calls (up to %s) and writing reports; signal again to quit now\n", gracePeriod)
		}
		close(stop)
		time.AfterFunc(gracePeriod, cancel)
		<-sigs
		runCleanups()
		os.Exit(130)
	}()
	st := &state{
		stop:   stop,
		stdout: os.Stdout,
		stderr: os.Stderr,
		stdin:  os.Stdin,
		getenv: os.Getenv,
		isTTY:  term.IsTerminal(int(os.Stderr.Fd())),
	}
	stopProfile := startRecording(os.Getenv("AIEVAL_CPUPROFILE"), "cpu profile", pprof.StartCPUProfile, pprof.StopCPUProfile)
	stopTrace := startRecording(os.Getenv("AIEVAL_TRACE"), "trace", trace.Start, trace.Stop)
	code := run(ctx, os.Args[1:], st)
	stopTrace()
	stopProfile()
	runCleanups()
	os.Exit(code)
}

// startRecording writes what start records (a CPU profile, an execution
// trace) to path while the command runs, when path is set: AIEVAL_CPUPROFILE
// for where a real run spends CPU, AIEVAL_TRACE (`go tool trace`) for
// where it waits. The returned func stops and closes it.
func startRecording(path, what string, start func(io.Writer) error, stop func()) func() {
	if path == "" {
		return func() {}
	}
	f, err := os.Create(path)
	if err != nil {
		fmt.Fprintln(os.Stderr, "aieval: warning: "+what+": "+err.Error())
		return func() {}
	}
	if err := start(f); err != nil {
		fmt.Fprintln(os.Stderr, "aieval: warning: "+what+": "+err.Error())
		f.Close()
		return func() {}
	}
	return func() { stop(); f.Close() }
}
