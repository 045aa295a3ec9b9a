package llm

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"math"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	openai "github.com/sashabaranov/go-openai"
)

// goOpenAIBody is the body as sent before the chat path encoded its own:
// go-openai's json.Marshal of the request, the transport's splice of the
// zero-valued members (replayable) and restoreContent.
func goOpenAIBody(t testing.TB, cr openai.ChatCompletionRequest, extra []byte) []byte {
	t.Helper()
	b, err := json.Marshal(cr)
	if err != nil {
		t.Fatalf("go-openai marshal: %v", err)
	}
	req, _ := http.NewRequest(http.MethodPost, "http://x/chat/completions", bytes.NewReader(b))
	b, err = replayable(req, extra)
	if err != nil {
		t.Fatal(err)
	}
	return restoreContent(b)
}

// bothBodies builds req's body both ways; ok false when buildChat refuses it.
func bothBodies(t testing.TB, req *Request) (old, hand []byte, ok bool) {
	t.Helper()
	cr, extra, err := buildChat(req)
	if err != nil {
		return nil, nil, false
	}
	if req.Stream {
		cr.Stream = true
		cr.StreamOptions = &openai.StreamOptions{IncludeUsage: true}
	}
	hand, err = appendChatBody(nil, &cr, extra)
	if err != nil {
		t.Fatalf("appendChatBody: %v", err)
	}
	return goOpenAIBody(t, cr, extra), hand, true
}

func TestChatBodyMatchesGoOpenAI(t *testing.T) {
	user := []Message{{Role: "user", Content: "hi"}}
	toolCalls := json.RawMessage(`[{"id":"call_1","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Paris\"}"}},{"index":1,"id":"call_2","type":"function","function":{"name":"f"}}]`)
	tools := []any{map[string]any{"type": "function", "function": map[string]any{
		"name": "get_weather", "description": "Weather <now> & later", "strict": true,
		"parameters": map[string]any{"type": "object", "properties": map[string]any{"city": map[string]any{"type": "string"}}, "required": []any{"city"}}}}}
	schema := map[any]any{"type": "json_schema", "json_schema": map[any]any{"name": "answer", "strict": true,
		"schema": map[any]any{"type": "object", "properties": map[any]any{"n": map[any]any{"type": "number", "minimum": 1.5}}, "$schema": "x", "anyOf": []any{}}}}
	for _, tt := range []struct {
		name     string
		msgs     []Message
		settings map[string]any
		stream   bool
	}{
		{"no settings", user, nil, false},
		{"stream", user, map[string]any{"temperature": 0.2}, true},
		{"zeros", user, map[string]any{"temperature": 0, "top_p": 0, "presence_penalty": 0, "frequency_penalty": 0.0,
			"top_logprobs": 0, "logprobs": false, "n": 0, "max_tokens": 0, "max_completion_tokens": 0, "seed": 0}, false},
		{"numbers", user, map[string]any{"temperature": 0.7, "top_p": 0.9, "presence_penalty": -1.5, "frequency_penalty": 1.0 / 3,
			"max_tokens": 256, "max_completion_tokens": 1024, "n": 3, "seed": -42, "top_logprobs": 5, "logprobs": true}, false},
		{"tiny and huge floats", user, map[string]any{"temperature": 1e-7, "top_p": 3e-9, "presence_penalty": 2.5e21, "frequency_penalty": float32(1e-6)}, false},
		{"ints as floats", user, map[string]any{"max_tokens": 100.0, "n": int64(2), "seed": uint64(7), "temperature": int32(1)}, false},
		{"stop string", user, map[string]any{"stop": "\n\nHuman:"}, false},
		{"stop list", user, map[string]any{"stop": []any{"<end>", "&", "\u2028"}}, false},
		{"stop strings", user, map[string]any{"stop": []string{"a", "b"}}, false},
		{"user and logit_bias", user, map[string]any{"user": "u-<1>&", "logit_bias": map[string]any{"50256": -100, "123": 5, "9": 0}}, false},
		{"logit_bias from yaml", user, map[string]any{"logit_bias": map[any]any{50256: -100, "1": 1.0}}, false},
		{"json object", user, map[string]any{"response_format": map[string]any{"type": "json_object"}}, false},
		{"json schema", user, map[string]any{"response_format": schema}, false},
		{"tools", user, map[string]any{"tools": tools, "tool_choice": "auto"}, false},
		{"tool choice object", user, map[string]any{"tools": tools, "tool_choice": map[string]any{"type": "function", "function": map[string]any{"name": "get_weather"}}}, false},
		{"functions", user, map[string]any{"functions": []any{map[string]any{"name": "f", "parameters": map[string]any{"type": "object"}}}, "function_call": "auto"}, false},
		{"function_call object", user, map[string]any{"functions": []any{map[string]any{"name": "f", "description": "d"}}, "function_call": map[string]any{"name": "f"}}, false},
		{"ignored keys", user, map[string]any{"model": "x", "stream": true, "stream_options": map[string]any{"include_usage": false}, "top_p": nil}, false},
		{"conversation", []Message{
			{Role: "system", Content: "You are <terse> & exact."},
			{Role: "user", Content: "", Name: "alice"},
			{Role: "assistant", ToolCalls: toolCalls},
			{Role: "tool", ToolCallID: "call_1", Content: `{"temp":21}`},
			{Role: "tool", ToolCallID: "call_2", Name: "f"},
			{Role: "assistant", FunctionCall: json.RawMessage(`{"name":"f","arguments":"{}"}`)},
			{Role: "function", Name: "f", Content: "done"},
			{Role: "assistant", Content: "ok"},
		}, map[string]any{"temperature": 0}, false},
		{"parts", []Message{{Role: "user", Content: "Describe:", Parts: []Part{
			{Type: "text", Text: "this <img>"},
			{Type: "image_url", ImageURL: "https://example.com/a.png?x=1&y=2", Detail: "low"},
			{Type: "image_url", ImageURL: "data:image/png;base64,AAAA"},
			{Type: "", Text: "plain"},
			{Type: "text"},
		}}}, nil, false},
		{"parts only", []Message{{Role: "user", Parts: []Part{{Type: "image_url", ImageURL: "u", Detail: "high"}}}}, nil, false},
		{"odd strings", []Message{{Role: "user", Content: "é \u2028\u2029 \x00\x01\b\f\n\r\t \"\\ / \xff\xfe invalid \U0001F600 \u007f <>&"}}, map[string]any{"user": "\xc3"}, false},
		{"no messages", nil, map[string]any{"temperature": 1}, false},
		{"empty messages", []Message{}, nil, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			req := &Request{Model: "gpt-4o-mini", Messages: tt.msgs, Settings: tt.settings, Stream: tt.stream}
			old, hand, ok := bothBodies(t, req)
			if !ok {
				t.Fatalf("buildChat refused the request")
			}
			if !bytes.Equal(old, hand) {
				t.Fatalf("bodies differ:\n go-openai %s\n hand      %s", old, hand)
			}
			if dry, err := ChatBody(req); err != nil || !bytes.Equal(dry, hand) {
				t.Errorf("ChatBody = %s, %v; want %s", dry, err, hand)
			}
		})
	}
}

// The fields buildChat never sets (and appendChatBody hands to
// encoding/json) still come out as go-openai's.
func TestChatBodyOtherFields(t *testing.T) {
	cr := openai.ChatCompletionRequest{Model: "m", Messages: []openai.ChatCompletionMessage{{Role: "user", Content: "x",
		Refusal: "no", ReasoningContent: "think"}},
		ParallelToolCalls: false, Store: true, ReasoningEffort: "low", Metadata: map[string]string{"b": "1", "a": "<"},
		Prediction: &openai.Prediction{Content: "p", Type: "content"}, ChatTemplateKwargs: map[string]any{"enable_thinking": false},
		ServiceTier: openai.ServiceTierFlex, Verbosity: "low", SafetyIdentifier: "s", StreamOptions: &openai.StreamOptions{},
		ChatCompletionRequestExtensions: openai.ChatCompletionRequestExtensions{GuidedChoice: []string{"a", "b"}}}
	hand, err := appendChatBody(nil, &cr, []byte(`"temperature":0`))
	if err != nil {
		t.Fatal(err)
	}
	if old := goOpenAIBody(t, cr, []byte(`"temperature":0`)); !bytes.Equal(old, hand) {
		t.Fatalf("bodies differ:\n go-openai %s\n hand      %s", old, hand)
	}
}

func FuzzChatBody(f *testing.F) {
	f.Add("gpt-4o", "hello", "", "", 0.0, 1.0, 0, "", uint16(0), int64(0), "")
	f.Add("m<&>", "é\u2028\xff", "bob", "stop", 1e-7, 0.0, 100, "u", uint16(0xffff), int64(-3), "50256")
	f.Add("", "", "", "", 3.4e38, math.Copysign(0, -1), -1, "\x00", uint16(0x5555), int64(1<<53), "\xff")
	f.Fuzz(func(t *testing.T, model, content, name, stop string, temp, topP float64, maxTok int, user string, flags uint16, seed int64, bias string) {
		bit := func(i int) bool { return flags&(1<<i) != 0 }
		msgs := []Message{{Role: "user", Content: content, Name: name}}
		if bit(0) {
			msgs = append(msgs, Message{Role: "assistant", ToolCalls: json.RawMessage(`[{"id":` + strconvQuote(name) + `,"type":"function","function":{"name":` + strconvQuote(stop) + `,"arguments":` + strconvQuote(content) + `}}]`)})
		}
		if bit(1) {
			msgs = append(msgs, Message{Role: "tool", ToolCallID: name, Content: content})
		}
		if bit(2) {
			msgs = append(msgs, Message{Role: "user", Content: stop, Parts: []Part{{Type: "text", Text: content}, {Type: "image_url", ImageURL: user, Detail: name}}})
		}
		if bit(3) {
			msgs = append(msgs, Message{Role: "assistant", FunctionCall: json.RawMessage(`{"name":` + strconvQuote(name) + `}`)})
		}
		s := map[string]any{}
		if bit(4) {
			s["temperature"] = temp
		}
		if bit(5) {
			s["top_p"] = topP
		}
		if bit(6) {
			s["max_tokens"] = maxTok
		}
		if bit(7) {
			s["stop"] = []any{stop, content}
		}
		if bit(8) {
			s["user"] = user
		}
		if bit(9) {
			s["seed"] = seed
		}
		if bit(10) {
			s["logit_bias"] = map[string]any{bias: maxTok, name: 1}
		}
		if bit(11) {
			s["logprobs"] = bit(12)
			s["top_logprobs"] = maxTok
		}
		if bit(13) {
			s["presence_penalty"] = temp
			s["frequency_penalty"] = topP
			s["n"] = maxTok
		}
		if bit(14) {
			s["response_format"] = map[string]any{"type": stop, "json_schema": map[string]any{"name": name, "schema": map[string]any{"description": content}}}
			s["tool_choice"] = map[string]any{"type": "function", "function": map[string]any{"name": name, "x": temp}}
		}
		if math.IsNaN(temp) || math.IsNaN(topP) {
			return // refused by applySetting either way
		}
		req := &Request{Model: model, Messages: msgs, Settings: s, Stream: bit(15)}
		old, hand, ok := bothBodies(t, req)
		if ok && !bytes.Equal(old, hand) {
			t.Fatalf("bodies differ:\n go-openai %s\n hand      %s", old, hand)
		}
	})
}

// answerCases are chat answers in the shapes endpoints send; hand says
// whether the hand reader takes them itself (the others go to
// encoding/json, with the same outcome).
var answerCases = []struct {
	name string
	body string
	hand bool
}{
	{"fake server", `{"id":"chatcmpl-1","object":"chat.completion","created":1733000000,"model":"gpt-4o-mini","choices":[{"index":0,"message":{"role":"assistant","content":"42"},"finish_reason":"stop"}],"usage":{"prompt_tokens":7,"completion_tokens":1,"total_tokens":8}}`, true},
	{"openai", `{
  "id": "chatcmpl-B9MBs8CjcvOU2jLn4n570S5qMJKcT",
  "object": "chat.completion",
  "created": 1741569952,
  "model": "gpt-4.1-2025-04-14",
  "choices": [
    {
      "index": 0,
      "message": {
        "role": "assistant",
        "content": "Hello! How can I assist you today?",
        "refusal": null,
        "annotations": []
      },
      "logprobs": null,
      "finish_reason": "stop"
    }
  ],
  "usage": {
    "prompt_tokens": 19,
    "completion_tokens": 10,
    "total_tokens": 29,
    "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
    "completion_tokens_details": {"reasoning_tokens": 0, "audio_tokens": 0, "accepted_prediction_tokens": 0, "rejected_prediction_tokens": 0}
  },
  "service_tier": "default",
  "system_fingerprint": null
}`, true},
	{"tool calls", `{"model":"gpt-4o","choices":[{"index":0,"message":{"role":"assistant","content":null,"tool_calls":[{"id":"call_abc","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Paris\"}"}},{"index":1,"id":"call_def","function":{"name":"f","arguments":""}}]},"finish_reason":"tool_calls"}],"usage":{"prompt_tokens":1,"completion_tokens":2,"total_tokens":3}}`, true},
	{"tool call nulls", `{"choices":[{"message":{"role":"assistant","tool_calls":[{"index":null,"id":"c","type":"function","function":null}]}}]}`, true},
	{"legacy function_call", `{"choices":[{"message":{"role":"assistant","content":null,"function_call":{"name":"f","arguments":"{}"}},"finish_reason":"function_call"}]}`, true},
	{"empty function_call", `{"choices":[{"message":{"role":"assistant","function_call":{}}}]}`, true},
	{"refusal", `{"choices":[{"index":0,"message":{"role":"assistant","content":null,"refusal":"I'm sorry, I cannot help with that."},"finish_reason":"stop"}]}`, true},
	{"logprobs", `{"choices":[{"message":{"role":"assistant","content":"Hi there"},"logprobs":{"content":[{"token":"Hi","logprob":-0.25,"bytes":[72,105],"top_logprobs":[{"token":"Hi","logprob":-0.25,"bytes":[72,105]},{"token":"Hey","logprob":-1.5e0,"bytes":null}]},{"token":" there","logprob":-3.2E-5,"bytes":[32,116,104,101,114,101],"top_logprobs":[]}],"refusal":null},"finish_reason":"stop"}]}`, true},
	{"logprobs empty", `{"choices":[{"message":{"content":"x"},"logprobs":{"content":[]}}]}`, true},
	{"logprobs null content", `{"choices":[{"message":{"content":"x"},"logprobs":{"content":null}}]}`, true},
	{"null content and fields", `{"id":null,"model":null,"created":null,"choices":[{"index":null,"message":{"role":"assistant","content":null},"finish_reason":null,"logprobs":null,"content_filter_results":null}],"usage":null,"prompt_filter_results":null}`, true},
	{"no usage", `{"model":"m","choices":[{"message":{"role":"assistant","content":"x"},"finish_reason":"length"}]}`, true},
	{"second choice", `{"choices":[{"index":0,"message":{"content":"first"}},{"index":1,"message":{"content":"second","tool_calls":[{"id":"x","type":"function","function":{"name":"g"}}]},"logprobs":{"content":[{"token":"s","logprob":-1}]}}]}`, true},
	{"unknown fields", `{"x_groq":{"id":"req_1","Usage":{"Queue_Time":0.1}},"choices":[{"message":{"content":"ok","audio":null,"annotations":[{"type":"url_citation","url_citation":{"url":"https://x","Title":"T"}}]},"extra":[1,2.5e-3,true,false,null,"s",{"A":[]}]}],"usage":{"prompt_tokens":1,"queue_time":0.25,"prompt_tokens_details":{"cached_tokens":3,"Other":"x"}},"Ünknown":1}`, false},
	{"unknown fields lowercase", `{"x_groq":{"id":"req_1","Usage":{"Queue_Time":0.1}},"choices":[{"message":{"content":"ok","audio":null,"annotations":[{"type":"url_citation","url_citation":{"url":"https://x","Title":"T"}}]},"extra":[1,2.5e-3,true,false,null,"s",{"A":[]}]}],"usage":{"prompt_tokens":1,"queue_time":0.25,"prompt_tokens_details":{"cached_tokens":3}}}`, true},
	{"escapes", `{"choices":[{"message":{"role":"assistant","content":"caf\u00e9 \"q\" \\ \/ \b\f\n\r\t \u2028 \u0000 \uFFFD"}}]}`, true},
	{"surrogate pair", `{"choices":[{"message":{"content":"smile \ud83d\ude00 \uD83D\uDE00!"}}]}`, true},
	{"lone surrogates", `{"choices":[{"message":{"content":"a \ud83d b \ude00 c \ud83d\u0041 d \ud83d\ud83d\ude00"}}]}`, true},
	{"raw unicode and invalid utf-8", "{\"choices\":[{\"message\":{\"content\":\"é 😀 \xff\xfe \xed\xa0\x80 \xe2\x82\"}}]}", true},
	{"whitespace", " \t\r\n{ \"choices\" : [ { \"message\" : { \"content\" : \"x\" } } ] , \"model\" : \"m\" } \n", true},
	{"trailing data", `{"choices":[{"message":{"content":"x"}}]} trailing {garbage`, true},
	{"two values", `{"choices":[{"message":{"content":"x"}}]}{"choices":[]}`, true},
	{"big numbers", `{"created":9223372036854775807,"usage":{"prompt_tokens":-0,"completion_tokens":0,"total_tokens":123456789},"choices":[{"index":0,"message":{"content":"x"},"logprobs":{"content":[{"logprob":-1e-320},{"logprob":1.7976931348623157e308}]}}]}`, true},
	{"empty choices", `{"model":"m","choices":[],"usage":{"prompt_tokens":1}}`, true},
	{"null choices", `{"choices":null}`, true},
	{"no choices", `{}`, true},
	// Left to encoding/json (same outcome either way).
	{"created float", `{"created":1.5,"choices":[{"message":{"content":"x"}}]}`, false},
	{"tokens exponent", `{"usage":{"prompt_tokens":1e2},"choices":[{"message":{"content":"x"}}]}`, false},
	{"int overflow", `{"usage":{"total_tokens":9223372036854775808},"choices":[{"message":{"content":"x"}}]}`, false},
	{"logprob overflow", `{"choices":[{"message":{"content":"x"},"logprobs":{"content":[{"logprob":1e400}]}}]}`, false},
	{"byte overflow", `{"choices":[{"message":{"content":"x"},"logprobs":{"content":[{"bytes":[256]}]}}]}`, false},
	{"bytes base64", `{"choices":[{"message":{"content":"x"},"logprobs":{"content":[{"bytes":"SGk="}]}}]}`, false},
	{"content number", `{"choices":[{"message":{"content":5}}]}`, false},
	{"content parts", `{"choices":[{"message":{"role":"assistant","content":[{"type":"text","text":"hi"}]}}]}`, false},
	{"multicontent key", `{"choices":[{"message":{"content":"x","multicontent":[{"type":"text","text":"hi"}]}}]}`, false},
	{"model number", `{"model":5,"choices":[{"message":{"content":"x"}}]}`, false},
	{"upper key", `{"Model":"m","choices":[{"message":{"Content":"x","ROLE":"assistant"}}]}`, false},
	{"kelvin key", "{\"choices\":[{\"message\":{\"content\":\"x\",\"\u212aey\":1}}],\"ſervice_tier\":\"x\"}", false},
	{"escaped key", `{"mo\u0064el":"m","choices":[{"message":{"content":"x"}}]}`, false},
	{"duplicate key", `{"choices":[{"message":{"content":"a","content":"b"}}]}`, false},
	{"duplicate choices", `{"choices":[{"message":{"content":"a"}}],"choices":[{"finish_reason":"stop"}]}`, false},
	{"azure filters", `{"choices":[{"index":0,"message":{"role":"assistant","content":"x"},"content_filter_results":{"hate":{"filtered":false,"severity":"safe"}}}],"prompt_filter_results":[{"prompt_index":0,"content_filter_results":{}}]}`, false},
	{"null message", `{"choices":[{"message":null,"finish_reason":"stop"}]}`, false},
	{"null choice", `{"choices":[null]}`, false},
	{"deep unknown", `{"x":` + strings.Repeat("[", 100) + strings.Repeat("]", 100) + `,"choices":[{"message":{"content":"x"}}]}`, false},
	{"many keys", `{"a":1,"b":2,"c":3,"d":4,"e":5,"f":6,"g":7,"h":8,"i":9,"j":10,"k":11,"l":12,"m":13,"n":14,"o":15,"p":16,"q":17,"choices":[{"message":{"content":"x"}}]}`, false},
	{"truncated", `{"choices":[{"message":{"content":"x"`, false},
	{"truncated string", `{"choices":[{"message":{"content":"x`, false},
	{"bad escape", `{"choices":[{"message":{"content":"\x"}}]}`, false},
	{"short unicode escape", `{"choices":[{"message":{"content":"\u12"}}]}`, false},
	{"raw control", "{\"choices\":[{\"message\":{\"content\":\"a\nb\"}}]}", false},
	{"trailing comma", `{"choices":[{"message":{"content":"x"},}]}`, false},
	{"bad number", `{"x":01,"choices":[]}`, false},
	{"bad literal", `{"x":tru,"choices":[]}`, false},
	{"top array", `[{"choices":[]}]`, false},
	{"top null", `null`, false},
	{"top string", `"x"`, false},
	{"empty", ``, false},
	{"spaces", `   `, false},
	{"html", `<html><body>502 Bad Gateway</body></html>`, false},
	{"sse", "data: {\"choices\":[]}\n\n", false},
	{"bom", "\xef\xbb\xbf{\"choices\":[]}", false},
}

// stdDecode and handDecode are the answers' Responses (or errors) the two
// ways, for comparison.
func stdDecode(body []byte) (*Response, error) {
	var a chatAnswer
	if err := stdAnswer(bytes.NewReader(body), &a); err != nil {
		return nil, err
	}
	return a.response()
}

func handDecode(body []byte) (*Response, error) {
	var a chatAnswer
	if err := decodeAnswer(body, &a); err != nil {
		return nil, err
	}
	return a.response()
}

func sameOutcome(t *testing.T, body []byte) {
	t.Helper()
	want, werr := stdDecode(body)
	got, gerr := handDecode(body)
	if (werr == nil) != (gerr == nil) || werr != nil && werr.Error() != gerr.Error() {
		t.Fatalf("%q: errors differ: go-openai %v, hand %v", body, werr, gerr)
	}
	if !reflect.DeepEqual(want, got) {
		t.Fatalf("%q: answers differ:\n go-openai %+v\n hand      %+v", body, want, got)
	}
}

func TestDecodeAnswerMatchesGoOpenAI(t *testing.T) {
	for _, tt := range answerCases {
		t.Run(tt.name, func(t *testing.T) {
			sameOutcome(t, []byte(tt.body))
			var a chatAnswer
			if hand := handAnswer([]byte(tt.body), &a); hand != tt.hand {
				t.Errorf("hand reader took it: %v, want %v", hand, tt.hand)
			}
		})
	}
}

// Spot checks that the shared outcome is the right one.
func TestDecodeAnswerValues(t *testing.T) {
	r, err := handDecode([]byte(answerCases[2].body))
	if err != nil || r.FinishReason != "tool_calls" || r.Text != "" || r.Model != "gpt-4o" || r.Usage.TotalTokens != 3 ||
		string(r.ToolCalls) != `[{"id":"call_abc","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Paris\"}"}},{"id":"call_def","type":"function","function":{"name":"f"}}]` {
		t.Errorf("tool calls: %+v %s, %v", r, r.ToolCalls, err)
	}
	r, err = handDecode([]byte(answerCases[7].body))
	if err != nil || r.Text != "Hi there" || !reflect.DeepEqual(r.Logprobs, []float64{-0.25, -3.2e-5}) {
		t.Errorf("logprobs: %+v, %v", r, err)
	}
	r, err = handDecode([]byte(`{"choices":[{"message":{"content":"smile \ud83d\ude00 \ud83d x"}}]}`))
	if err != nil || r.Text != "smile 😀 \uFFFD x" {
		t.Errorf("surrogates: %q, %v", r.Text, err)
	}
	if _, err := handDecode([]byte(`{"choices":[]}`)); err != errEmptyChoices {
		t.Errorf("empty choices: %v", err)
	}
}

func FuzzDecodeAnswer(f *testing.F) {
	for _, tt := range answerCases {
		f.Add([]byte(tt.body))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		// The hand reader may only accept what encoding/json accepts, and
		// read it the same; what it leaves goes to encoding/json.
		var a chatAnswer
		if handAnswer(body, &a) {
			var b chatAnswer
			if err := stdAnswer(bytes.NewReader(body), &b); err != nil {
				t.Fatalf("%q: hand reader accepted what go-openai refuses: %v", body, err)
			}
		}
		sameOutcome(t, body) // and the Responses are the same
	})
}

type sentinelRT struct{}

var errSent = errors.New("sent")

func (sentinelRT) RoundTrip(*http.Request) (*http.Response, error) { return nil, errSent }

// chatBody refuses what go-openai's CreateChatCompletion refuses before
// sending, with its error.
func TestChatBodyChecksMatchGoOpenAI(t *testing.T) {
	cfg := openai.DefaultConfig("k")
	cfg.HTTPClient = &http.Client{Transport: sentinelRT{}}
	cc := openai.NewClientWithConfig(cfg)
	models := []string{"gpt-4o-mini", "gpt-3.5-turbo-instruct", "o1-mini", "o3", "gpt-5", "gpt-5-mini", "llama3", ""}
	for m := range chatRefusedModels {
		models = append(models, m)
	}
	for _, model := range models {
		for _, s := range []map[string]any{nil, {"max_tokens": 10}, {"temperature": 0.5}, {"logprobs": true}, {"n": 2}, {"max_completion_tokens": 5, "temperature": 1}} {
			cr, extra, err := buildChat(&Request{Model: model, Messages: []Message{{Role: "user", Content: "x"}}, Settings: s})
			if err != nil {
				t.Fatal(err)
			}
			_, herr := chatBody(&cr, extra)
			_, serr := cc.CreateChatCompletion(context.Background(), cr)
			if errors.Is(serr, errSent) {
				if herr != nil {
					t.Errorf("%s %v: refused (%v), go-openai sends it", model, s, herr)
				}
			} else if herr == nil || herr.Error() != serr.Error() {
				t.Errorf("%s %v: %v, go-openai %v", model, s, herr, serr)
			}
		}
	}
}

// getBodyRT records what a resend through the attempt's GetBody (net/http
// does that on a reused connection found closed) would send.
type getBodyRT struct{ got [][]byte }

func (g *getBodyRT) RoundTrip(r *http.Request) (*http.Response, error) {
	rc, err := r.GetBody()
	if err != nil {
		return nil, err
	}
	b, _ := io.ReadAll(rc)
	g.got = append(g.got, b)
	return &http.Response{StatusCode: 200, Header: http.Header{}, Body: io.NopCloser(strings.NewReader(`{}`)), ContentLength: 2}, nil
}

// The attempt's GetBody gives the bytes actually sent: with the zero
// members spliced in for a go-openai body (it gave go-openai's own bytes,
// without them, before), and an aieval-built body as is.
func TestAttemptGetBody(t *testing.T) {
	rt := &getBodyRT{}
	tr := &transport{base: rt, breakers: newBreakers(BreakerPolicy{}), now: time.Now, sleep: sleepCtx}
	st := &callState{endpoint: "http://x", extra: []byte(`"temperature":0`)}
	ctx := withState(context.Background(), st)
	for _, mk := range []func() *http.Request{
		func() *http.Request {
			r, _ := http.NewRequestWithContext(ctx, http.MethodPost, "http://x/chat/completions", bytes.NewReader([]byte(`{"model":"m"}`)))
			return r
		},
		func() *http.Request {
			r, _ := newPost(ctx, "http://x/chat/completions", []byte(`{"temperature":0,"model":"m"}`))
			return r
		},
	} {
		resp, err := tr.RoundTrip(mk())
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	for i, b := range rt.got {
		if string(b) != `{"temperature":0,"model":"m"}` {
			t.Errorf("request %d: GetBody gives %s", i+1, b)
		}
	}
}

// FuzzDecodeAnswerFields puts fuzzed text raw into every value position
// the hand reader checks (and, quoted, into its strings), so each member's
// type, range and escape handling is compared with encoding/json's.
func FuzzDecodeAnswerFields(f *testing.F) {
	f.Add(`"assistant"`, `"hi"`, `"c1"`, `-0.25`, `[72,105]`, `7`, `stop`, "héllo \\u00e9 \\ud83d")
	f.Add(`null`, `null`, `5`, `1e400`, `"SGk="`, `1.5`, `Model`, `\u2028"\x00`)
	f.Add(`"a\u0041"`, `[{"type":"text"}]`, `null`, `-0`, `[256]`, `-9223372036854775808`, `multicontent`, "\xff")
	f.Fuzz(func(t *testing.T, role, content, id, logprob, bytesv, tokens, key, text string) {
		q := strconvQuote(text)
		for _, body := range []string{
			`{"model":` + q + `,"choices":[{"index":0,"message":{"role":` + role + `,"content":` + content +
				`,"tool_calls":[{"id":` + id + `,"type":"function","function":{"name":` + q + `,"arguments":` + q + `}}]},` +
				`"logprobs":{"content":[{"token":` + q + `,"logprob":` + logprob + `,"bytes":` + bytesv + `,"top_logprobs":[]}]},` +
				`"finish_reason":` + role + `}],"usage":{"prompt_tokens":` + tokens + `,"` + key + `":` + tokens + `}}`,
			`{"choices":[{"message":{"content":` + q + `,"` + key + `":` + content + `,"function_call":{"name":` + id + `}}}],"` + key + `":` + q + `}`,
		} {
			sameOutcome(t, []byte(body))
		}
	})
}
