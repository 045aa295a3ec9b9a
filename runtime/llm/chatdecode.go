package llm

import (
	"bytes"
	"encoding/json"
	"io"

	openai "github.com/sashabaranov/go-openai"
)

// chatAnswer is what a Response takes from a non-streamed chat answer.
type chatAnswer struct {
	model    string
	usage    Usage
	choices  int // len(choices); the first is the answer
	role     string
	content  string
	refusal  string
	finish   string
	calls    []openai.ToolCall
	fn       *openai.FunctionCall
	logprobs []float64
}

// response is the Response for a; errEmptyChoices when it has no choice.
func (a *chatAnswer) response() (*Response, error) {
	if a.choices == 0 {
		return nil, errEmptyChoices
	}
	return &Response{
		Text:         a.content,
		Refusal:      a.refusal,
		Role:         a.role,
		FinishReason: a.finish,
		Model:        a.model,
		Usage:        a.usage,
		ToolCalls:    toolCallsJSON(a.calls, a.fn),
		Logprobs:     a.logprobs,
	}, nil
}

// stdAnswer is today's reading of an answer: go-openai's decodeResponse
// (a json.Decoder into ChatCompletionResponse: the first JSON value,
// anything after it unread) and its errors, which toError classifies.
func stdAnswer(body io.Reader, a *chatAnswer) error {
	var r openai.ChatCompletionResponse
	if err := json.NewDecoder(body).Decode(&r); err != nil {
		return err
	}
	answerOf(&r, a)
	return nil
}

// answerOf takes what a Response needs from go-openai's answer.
func answerOf(r *openai.ChatCompletionResponse, a *chatAnswer) {
	*a = chatAnswer{model: r.Model, choices: len(r.Choices),
		usage: Usage{r.Usage.PromptTokens, r.Usage.CompletionTokens, r.Usage.TotalTokens}}
	if len(r.Choices) > 0 {
		ch := r.Choices[0]
		a.role, a.content, a.refusal = ch.Message.Role, ch.Message.Content, ch.Message.Refusal
		a.finish = string(ch.FinishReason)
		a.calls, a.fn = ch.Message.ToolCalls, ch.Message.FunctionCall
		if ch.LogProbs != nil {
			for _, lp := range ch.LogProbs.Content {
				a.logprobs = append(a.logprobs, lp.LogProb)
			}
		}
	}
}

// decodeAnswer reads a chat answer by hand when it can, else as
// stdAnswer does.
func decodeAnswer(body []byte, a *chatAnswer) error {
	if handAnswer(body, a) {
		return nil
	}
	*a = chatAnswer{} // what the hand reader got so far
	return stdAnswer(bytes.NewReader(body), a)
}

// handAnswer reads a chat answer without reflection, for the fields a
// Response needs, while checking every member go-openai's types would
// check. It gives up (ok false) on whatever it does not handle exactly as
// encoding/json into those types would: a syntax error, a value of an
// unexpected type, a number out of range, a duplicate member, a key that
// encoding/json could match case-insensitively, nesting past a small
// depth, Azure's filter results. The caller then decodes as stdAnswer
// does, so what is accepted, refused and read is the same either way
// (FuzzDecodeAnswer compares them).
func handAnswer(body []byte, a *chatAnswer) bool {
	d := &jdec{b: body}
	d.ws()
	if !d.object(true, func(k []byte) bool {
		switch string(k) {
		case "model":
			return d.str(&a.model)
		case "id", "object", "system_fingerprint", "service_tier":
			return d.str(nil)
		case "created":
			return d.integer(nil)
		case "usage":
			return d.usage(&a.usage)
		case "choices":
			return d.array(func(i int) bool {
				if i > 0 {
					return d.choice(nil)
				}
				return d.choice(a)
			}, &a.choices)
		case "prompt_filter_results":
			return d.null()
		}
		return d.unknown(k)
	}) {
		return false
	}
	// Like json.Decoder, what follows the first value is not read.
	return true
}

func (d *jdec) usage(u *Usage) bool {
	if d.peek() == 'n' {
		return d.null()
	}
	return d.object(true, func(k []byte) bool {
		switch string(k) {
		case "prompt_tokens":
			return d.integer(&u.PromptTokens)
		case "completion_tokens":
			return d.integer(&u.CompletionTokens)
		case "total_tokens":
			return d.integer(&u.TotalTokens)
		case "prompt_tokens_details", "completion_tokens_details":
			return d.intsObject("audio_tokens", "cached_tokens", "reasoning_tokens",
				"accepted_prediction_tokens", "rejected_prediction_tokens")
		}
		return d.unknown(k)
	})
}

// intsObject reads null or an object whose members named are ints. The
// two token-detail types have different members; requiring an int for a
// member the other type has (and this one would ignore) only gives up
// more often, never accepts more, so one reader serves both.
func (d *jdec) intsObject(names ...string) bool {
	if d.peek() == 'n' {
		return d.null()
	}
	return d.object(true, func(k []byte) bool {
		for _, n := range names {
			if string(k) == n {
				return d.integer(nil)
			}
		}
		return d.unknown(k)
	})
}

// choice reads one element of choices; into a when not nil.
func (d *jdec) choice(a *chatAnswer) bool {
	if d.peek() != '{' {
		return false // null: encoding/json's zero choice; left to it
	}
	var sink chatAnswer
	if a == nil {
		a = &sink
	}
	return d.object(true, func(k []byte) bool {
		switch string(k) {
		case "index":
			return d.integer(nil)
		case "message":
			return d.message(a)
		case "finish_reason":
			return d.word(&a.finish)
		case "logprobs":
			if d.peek() == 'n' {
				return d.null()
			}
			lps := []float64(nil)
			ok := d.object(true, func(k []byte) bool {
				if string(k) != "content" {
					return d.unknown(k)
				}
				return d.array(func(int) bool { return d.logprob(&lps) }, nil)
			})
			a.logprobs = lps
			return ok
		case "content_filter_results":
			return d.null()
		}
		return d.unknown(k)
	})
}

func (d *jdec) logprob(lps *[]float64) bool {
	var lp float64
	ok := d.peek() == '{' && d.object(true, func(k []byte) bool {
		switch string(k) {
		case "token":
			return d.str(nil)
		case "logprob":
			return d.float(&lp)
		case "bytes":
			return d.byteList()
		case "top_logprobs":
			return d.array(func(int) bool {
				return d.peek() == '{' && d.object(true, func(k []byte) bool {
					switch string(k) {
					case "token":
						return d.str(nil)
					case "logprob":
						return d.float(nil)
					case "bytes":
						return d.byteList()
					}
					return d.unknown(k)
				})
			}, nil)
		}
		return d.unknown(k)
	})
	*lps = append(*lps, lp)
	return ok
}

// message reads choices[].message, whose content must be a string or
// null (a list of parts goes to go-openai's own UnmarshalJSON).
func (d *jdec) message(a *chatAnswer) bool {
	if d.peek() != '{' {
		return false
	}
	return d.object(true, func(k []byte) bool {
		switch string(k) {
		case "role":
			return d.word(&a.role)
		case "content":
			return d.str(&a.content)
		case "refusal":
			return d.str(&a.refusal)
		case "name", "reasoning_content", "tool_call_id":
			return d.str(nil)
		case "function_call":
			if d.peek() == 'n' {
				return d.null()
			}
			a.fn = &openai.FunctionCall{}
			return d.function(a.fn)
		case "tool_calls":
			return d.array(func(int) bool {
				if d.peek() != '{' {
					return false
				}
				var c openai.ToolCall
				ok := d.object(true, func(k []byte) bool {
					switch string(k) {
					case "index":
						if d.peek() == 'n' {
							return d.null()
						}
						c.Index = new(int)
						return d.integer(c.Index)
					case "id":
						return d.str(&c.ID)
					case "type":
						return d.str((*string)(&c.Type))
					case "function":
						if d.peek() == 'n' {
							return d.null()
						}
						return d.function(&c.Function)
					}
					return d.unknown(k)
				})
				a.calls = append(a.calls, c)
				return ok
			}, nil)
		case "multicontent":
			return false // matches MultiContent, case-insensitively
		}
		return d.unknown(k)
	})
}

func (d *jdec) function(f *openai.FunctionCall) bool {
	return d.peek() == '{' && d.object(true, func(k []byte) bool {
		switch string(k) {
		case "name":
			return d.str(&f.Name)
		case "arguments":
			return d.str(&f.Arguments)
		}
		return d.unknown(k)
	})
}
