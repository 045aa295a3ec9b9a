package assertions

import (
	"context"
	"errors"
	"strings"
	"testing"
)

// fakeGrader answers from a script of replies and records the prompts.
type fakeGrader struct {
	replies []string
	err     error
	systems []string
	users   []string
}

func (g *fakeGrader) Grade(_ context.Context, system, user string) (string, error) {
	g.systems = append(g.systems, system)
	g.users = append(g.users, user)
	if g.err != nil {
		return "", g.err
	}
	if len(g.replies) == 0 {
		return "", errors.New("fake grader: no reply left")
	}
	r := g.replies[0]
	g.replies = g.replies[1:]
	return r, nil
}

func TestRubric(t *testing.T) {
	const good = `{"pass": true, "score": 0.9, "reason": "ordered by price"}`
	for _, tc := range []struct {
		name      string
		threshold *float64
		typ       string
		replies   []string
		pass      bool
		score     float64
		reason    string
		calls     int
	}{
		{name: "good json", replies: []string{good}, pass: true, score: 0.9, reason: "output meets the rubric (score 0.90): ordered by price", calls: 1},
		{name: "fenced json", replies: []string{"```json\n" + good + "\n```"}, pass: true, score: 0.9, calls: 1},
		{name: "chatter around", replies: []string{`Sure. {"pass": false, "score": 0.2, "reason": "random order"} Hope it helps`}, score: 0.2, reason: `output does not meet the rubric "Cheapest first" (score 0.20): random order`, calls: 1},
		{name: "pass as text, no score", replies: []string{`{"pass": "false", "reason": "no"}`}, score: 0, calls: 1},
		{name: "garbage then good", replies: []string{"I think it is fine.", good}, pass: true, score: 0.9, calls: 2},
		{name: "score out of range retried", replies: []string{`{"pass": true, "score": 9}`, good}, pass: true, score: 0.9, calls: 2},
		{name: "threshold overrides pass", threshold: thr(0.95), replies: []string{good}, score: 0.9, reason: "(score 0.90, threshold 0.95)", calls: 1},
		{name: "threshold passes low pass", threshold: thr(0.5), replies: []string{`{"pass": false, "score": 0.6, "reason": "meh"}`}, pass: true, score: 0.6, calls: 1},
		{name: "threshold needs score", threshold: thr(0.5), replies: []string{`{"pass": true}`, good}, pass: true, score: 0.9, calls: 2},
		{name: "negated", typ: "not-llm-rubric", replies: []string{good}, score: 1 - 0.9, reason: "ordered by price but must not", calls: 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			typ := tc.typ
			if typ == "" {
				typ = "llm-rubric"
			}
			a, err := New(Spec{Type: typ, Value: "Cheapest first", Threshold: tc.threshold, Weight: 1})
			must(t, err)
			g := &fakeGrader{replies: tc.replies}
			r, err := a.Check(context.Background(), &Input{Output: "1. Museum ($5)\n2. Opera ($90)", Grader: g})
			must(t, err)
			if r.Pass != tc.pass || !near(r.Score, tc.score) || !strings.Contains(r.Reason, tc.reason) {
				t.Errorf("result = %+v, want pass %v score %v reason ~%q", r, tc.pass, tc.score, tc.reason)
			}
			if len(g.users) != tc.calls {
				t.Errorf("grader called %d times, want %d", len(g.users), tc.calls)
			}
			if !strings.Contains(g.users[0], "Cheapest first") || !strings.Contains(g.users[0], "2. Opera ($90)") {
				t.Errorf("grader prompt lacks rubric or output: %q", g.users[0])
			}
			if !strings.Contains(g.systems[0], `{"pass": true or false, "score"`) {
				t.Errorf("system prompt does not state the JSON protocol: %q", g.systems[0])
			}
			if tc.calls == 2 && !strings.Contains(g.users[1], "previous reply was not the required JSON") {
				t.Errorf("retry prompt = %q", g.users[1])
			}
		})
	}
}

func TestRubricErrors(t *testing.T) {
	a, err := New(Spec{Type: "llm-rubric", Value: "polite", Weight: 1})
	must(t, err)
	ctx := context.Background()

	g := &fakeGrader{replies: []string{"nope", "still not json"}}
	_, err = a.Check(ctx, &Input{Output: "x", Grader: g})
	if err == nil || !strings.Contains(err.Error(), `grader reply is not the JSON {pass, score, reason} after a retry: "still not json"`) {
		t.Errorf("garbage twice: err = %v", err)
	}
	if len(g.users) != 2 {
		t.Errorf("garbage twice: %d calls, want 2", len(g.users))
	}

	g = &fakeGrader{err: errors.New("status 503")}
	_, err = a.Check(ctx, &Input{Output: "x", Grader: g})
	if err == nil || !strings.Contains(err.Error(), "ask grader: status 503") || len(g.users) != 1 {
		t.Errorf("grader down: err = %v after %d calls", err, len(g.users))
	}

	_, err = a.Check(ctx, &Input{Output: "x"})
	if err == nil || !strings.HasPrefix(err.Error(), "no grader model configured") {
		t.Errorf("nil grader: err = %v", err)
	}
}

func TestRubricLoadErrors(t *testing.T) {
	loadErr(t, Spec{Type: "llm-rubric"}, "missing value")
	loadErr(t, Spec{Type: "llm-rubric", Value: "  "}, "write the rubric")
	loadErr(t, Spec{Type: "llm-rubric", Value: "ok", Threshold: thr(1.5)}, "threshold 1.5 must be between 0 and 1")
}

// fakeEmbedder maps each text to a fixed vector.
type fakeEmbedder struct {
	vecs map[string][]float64
	err  error
}

func (e fakeEmbedder) Embed(_ context.Context, texts []string) ([][]float64, error) {
	if e.err != nil {
		return nil, e.err
	}
	out := make([][]float64, len(texts))
	for i, s := range texts {
		out[i] = e.vecs[s]
	}
	return out, nil
}

func TestSimilar(t *testing.T) {
	emb := fakeEmbedder{vecs: map[string][]float64{
		"hello":     {1, 0},
		"hi there":  {0.9, 0.1}, // cosine ~0.994
		"goodbye":   {0.6, 0.8}, // cosine 0.6
		"opposite":  {-1, 0},    // cosine -1
		"zero":      {0, 0},     // invalid
		"three-dim": {1, 0, 0},  // size mismatch
	}}
	runCases(t, []checkCase{
		{name: "similar pass", spec: Spec{Type: "similar", Value: "hello"}, in: Input{Output: "hi there", Embedder: emb}, pass: true, any: true, reason: "output is similar to \"hello\" (cosine 0.994, threshold 0.8)"},
		{name: "similar fail default", spec: Spec{Type: "similar", Value: "hello"}, in: Input{Output: "goodbye", Embedder: emb}, score: 0.6, reason: "not similar enough to \"hello\" (cosine 0.600 < 0.8)"},
		{name: "similar low threshold", spec: Spec{Type: "similar", Value: "hello", Threshold: thr(0.5)}, in: Input{Output: "goodbye", Embedder: emb}, pass: true, score: 0.6},
		{name: "negative cosine clamps", spec: Spec{Type: "similar", Value: "hello"}, in: Input{Output: "opposite", Embedder: emb}, score: 0},
		{name: "not-similar pass", spec: Spec{Type: "not-similar", Value: "hello"}, in: Input{Output: "goodbye", Embedder: emb}, pass: true, score: 0.4},
	})
	a, err := New(Spec{Type: "similar", Value: "hello", Weight: 1})
	must(t, err)
	for _, tc := range []struct {
		name string
		in   Input
		want string
	}{
		{"no embedder", Input{Output: "x"}, "no embedding model configured"},
		{"embed error", Input{Output: "x", Embedder: fakeEmbedder{err: errors.New("status 500")}}, "embed texts: status 500"},
		{"zero vector", Input{Output: "zero", Embedder: emb}, "zero vector"},
		{"size mismatch", Input{Output: "three-dim", Embedder: emb}, "sizes 2 and 3"},
	} {
		if _, err := a.Check(context.Background(), &tc.in); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err = %v, want %q", tc.name, err, tc.want)
		}
	}
	loadErr(t, Spec{Type: "similar", Value: "x", Threshold: thr(-0.1)}, "between 0 and 1")
	loadErr(t, Spec{Type: "similar"}, "missing value")
}
