package runtime

import (
	"context"
	"net/url"
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
	Name string    `json:"name"`
	Time time.Time `json:"ts"`
	// Scope names the unit of work the event happened in (eval: one run of
	// one test), taken from the context by Emit, so a model call's events
	// can be tied to the test that made them.
	Scope string         `json:"scope,omitempty"`
	File  string         `json:"file,omitempty"`
	Data  map[string]any `json:"data,omitempty"`
}

// Callback receives events; it must be safe for concurrent use. Events of
// one scope arrive in order from one goroutine at a time.
type Callback func(ctx context.Context, ev Event)

// CallbackManager fans events out to registered callbacks. The zero value
// and a nil manager are both usable and do nothing.
type CallbackManager struct {
	mu  sync.RWMutex
	cbs []Callback
}

// NewCallbackManager returns a manager with cbs registered, as the SDK's
// CallbackManager(callbacks) does.
func NewCallbackManager(cbs ...Callback) *CallbackManager {
	return &CallbackManager{cbs: append([]Callback(nil), cbs...)}
}

// Add registers cb for every event.
func (m *CallbackManager) Add(cb Callback) {
	m.mu.Lock()
	m.cbs = append(m.cbs, cb)
	m.mu.Unlock()
}

// Active reports whether any callback is registered, so a caller can skip
// building an event nobody reads.
func (m *CallbackManager) Active() bool {
	if m == nil {
		return false
	}
	m.mu.RLock()
	defer m.mu.RUnlock()
	return len(m.cbs) > 0
}

// Emit sends ev to every callback, in registration order. A zero Time is
// set to now and an empty Scope to the context's.
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
	if ev.Scope == "" {
		ev.Scope = ScopeOf(ctx)
	}
	for _, cb := range cbs {
		cb(ctx, ev)
	}
}

type scopeKey struct{}

// WithScope returns ctx marked as inside scope id: every event emitted
// under it carries Scope id.
func WithScope(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, scopeKey{}, id)
}

// ScopeOf is the scope ctx is in, or "".
func ScopeOf(ctx context.Context) string {
	if ctx == nil {
		return ""
	}
	s, _ := ctx.Value(scopeKey{}).(string)
	return s
}

// redactURL is an endpoint as events may show it: without userinfo or
// query (either can carry a key).
func redactURL(raw string) string {
	if raw == "" {
		return ""
	}
	u, err := url.Parse(raw)
	if err != nil {
		return "[unparsable url]"
	}
	u.User, u.RawQuery, u.Fragment = nil, "", ""
	return u.String()
}
