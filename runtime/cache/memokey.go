package cache

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"sync"

	"github.com/aieval/aieval/internal/jsonw"
	"github.com/aieval/aieval/runtime/llm"
)

// memoKey is a Memo's key for req: sha256 of an unambiguous encoding of
// every field that reaches the model (each string length-prefixed, each
// list counted), as 32 raw bytes in a string. It is only ever an in-memory
// map key, never a file name: the disk cache keeps key (the request's
// canonical JSON) so recorded caches keep their addresses. Marshalling the
// request to JSON first was most of a memo's cost.
//
// Two requests get one memoKey only when key would also give them one
// (the same normalisation: the endpoint as NormalizeEndpoint has it, nil
// and empty lists and maps alike, raw JSON compacted, settings as
// json.Marshal writes them); it fails exactly when key would (a setting or
// raw JSON json.Marshal refuses).
func (m *Memo) memoKey(req *llm.Request) (memoKeyT, error) {
	bufs := keyBufs.Get().(*memoBufs)
	defer func() {
		if cap(bufs.key) <= 64<<10 && cap(bufs.settings) <= 64<<10 { // a huge request's buffers are not kept
			keyBufs.Put(bufs)
		}
	}()
	b := append(bufs.key[:0], "aieval-memo-1"...)
	b = appendStr(b, req.Provider)
	b = appendStr(b, m.endpoint(req.BaseURL))
	b = appendStr(b, req.Model)
	b = binary.AppendUvarint(b, uint64(len(req.Messages)))
	var err error
	for i := range req.Messages {
		msg := &req.Messages[i]
		b = appendStr(b, msg.Role)
		b = appendStr(b, msg.Content)
		b = binary.AppendUvarint(b, uint64(len(msg.Parts)))
		for _, p := range msg.Parts {
			b = appendStr(b, p.Type)
			b = appendStr(b, p.Text)
			b = appendStr(b, p.ImageURL)
			b = appendStr(b, p.Detail)
		}
		b = appendStr(b, msg.Name)
		b = appendStr(b, msg.ToolCallID)
		if b, err = appendRaw(b, msg.ToolCalls); err != nil {
			return memoKeyT{}, err
		}
		if b, err = appendRaw(b, msg.FunctionCall); err != nil {
			return memoKeyT{}, err
		}
	}
	if len(req.Settings) == 0 {
		b = appendStr(b, "")
	} else {
		// Sorted keys: one encoding. jsonw writes what json.Marshal
		// writes without HTML escaping (which changes no equality), and
		// declines what it does not know (or NaN): encoding/json, with
		// the same escaping, then encodes or refuses it.
		s, ok := jsonw.Map(bufs.settings[:0], req.Settings)
		if !ok {
			var sb bytes.Buffer
			enc := json.NewEncoder(&sb)
			enc.SetEscapeHTML(false)
			if err := enc.Encode(req.Settings); err != nil {
				return memoKeyT{}, fmt.Errorf("encode request settings: %w", err)
			}
			s = bytes.TrimSuffix(sb.Bytes(), []byte("\n"))
		} else {
			bufs.settings = s
		}
		b = binary.AppendUvarint(b, uint64(len(s)))
		b = append(b, s...)
	}
	b = binary.AppendVarint(b, int64(req.Sample))
	bufs.key = b
	return sha256.Sum256(b), nil
}

// memoKeyT is a memo key: 32 raw bytes, no string to allocate.
type memoKeyT [sha256.Size]byte

// keyBufs are memoKey's encoding buffers.
var keyBufs = sync.Pool{New: func() any { return &memoBufs{key: make([]byte, 0, 1024), settings: make([]byte, 0, 256)} }}

type memoBufs struct{ key, settings []byte }

func appendStr(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

// appendRaw appends raw JSON compacted, as json.Marshal writes a
// json.RawMessage (and refuses one that is not JSON); empty is omitted.
func appendRaw(b []byte, raw json.RawMessage) ([]byte, error) {
	if len(raw) == 0 {
		return appendStr(b, ""), nil
	}
	var c bytes.Buffer
	if err := json.Compact(&c, raw); err != nil {
		return b, fmt.Errorf("encode request: %w", err)
	}
	return appendStr(b, c.String()), nil
}

// endpoint is NormalizeEndpoint(base) with the last answer kept: a run
// sends most requests to one endpoint, and parsing its URL each time
// showed in a profile.
func (m *Memo) endpoint(base string) string {
	if base == "" {
		return ""
	}
	if last := m.lastEndpoint.Load(); last != nil && last[0] == base {
		return last[1]
	}
	n := NormalizeEndpoint(base)
	m.lastEndpoint.Store(&[2]string{base, n})
	return n
}
