package assertions

import (
	"context"
	"testing"
)

// A passing not- check must not build the diff its inner failure carries;
// a failing plain check must.
func TestDiffOnlyOnFinalFailure(t *testing.T) {
	in := &Input{Output: "hello there"}
	plain, err := New(Spec{Type: "equals", Value: "hello world", Weight: 1})
	if err != nil {
		t.Fatal(err)
	}
	r, err := plain.Check(context.Background(), in)
	if err != nil || r.Pass || r.Diff == "" {
		t.Fatalf("equals on a mismatch: pass=%v diff=%q err=%v, want a failure with a diff", r.Pass, r.Diff, err)
	}
	neg, err := New(Spec{Type: "not-equals", Value: "hello world", Weight: 1})
	if err != nil {
		t.Fatal(err)
	}
	r, err = neg.Check(context.Background(), in)
	if err != nil || !r.Pass || r.Diff != "" || r.diff.set {
		t.Fatalf("not-equals on a mismatch: pass=%v diff=%q lazy=%v, want a pass without a diff", r.Pass, r.Diff, r.diff.set)
	}
}
