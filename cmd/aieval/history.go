package main

import (
	"context"
	"fmt"
	"os"

	"github.com/aieval/aieval/eval/history"
)

func cmdHistory(ctx context.Context, args []string, st *state) error {
	fl := newFlags("history", st)
	dbPath := fl.String("db", "", "history `FILE` or postgres:// URL (default $"+history.EnvVar+", else the nearest .aieval/history.db)")
	test := fl.String("test", "", "show the trend of one test (`NAME` or suite::name)")
	limit := fl.Int("limit", 20, "runs to show")
	if _, err := parseFlags(fl, args); err != nil {
		return err
	}
	path := *dbPath
	if path == "" {
		path = st.getenv(history.EnvVar)
	}
	if path == "" {
		if path = findProjectPath(".", "history.db"); path == "" {
			return inputErr(fmt.Errorf("no .aieval/history.db found (record runs with 'aieval run --history .aieval/history.db')"))
		}
	}
	if !history.IsPostgres(path) {
		// Reading must not create an empty file where none was.
		if _, err := os.Stat(path); err != nil {
			return inputErr(fmt.Errorf("history: %w", err))
		}
	}
	db, err := history.Open(path)
	if err != nil {
		return inputErr(fmt.Errorf("history: %w", err))
	}
	defer db.Close()
	if *test != "" {
		rows, err := db.TestTrend(*test, *limit)
		if err != nil {
			return fmt.Errorf("history: %w", err)
		}
		return history.RenderTrend(st.stdout, *test, rows)
	}
	rows, err := db.Runs(*limit)
	if err != nil {
		return fmt.Errorf("history: %w", err)
	}
	return history.RenderRuns(st.stdout, rows)
}
