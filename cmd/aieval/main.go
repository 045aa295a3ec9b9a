// Command aieval evaluates prompts kept as AIConfig files, in CI.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"golang.org/x/term"
)

// gracePeriod is how long in-flight model calls may finish after SIGINT.
const gracePeriod = 10 * time.Second

func main() {
	ctx, cancel := context.WithCancel(context.Background())
	stop := make(chan struct{})
	// First signal: start no new test, give in-flight calls a grace period,
	// then cancel them; the reports of what finished are still written.
	// Second signal: leave at once.
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	go func() {
		<-sigs
		fmt.Fprintf(os.Stderr, "\naieval: interrupted; finishing in-flight calls (up to %s) and writing reports; signal again to quit now\n", gracePeriod)
		close(stop)
		time.AfterFunc(gracePeriod, cancel)
		<-sigs
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
	os.Exit(run(ctx, os.Args[1:], st))
}
