package eval

import (
	"github.com/aieval/aieval/eval/results"
	"github.com/aieval/aieval/internal/text"
	"github.com/aieval/aieval/runtime/llm"
)

// requestRecord is the run record's copy of the request a test sent: every
// message (multimodal parts as their text, images by reference) and the
// settings, contents capped like outputs in reports so a long shared
// context repeated in every test does not swell the results file. The
// request holds no credential (llm.Request keeps keys out of it).
func requestRecord(req *llm.Request) *results.Request {
	if req == nil || (len(req.Messages) == 0 && len(req.Settings) == 0) {
		return nil
	}
	out := &results.Request{Settings: req.Settings}
	if len(req.Messages) > 0 {
		out.Messages = make([]results.Message, 0, len(req.Messages))
	}
	for i := range req.Messages {
		m := &req.Messages[i]
		content := llm.MessageText(m)
		for _, p := range m.Parts {
			if p.Type == "image_url" {
				content += "\n[image " + text.OneLine(p.ImageURL, 200) + "]"
			}
		}
		out.Messages = append(out.Messages, results.Message{Role: m.Role, Content: text.Cap(content, 0), Name: m.Name})
	}
	return out
}
