package fakeanthropic

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"github.com/aieval/aieval/internal/fakewire"
)

type usage struct {
	InputTokens  int `json:"input_tokens"`
	OutputTokens int `json:"output_tokens"`
}

// countUsage counts words as tokens: rough, but deterministic.
func countUsage(req *Request, rep Reply) usage {
	in := len(strings.Fields(req.System))
	for _, m := range req.Messages {
		for _, b := range m.Content {
			in += len(strings.Fields(b.Text))
		}
	}
	return usage{InputTokens: in, OutputTokens: len(strings.Fields(rep.Text)) + 10*len(rep.ToolUses)}
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
	return fmt.Sprintf("toolu_fake%d_%d", n, i)
}

func message(req *Request, n int64, rep Reply) map[string]any {
	content := []any{}
	if rep.Text != "" {
		content = append(content, map[string]any{"type": "text", "text": rep.Text})
	}
	for i, tu := range rep.ToolUses {
		in := tu.Input
		if in == nil {
			in = map[string]any{}
		}
		content = append(content, map[string]any{"type": "tool_use", "id": toolID(n, i, tu), "name": tu.Name, "input": in})
	}
	return map[string]any{
		"id": fmt.Sprintf("msg_fake%d", n), "type": "message", "role": "assistant", "model": req.Model,
		"content": content, "stop_reason": stopReason(rep), "stop_sequence": nil, "usage": countUsage(req, rep),
	}
}

// writeStream sends the answer as the API's SSE events: message_start,
// content blocks (start, deltas, stop), a ping, message_delta with the stop
// reason and usage, message_stop. A cut stream stops after the first
// delta; a stream error sends an error event instead of the end.
func writeStream(w http.ResponseWriter, req *Request, n int64, rep Reply, fault Kind) {
	w.Header().Set("Content-Type", "text/event-stream; charset=utf-8")
	w.Header().Set("Cache-Control", "no-cache")
	fl := w.(http.Flusher)
	send := func(event string, data any) {
		b, _ := json.Marshal(data)
		fmt.Fprintf(w, "event: %s\ndata: %s\n\n", event, b)
		fl.Flush()
	}
	u := countUsage(req, rep)
	msg := message(req, n, rep)
	msg["content"], msg["stop_reason"] = []any{}, nil
	msg["usage"] = usage{InputTokens: u.InputTokens, OutputTokens: 1}
	send("message_start", map[string]any{"type": "message_start", "message": msg})
	idx := 0
	if rep.Text != "" {
		send("content_block_start", map[string]any{"type": "content_block_start", "index": idx, "content_block": map[string]any{"type": "text", "text": ""}})
		send("ping", map[string]any{"type": "ping"})
		for i, c := range fakewire.SplitWords(rep.Text) {
			send("content_block_delta", map[string]any{"type": "content_block_delta", "index": idx, "delta": map[string]any{"type": "text_delta", "text": c}})
			if i == 0 && fault == KindCutStream {
				fakewire.ResetConn(w, false)
				return
			}
		}
		send("content_block_stop", map[string]any{"type": "content_block_stop", "index": idx})
		idx++
	}
	if fault == KindStreamError {
		send("error", map[string]any{"type": "error", "error": map[string]string{"type": "overloaded_error", "message": "Overloaded"}})
		return
	}
	for i, tu := range rep.ToolUses {
		send("content_block_start", map[string]any{"type": "content_block_start", "index": idx,
			"content_block": map[string]any{"type": "tool_use", "id": toolID(n, i, tu), "name": tu.Name, "input": map[string]any{}}})
		in, _ := json.Marshal(tu.Input)
		if tu.Input == nil {
			in = []byte("{}")
		}
		// The input arrives as partial JSON strings, cut anywhere.
		send("content_block_delta", map[string]any{"type": "content_block_delta", "index": idx, "delta": map[string]any{"type": "input_json_delta", "partial_json": ""}})
		for k := 0; k < len(in); k += 7 {
			part := string(in[k:min(k+7, len(in))])
			send("content_block_delta", map[string]any{"type": "content_block_delta", "index": idx, "delta": map[string]any{"type": "input_json_delta", "partial_json": part}})
		}
		send("content_block_stop", map[string]any{"type": "content_block_stop", "index": idx})
		idx++
	}
	if fault == KindCutStream { // no text to cut in: cut before the end
		fakewire.ResetConn(w, false)
		return
	}
	send("message_delta", map[string]any{"type": "message_delta", "delta": map[string]any{"stop_reason": stopReason(rep), "stop_sequence": nil},
		"usage": map[string]int{"output_tokens": u.OutputTokens}})
	send("message_stop", map[string]any{"type": "message_stop"})
}
