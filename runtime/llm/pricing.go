package llm

import "strings"

// Price is USD per 1M tokens.
type Price struct {
	Input  float64 `json:"input" yaml:"input"`
	Output float64 `json:"output" yaml:"output"`
}

// Prices maps a model name (or a name prefix) to its price.
type Prices map[string]Price

// DefaultPrices are OpenAI's, Anthropic's and Google's (Gemini API) published list prices for standard (not batch,
// not cached-input) usage, as of 2025. Users extend or override them with
// Merge. Local models are free by the caller's decision, not listed here.
func DefaultPrices() Prices {
	prices := Prices{
		"gpt-4o":        {Input: 2.50, Output: 10.00},
		"gpt-4o-mini":   {Input: 0.15, Output: 0.60},
		"gpt-4.1":       {Input: 2.00, Output: 8.00},
		"gpt-4.1-mini":  {Input: 0.40, Output: 1.60},
		"gpt-4.1-nano":  {Input: 0.10, Output: 0.40},
		"gpt-4-turbo":   {Input: 10.00, Output: 30.00},
		"gpt-4":         {Input: 30.00, Output: 60.00},
		"gpt-3.5-turbo": {Input: 0.50, Output: 1.50},
		"o1":            {Input: 15.00, Output: 60.00},
		"o1-mini":       {Input: 1.10, Output: 4.40},
		"o3":            {Input: 2.00, Output: 8.00},
		"o3-mini":       {Input: 1.10, Output: 4.40},
		"o4-mini":       {Input: 1.10, Output: 4.40},
		// Gemini API paid tier, prompts up to 128k/200k tokens.
		"gemini-2.5-pro":         {Input: 1.25, Output: 10.00},
		"gemini-2.5-flash":       {Input: 0.30, Output: 2.50},
		"gemini-2.5-flash-lite":  {Input: 0.10, Output: 0.40},
		"gemini-2.0-flash":       {Input: 0.10, Output: 0.40},
		"gemini-2.0-flash-lite":  {Input: 0.075, Output: 0.30},
		"gemini-1.5-pro":         {Input: 1.25, Output: 5.00},
		"gemini-1.5-flash":       {Input: 0.075, Output: 0.30},
		"gemini-1.5-flash-8b":    {Input: 0.0375, Output: 0.15},
		"gemini-pro":             {Input: 0.50, Output: 1.50}, // gemini-1.0-pro, retired
		"text-embedding-3-small": {Input: 0.02},
		"text-embedding-3-large": {Input: 0.13},
		"text-embedding-ada-002": {Input: 0.10},
	}
	// Anthropic's list prices (the same on Bedrock, on-demand), 2025.
	for name, p := range map[string]Price{
		"claude-opus-4":      {Input: 15.00, Output: 75.00}, // and claude-opus-4-1
		"claude-opus-4-5":    {Input: 5.00, Output: 25.00},
		"claude-sonnet-4":    {Input: 3.00, Output: 15.00}, // and claude-sonnet-4-5
		"claude-haiku-4-5":   {Input: 1.00, Output: 5.00},
		"claude-3-7-sonnet":  {Input: 3.00, Output: 15.00},
		"claude-3-5-sonnet":  {Input: 3.00, Output: 15.00},
		"claude-3-5-haiku":   {Input: 0.80, Output: 4.00},
		"claude-3-opus":      {Input: 15.00, Output: 75.00},
		"claude-3-sonnet":    {Input: 3.00, Output: 15.00},
		"claude-3-haiku":     {Input: 0.25, Output: 1.25},
		"claude-2.1":         {Input: 8.00, Output: 24.00},
		"claude-2.0":         {Input: 8.00, Output: 24.00},
		"claude-instant-1.2": {Input: 0.80, Output: 2.40},
	} {
		prices[name] = p
		prices["anthropic."+name] = p // Bedrock ids: anthropic.claude-3-5-sonnet-20241022-v2:0
	}
	prices["anthropic.claude-v2"] = Price{Input: 8.00, Output: 24.00}
	prices["anthropic.claude-v2:1"] = Price{Input: 8.00, Output: 24.00}
	prices["anthropic.claude-instant-v1"] = Price{Input: 0.80, Output: 2.40}
	return prices
}

// Lookup finds a model's price: the exact name, else the longest listed
// prefix followed by "-" (so gpt-4o-2024-08-06 is priced as gpt-4o, and
// gpt-4o-mini-2024-07-18 as gpt-4o-mini, never as gpt-4o).
func (p Prices) Lookup(model string) (Price, bool) {
	model = strings.TrimPrefix(model, "models/") // Gemini's resource names
	if pr, ok := p[model]; ok {
		return pr, true
	}
	// A Bedrock cross-region inference profile (us.anthropic.claude-...)
	// costs what its model costs.
	for _, geo := range []string{"us.", "eu.", "apac.", "global.", "us-gov.", "jp.", "au.", "ca."} {
		if rest, ok := strings.CutPrefix(model, geo); ok && strings.HasPrefix(rest, "anthropic.") {
			return p.Lookup(rest)
		}
	}
	best, found := "", false
	for name := range p {
		if len(name) > len(best) && strings.HasPrefix(model, name+"-") {
			best, found = name, true
		}
	}
	if !found {
		return Price{}, false
	}
	return p[best], true
}

// Cost is the USD cost of usage on model; false when the model is unknown.
func (p Prices) Cost(model string, u Usage) (float64, bool) {
	pr, ok := p.Lookup(model)
	if !ok {
		return 0, false
	}
	return (float64(u.PromptTokens)*pr.Input + float64(u.CompletionTokens)*pr.Output) / 1e6, true
}

// Merge adds other's entries to p, replacing those with the same name.
func (p Prices) Merge(other Prices) {
	for k, v := range other {
		p[k] = v
	}
}
