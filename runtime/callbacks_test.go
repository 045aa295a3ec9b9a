package runtime

import (
	"context"
	"strings"
	"testing"
	"time"
)

func TestCallbackManagerNilAndScope(t *testing.T) {
	var nilMgr *CallbackManager
	nilMgr.Emit(context.Background(), Event{Name: "x"}) // no panic
	if nilMgr.Active() || (&CallbackManager{}).Active() {
		t.Error("an empty manager is active")
	}
	var got []Event
	m := NewCallbackManager(func(_ context.Context, ev Event) { got = append(got, ev) })
	if !m.Active() {
		t.Error("a manager with a callback is not active")
	}
	ctx := WithScope(context.Background(), "t3.1")
	m.Emit(ctx, Event{Name: EventRunStart})
	m.Emit(ctx, Event{Name: EventRunDone, Scope: "own"})
	fixed := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	m.Emit(context.Background(), Event{Name: EventResolveStart, Time: fixed})
	if len(got) != 3 || got[0].Scope != "t3.1" || got[1].Scope != "own" || got[2].Scope != "" {
		t.Fatalf("scopes: %+v", got)
	}
	if got[0].Time.IsZero() || !got[2].Time.Equal(fixed) {
		t.Errorf("times: %v, %v", got[0].Time, got[2].Time)
	}
}

func TestRedactURL(t *testing.T) {
	for in, want := range map[string]string{
		"":                                      "",
		"https://api.openai.com/v1":             "https://api.openai.com/v1",
		"https://bob:s3cret@proxy.example/v1":   "https://proxy.example/v1",
		"https://x.example/v1?key=AIzaSECRET#f": "https://x.example/v1",
		"http://[::1":                           "[unparsable url]",
	} {
		got := redactURL(in)
		if got != want || strings.Contains(got, "s3cret") {
			t.Errorf("redactURL(%q) = %q, want %q", in, got, want)
		}
	}
}
