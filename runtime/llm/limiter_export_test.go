package llm

// WithoutLimiter turns off o's adaptive limiter, for the benchmark's
// fixed-concurrency baseline.
func WithoutLimiter(o *OpenAI) { o.tr.limits = nil }
