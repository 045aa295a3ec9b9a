package assertions

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// The model-graded metrics with promptfoo's names and scoring. Prompts
// follow promptfoo's (from OpenAI evals and RAGAS), rewritten to ask for a
// JSON verdict so the reply can be held to a schema; every reply is the
// JSON object named in the metric's ReplySchema.

func init() {
	Register("factuality", newFactuality)
	describe("factuality", "a grader compares the output's facts with the value (expert answer): A subset, B superset, C same, E differs harmlessly pass; D disagreement fails")
	Register("model-graded-closedqa", newClosedQA)
	describe("model-graded-closedqa", "a grader answers Y or N: does the output meet the value criterion for the prompt")
	Register("g-eval", newGEval)
	describe("g-eval", "G-Eval: a grader turns the value criteria into steps, then scores the output 0-10; score/10 must reach threshold (default 0.7)")
	Register("answer-relevance", newAnswerRelevance)
	describe("answer-relevance", "questions generated from the output are embedded and compared with the query param (else the prompt); mean cosine >= threshold (default 0.5)")
	Register("context-faithfulness", newContextFaithfulness)
	describe("context-faithfulness", "share of the output's statements supported by the context param, for the query param, >= threshold (default 0.5)")
	Register("context-recall", newContextRecall)
	describe("context-recall", "share of the value (ground truth) sentences attributable to the context param (else the prompt) >= threshold (default 0.5)")
	Register("context-relevance", newContextRelevance)
	describe("context-relevance", "share of the context param needed to answer the query param >= threshold (default 0.5)")
	Register("select-best", newSelectBest)
	describe("select-best", "a grader picks, among one test's outputs across the models: matrix, the one that best meets the value criteria; it passes, the others fail")
	Register("moderation", newModeration)
	describe("moderation", "the OpenAI-compatible /moderations endpoint flags nothing in the output (value: a list of categories to consider, default all)")
}

// graded is what every graded metric keeps from its spec.
type graded struct {
	prompt    graderPrompt
	threshold float64
	value     string
}

func gradedSpec(spec Spec, def graderPrompt, defThreshold float64, needValue string) (graded, error) {
	g := graded{threshold: defThreshold}
	var err error
	if g.prompt, err = customPrompt(spec, def); err != nil {
		return g, err
	}
	if t := spec.Threshold; t != nil {
		if *t < 0 || *t > 1 {
			return g, fmt.Errorf("threshold %g must be between 0 and 1", *t)
		}
		g.threshold = *t
	}
	if needValue != "" {
		if g.value, err = textValue(spec); err != nil {
			return g, fmt.Errorf("%w (%s)", err, needValue)
		}
		if strings.TrimSpace(g.value) == "" {
			return g, fmt.Errorf("value is empty; give %s", needValue)
		}
	} else if spec.Value != nil {
		return g, errors.New("value is not used by this type; remove it")
	}
	return g, nil
}

// scored is a verdict by score against a threshold.
func scored(score, threshold float64, what, detail string) Result {
	note := fmt.Sprintf("%s %.2f, threshold %g", what, score, threshold)
	if detail != "" {
		note += "; " + detail
	}
	if score >= threshold-1e-9 {
		return Result{Pass: true, Score: score, Reason: note}
	}
	return Result{Score: score, Reason: note + " (below the threshold)"}
}

func graderReason(s string) string {
	s = excerpt(strings.TrimSpace(s), 2*excerptRunes)
	if s == "" {
		return "grader gave no reason"
	}
	return s
}

// --- factuality -----------------------------------------------------------

var factualityPrompt = graderPrompt{
	system: `You are a precise factuality evaluator that compares a submitted answer to an expert answer on a given question.
Analyze the factual content only, ignoring differences in style, grammar, or punctuation. Categorize the submission as one of:
(A) The submitted answer is a subset of the expert answer and is fully consistent with it.
(B) The submitted answer is a superset of the expert answer and is fully consistent with it.
(C) The submitted answer contains all the same details as the expert answer.
(D) There is a disagreement between the submitted answer and the expert answer.
(E) The answers differ, but these differences don't matter from the perspective of factuality.`,
	user: "<question>\n{{input}}\n</question>\n\n<expert_answer>\n{{ideal}}\n</expert_answer>\n\n<submitted_answer>\n{{completion}}\n</submitted_answer>",
}

var factualitySchema = ReplySchema{
	Name:    "factuality_verdict",
	Schema:  object(map[string]any{"category": map[string]any{"type": "string", "enum": []any{"A", "B", "C", "D", "E"}}, "reason": strSchema}),
	Example: `{"category": "A, B, C, D or E", "reason": "..."}`,
}

var factualityNames = map[string]string{"A": "subset", "B": "superset", "C": "agree", "D": "disagree", "E": "differ_but_factual"}

var factualityMeaning = map[string]string{
	"A": "a consistent subset of the expert answer", "B": "a consistent superset of the expert answer",
	"C": "the same details as the expert answer", "D": "in disagreement with the expert answer",
	"E": "different from the expert answer in ways that do not matter for factuality",
}

type factualityCheck struct {
	graded
	scores    map[string]float64 // by letter
	threshold *float64
}

// newFactuality takes value: the expert answer, or {expected, scores}
// where scores sets a score per category (promptfoo's options.factuality:
// subset, superset, agree, disagree, differ_but_factual; default 1 each
// but disagree 0). A category passes when its score is above 0, or with a
// threshold, when it reaches it.
func newFactuality(spec Spec) (Assertion, error) {
	c := &factualityCheck{scores: map[string]float64{"A": 1, "B": 1, "C": 1, "D": 0, "E": 1}, threshold: spec.Threshold}
	if m, isMap := spec.Value.(map[string]any); isMap {
		mv, err := mapValue(m, "expected", "scores")
		if err != nil {
			return nil, err
		}
		spec.Value = mv["expected"]
		if s, ok := mv["scores"]; ok {
			names := []string{"subset", "superset", "agree", "disagree", "differ_but_factual"}
			sm, err := mapValue(s, names...)
			if err != nil {
				return nil, fmt.Errorf("scores: %w", err)
			}
			for letter, name := range factualityNames {
				if v, ok := sm[name]; ok {
					f, isNum := toFloat(v)
					if !isNum || f < 0 || f > 1 {
						return nil, fmt.Errorf("scores.%s must be a number from 0 to 1, got %s", name, short(v))
					}
					c.scores[letter] = f
				}
			}
		}
	}
	g, err := gradedSpec(spec, factualityPrompt, 0, "the expert answer")
	if err != nil {
		return nil, err
	}
	c.graded = g
	return c, nil
}

func (c *factualityCheck) Check(ctx context.Context, in *Input) (Result, error) {
	vars := baseVars(in)
	vars["ideal"], vars["expected"] = c.value, c.value
	sys, user := c.prompt.render(vars, in.Params)
	var cat, reason string
	err := gradeJSON(ctx, in.Grader, sys, user, factualitySchema, func(m map[string]any) bool {
		s, _ := m["category"].(string)
		s = strings.ToUpper(strings.Trim(strings.TrimSpace(s), "()"))
		if _, ok := factualityNames[s]; !ok {
			return false
		}
		cat = s
		reason, _ = m["reason"].(string)
		return true
	})
	if err != nil {
		return Result{}, err
	}
	score := c.scores[cat]
	pass := score > 0
	note := fmt.Sprintf("category %s, score %.2f", cat, score)
	if c.threshold != nil {
		pass = score >= *c.threshold-1e-9
		note += fmt.Sprintf(", threshold %g", *c.threshold)
	}
	msg := fmt.Sprintf("output is %s (%s): %s", factualityMeaning[cat], note, graderReason(reason))
	return Result{Pass: pass, Score: score, Reason: msg}, nil
}

// --- model-graded-closedqa -----------------------------------------------

var closedQAPrompt = graderPrompt{
	system: `You are assessing a submitted answer on a given task based on a criterion.
First reason step by step about the criterion to be sure that your conclusion is correct; avoid stating the answer at the outset. Then answer "Y" if the submission meets the criterion, "N" if it does not.`,
	user: "[BEGIN DATA]\n***\n[Task]: {{input}}\n***\n[Submission]: {{completion}}\n***\n[Criterion]: {{criteria}}\n***\n[END DATA]",
}

var closedQASchema = ReplySchema{
	Name:    "closedqa_verdict",
	Schema:  object(map[string]any{"reasoning": strSchema, "answer": map[string]any{"type": "string", "enum": []any{"Y", "N"}}}),
	Example: `{"reasoning": "...", "answer": "Y or N"}`,
}

func newClosedQA(spec Spec) (Assertion, error) {
	if err := noThreshold(spec); err != nil {
		return nil, err
	}
	g, err := gradedSpec(spec, closedQAPrompt, 0, "the criterion")
	if err != nil {
		return nil, err
	}
	return checkFunc(func(ctx context.Context, in *Input) (Result, error) {
		vars := baseVars(in)
		vars["criteria"], vars["rubric"] = g.value, g.value
		sys, user := g.prompt.render(vars, in.Params)
		var yes bool
		var why string
		err := gradeJSON(ctx, in.Grader, sys, user, closedQASchema, func(m map[string]any) bool {
			a, _ := m["answer"].(string)
			switch strings.ToUpper(strings.TrimSpace(a)) {
			case "Y", "YES":
				yes = true
			case "N", "NO":
			default:
				return false
			}
			why, _ = m["reasoning"].(string)
			return true
		})
		if err != nil {
			return Result{}, err
		}
		if yes {
			return outcome(true, "output meets the criterion "+q(excerpt(g.value, 100))+": "+graderReason(why)), nil
		}
		return outcome(false, "output does not meet the criterion "+q(excerpt(g.value, 100))+": "+graderReason(why)), nil
	}), nil
}

// --- g-eval ---------------------------------------------------------------

const gevalMax = 10

var gevalStepsPrompt = graderPrompt{
	system: "Given evaluation criteria that outline how you should judge a piece of text, generate 3-4 concise evaluation steps applicable to any text, designed to check whether the criteria are satisfied by the text.",
	user:   "**EVALUATION CRITERIA**\n{{criteria}}",
}

var gevalStepsSchema = ReplySchema{
	Name:    "geval_steps",
	Schema:  object(map[string]any{"steps": listOf(strSchema)}),
	Example: `{"steps": ["step 1", "step 2", "step 3"]}`,
}

var gevalEvalPrompt = graderPrompt{
	system: `You will be given one Reply for a Prompt. Your task is to rate the Reply on one metric, following the evaluation steps.
Give a "score" that is an integer from 0 to 10, where 10 means the condition described by the Evaluation Criteria is fully and clearly observed in the Reply, and 0 that it is not observed at all; and a "reason" for the score that does not quote the score, mentioning specific information from the Prompt and Reply, concisely.`,
	user: "**Evaluation Criteria**\n{{criteria}}\n\n**Evaluation Steps**\n- {{steps}}\n\n**Prompt**\n{{input}}\n\n**Reply**\n{{output}}",
}

var gevalEvalSchema = ReplySchema{
	Name:    "geval_score",
	Schema:  object(map[string]any{"score": map[string]any{"type": "integer"}, "reason": strSchema}),
	Example: `{"score": an integer from 0 to 10, "reason": "..."}`,
}

// newGEval takes value: one criterion text, or a list of them (scores
// averaged, as promptfoo does). rubric_prompt replaces the scoring prompt.
func newGEval(spec Spec) (Assertion, error) {
	var criteria []string
	if _, ok := spec.Value.([]any); ok {
		items, err := listValue(spec)
		if err != nil {
			return nil, err
		}
		criteria = items
		spec.Value = nil
	}
	need := "the evaluation criteria"
	if criteria != nil {
		need = ""
	}
	g, err := gradedSpec(spec, gevalEvalPrompt, 0.7, need)
	if err != nil {
		return nil, err
	}
	if criteria == nil {
		criteria = []string{g.value}
	}
	return checkFunc(func(ctx context.Context, in *Input) (Result, error) {
		var sum float64
		var reasons []string
		for i, crit := range criteria {
			s, why, err := gevalOne(ctx, in, g.prompt, crit)
			if err != nil {
				if len(criteria) > 1 {
					return Result{}, fmt.Errorf("criterion %d of %d: %w", i+1, len(criteria), err)
				}
				return Result{}, err
			}
			sum += s
			reasons = append(reasons, graderReason(why))
		}
		score := sum / float64(len(criteria))
		return scored(score, g.threshold, "G-Eval score", strings.Join(reasons, " | ")), nil
	}), nil
}

func gevalOne(ctx context.Context, in *Input, evalPrompt graderPrompt, criteria string) (float64, string, error) {
	sys, user := gevalStepsPrompt.render(map[string]string{"criteria": criteria}, nil)
	var steps []string
	err := gradeJSON(ctx, in.Grader, sys, user, gevalStepsSchema, func(m map[string]any) bool {
		l, _ := m["steps"].([]any)
		steps = steps[:0]
		for _, s := range l {
			if t, ok := s.(string); ok && strings.TrimSpace(t) != "" {
				steps = append(steps, strings.TrimSpace(t))
			} else {
				return false
			}
		}
		return len(steps) > 0
	})
	if err != nil {
		return 0, "", fmt.Errorf("evaluation steps: %w", err)
	}
	vars := baseVars(in)
	vars["criteria"], vars["steps"], vars["maxScore"] = criteria, strings.Join(steps, "\n- "), strconv.Itoa(gevalMax)
	sys, user = evalPrompt.render(vars, in.Params)
	var score float64
	var why string
	err = gradeJSON(ctx, in.Grader, sys, user, gevalEvalSchema, func(m map[string]any) bool {
		s, ok := m["score"].(float64)
		if !ok {
			if t, isText := m["score"].(string); isText {
				f, err := strconv.ParseFloat(strings.TrimSpace(t), 64)
				s, ok = f, err == nil
			}
		}
		why, _ = m["reason"].(string)
		if !ok || math.IsNaN(s) || s < 0 || s > gevalMax || strings.TrimSpace(why) == "" {
			return false
		}
		score = s / gevalMax
		return true
	})
	if err != nil {
		return 0, "", fmt.Errorf("score: %w", err)
	}
	return score, why, nil
}

// --- select-best ----------------------------------------------------------

var selectBestPrompt = graderPrompt{
	system: "You are comparing multiple pieces of text to see which best fits the following criteria: {{criteria}}\n\nGive the index of the text that best fits the criteria.",
	user:   "Here are the pieces of text:\n\n{{outputs}}",
}

var selectBestSchema = ReplySchema{
	Name:    "best_index",
	Schema:  object(map[string]any{"index": map[string]any{"type": "integer"}, "reason": strSchema}),
	Example: `{"index": the 0-based index of the best text, "reason": "..."}`,
}

type selectBest struct{ graded }

func newSelectBest(spec Spec) (Assertion, error) {
	if err := noThreshold(spec); err != nil {
		return nil, err
	}
	g, err := gradedSpec(spec, selectBestPrompt, 0, "the criteria to choose by")
	if err != nil {
		return nil, err
	}
	return &selectBest{g}, nil
}

func (s *selectBest) Check(context.Context, *Input) (Result, error) {
	return Result{}, errors.New("select-best compares one test's outputs across several models; run the test on several models with matrix: [model, ...] on the suite or the test (it cannot score one output alone)")
}

// CheckAll asks the grader (that of the first input) once for the best of
// the outputs; it passes with score 1, every other output fails with 0.
func (s *selectBest) CheckAll(ctx context.Context, ins []*Input) ([]Result, error) {
	if len(ins) < 2 {
		return nil, fmt.Errorf("select-best needs at least two outputs to compare, got %d", len(ins))
	}
	var texts strings.Builder
	for i, in := range ins {
		fmt.Fprintf(&texts, "<Text index=\"%d\">\n%s\n</Text>\n\n", i, in.Output)
	}
	vars := baseVars(ins[0])
	vars["criteria"], vars["outputs"] = s.value, strings.TrimSpace(texts.String())
	sys, user := s.prompt.render(vars, ins[0].Params)
	best := -1
	var why string
	err := gradeJSON(ctx, ins[0].Grader, sys, user, selectBestSchema, func(m map[string]any) bool {
		f, ok := m["index"].(float64)
		if !ok || f != math.Trunc(f) || f < 0 || int(f) >= len(ins) {
			return false
		}
		best = int(f)
		why, _ = m["reason"].(string)
		return true
	})
	if err != nil {
		return nil, err
	}
	out := make([]Result, len(ins))
	for i := range ins {
		if i == best {
			out[i] = outcome(true, fmt.Sprintf("output selected as the best of %d for %s: %s", len(ins), q(excerpt(s.value, 100)), graderReason(why)))
		} else {
			out[i] = outcome(false, fmt.Sprintf("output not selected; output %d of %d was the best for %s", best+1, len(ins), q(excerpt(s.value, 100))))
		}
	}
	return out, nil
}
