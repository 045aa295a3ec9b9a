package assertions

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/aieval/aieval/internal/fakeopenai"
	"github.com/aieval/aieval/runtime"
	"github.com/aieval/aieval/runtime/cache"
	"github.com/aieval/aieval/runtime/llm"
)

// The graded metrics are tested end to end through the runtime and the
// fake OpenAI server, as eval calls them: the grader adapter below is
// eval/job.go's grader plus the GradeSchema eval is to add.

const graderModel = "grader-model"

type rtGrader struct {
	rt    *runtime.Runtime
	model string
}

func (g rtGrader) Grade(ctx context.Context, system, user string) (string, error) {
	return g.complete(ctx, system, user, nil)
}

func (g rtGrader) complete(ctx context.Context, system, user string, extra map[string]any) (string, error) {
	msgs := []llm.Message{{Role: "system", Content: system}, {Role: "user", Content: user}}
	settings := map[string]any{"temperature": 0}
	for k, v := range extra {
		settings[k] = v
	}
	resp, err := g.rt.Complete(ctx, g.model, msgs, settings)
	if err != nil {
		return "", err
	}
	return resp.Text, nil
}

// rtStructured asks for the reply schema as an OpenAI json_schema
// response format.
type rtStructured struct{ rtGrader }

func (g rtStructured) GradeSchema(ctx context.Context, system, user string, s ReplySchema) (string, error) {
	return g.complete(ctx, system, user, map[string]any{"response_format": map[string]any{
		"type": "json_schema", "json_schema": map[string]any{"name": s.Name, "strict": true, "schema": s.Schema},
	}})
}

type rtEmbedder struct {
	rt    *runtime.Runtime
	model string
}

func (e rtEmbedder) Embed(ctx context.Context, texts []string) ([][]float64, error) {
	return e.rt.Embed(ctx, e.model, texts)
}

// gradeEnv is a fake server answering from a script of grader replies.
type gradeEnv struct {
	srv     *fakeopenai.Server
	rt      *runtime.Runtime
	mu      sync.Mutex
	replies []string
}

func newGradeEnv(t *testing.T, wrap func(llm.Client) llm.Client) *gradeEnv {
	t.Helper()
	t.Setenv("AIEVAL_FAKE_KEY", "sk-test-grader")
	e := &gradeEnv{}
	e.srv = fakeopenai.New(fakeopenai.WithReply(func(fakeopenai.ChatRequest) string {
		e.mu.Lock()
		defer e.mu.Unlock()
		if len(e.replies) == 0 {
			return "no scripted reply left"
		}
		r := e.replies[0]
		e.replies = e.replies[1:]
		return r
	}))
	t.Cleanup(e.srv.Close)
	ep := runtime.Endpoint{BaseURL: e.srv.URL(), APIKeyEnv: "AIEVAL_FAKE_KEY"}
	e.rt = runtime.New(runtime.Options{
		Endpoints: map[string]runtime.Endpoint{graderModel: ep, "embed-model": ep},
		Wrap:      wrap,
	})
	return e
}

func (e *gradeEnv) script(replies ...string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.replies = append([]string(nil), replies...)
}

type gradedCase struct {
	name    string
	spec    Spec
	in      Input
	replies []string
	plain   bool // a grader without structured output
	pass    bool
	score   float64
	reason  string // substring of the reason
	err     string // substring of the error, when one is expected
	calls   int    // chat requests the check makes
}

func runGraded(t *testing.T, cases []gradedCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			env := newGradeEnv(t, nil)
			env.script(tc.replies...)
			if tc.spec.Weight == 0 {
				tc.spec.Weight = 1
			}
			a, err := New(tc.spec)
			if err != nil {
				t.Fatalf("New: %v", err)
			}
			in := tc.in
			base := rtGrader{rt: env.rt, model: graderModel}
			in.Grader = rtStructured{base}
			if tc.plain {
				in.Grader = base
			}
			in.Embedder = rtEmbedder{rt: env.rt, model: "embed-model"}
			r, err := a.Check(context.Background(), &in)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err = %v, want one containing %q (result %+v)", err, tc.err, r)
				}
				if strings.Contains(err.Error(), "\n") {
					t.Errorf("error is not one line: %q", err)
				}
			} else {
				if err != nil {
					t.Fatalf("Check: %v", err)
				}
				if r.Pass != tc.pass || !near(r.Score, tc.score) || !strings.Contains(r.Reason, tc.reason) {
					t.Errorf("result = %+v, want pass %v score %v reason ~%q", r, tc.pass, tc.score, tc.reason)
				}
			}
			bodies := env.srv.Bodies()
			if tc.calls != 0 && len(bodies) != tc.calls {
				t.Errorf("grader got %d requests, want %d", len(bodies), tc.calls)
			}
			for _, b := range bodies {
				hasRF := len(b.ResponseFormat) > 0
				if hasRF == tc.plain {
					t.Errorf("response_format sent = %v for a grader with structured output %v", hasRF, !tc.plain)
				}
				if hasRF && !strings.Contains(string(b.ResponseFormat), `"json_schema"`) {
					t.Errorf("response_format = %s", b.ResponseFormat)
				}
				if len(b.Messages) < 2 || !strings.Contains(b.Messages[0].Content.String(), "Answer with ONLY a JSON object") {
					t.Errorf("system message does not state the reply format: %+v", b.Messages)
				}
			}
		})
	}
}

func TestFactuality(t *testing.T) {
	in := Input{Prompt: "What is the capital of France?", Output: "Paris, a city of 2 million people."}
	spec := Spec{Type: "factuality", Value: "Paris"}
	runGraded(t, []gradedCase{
		{name: "superset passes", spec: spec, in: in, replies: []string{`{"category": "B", "reason": "adds population"}`}, pass: true, score: 1, reason: "consistent superset of the expert answer (category B, score 1.00): adds population", calls: 1},
		{name: "disagreement fails", spec: spec, in: in, replies: []string{`{"category":"D","reason":"says Lyon"}`}, score: 0, reason: "in disagreement", calls: 1},
		{name: "letter in parens", spec: spec, in: in, replies: []string{`{"category":"(e)","reason":"r"}`}, pass: true, score: 1, calls: 1},
		{name: "plain grader fenced", spec: spec, in: in, plain: true, replies: []string{"```json\n{\"category\":\"C\",\"reason\":\"same\"}\n```"}, pass: true, score: 1, calls: 1},
		{name: "not json then good", spec: spec, in: in, plain: true, replies: []string{"(A) it is a subset", `{"category":"A","reason":"subset"}`}, pass: true, score: 1, calls: 2},
		{name: "not json twice", spec: spec, in: in, replies: []string{"I think (A).", "Still (A)\nreally"}, err: `grader reply is not the JSON {"category": "A, B, C, D or E", "reason": "..."} after a retry: "Still (A)\nreally"`, calls: 2},
		{name: "bad category retried", spec: spec, in: in, replies: []string{`{"category":"F","reason":"?"}`, `{"category":"A","reason":"ok"}`}, pass: true, score: 1, calls: 2},
		{name: "custom scores and threshold", spec: Spec{Type: "factuality", Value: map[string]any{"expected": "Paris", "scores": map[string]any{"superset": 0.6}}, Threshold: thr(0.7)}, in: in, replies: []string{`{"category":"B","reason":"more"}`}, score: 0.6, reason: "threshold 0.7", calls: 1},
		{name: "negated", spec: Spec{Type: "not-factuality", Value: "Paris"}, in: in, replies: []string{`{"category":"D","reason":"wrong"}`}, pass: true, score: 1, calls: 1},
		{name: "custom rubric prompt", spec: Spec{Type: "factuality", Value: "Paris", RubricPrompt: "Q={{input}} E={{ideal}} S={{completion}} T={{tone}}"}, in: Input{Prompt: "q?", Output: "o", Params: map[string]any{"tone": "dry"}}, replies: []string{`{"category":"C","reason":"x"}`}, pass: true, score: 1, calls: 1},
	})
}

func TestRubricThroughServer(t *testing.T) {
	in := Input{Prompt: "Plan a day", Output: "1. Museum ($5)\n2. Opera ($90)"}
	runGraded(t, []gradedCase{
		{name: "structured", spec: Spec{Type: "llm-rubric", Value: "cheapest first"}, in: in, replies: []string{`{"pass":true,"score":0.9,"reason":"ordered"}`}, pass: true, score: 0.9, reason: "ordered", calls: 1},
		{name: "plain not json twice", spec: Spec{Type: "llm-rubric", Value: "cheapest first"}, in: in, plain: true, replies: []string{"yes", "yes!"}, err: `after a retry: "yes!"`, calls: 2},
		{name: "rubric_prompt", spec: Spec{Type: "llm-rubric", Value: "cheapest first", RubricPrompt: "Rubric: {{rubric}}\nOutput: {{output}}"}, in: in, replies: []string{`{"pass":false,"score":0.1,"reason":"no"}`}, score: 0.1, reason: "no", calls: 1},
	})
	env := newGradeEnv(t, nil)
	env.script(`{"pass":true,"score":1,"reason":"ok"}`)
	a, err := New(Spec{Type: "llm-rubric", Value: "polite", Weight: 1, RubricPrompt: "R={{rubric}} O={{output}}"})
	must(t, err)
	_, err = a.Check(context.Background(), &Input{Output: "hi", Grader: rtStructured{rtGrader{env.rt, graderModel}}})
	must(t, err)
	if u := env.srv.Bodies()[0].Messages[1].Content.String(); u != "R=polite O=hi" {
		t.Errorf("user = %q", u)
	}
}

func TestCustomPromptRendered(t *testing.T) {
	env := newGradeEnv(t, nil)
	env.script(`{"category":"C","reason":"x"}`)
	a, err := New(Spec{Type: "factuality", Value: "Paris", Weight: 1, RubricPrompt: `[{"role":"system","content":"Judge {{ ideal }}"},{"role":"user","content":"S={{completion}} T={{tone}} U={{unknown}}"}]`})
	must(t, err)
	_, err = a.Check(context.Background(), &Input{Output: "o", Params: map[string]any{"tone": "dry"}, Grader: rtStructured{rtGrader{env.rt, graderModel}}})
	must(t, err)
	b := env.srv.Bodies()[0]
	if sys := b.Messages[0].Content.String(); !strings.HasPrefix(sys, "Judge Paris") || !strings.Contains(sys, `{"category"`) {
		t.Errorf("system = %q", sys)
	}
	if u := b.Messages[1].Content.String(); u != "S=o T=dry U={{unknown}}" {
		t.Errorf("user = %q", u)
	}
	loadErr(t, Spec{Type: "factuality", Value: "x", RubricPrompt: "[{bad"}, "does not parse")
	loadErr(t, Spec{Type: "factuality", Value: "x", RubricPrompt: "   "}, "rubric_prompt is empty")
}

func TestClosedQA(t *testing.T) {
	spec := Spec{Type: "model-graded-closedqa", Value: "mentions a museum"}
	in := Input{Prompt: "Plan my day", Output: "Visit the Met."}
	runGraded(t, []gradedCase{
		{name: "yes", spec: spec, in: in, replies: []string{`{"reasoning":"the Met is a museum","answer":"Y"}`}, pass: true, score: 1, reason: "meets the criterion", calls: 1},
		{name: "no", spec: spec, in: in, replies: []string{`{"reasoning":"no museum","answer":"N"}`}, reason: "does not meet the criterion", calls: 1},
		{name: "garbage", spec: spec, in: in, replies: []string{"Y", "N"}, err: `after a retry: "N"`, calls: 2},
		{name: "not-closedqa", spec: Spec{Type: "not-model-graded-closedqa", Value: "rude"}, in: in, replies: []string{`{"reasoning":"polite","answer":"N"}`}, pass: true, score: 1, calls: 1},
	})
	loadErr(t, Spec{Type: "model-graded-closedqa", Value: "x", Threshold: thr(0.5)}, "threshold is not used")
}

func TestGEval(t *testing.T) {
	in := Input{Prompt: "Write a haiku", Output: "old pond / frog jumps in / splash"}
	steps := `{"steps":["count syllables","check imagery"]}`
	runGraded(t, []gradedCase{
		{name: "pass", spec: Spec{Type: "g-eval", Value: "is a haiku"}, in: in, replies: []string{steps, `{"score":8,"reason":"classic form"}`}, pass: true, score: 0.8, reason: "G-Eval score 0.80, threshold 0.7; classic form", calls: 2},
		{name: "below threshold", spec: Spec{Type: "g-eval", Value: "is a haiku", Threshold: thr(0.9)}, in: in, replies: []string{steps, `{"score":8,"reason":"ok"}`}, score: 0.8, reason: "below the threshold", calls: 2},
		{name: "two criteria averaged", spec: Spec{Type: "g-eval", Value: []any{"is a haiku", "is about nature"}}, in: in, replies: []string{steps, `{"score":10,"reason":"a"}`, steps, `{"score":4,"reason":"b"}`}, pass: true, score: 0.7, reason: "a | b", calls: 4},
		{name: "score out of range retried", spec: Spec{Type: "g-eval", Value: "x"}, in: in, replies: []string{steps, `{"score":11,"reason":"r"}`, `{"score":7,"reason":"r"}`}, pass: true, score: 0.7, calls: 3},
		{name: "steps not json", spec: Spec{Type: "g-eval", Value: "x"}, in: in, replies: []string{"1. count", "2. check"}, err: `evaluation steps: grader reply is not the JSON`, calls: 2},
		{name: "negated", spec: Spec{Type: "not-g-eval", Value: "is rude"}, in: in, replies: []string{steps, `{"score":1,"reason":"polite"}`}, pass: true, score: 0.9, calls: 2},
	})
}

func TestAnswerRelevance(t *testing.T) {
	query := "How tall is the Eiffel Tower?"
	qs := []string{"How tall is the Eiffel Tower?", "What is the height of the Eiffel Tower?", "How high is the tower in Paris?"}
	reply, _ := json.Marshal(map[string]any{"questions": qs})
	var sum float64
	for _, x := range qs {
		c, err := cosine(llm.HashVector(query), llm.HashVector(x))
		must(t, err)
		sum += c
	}
	want := sum / 3
	in := Input{Prompt: "ignored when query is set", Output: "It is 330 metres tall.", Params: map[string]any{"query": query}}
	runGraded(t, []gradedCase{
		{name: "threshold below mean", spec: Spec{Type: "answer-relevance", Threshold: thr(want - 0.01)}, in: in, replies: []string{string(reply)}, pass: true, score: want, reason: "relevance", calls: 1},
		{name: "threshold above mean", spec: Spec{Type: "answer-relevance", Threshold: thr(want + 0.01)}, in: in, replies: []string{string(reply)}, score: want, reason: "below the threshold", calls: 1},
		{name: "not json", spec: Spec{Type: "answer-relevance"}, in: in, replies: []string{"How tall?", "How tall?"}, err: "after a retry", calls: 2},
	})
}

func TestContextMetrics(t *testing.T) {
	params := map[string]any{
		"query":   "When was the Louvre founded?",
		"context": "The Louvre opened in 1793. It is in Paris. It holds the Mona Lisa.",
	}
	in := Input{Prompt: "When was the Louvre founded?", Output: "It opened in 1793 in Paris, with 50 rooms.", Params: params}
	runGraded(t, []gradedCase{
		{name: "recall", spec: Spec{Type: "context-recall", Value: "The Louvre opened in 1793. It has a glass pyramid."}, in: in,
			replies: []string{`{"sentences":[{"sentence":"The Louvre opened in 1793.","attributed":true},{"sentence":"It has a glass pyramid.","attributed":false}]}`},
			pass:    true, score: 0.5, reason: `1 of 2 sentences found in the context; not found: ["It has a glass pyramid."]`, calls: 1},
		{name: "recall strict", spec: Spec{Type: "context-recall", Value: "x", Threshold: thr(0.9)}, in: in,
			replies: []string{`{"sentences":[{"sentence":"a","attributed":true},{"sentence":"b","attributed":false}]}`}, score: 0.5, reason: "below", calls: 1},
		{name: "recall empty list retried then error", spec: Spec{Type: "context-recall", Value: "x"}, in: in, replies: []string{`{"sentences":[]}`, "no idea"}, err: `after a retry: "no idea"`, calls: 2},
		{name: "recall falls back to prompt", spec: Spec{Type: "context-recall", Value: "x"}, in: Input{Prompt: "ctx in prompt", Output: "o"},
			replies: []string{`{"sentences":[{"sentence":"x","attributed":true}]}`}, pass: true, score: 1, calls: 1},
		{name: "relevance", spec: Spec{Type: "context-relevance"}, in: in, replies: []string{`{"sentences":["The Louvre opened in 1793."]}`}, score: 1.0 / 3, reason: "1 of 3 context sentences", calls: 1},
		{name: "relevance threshold", spec: Spec{Type: "context-relevance", Threshold: thr(0.3)}, in: in, replies: []string{`{"sentences":["1. The Louvre opened in 1793."]}`}, pass: true, score: 1.0 / 3, calls: 1},
		{name: "relevance insufficient", spec: Spec{Type: "context-relevance"}, in: in, replies: []string{`{"sentences":[]}`}, score: 0, calls: 1},
		{name: "relevance invented", spec: Spec{Type: "context-relevance"}, in: in, replies: []string{`{"sentences":["The Louvre is huge."]}`}, err: "does not quote the provided context", calls: 1},
		{name: "relevance chunks", spec: Spec{Type: "context-relevance"}, in: Input{Output: "o", Params: map[string]any{"query": "q", "context": []any{"chunk one. more.", "chunk two"}}}, replies: []string{`{"sentences":["chunk two"]}`}, pass: true, score: 0.5, calls: 1},
		{name: "relevance needs query", spec: Spec{Type: "context-relevance"}, in: Input{Output: "o", Params: map[string]any{"context": "c"}}, err: `the test has no "query" param`},
		{name: "faithfulness", spec: Spec{Type: "context-faithfulness"}, in: in,
			replies: []string{`{"statements":["The Louvre opened in 1793.","It is in Paris.","It has 50 rooms."]}`,
				`{"verdicts":[{"statement":"The Louvre opened in 1793.","explanation":"stated","supported":true},{"statement":"It is in Paris.","explanation":"stated","supported":true},{"statement":"It has 50 rooms.","explanation":"not in context","supported":false}]}`},
			pass: true, score: 2.0 / 3, reason: `2 of 3 statements supported by the context; unsupported: ["It has 50 rooms."]`, calls: 2},
		{name: "faithfulness missing verdicts count against", spec: Spec{Type: "context-faithfulness", Threshold: thr(0.9)}, in: in,
			replies: []string{`{"statements":["a","b"]}`, `{"verdicts":[{"statement":"a","explanation":"","supported":true}]}`}, score: 0.5, reason: "below", calls: 2},
		{name: "faithfulness verdict not json", spec: Spec{Type: "context-faithfulness"}, in: in,
			replies: []string{`{"statements":["a"]}`, "Verdict: Yes.", "Verdict: Yes."}, err: "verdicts: grader reply is not the JSON", calls: 3},
		{name: "not-faithfulness", spec: Spec{Type: "not-context-faithfulness"}, in: in,
			replies: []string{`{"statements":["a"]}`, `{"verdicts":[{"statement":"a","explanation":"","supported":false}]}`}, pass: true, score: 1, calls: 2},
	})
	loadErr(t, Spec{Type: "context-recall"}, "missing value")
	loadErr(t, Spec{Type: "context-relevance", Value: "x"}, "value is not used")
}

func TestSelectBest(t *testing.T) {
	env := newGradeEnv(t, nil)
	a, err := New(Spec{Type: "select-best", Value: "the most concise", Weight: 1})
	must(t, err)
	c, ok := a.(Comparer)
	if !ok {
		t.Fatal("select-best is not a Comparer")
	}
	g := rtStructured{rtGrader{env.rt, graderModel}}
	ins := []*Input{{Output: "a long answer with many words", Grader: g}, {Output: "short", Grader: g}, {Output: "medium answer", Grader: g}}
	env.script(`{"index": 1, "reason": "fewest words"}`)
	rs, err := c.CheckAll(context.Background(), ins)
	must(t, err)
	if len(rs) != 3 || rs[0].Pass || !rs[1].Pass || rs[2].Pass || rs[1].Score != 1 || rs[0].Score != 0 {
		t.Fatalf("results = %+v", rs)
	}
	if !strings.Contains(rs[1].Reason, "fewest words") || !strings.Contains(rs[0].Reason, "output 2 of 3 was the best") {
		t.Errorf("reasons = %q / %q", rs[1].Reason, rs[0].Reason)
	}
	if u := env.srv.Bodies()[0].Messages[1].Content.String(); !strings.Contains(u, "<Text index=\"1\">\nshort\n</Text>") {
		t.Errorf("user prompt = %q", u)
	}
	env.script(`{"index": 3, "reason": "x"}`, `{"index": 7}`)
	if _, err := c.CheckAll(context.Background(), ins); err == nil || !strings.Contains(err.Error(), "after a retry") {
		t.Errorf("out of range: err = %v", err)
	}
	n, err := New(Spec{Type: "not-select-best", Value: "concise", Weight: 1})
	must(t, err)
	env.script(`{"index": 0, "reason": "x"}`)
	rs, err = n.(Comparer).CheckAll(context.Background(), ins[:2])
	must(t, err)
	if rs[0].Pass || !rs[1].Pass {
		t.Errorf("negated = %+v", rs)
	}
	if _, err := a.Check(context.Background(), ins[0]); err == nil || !strings.Contains(err.Error(), "matrix: [model, ...]") {
		t.Errorf("single Check: err = %v", err)
	}
	if _, err := c.CheckAll(context.Background(), ins[:1]); err == nil || !strings.Contains(err.Error(), "at least two outputs") {
		t.Errorf("one output: err = %v", err)
	}
}

// Grader calls go through the runtime's wrapped parsers, so the cache
// records them and --offline replays them without the server.
func TestGradedCachedAndOffline(t *testing.T) {
	dir := t.TempDir()
	open := func(offline bool) func(llm.Client) llm.Client {
		c, err := cache.Open(dir, cache.ReadWrite, cache.Options{Offline: offline})
		must(t, err)
		return func(p llm.Client) llm.Client { return c.Wrap(p) }
	}
	spec := Spec{Type: "factuality", Value: "Paris", Weight: 1}
	in := Input{Prompt: "Capital of France?", Output: "Paris"}
	check := func(env *gradeEnv) (Result, error) {
		a, err := New(spec)
		must(t, err)
		x := in
		x.Grader = rtStructured{rtGrader{env.rt, graderModel}}
		return a.Check(context.Background(), &x)
	}
	rec := newGradeEnv(t, open(false))
	rec.script(`{"category":"C","reason":"same"}`)
	r, err := check(rec)
	must(t, err)
	// The same endpoint (it is part of the cache key), offline.
	ep := runtime.Endpoint{BaseURL: rec.srv.URL(), APIKeyEnv: "AIEVAL_FAKE_KEY"}
	replay := &gradeEnv{srv: rec.srv, rt: runtime.New(runtime.Options{Endpoints: map[string]runtime.Endpoint{graderModel: ep}, Wrap: open(true)})}
	before := rec.srv.Requests()
	r2, err := check(replay)
	must(t, err)
	if r2.Pass != r.Pass || r2.Reason != r.Reason || rec.srv.Requests() != before {
		t.Errorf("offline replay = %+v after %d requests, want %+v from the cache", r2, rec.srv.Requests()-before, r)
	}
	spec.Value = "Lyon" // a new grader prompt: a miss, which offline refuses
	if _, err := check(replay); err == nil || !strings.Contains(err.Error(), "offline") || rec.srv.Requests() != before {
		t.Errorf("offline miss: err = %v, requests %d", err, rec.srv.Requests()-before)
	}
}

type fakeModerator struct {
	m   Moderation
	err error
}

func (f fakeModerator) Moderate(context.Context, string) (Moderation, error) { return f.m, f.err }

func TestModeration(t *testing.T) {
	hate := fakeModerator{m: Moderation{Flagged: true, Categories: map[string]bool{"hate": true, "violence": false}}}
	clean := fakeModerator{m: Moderation{Categories: map[string]bool{"hate": false}}}
	runCases(t, []checkCase{
		{name: "clean", spec: Spec{Type: "moderation"}, in: Input{Output: "hello", Moderator: clean}, pass: true, score: 1, reason: "flags nothing"},
		{name: "flagged", spec: Spec{Type: "moderation"}, in: Input{Output: "x", Moderator: hate}, reason: "flags the output: hate"},
		{name: "flagged but not considered", spec: Spec{Type: "moderation", Value: []any{"violence", "self-harm"}}, in: Input{Output: "x", Moderator: hate}, pass: true, score: 1, reason: "not considered"},
		{name: "considered", spec: Spec{Type: "moderation", Value: []any{"hate"}}, in: Input{Output: "x", Moderator: hate}, reason: "hate"},
		{name: "empty output", spec: Spec{Type: "moderation"}, in: Input{Output: " "}, pass: true, score: 1, reason: "no output"},
		{name: "not-moderation", spec: Spec{Type: "not-moderation"}, in: Input{Output: "x", Moderator: hate}, pass: true, score: 1},
	})
	a, err := New(Spec{Type: "moderation", Weight: 1})
	must(t, err)
	if _, err := a.Check(context.Background(), &Input{Output: "x"}); err == nil || !strings.Contains(err.Error(), "no moderation endpoint") {
		t.Errorf("no moderator: err = %v", err)
	}
	loadErr(t, Spec{Type: "moderation", Value: []any{"hat"}}, `unknown moderation category "hat" (did you mean hate?)`)
	loadErr(t, Spec{Type: "moderation", Threshold: thr(0.5)}, "threshold is not used")
}

// httpModerator is a Moderator over an OpenAI-compatible /moderations
// endpoint, decoding categories as a map (go-openai's struct lacks the
// illicit ones): the shape eval's Moderator is to have.
type httpModerator struct{ base, keyEnv string }

func (m httpModerator) Moderate(ctx context.Context, text string) (Moderation, error) {
	body, _ := json.Marshal(map[string]any{"model": "omni-moderation-latest", "input": text})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, m.base+"/moderations", bytes.NewReader(body))
	if err != nil {
		return Moderation{}, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+os.Getenv(m.keyEnv))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return Moderation{}, err
	}
	defer resp.Body.Close()
	var r struct {
		Results []struct {
			Flagged    bool               `json:"flagged"`
			Categories map[string]bool    `json:"categories"`
			Scores     map[string]float64 `json:"category_scores"`
		} `json:"results"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&r); err != nil || len(r.Results) != 1 {
		return Moderation{}, fmt.Errorf("moderations: status %d, bad body (%v)", resp.StatusCode, err)
	}
	x := r.Results[0]
	return Moderation{Flagged: x.Flagged, Categories: x.Categories, Scores: x.Scores}, nil
}

func TestModerationThroughServer(t *testing.T) {
	t.Setenv("AIEVAL_FAKE_KEY", "sk-test-mod")
	srv := fakeopenai.New(fakeopenai.WithModeration(func(text string) []string {
		if strings.Contains(text, "hate") {
			return []string{"hate", "illicit"}
		}
		return nil
	}))
	defer srv.Close()
	mod := httpModerator{base: srv.URL(), keyEnv: "AIEVAL_FAKE_KEY"}
	runCases(t, []checkCase{
		{name: "clean", spec: Spec{Type: "moderation"}, in: Input{Output: "a kind word", Moderator: mod}, pass: true, score: 1},
		{name: "flagged", spec: Spec{Type: "moderation"}, in: Input{Output: "some hate", Moderator: mod}, reason: "flags the output: hate, illicit"},
		{name: "filtered", spec: Spec{Type: "moderation", Value: []any{"violence"}}, in: Input{Output: "some hate", Moderator: mod}, pass: true, score: 1},
	})
	if srv.ModerationRequests() != 3 || srv.Authorizations()["Bearer sk-test-mod"] != 3 {
		t.Errorf("moderation requests %d, auth %v", srv.ModerationRequests(), srv.Authorizations())
	}
}
