package llm

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	openai "github.com/sashabaranov/go-openai"
)

// geminiAcc folds one answer or a stream of chunks into a Response.
type geminiAcc struct {
	text     strings.Builder
	calls    []openai.ToolCall
	finish   string
	blocked  string
	model    string
	usage    Usage
	answered bool // a candidate or a block reason was seen
}

func (a *geminiAcc) add(gr *geminiResponse, onChunk ChunkFunc) error {
	if gr.Error != nil {
		return &Error{Kind: KindServer, Status: gr.Error.Code, Msg: "server error in stream: " + shorten(gr.Error.Message, 200)}
	}
	if gr.ModelVersion != "" {
		a.model = gr.ModelVersion
	}
	if u := gr.UsageMetadata; u != nil {
		out := u.CandidatesTokenCount + u.ThoughtsTokenCount
		total := u.TotalTokenCount
		if total == 0 {
			total = u.PromptTokenCount + out
		}
		a.usage = Usage{PromptTokens: u.PromptTokenCount, CompletionTokens: out, TotalTokens: total}
	}
	if pf := gr.PromptFeedback; pf != nil && pf.BlockReason != "" {
		a.blocked = pf.BlockReason
		a.answered = true
	}
	for _, c := range gr.Candidates {
		if c.Index != 0 {
			continue // candidateCount > 1: the first is the answer, as OpenAI's n
		}
		a.answered = true
		for _, p := range c.Content.Parts {
			switch {
			case p.Thought:
				// a thinking model's summary is not the answer
			case p.FunctionCall != nil:
				args := string(p.FunctionCall.Args)
				if args == "" || args == "null" {
					args = "{}"
				}
				id := p.FunctionCall.ID
				if id == "" {
					id = fmt.Sprintf("call_%d", len(a.calls))
				}
				a.calls = append(a.calls, openai.ToolCall{ID: id, Type: openai.ToolTypeFunction,
					Function: openai.FunctionCall{Name: p.FunctionCall.Name, Arguments: args}})
			case p.Text != "":
				a.text.WriteString(p.Text)
				if onChunk != nil {
					onChunk(p.Text)
				}
			}
		}
		if c.FinishReason != "" {
			a.finish = c.FinishReason
		}
	}
	return nil
}

func (a *geminiAcc) response() (*Response, error) {
	if !a.answered {
		return nil, errEmptyChoices
	}
	r := &Response{Text: a.text.String(), Role: "assistant", Model: a.model, Usage: a.usage,
		FinishReason: geminiFinish(a.finish, len(a.calls) > 0)}
	if a.blocked != "" {
		// A blocked prompt is an answer (the model refused), not a fault.
		r.FinishReason = "content_filter"
	}
	r.ToolCalls = toolCallsJSON(a.calls, nil)
	return r, nil
}

// geminiFinish maps finishReason to OpenAI's finish_reason values.
func geminiFinish(reason string, calls bool) string {
	switch reason {
	case "STOP", "":
		if calls {
			return "tool_calls"
		}
		if reason == "" {
			return ""
		}
		return "stop"
	case "MAX_TOKENS":
		return "length"
	case "SAFETY", "RECITATION", "BLOCKLIST", "PROHIBITED_CONTENT", "SPII", "IMAGE_SAFETY", "LANGUAGE":
		return "content_filter"
	}
	return strings.ToLower(reason)
}

// readGeminiStream reads streamGenerateContent?alt=sse: each event is a
// whole GenerateContentResponse; the last one has the finishReason (there
// is no [DONE]), so a stream without it was cut.
func readGeminiStream(resp *http.Response, onChunk ChunkFunc) (*Response, error) {
	acc := &geminiAcc{}
	err := readSSE(resp.Body, func(data []byte) error {
		var gr geminiResponse
		if err := json.Unmarshal(data, &gr); err != nil {
			return err
		}
		return acc.add(&gr, onChunk)
	})
	if err != nil {
		ended := errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF)
		if !ended {
			return nil, &streamErr{err}
		}
		if acc.finish == "" && acc.blocked == "" {
			return nil, streamEnded(err, "its finishReason")
		}
	}
	return acc.response()
}
