package assertions

import (
	"context"
	"errors"
	"testing"
)

func TestTransformApply(t *testing.T) {
	in := &Input{Output: `{"a": {"b": [1, "two", {"c": true}]}, "t": "Answer: 42"}`}
	for _, c := range []struct {
		v        any
		want     string
		mismatch bool
	}{
		{"$.t", "Answer: 42", false},
		{"$.a.b[0]", "1", false},
		{"$.a.b[2]", `{"c":true}`, false},
		{"$.a.b[*]", `[1,"two",{"c":true}]`, false},
		{map[string]any{"json_path": "$.a.b[1]"}, "two", false},
		{"$.missing", "", true},
		{map[string]any{"regex": `Answer: (\d+)`}, "42", false},
		{map[string]any{"regex": `"t"`}, `"t"`, false},
		{map[string]any{"regex": `(x)?(Answer)`, "group": 2}, "Answer", false},
		{map[string]any{"regex": `(a)|(Answer)`, "group": 1}, "a", false},
		{map[string]any{"regex": `nope (x)`}, "", true},
		{map[string]any{"exec": "sh -c 'cat >/dev/null; printf \"out\\n\\n\"'"}, "out", false},
	} {
		tr, err := NewTransform(c.v, t.TempDir(), nil)
		if err != nil {
			t.Fatalf("%v: %v", c.v, err)
		}
		got, err := tr.Apply(context.Background(), in)
		var mm *TransformMismatch
		if c.mismatch != errors.As(err, &mm) || (!c.mismatch && err != nil) || got != c.want {
			t.Errorf("%v: %q, %v; want %q (mismatch %v)", c.v, got, err, c.want, c.mismatch)
		}
	}
	tr, _ := NewTransform(map[string]any{"exec": "sh -c 'exit 4'"}, t.TempDir(), nil)
	if _, err := tr.Apply(context.Background(), in); err == nil || errors.As(err, new(*TransformMismatch)) {
		t.Errorf("non-zero exit: %v, want an error that is not a mismatch", err)
	}
	if tr.String() != "exec sh -c exit 4" || !tr.ReadsParams() {
		t.Errorf("exec transform: %q reads params %v", tr.String(), tr.ReadsParams())
	}
}

type pickFirst struct{}

func (pickFirst) Check(context.Context, *Input) (Result, error) { return Result{}, errors.New("alone") }
func (pickFirst) CheckAll(_ context.Context, ins []*Input) ([]Result, error) {
	rs := make([]Result, len(ins))
	for i, in := range ins {
		rs[i] = Result{Pass: in.Output == "A", Score: 1}
	}
	return rs, nil
}

// A transform keeps a comparer a comparer (select-best over a matrix).
func TestWithTransformComparer(t *testing.T) {
	tr, _ := NewTransform("$.x", "", nil)
	a := WithTransform(pickFirst{}, tr)
	c, ok := a.(Comparer)
	if !ok {
		t.Fatal("WithTransform dropped the Comparer interface")
	}
	rs, err := c.CheckAll(context.Background(), []*Input{{Output: `{"x": "A"}`}, {Output: `{"x": "B"}`}, {Output: "prose"}})
	if err != nil || len(rs) != 3 || !rs[0].Pass || rs[1].Pass || *rs[0].Transformed != "A" || rs[2].Transformed != nil {
		t.Errorf("CheckAll = %+v, %v", rs, err)
	}
	if WithTransform(pickFirst{}, nil) != (pickFirst{}) {
		t.Error("a nil transform must leave the assertion as is")
	}
}
