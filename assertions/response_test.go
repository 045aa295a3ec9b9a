package assertions

import "testing"

func TestResponseAssertions(t *testing.T) {
	refused := Input{Output: "I can't help with that.", Refusal: true}
	runCases(t, []checkCase{
		{name: "API refusal", spec: Spec{Type: "is-refusal"}, in: refused, pass: true, score: 1, reason: "refused"},
		{name: "refusal phrase", spec: Spec{Type: "is-refusal"}, in: Input{Output: "I’m sorry, but I can’t do that."}, pass: true, score: 1, reason: "refusal"},
		{name: "an answer", spec: Spec{Type: "is-refusal"}, in: Input{Output: "Paris."}, pass: false, score: 0, reason: "did not refuse"},
		{name: "quoted later is no refusal", spec: Spec{Type: "is-refusal"}, in: Input{Output: `He said "I can't help with that".`}, pass: false, score: 0},
		{name: "not-is-refusal on a refusal", spec: Spec{Type: "not-is-refusal"}, in: refused, pass: false, score: 0, reason: "but must not"},
		{name: "not-is-refusal on an answer", spec: Spec{Type: "not-is-refusal"}, in: Input{Output: "Paris."}, pass: true, score: 1},
		{name: "finish stop", spec: Spec{Type: "finish-reason", Value: "stop"}, in: Input{FinishReason: "stop"}, pass: true, score: 1},
		{name: "cut by length", spec: Spec{Type: "finish-reason", Value: "stop"}, in: Input{FinishReason: "length"}, pass: false, score: 0, reason: "finish reason is length, want stop"},
		{name: "not content filter", spec: Spec{Type: "not-finish-reason", Value: "content_filter"}, in: Input{FinishReason: "content_filter"}, pass: false, score: 0},
		{name: "none reported", spec: Spec{Type: "finish-reason", Value: "STOP"}, in: Input{}, pass: false, score: 0, reason: "(none reported)"},
	})
	loadErr(t, Spec{Type: "is-refusal", Value: "x"}, "takes no value")
	loadErr(t, Spec{Type: "finish-reason"}, "value must be one of")
	loadErr(t, Spec{Type: "finish-reason", Value: "stopp"}, "did you mean stop?")
	loadErr(t, Spec{Type: "finish-reason", Value: "stop", Threshold: thr(0.5)}, "threshold is not used")
}
