package handlebars

import "testing"

// TestExecMapFlat: which templates take the flat path, and that it gives
// the visitor's output.
func TestExecMapFlat(t *testing.T) {
	ctx := map[string]any{"q": "Tom's <b> & `x` \"y\"", "n": 3.5, "nul": nil, "o": NewObject(0), "e": ""}
	tests := []struct {
		src  string
		flat bool // rendered without the visitor
	}{
		{"Question {{q}}: reply.", true},
		{"{{{q}}} and {{q}}", true},
		{"{{missing}}x", true},
		{"{{e}}", true},
		{"", true},
		{"plain", true},
		{"{{ q }}", true},
		{"{{~q~}} x {{~ q}}", true},
		{"{{n}}", false},   // not a string
		{"{{nul}}", false}, // null
		{"{{o}}", false},   // an object
		{"{{q.length}}", false},
		{"{{length}}", false},
		{"{{this}}", false},
		{"{{@root.q}}", false},
		{"{{../q}}", false},
		{"{{if q}}", false}, // a helper call
		{"{{lookup . \"q\"}}", false},
		{"{{#if q}}y{{/if}}", false},
		{"{{! comment }}x", false},
		{"{{[q]}}", false},
		{"{{true}}", false},
		{"{{1}}", false},
		{"{{> p}}", false},
	}
	for _, tt := range tests {
		tpl, err := Parse(tt.src)
		if err != nil {
			t.Fatalf("%q: %v", tt.src, err)
		}
		_, flat := tpl.execFlat(ctx)
		if flat != tt.flat {
			t.Errorf("%q: flat path %v, want %v", tt.src, flat, tt.flat)
		}
		got, gerr := tpl.ExecMap(ctx)
		want, werr := tpl.Exec(ctx)
		if got != want || (gerr == nil) != (werr == nil) {
			t.Errorf("%q: ExecMap = %q, %v; Exec = %q, %v", tt.src, got, gerr, want, werr)
		}
	}
}

// FuzzExecMap holds the flat path to the visitor's output for any
// template and string values.
func FuzzExecMap(f *testing.F) {
	f.Add("Question {{q}}: reply with the answer 42.", "case-1 <&>'\"`", "")
	f.Add("{{{q}}}{{r}}{{~q}} {{q~}}", "a", "b")
	f.Add("{{q}}{{#if r}}{{/if}}", "x", "")
	f.Add("\n{{q}}\n  {{r}}  \n", "\xff", "é")
	f.Fuzz(func(t *testing.T, src, q, r string) {
		tpl, err := Parse(src)
		if err != nil {
			return
		}
		ctx := map[string]any{"q": q, "r": r, "Q": q, "_1": r}
		got, gerr := tpl.ExecMap(ctx)
		want, werr := tpl.Exec(ctx)
		if got != want || (gerr == nil) != (werr == nil) {
			t.Fatalf("%q: ExecMap = %q, %v; Exec = %q, %v", src, got, gerr, want, werr)
		}
	})
}
