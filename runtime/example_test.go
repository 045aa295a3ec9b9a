package runtime_test

import (
	"context"
	"fmt"
	"log"

	"github.com/aieval/aieval/runtime"
)

// The README's runtime example, on the built-in echo model so it runs
// offline: the chained prompt runs its dependency first.
func ExampleRuntime_Run() {
	cfg, err := runtime.Parse([]byte(`{
  "name": "trip", "schema_version": "latest",
  "metadata": {"models": {"echo": {}}, "default_model": "echo",
               "parameters": {"order_by": "location"}},
  "prompts": [
    {"name": "get_activities", "input": "Tell me 3 fun attractions in NYC."},
    {"name": "gen_itinerary", "input": "Order by {{order_by}}: {{get_activities.output}}"}
  ]
}`), "trip.aiconfig.json")
	if err != nil {
		log.Fatal(err)
	}
	rt := runtime.New(runtime.Options{})
	res, err := rt.Run(context.Background(), cfg, "gen_itinerary", runtime.RunOptions{
		Params: map[string]any{"order_by": "price"},
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(res.Output)
	// Output: Order by price: Tell me 3 fun attractions in NYC.
}

// Monitoring without a proxy: register a callback and forward each event
// to whatever the team already watches (here, printed). Events carry the
// AIConfig SDK's names; a model call's on_run_complete carries its model,
// token usage, latency and whether the cache answered it.
func ExampleCallbackManager() {
	cfg, err := runtime.Parse([]byte(`{
  "name": "trip", "schema_version": "latest",
  "metadata": {"models": {"echo": {}}, "default_model": "echo"},
  "prompts": [{"name": "get_activities", "input": "Tell me 3 fun attractions in {{city}}."}]
}`), "trip.aiconfig.json")
	if err != nil {
		log.Fatal(err)
	}
	cbs := runtime.NewCallbackManager(func(ctx context.Context, ev runtime.Event) {
		switch ev.Name {
		case runtime.EventRunDone:
			fmt.Printf("%s [%s] model=%v output=%q\n", ev.Name, ev.Scope, ev.Data["model"], ev.Data["output"])
		default:
			fmt.Printf("%s [%s] prompt=%v\n", ev.Name, ev.Scope, ev.Data["prompt"])
		}
	})
	rt := runtime.New(runtime.Options{Callbacks: cbs})
	// A scope ties the events of one unit of work together (eval uses one
	// per test run).
	ctx := runtime.WithScope(context.Background(), "nyc")
	if _, err := rt.Run(ctx, cfg, "get_activities", runtime.RunOptions{Params: map[string]any{"city": "NYC"}}); err != nil {
		log.Fatal(err)
	}
	// Output:
	// on_resolve_start [nyc] prompt=get_activities
	// on_resolve_complete [nyc] prompt=get_activities
	// on_run_start [nyc] prompt=get_activities
	// on_run_complete [nyc] model=echo output="Tell me 3 fun attractions in NYC."
}
