package fakeopenai

import (
	"encoding/json"
	"io"
	"net/http"
	"strconv"
)

// ModerationCategories are the categories every /moderations result lists.
var ModerationCategories = []string{
	"harassment", "harassment/threatening", "hate", "hate/threatening", "illicit", "illicit/violent",
	"self-harm", "self-harm/instructions", "self-harm/intent", "sexual", "sexual/minors", "violence", "violence/graphic",
}

// WithModeration sets the categories flagged for one /moderations input
// text. Default: nothing is flagged.
func WithModeration(fn func(input string) []string) Option {
	return func(s *Server) { s.moderate = fn }
}

// handleModeration answers POST /v1/moderations in OpenAI's shape, one
// result per input text.
func (s *Server) handleModeration(w http.ResponseWriter, r *http.Request) {
	defer s.enter()()
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return
	}
	s.record(r, body, nil)
	var req struct {
		Model string          `json:"model"`
		Input json.RawMessage `json:"input"`
	}
	var inputs []string
	if err := json.Unmarshal(body, &req); err == nil {
		var one string
		if json.Unmarshal(req.Input, &one) == nil {
			inputs = []string{one}
		} else if json.Unmarshal(req.Input, &inputs) != nil {
			inputs = nil
		}
	}
	if len(inputs) == 0 {
		writeError(w, http.StatusBadRequest, "invalid_request_error", "input must be a string or a list of strings")
		return
	}
	n := s.moderations.Add(1)
	type result struct {
		Flagged    bool               `json:"flagged"`
		Categories map[string]bool    `json:"categories"`
		Scores     map[string]float64 `json:"category_scores"`
	}
	results := make([]result, len(inputs))
	for i, text := range inputs {
		res := result{Categories: map[string]bool{}, Scores: map[string]float64{}}
		for _, c := range ModerationCategories {
			res.Categories[c], res.Scores[c] = false, 0.0001
		}
		if s.moderate != nil {
			for _, c := range s.moderate(text) {
				res.Categories[c], res.Scores[c], res.Flagged = true, 0.99, true
			}
		}
		results[i] = res
	}
	model := req.Model
	if model == "" {
		model = "omni-moderation-latest"
	}
	writeJSON(w, map[string]any{"id": "modr-" + strconv.FormatInt(n, 10), "model": model, "results": results})
}

// ModerationRequests is the number of /moderations requests received.
func (s *Server) ModerationRequests() int64 { return s.moderations.Load() }
