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
