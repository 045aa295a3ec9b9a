package llm

import (
	"context"
	"errors"
	"io"
	"strings"

	openai "github.com/sashabaranov/go-openai"
)

// stream is a streamed chat completion through go-openai, which encodes
// the request (the transport splices in the zero-valued settings) and
// reads the events.
func (o *OpenAI) stream(ctx context.Context, cc *openai.Client, creq openai.ChatCompletionRequest, onChunk ChunkFunc) (*Response, error) {
	creq.Stream = true
	creq.StreamOptions = &openai.StreamOptions{IncludeUsage: true}
	s, err := cc.CreateChatCompletionStream(ctx, creq)
	if err != nil {
		return nil, err
	}
	defer s.Close()
	var (
		text    strings.Builder
		refusal strings.Builder
		resp    = &Response{}
		choices bool
		calls   []openai.ToolCall
		fn      *openai.FunctionCall
	)
	for {
		c, err := s.Recv()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, &streamErr{err}
		}
		if c.Model != "" {
			resp.Model = c.Model
		}
		if c.Usage != nil {
			resp.Usage = Usage{c.Usage.PromptTokens, c.Usage.CompletionTokens, c.Usage.TotalTokens}
		}
		for _, ch := range c.Choices {
			if ch.Index != 0 {
				continue // n > 1: the first choice is the answer, as non-streamed
			}
			choices = true
			d := ch.Delta
			if d.Role != "" {
				resp.Role = d.Role
			}
			if d.Content != "" {
				text.WriteString(d.Content)
				if onChunk != nil {
					onChunk(d.Content)
				}
			}
			refusal.WriteString(d.Refusal)
			if ch.Logprobs != nil {
				for _, lp := range ch.Logprobs.Content {
					resp.Logprobs = append(resp.Logprobs, lp.Logprob)
				}
			}
			if ch.FinishReason != "" {
				resp.FinishReason = string(ch.FinishReason)
			}
			calls = mergeToolCalls(calls, d.ToolCalls)
			if d.FunctionCall != nil {
				if fn == nil {
					fn = &openai.FunctionCall{}
				}
				fn.Name += d.FunctionCall.Name
				fn.Arguments += d.FunctionCall.Arguments
			}
		}
	}
	if !choices {
		return nil, errEmptyChoices
	}
	resp.Text, resp.Refusal = text.String(), refusal.String()
	if resp.Role == "" {
		resp.Role = "assistant"
	}
	resp.ToolCalls = toolCallsJSON(calls, fn)
	return resp, nil
}

// mergeToolCalls folds streamed tool call deltas, keyed by their index.
func mergeToolCalls(calls []openai.ToolCall, deltas []openai.ToolCall) []openai.ToolCall {
	for _, d := range deltas {
		i := len(calls)
		if d.Index != nil {
			i = *d.Index
		}
		for len(calls) <= i {
			calls = append(calls, openai.ToolCall{})
		}
		c := &calls[i]
		if d.ID != "" {
			c.ID = d.ID
		}
		if d.Type != "" {
			c.Type = d.Type
		}
		c.Function.Name += d.Function.Name
		c.Function.Arguments += d.Function.Arguments
	}
	return calls
}
