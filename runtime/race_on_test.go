//go:build race

package runtime

// raceEnabled: timing bounds do not hold under the race detector.
const raceEnabled = true
