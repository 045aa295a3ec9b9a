package runtime

import (
	"context"
	"strconv"
	"testing"

	"github.com/aieval/aieval/runtime/cache"
	"github.com/aieval/aieval/runtime/llm"
)

// BenchmarkRunEcho is one test's prompt run as eval runs it: a one-variable
// template on the echo parser behind a Memo, distinct params each time.
//
//	go test -run '^$' -bench RunEcho -benchmem ./runtime
func BenchmarkRunEcho(b *testing.B) {
	c, err := Parse([]byte(`{
  "name": "trip", "schema_version": "latest",
  "metadata": {"models": {"echo": {"model": "echo"}}, "default_model": "echo"},
  "prompts": [
    {"name": "get_activities", "input": "Tell me 10 fun attractions to do in {{city}}."},
    {"name": "gen_itinerary", "input": "Itinerary ordered by {{order_by}} for: {{get_activities.output}}",
     "metadata": {"parameters": {"order_by": "location"}}}
  ]
}`), "trip.aiconfig.json")
	if err != nil {
		b.Fatal(err)
	}
	rt := New(Options{
		Parsers: map[string]llm.Client{ParserEcho: llm.Echo{}},
		Wrap:    func(p llm.Client) llm.Client { return cache.NewMemo(p, 0) },
	})
	ctx := context.Background()
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		res, err := rt.Run(ctx, c, "get_activities", RunOptions{Params: map[string]any{"city": "city " + strconv.Itoa(i)}})
		if err != nil || res.Output == "" {
			b.Fatal(err)
		}
	}
}
