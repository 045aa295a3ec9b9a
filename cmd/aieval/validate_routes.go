package main

import (
	"fmt"
	"strings"

	"github.com/aieval/aieval/runtime"
	"github.com/aieval/aieval/runtime/llm"
)

// printRoutes writes, for `validate -v`, where each prompt of the loaded
// aiconfig will be sent (for a suite: its aiconfig, with the suite's
// models: mapping, and its grader): the provider, the endpoint without
// credentials and the key variable, with whether it is set (never its
// value). A suite without an aiconfig prints nothing.
func printRoutes(st *state, f loadedFile) {
	cfg := f.cfg
	var eps map[string]runtime.Endpoint
	grader := ""
	if f.suite != nil {
		cfg, eps, grader = f.suite.Config, f.suite.Models, f.suite.Grader
	}
	if cfg == nil {
		return
	}
	rt := runtime.New(runtime.Options{Endpoints: eps, Getenv: st.getenv, Parsers: runtime.Parsers(llm.OpenAIOptions{Getenv: st.getenv})})
	for _, name := range cfg.PromptNames() {
		if mr, ok := rt.PromptRoute(cfg, name); ok {
			fmt.Fprintf(st.stdout, "    prompt %s: %s\n", name, describeRoute(st, mr))
		}
	}
	if grader != "" {
		mr := rt.RouteOf(nil, grader, nil)
		fmt.Fprintf(st.stdout, "    grader: %s\n", describeRoute(st, mr))
	}
}

// describeRoute is one route on one line: "MODEL -> PROVIDER ENDPOINT
// (key $VAR, set)".
func describeRoute(st *state, mr runtime.ModelRoute) string {
	var b strings.Builder
	b.WriteString(mr.Model)
	if mr.APIModel != "" {
		fmt.Fprintf(&b, " (as %s)", mr.APIModel)
	}
	fmt.Fprintf(&b, " -> %s", orDash(mr.Provider, mr.Parser))
	if !mr.Supported {
		b.WriteString(": cannot run (see the warning)")
		return b.String()
	}
	switch {
	case mr.Endpoint != "":
		b.WriteString(" " + mr.Endpoint)
	case mr.Provider == "azure":
		b.WriteString(" (no endpoint: set $AZURE_OPENAI_ENDPOINT)")
	}
	switch {
	case mr.Provider == "echo":
		b.WriteString(" (local, no key)")
	case strings.HasPrefix(mr.KeyEnv, "AWS"):
		b.WriteString(" (AWS credential chain: $AWS_ACCESS_KEY_ID/$AWS_SECRET_ACCESS_KEY or $AWS_PROFILE)")
	case mr.KeyEnv != "":
		state := "not set"
		if st.getenv(mr.KeyEnv) != "" {
			state = "set"
		}
		fmt.Fprintf(&b, " (key $%s, %s)", mr.KeyEnv, state)
	}
	return b.String()
}

func orDash(s, alt string) string {
	if s != "" {
		return s
	}
	if alt != "" {
		return alt
	}
	return "-"
}
