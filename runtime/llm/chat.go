package llm

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"

	openai "github.com/sashabaranov/go-openai"
)

// chatBody is the non-streamed request body after the checks go-openai's
// CreateChatCompletion makes before sending (models it refuses on this
// path, reasoning models' limits), which fail the call the same way.
func chatBody(creq *openai.ChatCompletionRequest, extra []byte) ([]byte, error) {
	if chatRefusedModels[creq.Model] {
		return nil, openai.ErrChatCompletionInvalidModel
	}
	if err := openai.NewReasoningValidator().Validate(*creq); err != nil {
		return nil, err
	}
	// Room for the usual body in one allocation (escapes and free-form
	// settings grow it).
	n := 64 + len(creq.Model) + len(extra) + 24*len(creq.Stop)
	for i := range creq.Messages {
		m := &creq.Messages[i]
		n += 40 + len(m.Role) + len(m.Content) + len(m.Name)
	}
	return appendChatBody(make([]byte, 0, n), creq, extra)
}

// chatRefusedModels are the completion-only models go-openai refuses to
// send to /chat/completions (its disabledModelsForEndpoints; by name, as
// most of its constants for them are deprecated).
var chatRefusedModels = map[string]bool{
	"code-davinci-002": true, "code-cushman-001": true, "code-davinci-001": true,
	"text-davinci-003": true, "text-davinci-002": true, "text-curie-001": true,
	"text-babbage-001": true, "text-ada-001": true, "text-davinci-001": true,
	"davinci-instruct-beta": true, "davinci": true, "curie-instruct-beta": true,
	"curie": true, "ada": true, "babbage": true,
}

// chat sends one non-streamed chat completion through o.http (the
// transport: retries, timeouts, breaker, limiter) with the headers
// go-openai sends, and reads the answer with decodeAnswer. It replaces
// go-openai's CreateChatCompletion on this path: its request building and
// reflection-based decoding were half of the client's own CPU per call.
func (o *OpenAI) chat(ctx context.Context, endpoint string, c *cachedClient, body []byte) (*Response, error) {
	hresp, whole, err := o.postJSON(ctx, endpoint+"/chat/completions", c, body)
	if err != nil {
		return nil, err
	}
	defer hresp.Body.Close()
	var a chatAnswer
	if whole != nil {
		err = decodeAnswer(whole, &a)
	} else {
		err = stdAnswer(hresp.Body, &a) // a stream, or a large body in pieces
	}
	if err != nil {
		return nil, err
	}
	return a.response()
}

// postJSON posts body to url through o.http with the headers go-openai
// sends, and returns a 2xx answer, with its body as one slice when the
// transport read it whole (nil otherwise: read hresp.Body). The caller
// closes the body.
func (o *OpenAI) postJSON(ctx context.Context, url string, c *cachedClient, body []byte) (hresp *http.Response, whole []byte, err error) {
	hreq, err := newPost(ctx, url, body)
	if err != nil {
		return nil, nil, err
	}
	if o.http.Jar == nil {
		hreq.Header = c.hdr // shared: net/http and the transport only read it
	} else {
		// A jar adds cookies to the request's own map. Shared value
		// slices: net/http only reads them, and Set or Add replace
		// rather than change them.
		h := hreq.Header
		if c.auth != nil {
			h["Authorization"] = c.auth
		}
		h["Accept"] = jsonType
		h["Content-Type"] = jsonType
	}
	if hresp, err = o.http.Do(hreq); err != nil {
		return nil, nil, err
	}
	if hresp.StatusCode < http.StatusOK || hresp.StatusCode >= http.StatusBadRequest {
		defer hresp.Body.Close()
		return nil, nil, errorAnswer(hresp) // the transport made every >= 400 an *Error; this is a 1xx or 3xx
	}
	if p, ok := hresp.Body.(*payload); ok {
		if b, ok := p.whole(); ok {
			whole = b
		}
	}
	return hresp, whole, nil
}

var jsonType = []string{"application/json"}

// errorAnswer is go-openai's handleErrorResp: the answer's error object,
// else a RequestError with the status.
func errorAnswer(resp *http.Response) error {
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return fmt.Errorf("error, reading response body: %w", err)
	}
	var errRes openai.ErrorResponse
	err = json.Unmarshal(body, &errRes)
	if err != nil || errRes.Error == nil {
		reqErr := &openai.RequestError{HTTPStatus: resp.Status, HTTPStatusCode: resp.StatusCode, Err: err, Body: body}
		if errRes.Error != nil {
			reqErr.Err = errRes.Error
		}
		return reqErr
	}
	errRes.Error.HTTPStatus = resp.Status
	errRes.Error.HTTPStatusCode = resp.StatusCode
	return errRes.Error
}
