package assertions

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"gopkg.in/yaml.v3"

	"github.com/aieval/aieval/internal/safefile"
)

// Shared decoding of Spec values: file:// loading, typed access, map key
// checks with typo hints, and short quoted excerpts for reasons.

const (
	filePrefix   = "file://"
	maxFileBytes = 16 << 20 // a referenced file larger than this is a mistake
	excerptRunes = 200
)

// isFileRef reports whether v is a "file://..." string.
func isFileRef(v any) bool {
	s, ok := v.(string)
	return ok && strings.HasPrefix(s, filePrefix)
}

// safePath resolves a file:// reference inside dir, refusing absolute paths
// and anything (".." or a symlink) that ends up outside dir.
func safePath(dir, ref string) (string, error) {
	rel := strings.TrimPrefix(ref, filePrefix)
	if rel == "" {
		return "", fmt.Errorf("%q names no file; write file://name.ext relative to the suite", ref)
	}
	if filepath.IsAbs(rel) || strings.HasPrefix(rel, "/") || filepath.VolumeName(rel) != "" {
		return "", fmt.Errorf("%s: absolute paths are not allowed; give a path relative to the suite directory", ref)
	}
	clean := filepath.Clean(filepath.FromSlash(rel))
	if clean == ".." || strings.HasPrefix(clean, ".."+string(filepath.Separator)) {
		return "", fmt.Errorf("%s escapes the suite directory; move the file next to the suite", ref)
	}
	base := dir
	if base == "" {
		base = "."
	}
	full := filepath.Join(base, clean)
	realBase, err := filepath.EvalSymlinks(base)
	if err != nil {
		return "", fmt.Errorf("resolve suite directory %s: %w", base, err)
	}
	realFull, err := filepath.EvalSymlinks(full)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return "", fmt.Errorf("%s: file not found (looked for %s); paths are relative to the suite file", ref, full)
		}
		return "", fmt.Errorf("resolve %s: %w", ref, err)
	}
	back, err := filepath.Rel(realBase, realFull)
	if err != nil || back == ".." || strings.HasPrefix(back, ".."+string(filepath.Separator)) {
		return "", fmt.Errorf("%s resolves outside the suite directory (symlink?); copy the file next to the suite", ref)
	}
	return full, nil
}

// readFileRef reads a file:// reference relative to dir.
func readFileRef(dir, ref string) ([]byte, error) {
	p, err := safePath(dir, ref)
	if err != nil {
		return nil, err
	}
	st, err := os.Stat(p)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", ref, err)
	}
	if st.IsDir() {
		return nil, fmt.Errorf("%s is a directory; name a file", ref)
	}
	if st.Size() > maxFileBytes {
		return nil, fmt.Errorf("%s is larger than %d MiB; reference a smaller file", ref, maxFileBytes>>20)
	}
	b, err := safefile.ReadFile(p, maxFileBytes)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", ref, err)
	}
	return b, nil
}

// scalarString renders a YAML scalar (string, number, bool) as text.
func scalarString(v any) (string, bool) {
	switch x := v.(type) {
	case string:
		return x, true
	case bool:
		return strconv.FormatBool(x), true
	case int:
		return strconv.Itoa(x), true
	case int64:
		return strconv.FormatInt(x, 10), true
	case uint64:
		return strconv.FormatUint(x, 10), true
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64), true
	case json.Number:
		return x.String(), true
	}
	return "", false
}

// textValue returns the spec's value as text, loading file:// references.
func textValue(spec Spec) (string, error) {
	if spec.Value == nil {
		return "", errors.New("missing value: give the expected text as `value:`")
	}
	if isFileRef(spec.Value) {
		b, err := readFileRef(spec.Dir, spec.Value.(string))
		if err != nil {
			return "", err
		}
		return string(b), nil
	}
	s, ok := scalarString(spec.Value)
	if !ok {
		return "", fmt.Errorf("value must be text, got %s", kindOf(spec.Value))
	}
	return s, nil
}

// kindOf names a decoded value's shape for error messages.
func kindOf(v any) string {
	switch v.(type) {
	case nil:
		return "nothing"
	case string:
		return "text"
	case map[string]any, map[any]any:
		return "a map"
	case []any:
		return "a list"
	case bool:
		return "a boolean"
	}
	if _, ok := toFloat(v); ok {
		return "a number"
	}
	return fmt.Sprintf("%T", v)
}

// toFloat reads any decoded number.
func toFloat(v any) (float64, bool) {
	switch x := v.(type) {
	case int:
		return float64(x), true
	case int64:
		return float64(x), true
	case uint64:
		return float64(x), true
	case float64:
		return x, true
	case float32:
		return float64(x), true
	case json.Number:
		f, err := x.Float64()
		return f, err == nil
	}
	return 0, false
}

// toCount reads a non-negative whole number.
func toCount(v any, key string) (int, error) {
	f, ok := toFloat(v)
	if !ok || f < 0 || f != float64(int(f)) {
		return 0, fmt.Errorf("%s must be a whole number >= 0, got %s", key, short(v))
	}
	return int(f), nil
}

// mapValue returns v as a string-keyed map, rejecting keys outside allowed
// with a typo hint.
func mapValue(v any, allowed ...string) (map[string]any, error) {
	var m map[string]any
	switch x := v.(type) {
	case map[string]any:
		m = x
	case map[any]any:
		m = make(map[string]any, len(x))
		for k, val := range x {
			m[fmt.Sprint(k)] = val
		}
	default:
		return nil, fmt.Errorf("value must be a map with keys %s, got %s", strings.Join(allowed, ", "), kindOf(v))
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if !contains(allowed, k) {
			return nil, fmt.Errorf("unknown key %q%s (allowed: %s)", k, Suggest(k, allowed), strings.Join(allowed, ", "))
		}
	}
	return m, nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// Suggest returns " (did you mean X?)" for the closest candidate within
// two edits (ignoring case), else "". The suite loader uses it too.
func Suggest(s string, candidates []string) string {
	best, bestD := "", 3
	for _, c := range candidates {
		if d := editDistance(strings.ToLower(s), strings.ToLower(c)); d < bestD && d < len([]rune(c)) {
			best, bestD = c, d
		}
	}
	if best == "" {
		return ""
	}
	return fmt.Sprintf(" (did you mean %s?)", best)
}

// editDistance is a plain Levenshtein distance for short identifiers.
func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}

// normalizeJSON turns a YAML- or JSON-decoded value into the shape
// encoding/json produces (map[string]any, []any, float64), so values
// compare by JSON meaning.
func normalizeJSON(v any) (any, error) {
	v = stringKeys(v)
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("encode value as JSON: %w", err)
	}
	var out any
	if err := json.Unmarshal(b, &out); err != nil {
		return nil, fmt.Errorf("decode value as JSON: %w", err)
	}
	return out, nil
}

// stringKeys converts map[any]any (YAML with odd keys) recursively.
func stringKeys(v any) any {
	switch x := v.(type) {
	case map[any]any:
		m := make(map[string]any, len(x))
		for k, val := range x {
			m[fmt.Sprint(k)] = stringKeys(val)
		}
		return m
	case map[string]any:
		m := make(map[string]any, len(x))
		for k, val := range x {
			m[k] = stringKeys(val)
		}
		return m
	case []any:
		l := make([]any, len(x))
		for i, val := range x {
			l[i] = stringKeys(val)
		}
		return l
	}
	return v
}

// structuredValue loads a map/list value, or a file:// reference to a JSON
// or YAML file, as normalized JSON.
func structuredValue(spec Spec, v any) (any, error) {
	if isFileRef(v) {
		ref := v.(string)
		b, err := readFileRef(spec.Dir, ref)
		if err != nil {
			return nil, err
		}
		var decoded any
		switch strings.ToLower(filepath.Ext(ref)) {
		case ".yaml", ".yml":
			err = yaml.Unmarshal(b, &decoded)
		default:
			err = json.Unmarshal(b, &decoded)
		}
		if err != nil {
			return nil, fmt.Errorf("parse %s: %w", ref, err)
		}
		return normalizeJSON(decoded)
	}
	return normalizeJSON(v)
}

// noThreshold rejects a threshold on types that do not use one, since a
// silently ignored threshold hides a mistake.
func noThreshold(spec Spec) error {
	if spec.Threshold != nil {
		return errors.New("threshold is not used by this type; remove it (or use a test-level threshold)")
	}
	return nil
}

// excerpt cuts s to about n runes, marking the cut.
func excerpt(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n]) + "…"
}

// q quotes a short excerpt of s for a reason.
func q(s string) string {
	var buf [reasonBuf]byte
	return string(appendQ(buf[:0], s))
}

// short renders any value compactly for messages.
func short(v any) string {
	if s, ok := v.(string); ok {
		return q(s)
	}
	b, err := json.Marshal(stringKeys(v))
	if err != nil {
		return fmt.Sprint(v)
	}
	return excerpt(string(b), excerptRunes)
}

// found describes what the output held, for failure reasons.
func found(output string) string {
	if strings.TrimSpace(output) == "" {
		return "output is empty"
	}
	return "found " + q(output)
}

// appendQ appends q(s) to b. Reasons are built into a caller's stack
// buffer with it: one allocation a reason instead of one a piece.
func appendQ(b []byte, s string) []byte {
	if len(s) > excerptRunes {
		s = excerpt(s, excerptRunes)
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < ' ' || c > '~' || c == '"' || c == '\\' {
			return strconv.AppendQuote(b, s)
		}
	}
	// Printable ASCII without a quote or backslash: Quote leaves it as is,
	// and copying it is several times faster than Quote's rune by rune.
	return append(append(append(b, '"'), s...), '"')
}

// appendFound appends found(output) to b.
func appendFound(b []byte, output string) []byte {
	if strings.TrimSpace(output) == "" {
		return append(b, "output is empty"...)
	}
	return appendQ(append(b, "found "...), output)
}
