package main

import "testing"

func TestMemLimitFor(t *testing.T) {
	const mib = 1 << 20
	for _, c := range []struct {
		live uint64
		want int64
	}{
		{0, 20 * mib},          // the floor
		{5 * mib, 20 * mib},    // 2×5+8 = 18 < 20
		{10 * mib, 28 * mib},   // twice the live heap plus 8 MiB
		{24 * mib, 56 * mib},   // where the headroom reaches its cap
		{40 * mib, 72 * mib},   // live + 24 + 8, not 2×40+8 = 88
		{100 * mib, 132 * mib}, // a large run keeps a fixed headroom
	} {
		if got := memLimitFor(c.live); got != c.want {
			t.Errorf("memLimitFor(%d MiB) = %d MiB, want %d MiB", c.live/mib, got/mib, c.want/mib)
		}
	}
}
