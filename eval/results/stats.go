package results

import (
	"math"
	"math/rand/v2"
	"slices"
)

// Wilson returns the 95% Wilson score interval for passed out of n. It
// stays sensible at small n and at 0% or 100%, where the normal
// approximation collapses to a zero-width interval.
func Wilson(passed, n int) (low, high float64) {
	if n <= 0 {
		return 0, 1
	}
	const z = 1.959963984540054
	p := float64(passed) / float64(n)
	nf := float64(n)
	denom := 1 + z*z/nf
	center := (p + z*z/(2*nf)) / denom
	half := z * math.Sqrt(p*(1-p)/nf+z*z/(4*nf*nf)) / denom
	return math.Max(0, center-half), math.Min(1, center+half)
}

// PassAtK is the unbiased estimate of pass@k from n runs of which c passed:
// the chance that at least one of k runs drawn without replacement passes,
// 1 - C(n-c, k)/C(n, k) (Chen et al. 2021).
func PassAtK(n, c, k int) float64 {
	if n <= 0 || k <= 0 || k > n {
		return 0
	}
	if n-c < k {
		return 1
	}
	p := 1.0
	for i := n - c + 1; i <= n; i++ {
		p *= 1 - float64(k)/float64(i)
	}
	return 1 - p
}

// PassHatK is pass^k: the chance that all of k runs drawn without
// replacement from n (c passed) pass, C(c, k)/C(n, k) (Yao et al. 2024).
func PassHatK(n, c, k int) float64 {
	if n <= 0 || k <= 0 || k > n || c < k {
		return 0
	}
	p := 1.0
	for i := 0; i < k; i++ {
		p *= float64(c-i) / float64(n-i)
	}
	return p
}

// Bootstrap resamples and bootstrapExact bound the work of Bootstrap: up
// to bootstrapExact scores the interval is the percentile bootstrap of
// the mean; above, where the bootstrap distribution of a mean is normal
// for every practical purpose, it is the normal interval (the same
// numbers without 1000 passes over 100k scores).
const (
	bootstrapResamples = 2000
	bootstrapExact     = 5000
	bootstrapSeed      = 0x5eed_a1e7a1
)

// Bootstrap is the 95% interval of the mean of xs: the 2.5th and 97.5th
// percentiles of the means of resamples drawn with a fixed seed, so the
// same scores always give the same interval. One score (or none) gives
// a zero-width interval at it.
func Bootstrap(xs []float64) (low, high float64) {
	n := len(xs)
	switch {
	case n == 0:
		return 0, 0
	case n == 1:
		return xs[0], xs[0]
	}
	mean := 0.0
	for _, x := range xs {
		mean += x
	}
	mean /= float64(n)
	if n > bootstrapExact {
		ss := 0.0
		for _, x := range xs {
			ss += (x - mean) * (x - mean)
		}
		half := 1.959963984540054 * math.Sqrt(ss/float64(n-1)/float64(n))
		return mean - half, mean + half
	}
	rng := rand.New(rand.NewPCG(bootstrapSeed, uint64(n)))
	means := make([]float64, bootstrapResamples)
	for b := range means {
		sum := 0.0
		for range n {
			sum += xs[rng.IntN(n)]
		}
		means[b] = sum / float64(n)
	}
	slices.Sort(means)
	at := func(q float64) float64 { return means[min(len(means)-1, int(q*float64(len(means))))] }
	return at(0.025), at(0.975)
}

// Overlap reports whether intervals [a1, a2] and [b1, b2] share a point.
func Overlap(a1, a2, b1, b2 float64) bool { return a1 <= b2 && b1 <= a2 }
