//go:build !(linux || darwin)

// Command bench measures aieval at scale; it needs Linux or macOS (child
// rusage, process signals).
package main

import (
	"fmt"
	"os"
)

func main() {
	fmt.Fprintln(os.Stderr, "bench: needs linux or darwin (it reads the child's rusage)")
	os.Exit(2)
}
