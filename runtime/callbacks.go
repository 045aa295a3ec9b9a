package runtime

import (
	"context"
	"sync"
	"time"
)

// Event names follow the AIConfig SDK's callback events.
const (
	EventDeserializeStart = "on_deserialize_start"
	EventDeserializeDone  = "on_deserialize_complete"
	EventSerializeStart   = "on_serialize_start"
	EventSerializeDone    = "on_serialize_complete"
	EventResolveStart     = "on_resolve_start"
	EventResolveDone      = "on_resolve_complete"
	EventRunStart         = "on_run_start"
	EventRunDone          = "on_run_complete"
)

// Event is one callback notification. Data never holds credentials.
type Event struct {
	Name string         `json:"name"`
	Time time.Time      `json:"ts"`
	File string         `json:"file,omitempty"`
	Data map[string]any `json:"data,omitempty"`
}

// Callback receives events; it must be safe for concurrent use.
type Callback func(ctx context.Context, ev Event)

// CallbackManager fans events out to registered callbacks. The zero value
// and a nil manager are both usable and do nothing.
type CallbackManager struct {
	mu  sync.RWMutex
	cbs []Callback
}

// Add registers cb for every event.
func (m *CallbackManager) Add(cb Callback) {
	m.mu.Lock()
	m.cbs = append(m.cbs, cb)
	m.mu.Unlock()
}

// Emit sends ev to every callback, in registration order.
func (m *CallbackManager) Emit(ctx context.Context, ev Event) {
	if m == nil {
		return
	}
	m.mu.RLock()
	cbs := m.cbs
	m.mu.RUnlock()
	if len(cbs) == 0 {
		return
	}
	if ev.Time.IsZero() {
		ev.Time = time.Now()
	}
	for _, cb := range cbs {
		cb(ctx, ev)
	}
}
