package assertions

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// TestSchemaRefs: $ref resolves within the schema and to files beside
// the suite; a network ref, a device, or a path out of the suite
// directory is refused when the suite loads, quickly, with one line and
// without any request.
func TestSchemaRefs(t *testing.T) {
	var hits atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		w.Write([]byte(`{"type":"object"}`))
	}))
	defer srv.Close()
	root := t.TempDir()
	dir := filepath.Join(root, "suite")
	must(t, os.MkdirAll(filepath.Join(dir, "schemas"), 0o755))
	must(t, os.WriteFile(filepath.Join(dir, "defs.json"), []byte(`{"definitions":{"n":{"type":"integer"}}}`), 0o644))
	must(t, os.WriteFile(filepath.Join(dir, "schemas", "main.json"), []byte(`{"properties":{"a":{"$ref":"../defs.json#/definitions/n"}}}`), 0o644))
	must(t, os.WriteFile(filepath.Join(root, "outside.json"), []byte(`{"type":"integer"}`), 0o644))
	must(t, os.Symlink(filepath.Join(root, "outside.json"), filepath.Join(dir, "link.json")))
	must(t, os.Symlink("/dev/zero", filepath.Join(dir, "zero.json")))
	ref := func(r string) map[string]any {
		return map[string]any{"type": "object", "properties": map[string]any{"a": map[string]any{"$ref": r}}}
	}
	good := []struct {
		name  string
		value any
	}{
		{"local definitions", map[string]any{"definitions": map[string]any{"n": map[string]any{"type": "integer"}},
			"properties": map[string]any{"a": map[string]any{"$ref": "#/definitions/n"}}}},
		{"sibling file", ref("defs.json#/definitions/n")},
		{"sibling file, ./", ref("./defs.json#/definitions/n")},
		{"relative to a schema file", "file://schemas/main.json"},
		{"$schema draft URL is not fetched", map[string]any{"$schema": srv.URL + "/meta", "properties": map[string]any{"a": map[string]any{"type": "integer"}}}},
	}
	for _, tt := range good {
		t.Run(tt.name, func(t *testing.T) {
			a, err := New(Spec{Type: "json-schema", Value: tt.value, Dir: dir})
			must(t, err)
			r, err := a.Check(context.Background(), &Input{Output: `{"a": "text"}`})
			must(t, err)
			if r.Pass || !strings.Contains(r.Reason, "a: Invalid type") {
				t.Errorf("the referenced schema was not applied: %+v", r)
			}
		})
	}
	bad := []struct {
		name  string
		value any
		want  string
	}{
		{"http ref", ref(srv.URL + "/s.json"), "it is never fetched"},
		{"https ref", ref("https://json-schema.example/s.json"), "it is never fetched"},
		{"relative ref under an http $id", map[string]any{"$id": srv.URL + "/root.json", "properties": map[string]any{"a": map[string]any{"$ref": "other.json"}}}, "it is never fetched"},
		{"file:///dev/zero", ref("file:///dev/zero"), "escapes the suite directory"},
		{"absolute file", ref("file://" + filepath.Join(root, "outside.json")), "escapes the suite directory"},
		{"relative escape", ref("../outside.json"), "escapes the suite directory"},
		{"symlink out", ref("link.json"), "resolves outside the suite directory"},
		{"symlink to a device", ref("zero.json"), "resolves outside the suite directory"},
		{"missing file", ref("nope.json"), "file not found"},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			start := time.Now()
			_, err := New(Spec{Type: "json-schema", Value: tt.value, Dir: dir})
			if err == nil || !strings.Contains(err.Error(), tt.want) || strings.Contains(err.Error(), "\n") {
				t.Errorf("err = %v, want one line saying %q", err, tt.want)
			}
			if d := time.Since(start); d > time.Second {
				t.Errorf("took %v", d)
			}
		})
	}
	if n := hits.Load(); n != 0 {
		t.Errorf("%d requests to the schema server; want none", n)
	}
}
