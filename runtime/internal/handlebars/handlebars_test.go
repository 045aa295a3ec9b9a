package handlebars

import (
	"reflect"
	"testing"
)

func TestChanges(t *testing.T) {
	o := NewObject(3)
	o.Set("zeta", "1")
	o.Set("alpha", "2")
	o.Set("zeta", "3") // keeps its place
	ctx := map[string]any{"s": "Tom's `x` <a href=\"y\">&", "list": []any{"a", "b"}, "o": o, "e": NewObject(0), "emoji": "a😀"}
	tests := []struct{ src, want string }{
		{"{{s}}", "Tom&#x27;s &#x60;x&#x60; &lt;a href=&quot;y&quot;&gt;&amp;"},
		{"{{{s}}}", "Tom's `x` <a href=\"y\">&"},
		{"{{list.length}} {{s.length}} {{emoji.length}} {{o.length}}", "2 23 3 "},
		{"{{#each o}}{{@index}}:{{@key}}={{this}};{{/each}}", "0:zeta=3;1:alpha=2;"},
		{"{{o.zeta}} {{#with o}}{{alpha}}{{/with}} {{lookup o \"alpha\"}}", "3 2 2"},
		{"{{#if e}}full{{else}}empty{{/if}} {{#if o}}full{{/if}}", "empty full"},
		{"{{o.keys}}{{o.Len}}", ""},
	}
	for _, tt := range tests {
		got, err := Render(tt.src, ctx)
		if err != nil || got != tt.want {
			t.Errorf("%s = %q, %v; want %q", tt.src, got, err, tt.want)
		}
	}
}

type named string

func (n named) String() string { return "named:" + string(n) }

type plain string

// TestStrFastPath: Str's shortcut for strings gives what the reflective
// path (fmt's %s) gives, and types with their own String still use it.
func TestStrFastPath(t *testing.T) {
	for _, v := range []any{"", "a", "Tom's <b>", "\xff", named("x"), plain("y"), []any{"a", named("b"), 1}} {
		if got, want := Str(v), strValue(reflect.ValueOf(v)); got != want {
			t.Errorf("Str(%#v) = %q, reflective path %q", v, got, want)
		}
	}
	if got := Str(named("x")); got != "named:x" {
		t.Errorf("Str(named) = %q", got)
	}
	if got := Str(plain("y")); got != "y" {
		t.Errorf("Str(plain) = %q", got)
	}
}
