package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/aieval/aieval/eval/history"
	"github.com/aieval/aieval/reporters/viewer"
)

// defaultViewAddr is loopback: the viewer has no login.
const defaultViewAddr = "127.0.0.1:8484"

func cmdView(ctx context.Context, args []string, st *state) error {
	fl := newFlags("view", st)
	addr := fl.String("addr", defaultViewAddr, "listen on `HOST:PORT` (port 0: any free port); must be a loopback address unless --public")
	public := fl.Bool("public", false, "allow a non-loopback --addr and any Host name: the viewer has no login and shows every prompt, request and output to whoever can reach it")
	histPath := fl.String("history", "", "history `DB` to list runs from (default the nearest .aieval/history.db, when there is one)")
	noHist := fl.Bool("no-history", false, "list only the results files given, not the history store")
	fl.Usage = func() {
		fmt.Fprintln(fl.Output(), "Usage: aieval view [--addr 127.0.0.1:PORT] [--history DB] [RESULTS.json...]\n\n"+
			"Serves a local web viewer of runs: the run list, a run's grid of tests × models with\n"+
			"outputs, a test's full request, and two runs side by side with output diffs.\n"+
			"It listens on loopback only by default, since it has no login; --public lifts that.\n\nFlags:")
		fl.PrintDefaults()
	}
	files, err := parseFlags(fl, args)
	if err != nil {
		return err
	}
	if !*public && !viewer.IsLoopbackAddr(*addr) {
		return inputErr(fmt.Errorf("view: --addr %s is not a loopback address: the viewer has no login and shows every prompt and output; use 127.0.0.1:PORT, or pass --public to serve it beyond this machine", *addr))
	}
	var sources []viewer.Source
	if len(files) > 0 {
		fs, err := viewer.NewFiles(files)
		if err != nil {
			return inputErr(fmt.Errorf("view: %w", err))
		}
		sources = append(sources, fs)
	}
	path := *histPath
	switch {
	case *noHist:
		path = ""
	case path == "":
		path = findProjectPath(".", "history.db")
	case !strings.Contains(path, "://"):
		// Open would create a missing file: a typo must not show an empty history.
		if _, err := os.Stat(path); err != nil {
			return inputErr(fmt.Errorf("view: --history: %w", err))
		}
	}
	if path != "" {
		db, err := history.Open(path)
		if err != nil {
			return inputErr(fmt.Errorf("view: %w", err))
		}
		defer db.Close()
		sources = append(sources, viewer.NewHistory(db))
	}
	if len(sources) == 0 {
		return inputErr(errors.New("view: nothing to show: pass results files (aieval run --json FILE) or --history DB"))
	}

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return inputErr(fmt.Errorf("view: %w (choose another --addr port)", err))
	}
	srv := &http.Server{Handler: viewer.New(viewer.Options{Public: *public}, sources...), ReadHeaderTimeout: 10 * time.Second}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	fmt.Fprintf(st.stdout, "aieval view: serving on http://%s/ (Ctrl-C to stop)\n", ln.Addr())
	select {
	case err := <-done:
		return fmt.Errorf("view: %w", err)
	case <-ctx.Done():
	case <-st.stop:
	}
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return srv.Shutdown(sctx)
}
