package reporters

import (
	"fmt"

	"github.com/aieval/aieval/internal/text"
)

// DefaultMaxOutput caps outputs written into reports when Options.MaxOutput is 0.
const DefaultMaxOutput = text.DefaultMax

// seconds formats milliseconds as seconds with 3 decimals, as JUnit's
// SUREFIRE_TIME wants (no sign, no exponent).
func seconds(ms float64) string {
	ms = text.Finite(ms)
	if ms < 0 {
		ms = 0
	}
	return fmt.Sprintf("%.3f", ms/1000)
}

// plural returns "1 test" / "2 tests".
func plural(n int, word string) string {
	if n == 1 {
		return fmt.Sprintf("%d %s", n, word)
	}
	return fmt.Sprintf("%d %ss", n, word)
}
