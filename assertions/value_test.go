package assertions

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestFileValues(t *testing.T) {
	dir := t.TempDir()
	outside := t.TempDir()
	must(t, os.WriteFile(filepath.Join(dir, "want.txt"), []byte("hello"), 0o644))
	must(t, os.MkdirAll(filepath.Join(dir, "sub"), 0o755))
	must(t, os.WriteFile(filepath.Join(dir, "sub", "nested.txt"), []byte("nested"), 0o644))
	must(t, os.WriteFile(filepath.Join(outside, "secret.txt"), []byte("secret"), 0o644))
	must(t, os.Symlink(filepath.Join(outside, "secret.txt"), filepath.Join(dir, "link.txt")))
	must(t, os.Symlink("want.txt", filepath.Join(dir, "inner-link.txt")))

	for _, tc := range []struct {
		name, value, output, wantErr string
	}{
		{name: "plain file", value: "file://want.txt", output: "say hello"},
		{name: "nested file", value: "file://sub/nested.txt", output: "nested!"},
		{name: "dot segments inside", value: "file://sub/../want.txt", output: "hello"},
		{name: "symlink inside", value: "file://inner-link.txt", output: "hello"},
		{name: "parent traversal", value: "file://../secret.txt", wantErr: "file://../secret.txt escapes the suite directory; move the file next to the suite"},
		{name: "deep traversal", value: "file://sub/../../x.txt", wantErr: "escapes the suite directory"},
		{name: "absolute", value: "file:///etc/passwd", wantErr: "file:///etc/passwd: absolute paths are not allowed"},
		{name: "symlink outside", value: "file://link.txt", wantErr: "file://link.txt resolves outside the suite directory"},
		{name: "missing", value: "file://nope.txt", wantErr: "file://nope.txt: file not found"},
		{name: "directory", value: "file://sub", wantErr: "file://sub is a directory"},
		{name: "empty", value: "file://", wantErr: "names no file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			spec := Spec{Type: "contains", Value: tc.value, Dir: dir, Weight: 1}
			a, err := New(spec)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			r, err := a.Check(context.Background(), &Input{Output: tc.output})
			if err != nil || !r.Pass {
				t.Fatalf("check = %+v, %v; want pass", r, err)
			}
		})
	}
}

func TestSuggest(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"equal", " (did you mean equals?)"},
		{"contians", " (did you mean contains?)"},
		{"zzzzzz", ""},
	} {
		if got := Suggest(tc.in, []string{"equals", "contains", "exists", "path"}); got != tc.want {
			t.Errorf("Suggest(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestExcerpt(t *testing.T) {
	long := strings.Repeat("é", 500)
	got := q(long)
	if n := len([]rune(got)); n > excerptRunes+5 {
		t.Errorf("quoted excerpt has %d runes, want about %d", n, excerptRunes)
	}
	if !strings.HasSuffix(got, `…"`) {
		t.Errorf("excerpt %q does not mark the cut", got)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
