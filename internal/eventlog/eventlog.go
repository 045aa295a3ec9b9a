// Package eventlog writes callback events as JSON Lines (aieval --events),
// one object per event, credentials scrubbed from every line.
package eventlog

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"

	"github.com/aieval/aieval/runtime"
)

// Writer is a runtime.Callback target; safe for concurrent use. Lines are
// written whole and in emission order.
type Writer struct {
	mu    sync.Mutex
	w     *bufio.Writer
	c     io.Closer
	scrub *Scrubber
	err   error // first write error; later events are dropped
	buf   bytes.Buffer
	enc   *json.Encoder
}

// Create opens path (truncating it) for events; scrub removes secrets
// from each encoded line (nil: key shapes and URL userinfo only).
func Create(path string, scrub *Scrubber) (*Writer, error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o644)
	if err != nil {
		return nil, fmt.Errorf("--events: %w", err)
	}
	w := New(f, scrub)
	w.c = f
	return w, nil
}

// New writes events to out.
func New(out io.Writer, scrub *Scrubber) *Writer {
	if scrub == nil {
		scrub = NewScrubber()
	}
	w := &Writer{w: bufio.NewWriterSize(out, 64<<10), scrub: scrub}
	w.enc = json.NewEncoder(&w.buf)
	w.enc.SetEscapeHTML(false)
	return w
}

// Handle is the runtime.Callback that writes ev.
func (w *Writer) Handle(_ context.Context, ev runtime.Event) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.err != nil {
		return
	}
	w.scrub.Learn(ev)
	w.buf.Reset()
	if err := w.enc.Encode(ev); err != nil {
		// Data a callback cannot encode (a NaN score): the event is still
		// told, by name, time and scope.
		w.buf.Reset()
		_ = w.enc.Encode(runtime.Event{Name: ev.Name, Time: ev.Time, Scope: ev.Scope, File: ev.File,
			Data: map[string]any{"encode_error": err.Error()}})
	}
	if _, err := w.w.Write(w.scrub.Line(w.buf.Bytes())); err != nil {
		w.err = err
	}
}

// Close flushes and closes the file; it returns the first write error.
func (w *Writer) Close() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	err := w.err
	if ferr := w.w.Flush(); err == nil {
		err = ferr
	}
	if w.c != nil {
		err = errors.Join(err, w.c.Close())
		w.c = nil
	}
	if err != nil {
		return fmt.Errorf("--events: %w", err)
	}
	return nil
}
