package assertions

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
)

// --- answer-relevance -----------------------------------------------------

// One call asks for three questions (promptfoo makes three calls for one
// each; with a cache and temperature 0 those would be one question
// three times).
var relevancePrompt = graderPrompt{
	system: "Generate three different questions that the given answer answers: each a question a user could have asked to get this answer.",
	user:   "Answer:\n{{answer}}",
}

var relevanceSchema = ReplySchema{
	Name:    "generated_questions",
	Schema:  object(map[string]any{"questions": listOf(strSchema)}),
	Example: `{"questions": ["...", "...", "..."]}`,
}

func newAnswerRelevance(spec Spec) (Assertion, error) {
	g, err := gradedSpec(spec, relevancePrompt, 0.5, "")
	if err != nil {
		return nil, err
	}
	return checkFunc(func(ctx context.Context, in *Input) (Result, error) {
		query := in.Prompt
		if qv, ok := in.Params["query"].(string); ok && strings.TrimSpace(qv) != "" {
			query = qv
		}
		if strings.TrimSpace(query) == "" {
			return Result{}, errors.New("answer-relevance needs the question: a query param, or a prompt with user text")
		}
		if in.Embedder == nil {
			return Result{}, errors.New("no embedding model configured; set grader: in the suite to a model with an /embeddings endpoint")
		}
		sys, user := g.prompt.render(baseVars(in), in.Params)
		var questions []string
		err := gradeJSON(ctx, in.Grader, sys, user, relevanceSchema, func(m map[string]any) bool {
			l, _ := m["questions"].([]any)
			questions = questions[:0]
			for _, x := range l {
				if s, ok := x.(string); ok && strings.TrimSpace(s) != "" {
					questions = append(questions, s)
				}
			}
			return len(questions) > 0 && len(questions) == len(l)
		})
		if err != nil {
			return Result{}, err
		}
		vecs, err := in.Embedder.Embed(ctx, append([]string{query}, questions...))
		if err != nil {
			return Result{}, fmt.Errorf("embed texts: %w", err)
		}
		if len(vecs) != len(questions)+1 {
			return Result{}, fmt.Errorf("embedding endpoint returned %d vectors for %d texts", len(vecs), len(questions)+1)
		}
		var sum float64
		for _, v := range vecs[1:] {
			c, err := cosine(vecs[0], v)
			if err != nil {
				return Result{}, err
			}
			sum += c
		}
		sim := sum / float64(len(questions))
		r := scored(min(max(sim, 0), 1), g.threshold, "relevance", "questions the output answers: "+quoteList(questions))
		return r, nil
	}), nil
}

// --- context-recall -------------------------------------------------------

var recallPrompt = graderPrompt{
	system: "Given a context and an answer, analyze each sentence in the answer and classify whether the sentence can be attributed to the given context or not. Think in steps and reason before coming to a conclusion.",
	user:   "context:\n{{context}}\n\nanswer:\n{{groundTruth}}",
}

var recallSchema = ReplySchema{
	Name:    "sentence_attributions",
	Schema:  object(map[string]any{"sentences": listOf(object(map[string]any{"sentence": strSchema, "attributed": boolSchema}))}),
	Example: `{"sentences": [{"sentence": "...", "attributed": true or false}]}`,
}

func newContextRecall(spec Spec) (Assertion, error) {
	g, err := gradedSpec(spec, recallPrompt, 0.5, "the ground truth the context should hold")
	if err != nil {
		return nil, err
	}
	return checkFunc(func(ctx context.Context, in *Input) (Result, error) {
		context, _, err := ragText(in, "context")
		if err != nil {
			if _, has := in.Params["context"]; has || strings.TrimSpace(in.Prompt) == "" {
				return Result{}, err
			}
			context = in.Prompt // promptfoo's fallback: the prompt is the context
		}
		vars := baseVars(in)
		vars["context"], vars["groundTruth"], vars["expected"] = context, g.value, g.value
		sys, user := g.prompt.render(vars, in.Params)
		var total, attributed int
		var missing []string
		err = gradeJSON(ctx, in.Grader, sys, user, recallSchema, func(m map[string]any) bool {
			l, _ := m["sentences"].([]any)
			total, attributed, missing = 0, 0, nil
			for _, x := range l {
				s, _ := x.(map[string]any)
				a, ok := s["attributed"].(bool)
				if !ok {
					return false
				}
				total++
				if a {
					attributed++
				} else if t, _ := s["sentence"].(string); t != "" {
					missing = append(missing, t)
				}
			}
			return total > 0
		})
		if err != nil {
			return Result{}, err
		}
		detail := fmt.Sprintf("%d of %d sentences found in the context", attributed, total)
		if len(missing) > 0 {
			detail += "; not found: " + quoteList(missing)
		}
		return scored(float64(attributed)/float64(total), g.threshold, "recall", detail), nil
	}), nil
}

// --- context-relevance ----------------------------------------------------

var relevanceCtxPrompt = graderPrompt{
	system: `Extract the sentences of the provided context that are absolutely required to answer the query, copied without any change. If no sentence is relevant, or the query cannot be answered from the context, return an empty list.`,
	user:   "query: {{query}}\n\ncontext:\n{{context}}",
}

var relevanceCtxSchema = ReplySchema{
	Name:    "relevant_sentences",
	Schema:  object(map[string]any{"sentences": listOf(strSchema)}),
	Example: `{"sentences": ["a sentence copied from the context", "..."]}`,
}

var (
	sentenceEndRE = regexp.MustCompile(`[.!?]+(\s+|$)`)
	listMarkRE    = regexp.MustCompile(`^\s*(?:\d+[.)]|[-*])\s*`)
	spacesRE      = regexp.MustCompile(`\s+`)
)

// sentences splits text at sentence ends and line breaks.
func sentences(text string) []string {
	var out []string
	for _, line := range strings.Split(text, "\n") {
		rest := line
		for rest != "" {
			loc := sentenceEndRE.FindStringIndex(rest)
			end := len(rest)
			if loc != nil {
				end = loc[1]
			}
			if s := strings.TrimSpace(rest[:end]); s != "" {
				out = append(out, s)
			}
			rest = rest[end:]
		}
	}
	return out
}

func normSpace(s string) string {
	return strings.ToLower(strings.TrimSpace(spacesRE.ReplaceAllString(s, " ")))
}

// ragVars are the grader prompt's variables of a RAG metric: the test's
// query and retrieved context (params, as promptfoo's vars), with the
// context's chunks when it was given as a list.
func ragVars(in *Input) (vars map[string]string, context string, chunks []string, err error) {
	query, _, err := ragText(in, "query")
	if err != nil {
		return nil, "", nil, err
	}
	context, chunks, err = ragText(in, "context")
	if err != nil {
		return nil, "", nil, err
	}
	vars = baseVars(in)
	vars["query"], vars["question"], vars["context"] = query, query, context
	return vars, context, chunks, nil
}

func newContextRelevance(spec Spec) (Assertion, error) {
	g, err := gradedSpec(spec, relevanceCtxPrompt, 0.5, "")
	if err != nil {
		return nil, err
	}
	return checkFunc(func(ctx context.Context, in *Input) (Result, error) {
		vars, context, chunks, err := ragVars(in)
		if err != nil {
			return Result{}, err
		}
		units := chunks
		if units == nil {
			units = sentences(context)
		}
		sys, user := g.prompt.render(vars, in.Params)
		var picked []string
		err = gradeJSON(ctx, in.Grader, sys, user, relevanceCtxSchema, func(m map[string]any) bool {
			l, ok := m["sentences"].([]any)
			if !ok {
				return false
			}
			picked = picked[:0]
			seen := map[string]bool{}
			for _, x := range l {
				s, ok := x.(string)
				if !ok {
					return false
				}
				if s = strings.TrimSpace(s); s != "" && !seen[s] {
					seen[s] = true
					picked = append(picked, s)
				}
			}
			return true
		})
		if err != nil {
			return Result{}, err
		}
		whole := normSpace(context)
		quoted := len(picked) == 0
		for _, s := range picked {
			if strings.Contains(whole, normSpace(listMarkRE.ReplaceAllString(s, ""))) {
				quoted = true
				break
			}
		}
		if !quoted {
			return Result{}, fmt.Errorf("grader reply does not quote the provided context: %s", quoteList(picked))
		}
		n := min(len(picked), len(units))
		score := 0.0
		if len(units) > 0 {
			score = float64(n) / float64(len(units))
		}
		return scored(score, g.threshold, "context relevance", fmt.Sprintf("%d of %d context sentences needed for the query", n, len(units))), nil
	}), nil
}

// --- context-faithfulness -------------------------------------------------

var statementsPrompt = graderPrompt{
	system: "Given a question and an answer, create one or more standalone statements from each sentence in the given answer.",
	user:   "question: {{question}}\n\nanswer: {{answer}}",
}

var statementsSchema = ReplySchema{
	Name:    "answer_statements",
	Schema:  object(map[string]any{"statements": listOf(strSchema)}),
	Example: `{"statements": ["...", "..."]}`,
}

var faithfulnessPrompt = graderPrompt{
	system: "Natural language inference: consider the given context and the statements, and determine for each statement, in order, whether it is supported by the information present in the context. Give a brief explanation before each verdict.",
	user:   "context:\n{{context}}\n\nstatements:\n{{statements}}",
}

var faithfulnessSchema = ReplySchema{
	Name:    "statement_verdicts",
	Schema:  object(map[string]any{"verdicts": listOf(object(map[string]any{"statement": strSchema, "explanation": strSchema, "supported": boolSchema}))}),
	Example: `{"verdicts": [{"statement": "...", "explanation": "...", "supported": true or false}]}`,
}

// newContextFaithfulness: rubric_prompt replaces the verdict (NLI) prompt.
func newContextFaithfulness(spec Spec) (Assertion, error) {
	g, err := gradedSpec(spec, faithfulnessPrompt, 0.5, "")
	if err != nil {
		return nil, err
	}
	return checkFunc(func(ctx context.Context, in *Input) (Result, error) {
		vars, _, _, err := ragVars(in)
		if err != nil {
			return Result{}, err
		}
		sys, user := statementsPrompt.render(vars, nil)
		var stmts []string
		err = gradeJSON(ctx, in.Grader, sys, user, statementsSchema, func(m map[string]any) bool {
			l, _ := m["statements"].([]any)
			stmts = stmts[:0]
			for _, x := range l {
				if s, ok := x.(string); ok && strings.TrimSpace(s) != "" {
					stmts = append(stmts, strings.TrimSpace(s))
				}
			}
			return len(stmts) > 0
		})
		if err != nil {
			return Result{}, fmt.Errorf("statements: %w", err)
		}
		numbered := make([]string, len(stmts))
		for i, s := range stmts {
			numbered[i] = fmt.Sprintf("%d. %s", i+1, s)
		}
		vars["statements"] = strings.Join(numbered, "\n")
		sys, user = g.prompt.render(vars, in.Params)
		var verdicts []bool
		var unsupported []string
		err = gradeJSON(ctx, in.Grader, sys, user, faithfulnessSchema, func(m map[string]any) bool {
			l, _ := m["verdicts"].([]any)
			verdicts, unsupported = verdicts[:0], nil
			for _, x := range l {
				v, _ := x.(map[string]any)
				s, ok := v["supported"].(bool)
				if !ok {
					return false
				}
				verdicts = append(verdicts, s)
				if !s {
					t, _ := v["statement"].(string)
					unsupported = append(unsupported, t)
				}
			}
			return len(verdicts) > 0
		})
		if err != nil {
			return Result{}, fmt.Errorf("verdicts: %w", err)
		}
		// promptfoo: 1 - (unsupported + statements without a verdict) / statements.
		bad := len(unsupported) + max(0, len(stmts)-len(verdicts))
		score := min(1, max(0, 1-float64(bad)/float64(len(stmts))))
		detail := fmt.Sprintf("%d of %d statements supported by the context", len(stmts)-min(bad, len(stmts)), len(stmts))
		if len(unsupported) > 0 {
			detail += "; unsupported: " + quoteList(unsupported)
		}
		return scored(score, g.threshold, "faithfulness", detail), nil
	}), nil
}
