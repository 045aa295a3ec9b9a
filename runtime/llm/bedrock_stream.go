package llm

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"strings"
)

// The AWS event stream (application/vnd.amazon.eventstream): each message
// is a prelude (total length, headers length, both uint32 big-endian, and
// the prelude's CRC32), headers, a payload, and the message's CRC32.
const (
	esPrelude    = 12
	esMaxMessage = 16 << 20 // AWS's own limit
)

// esMessage is one decoded event-stream message.
type esMessage struct {
	Headers map[string]string // string-valued headers; others are skipped
	Payload []byte
}

// readEventStream reads one message; io.EOF at a clean message boundary.
func readEventStream(r io.Reader) (*esMessage, error) {
	var pre [esPrelude]byte
	if _, err := io.ReadFull(r, pre[:]); err != nil {
		return nil, err // io.EOF only when nothing was read
	}
	total := binary.BigEndian.Uint32(pre[0:4])
	hlen := binary.BigEndian.Uint32(pre[4:8])
	if crc32.ChecksumIEEE(pre[:8]) != binary.BigEndian.Uint32(pre[8:12]) {
		return nil, errors.New("event stream: prelude checksum mismatch")
	}
	if total < esPrelude+4 || total > esMaxMessage || hlen > total-esPrelude-4 {
		return nil, fmt.Errorf("event stream: bad lengths (total %d, headers %d)", total, hlen)
	}
	rest := make([]byte, total-esPrelude)
	if _, err := io.ReadFull(r, rest); err != nil {
		if errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return nil, err
	}
	body, sum := rest[:len(rest)-4], binary.BigEndian.Uint32(rest[len(rest)-4:])
	crc := crc32.NewIEEE()
	crc.Write(pre[:])
	crc.Write(body)
	if crc.Sum32() != sum {
		return nil, errors.New("event stream: message checksum mismatch")
	}
	m := &esMessage{Headers: map[string]string{}, Payload: body[hlen:]}
	h := body[:hlen]
	for len(h) > 0 {
		n := int(h[0])
		if len(h) < 2+n {
			return nil, errors.New("event stream: header cut short")
		}
		name, typ := string(h[1:1+n]), h[1+n]
		h = h[2+n:]
		size := 0
		switch typ {
		case 0, 1: // bool true, false
		case 2:
			size = 1
		case 3:
			size = 2
		case 4:
			size = 4
		case 5, 8: // int64, timestamp
			size = 8
		case 9: // uuid
			size = 16
		case 6, 7: // bytes, string: uint16 length
			if len(h) < 2 {
				return nil, errors.New("event stream: header cut short")
			}
			size = 2 + int(binary.BigEndian.Uint16(h))
		default:
			return nil, fmt.Errorf("event stream: header %q has unknown type %d", name, typ)
		}
		if len(h) < size {
			return nil, errors.New("event stream: header cut short")
		}
		if typ == 7 {
			m.Headers[name] = string(h[2:size])
		}
		h = h[size:]
	}
	return m, nil
}

// converseStream reads ConverseStream events: messageStart,
// contentBlockStart (tool use), contentBlockDelta (text or tool input),
// contentBlockStop, messageStop (stop reason), metadata (usage).
func converseStream(body io.Reader, onChunk ChunkFunc) (*Response, error) {
	resp := &Response{Role: "assistant"}
	var (
		text    strings.Builder
		calls   []claudeToolCall
		byIndex = map[int]int{}
		inputs  = map[int]*strings.Builder{}
		stopped bool
	)
	for {
		m, err := readEventStream(body)
		if err != nil {
			if stopped && (errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF)) && m == nil {
				break // metadata is optional after messageStop
			}
			if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
				return nil, &Error{Kind: KindBadResponse, Msg: "stream ended before messageStop"}
			}
			if strings.HasPrefix(err.Error(), "event stream:") {
				return nil, &Error{Kind: KindBadResponse, Msg: err.Error()}
			}
			return nil, &streamErr{err}
		}
		switch m.Headers[":message-type"] {
		case "event":
		case "exception":
			return nil, converseException(m)
		case "error":
			return nil, &Error{Kind: KindServer, Msg: "server error in stream: " + shorten(m.Headers[":error-code"]+": "+m.Headers[":error-message"], 200)}
		default:
			return nil, &Error{Kind: KindBadResponse, Msg: "event stream message of type " + quoteOr(m.Headers[":message-type"], "missing")}
		}
		var ev struct {
			Role              string `json:"role"`
			ContentBlockIndex int    `json:"contentBlockIndex"`
			Start             *struct {
				ToolUse *struct {
					ToolUseID string `json:"toolUseId"`
					Name      string `json:"name"`
				} `json:"toolUse"`
			} `json:"start"`
			Delta *struct {
				Text    *string `json:"text"`
				ToolUse *struct {
					Input string `json:"input"`
				} `json:"toolUse"`
			} `json:"delta"`
			StopReason string   `json:"stopReason"`
			Usage      *cvUsage `json:"usage"`
		}
		if err := json.Unmarshal(m.Payload, &ev); err != nil {
			return nil, err
		}
		switch m.Headers[":event-type"] {
		case "messageStart":
			if ev.Role != "" {
				resp.Role = ev.Role
			}
		case "contentBlockStart":
			if ev.Start != nil && ev.Start.ToolUse != nil {
				byIndex[ev.ContentBlockIndex] = len(calls)
				calls = append(calls, claudeToolCall{ID: ev.Start.ToolUse.ToolUseID, Name: ev.Start.ToolUse.Name})
				inputs[ev.ContentBlockIndex] = &strings.Builder{}
			}
		case "contentBlockDelta":
			if ev.Delta == nil {
				return nil, &Error{Kind: KindBadResponse, Msg: "contentBlockDelta without a delta"}
			}
			if t := ev.Delta.Text; t != nil {
				text.WriteString(*t)
				if onChunk != nil && *t != "" {
					onChunk(*t)
				}
			}
			if tu := ev.Delta.ToolUse; tu != nil {
				if b := inputs[ev.ContentBlockIndex]; b != nil {
					b.WriteString(tu.Input)
				}
			}
		case "contentBlockStop":
			if i, ok := byIndex[ev.ContentBlockIndex]; ok {
				calls[i].Input = []byte(inputs[ev.ContentBlockIndex].String())
			}
		case "messageStop":
			stopped = true
			resp.FinishReason = claudeFinish(ev.StopReason)
		case "metadata":
			if ev.Usage != nil {
				resp.Usage = ev.Usage.usage()
			}
		}
	}
	resp.Text, resp.ToolCalls = text.String(), claudeToolCallsJSON(calls)
	return resp, nil
}

// converseException maps an exception sent inside a 200 stream.
func converseException(m *esMessage) *Error {
	typ := m.Headers[":exception-type"]
	var p struct {
		Message string `json:"message"`
	}
	json.Unmarshal(m.Payload, &p)
	kind := KindServer
	switch typ {
	case "throttlingException":
		kind = KindRateLimited
	case "validationException":
		kind = KindClient
	}
	return &Error{Kind: kind, Msg: "exception in stream: " + shorten(typ+": "+p.Message, 200)}
}
