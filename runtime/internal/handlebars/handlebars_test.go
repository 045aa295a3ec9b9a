package handlebars

import "testing"

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
