package main

import (
	"context"
	"errors"

	"github.com/aieval/aieval/eval/compare"
	"github.com/aieval/aieval/eval/results"
)

func cmdCompare(ctx context.Context, args []string, st *state) error {
	fl := newFlags("compare", st)
	md := fl.String("markdown", "", "also write the comparison as Markdown to `FILE`")
	js := fl.String("json", "", "also write the comparison as JSON to `FILE`")
	tol := fl.Float64("score-tolerance", 0.05, "score drop that is reported")
	pos, err := parseFlags(fl, args)
	if err != nil {
		return err
	}
	if len(pos) != 2 {
		return inputErr(errors.New("usage: aieval compare BASE.json HEAD.json [--markdown FILE] [--json FILE]"))
	}
	base, err := results.ReadFile(pos[0])
	if err != nil {
		return inputErr(err)
	}
	head, err := results.ReadFile(pos[1])
	if err != nil {
		return inputErr(err)
	}
	rep := compare.Compare(base, head, compare.Options{ScoreTolerance: *tol})
	if err := compare.WriteText(st.stdout, rep, color(st)); err != nil {
		return err
	}
	if *md != "" {
		if err := writeWith(*md, func(w writer) error { return compare.WriteMarkdown(w, rep) }); err != nil {
			return err
		}
	}
	if *js != "" {
		if err := writeWith(*js, func(w writer) error { return compare.WriteJSON(w, rep) }); err != nil {
			return err
		}
	}
	if code := rep.ExitCode(); code != 0 {
		return &exitError{code: code}
	}
	return nil
}
