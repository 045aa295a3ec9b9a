package fakebedrock

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"github.com/aieval/aieval/internal/fakewire"
)

type usage struct {
	InputTokens  int `json:"inputTokens"`
	OutputTokens int `json:"outputTokens"`
	TotalTokens  int `json:"totalTokens"`
}

// countUsage counts words as tokens: rough, but deterministic.
func countUsage(req *Request, rep Reply) usage {
	in := len(strings.Fields(req.SystemText()))
	for _, m := range req.Messages {
		for _, b := range m.Content {
			if b.Text != nil {
				in += len(strings.Fields(*b.Text))
			}
		}
	}
	out := len(strings.Fields(rep.Text)) + 10*len(rep.ToolUses)
	return usage{in, out, in + out}
}

func stopReason(rep Reply) string {
	switch {
	case rep.StopReason != "":
		return rep.StopReason
	case len(rep.ToolUses) > 0:
		return "tool_use"
	}
	return "end_turn"
}

func toolID(n int64, i int, tu ToolUse) string {
	if tu.ID != "" {
		return tu.ID
	}
	return fmt.Sprintf("tooluse_fake%d_%d", n, i)
}

func input(tu ToolUse) map[string]any {
	if tu.Input == nil {
		return map[string]any{}
	}
	return tu.Input
}

func converseAnswer(req *Request, n int64, rep Reply) map[string]any {
	content := []any{}
	if rep.Text != "" {
		content = append(content, map[string]any{"text": rep.Text})
	}
	for i, tu := range rep.ToolUses {
		content = append(content, map[string]any{"toolUse": map[string]any{"toolUseId": toolID(n, i, tu), "name": tu.Name, "input": input(tu)}})
	}
	return map[string]any{
		"output":     map[string]any{"message": map[string]any{"role": "assistant", "content": content}},
		"stopReason": stopReason(rep), "usage": countUsage(req, rep), "metrics": map[string]int{"latencyMs": 12},
	}
}

// writeStream answers in the AWS event stream: messageStart, content
// blocks, messageStop, metadata. Payloads carry the "p" padding field
// bedrock adds.
func writeStream(w http.ResponseWriter, req *Request, n int64, rep Reply, fault Kind) {
	w.Header().Set("Content-Type", "application/vnd.amazon.eventstream")
	w.Header().Set("X-Amzn-Requestid", fmt.Sprintf("fake-%d", n))
	fl := w.(http.Flusher)
	first := true
	send := func(event string, data map[string]any) {
		data["p"] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJ"[:n%20+1]
		b, _ := json.Marshal(data)
		msg := EncodeMessage([][2]string{{":event-type", event}, {":content-type", "application/json"}, {":message-type", "event"}}, b)
		if first && fault == KindBadCRC {
			msg[len(msg)-1] ^= 0xff
		}
		first = false
		w.Write(msg)
		fl.Flush()
	}
	send("messageStart", map[string]any{"role": "assistant"})
	idx := 0
	if rep.Text != "" {
		for i, c := range fakewire.SplitWords(rep.Text) {
			send("contentBlockDelta", map[string]any{"contentBlockIndex": idx, "delta": map[string]any{"text": c}})
			if i == 0 && fault == KindCutStream {
				fakewire.ResetConn(w, false)
				return
			}
		}
		send("contentBlockStop", map[string]any{"contentBlockIndex": idx})
		idx++
	}
	if fault == KindException {
		b, _ := json.Marshal(map[string]string{"message": "Too many requests, please wait before trying again."})
		w.Write(EncodeMessage([][2]string{{":exception-type", "throttlingException"}, {":content-type", "application/json"}, {":message-type", "exception"}}, b))
		fl.Flush()
		return
	}
	for i, tu := range rep.ToolUses {
		send("contentBlockStart", map[string]any{"contentBlockIndex": idx, "start": map[string]any{"toolUse": map[string]any{"toolUseId": toolID(n, i, tu), "name": tu.Name}}})
		in, _ := json.Marshal(input(tu))
		for k := 0; k < len(in); k += 7 {
			send("contentBlockDelta", map[string]any{"contentBlockIndex": idx, "delta": map[string]any{"toolUse": map[string]any{"input": string(in[k:min(k+7, len(in))])}}})
		}
		send("contentBlockStop", map[string]any{"contentBlockIndex": idx})
		idx++
	}
	if fault == KindCutStream {
		fakewire.ResetConn(w, false)
		return
	}
	send("messageStop", map[string]any{"stopReason": stopReason(rep)})
	send("metadata", map[string]any{"usage": countUsage(req, rep), "metrics": map[string]int{"latencyMs": 12}})
}
