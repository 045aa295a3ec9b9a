package assertions

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"regexp"
	"strings"
	"unicode/utf8"
)

// Text assertions: equality, substrings, prefixes, regular expressions.
// Reasons state a fact ("output contains ...") so that not- variants read
// naturally ("output contains ... but must not").

// checkFunc adapts a closure to Assertion.
type checkFunc func(ctx context.Context, in *Input) (Result, error)

func (f checkFunc) Check(ctx context.Context, in *Input) (Result, error) { return f(ctx, in) }

// outcome builds a 1-or-0 result.
func outcome(pass bool, reason string) Result {
	r := Result{Pass: pass, Reason: reason}
	if pass {
		r.Score = 1
	}
	return r
}

// shortDiffRunes: contains-type failures show a diff only when both sides
// are short enough for it to be readable.
const shortDiffRunes = 300

func init() {
	Register("equals", newEquals)
	describe("equals", "output equals value exactly; a map or list value compares the output parsed as JSON")
	Register("contains", newContains(false))
	describe("contains", "output contains the value text")
	Register("icontains", newContains(true))
	describe("icontains", "output contains the value text, ignoring case")
	Register("contains-any", newContainsSet(false, false))
	describe("contains-any", "output contains at least one of a list of texts (a single comma-free text is a one-item list)")
	Register("contains-all", newContainsSet(true, false))
	describe("contains-all", "output contains every text of a list; score = fraction found")
	Register("icontains-any", newContainsSet(false, true))
	describe("icontains-any", "contains-any, ignoring case")
	Register("icontains-all", newContainsSet(true, true))
	describe("icontains-all", "contains-all, ignoring case")
	Register("starts-with", newAffix(true))
	describe("starts-with", "output starts with the value text")
	Register("ends-with", newAffix(false))
	describe("ends-with", "output ends with the value text")
	Register("regex", newRegex)
	describe("regex", "output matches the value, a Go regular expression (RE2 syntax; (?i) for case-insensitive)")
}

func newEquals(spec Spec) (Assertion, error) {
	if err := noThreshold(spec); err != nil {
		return nil, err
	}
	switch spec.Value.(type) {
	case map[string]any, map[any]any, []any:
		want, err := normalizeJSON(spec.Value)
		if err != nil {
			return nil, err
		}
		return jsonEquals(want), nil
	}
	want, err := textValue(spec)
	if err != nil {
		return nil, err
	}
	pass, failHead := "output equals "+q(want), "output does not equal "+q(want)+"; "
	return checkFunc(func(_ context.Context, in *Input) (Result, error) {
		if in.Output == want {
			return outcome(true, pass), nil
		}
		var buf [reasonBuf]byte
		reason := string(appendFound(append(buf[:0], failHead...), in.Output))
		if strings.TrimSpace(in.Output) == strings.TrimSpace(want) {
			reason += " (they differ only in leading/trailing whitespace)"
		}
		r := outcome(false, reason)
		r.diff = lazyDiff(want, in.Output)
		return r, nil
	}), nil
}

// jsonEquals compares the output parsed as JSON with want by meaning:
// key order and number spelling do not matter.
func jsonEquals(want any) Assertion {
	wantText, pass := prettyJSON(want), "output JSON equals "+short(want)
	return checkFunc(func(_ context.Context, in *Input) (Result, error) {
		got, err := parseJSON(in.Output)
		if err != nil {
			return outcome(false, fmt.Sprintf("output is not JSON (%v), expected JSON equal to %s; %s", err, short(want), found(in.Output))), nil
		}
		if reflect.DeepEqual(got, want) {
			return outcome(true, pass), nil
		}
		r := outcome(false, fmt.Sprintf("output JSON differs: expected %s, found %s", short(want), short(got)))
		r.diff = lazyDiff(wantText, prettyJSON(got))
		return r, nil
	})
}

// parseJSON decodes the whole output (surrounding whitespace allowed) as
// one JSON value. A fenced block gets a hint, since contains-json is the
// type that looks inside text.
func parseJSON(output string) (any, error) {
	s := strings.TrimSpace(output)
	dec := json.NewDecoder(strings.NewReader(s))
	var v any
	err := dec.Decode(&v)
	if err == nil {
		if _, tokErr := dec.Token(); tokErr != io.EOF {
			err = errors.New("extra text after the JSON value")
		}
	}
	if err != nil {
		if strings.HasPrefix(s, "```") {
			return nil, errors.New("it is wrapped in a ``` fence; use contains-json or ask the model for bare JSON")
		}
		return nil, err
	}
	return v, nil
}

// prettyJSON renders v indented with sorted keys, for diffs.
func prettyJSON(v any) string {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

func newContains(fold bool) Factory {
	return func(spec Spec) (Assertion, error) {
		want, err := requiredText(spec, errors.New("value is empty, which every output contains; give the text to look for"))
		if err != nil {
			return nil, err
		}
		suffix := ""
		if fold {
			suffix = " (ignoring case)"
		}
		// Both reasons but the output are the spec's: made once, here.
		pass, failHead := "output contains "+q(want)+suffix, "output does not contain "+q(want)+suffix+"; "
		n := newNeedle(want, fold)
		return checkFunc(func(_ context.Context, in *Input) (Result, error) {
			if n.in(in.Output) {
				return outcome(true, pass), nil
			}
			var buf [reasonBuf]byte
			r := outcome(false, string(appendFound(append(buf[:0], failHead...), in.Output)))
			if utf8.RuneCountInString(in.Output) <= shortDiffRunes && utf8.RuneCountInString(want) <= shortDiffRunes {
				r.diff = lazyDiff(want, in.Output)
			}
			return r, nil
		}), nil
	}
}

// reasonBuf is the stack buffer a reason is built in: most fit.
const reasonBuf = 320

// needle is a text a check looks for: as written, or for a
// case-insensitive check in lower case, made once when the suite loads.
type needle struct {
	text string
	fold bool
	low  []byte // strings.ToLower(text)
}

func newNeedle(text string, fold bool) needle {
	n := needle{text: text, fold: fold}
	if fold {
		n.low = []byte(strings.ToLower(text))
	}
	return n
}

// in reports whether s contains the needle: for a folded one,
// strings.Contains(strings.ToLower(s), strings.ToLower(text)), with a
// short ASCII s lowered in a stack buffer instead of a new string.
func (n needle) in(s string) bool {
	if !n.fold {
		return strings.Contains(s, n.text)
	}
	var buf [512]byte
	if len(s) > len(buf) {
		return strings.Contains(strings.ToLower(s), string(n.low))
	}
	b := buf[:len(s)]
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= utf8.RuneSelf {
			return strings.Contains(strings.ToLower(s), string(n.low))
		}
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		b[i] = c
	}
	return bytes.Contains(b, n.low)
}

// listValue reads a list of non-empty texts. A single text without commas
// is a one-item list; one with commas is refused, since "a, b" is more
// likely a list written wrong than a phrase.
func listValue(spec Spec) ([]string, error) {
	switch v := spec.Value.(type) {
	case nil:
		return nil, errors.New("missing value: give a list of texts, e.g. value: [central park, statue of liberty]")
	case string:
		if strings.Contains(v, ",") {
			return nil, fmt.Errorf("value %q is one text with commas; write a YAML list instead: [a, b]", excerpt(v, 60))
		}
		if v == "" {
			return nil, errors.New("value is empty; give a list of texts")
		}
		return []string{v}, nil
	case []any:
		if len(v) == 0 {
			return nil, errors.New("value is an empty list; give at least one text")
		}
		out := make([]string, 0, len(v))
		for i, item := range v {
			s, ok := scalarString(item)
			if !ok || s == "" {
				return nil, fmt.Errorf("value item %d must be non-empty text, got %s", i+1, kindOf(item))
			}
			out = append(out, s)
		}
		return out, nil
	}
	return nil, fmt.Errorf("value must be a list of texts, got %s", kindOf(spec.Value))
}

func quoteList(items []string) string {
	qs := make([]string, len(items))
	for i, s := range items {
		qs[i] = q(s)
	}
	return excerpt("["+strings.Join(qs, ", ")+"]", 2*excerptRunes)
}

func newContainsSet(all, fold bool) Factory {
	return func(spec Spec) (Assertion, error) {
		if err := noThreshold(spec); err != nil {
			return nil, err
		}
		items, err := listValue(spec)
		if err != nil {
			return nil, err
		}
		suffix := ""
		if fold {
			suffix = " (ignoring case)"
		}
		// The passing reasons are the spec's: made once, here.
		needles, passes := make([]needle, len(items)), make([]string, len(items))
		for i, it := range items {
			needles[i], passes[i] = newNeedle(it, fold), "output contains "+q(it)+suffix
		}
		passAll := "output contains all of " + quoteList(items) + suffix
		return checkFunc(func(_ context.Context, in *Input) (Result, error) {
			if !all {
				for i, n := range needles {
					if n.in(in.Output) {
						return outcome(true, passes[i]), nil
					}
				}
				return outcome(false, fmt.Sprintf("output contains none of %s%s; %s", quoteList(items), suffix, found(in.Output))), nil
			}
			hit := 0
			var miss []string
			for i, it := range items {
				if needles[i].in(in.Output) {
					hit++
				} else {
					miss = append(miss, it)
				}
			}
			if len(miss) == 0 {
				return Result{Pass: true, Score: 1, Reason: passAll}, nil
			}
			score := float64(hit) / float64(len(items))
			return Result{Score: score, Reason: fmt.Sprintf("output is missing %s%s (%d of %d found); %s",
				quoteList(miss), suffix, hit, len(items), found(in.Output))}, nil
		}), nil
	}
}

func newAffix(prefix bool) Factory {
	verb, noun := "end", "tail"
	if prefix {
		verb, noun = "start", "head"
	}
	return func(spec Spec) (Assertion, error) {
		want, err := requiredText(spec, fmt.Errorf("value is empty, which every output %ss with; give the expected text", verb))
		if err != nil {
			return nil, err
		}
		pass := fmt.Sprintf("output %ss with %s", verb, q(want))
		return checkFunc(func(_ context.Context, in *Input) (Result, error) {
			ok := strings.HasSuffix(in.Output, want)
			if prefix {
				ok = strings.HasPrefix(in.Output, want)
			}
			if ok {
				return outcome(true, pass), nil
			}
			// Compare against the same stretch of output, a little longer.
			n := utf8.RuneCountInString(want) + 20
			part := edge(in.Output, n, prefix)
			r := outcome(false, fmt.Sprintf("output does not %s with %s; its %s is %s", verb, q(want), noun, q(part)))
			r.diff = lazyDiff(want, part)
			return r, nil
		}), nil
	}
}

// edge returns the first (head) or last n runes of s.
func edge(s string, n int, head bool) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	if head {
		return string(r[:n])
	}
	return string(r[len(r)-n:])
}

func newRegex(spec Spec) (Assertion, error) {
	pat, err := requiredText(spec, errors.New("value is empty; give a regular expression"))
	if err != nil {
		return nil, err
	}
	re, err := regexp.Compile(pat)
	if err != nil {
		return nil, fmt.Errorf("bad regex %q: %v", pat, err)
	}
	shown := "/" + excerpt(pat, excerptRunes) + "/"
	passHead, failHead := "output matches "+shown+" at ", "output does not match "+shown+"; "
	return checkFunc(func(_ context.Context, in *Input) (Result, error) {
		var buf [reasonBuf]byte
		if m := re.FindStringIndex(in.Output); m != nil {
			return outcome(true, string(appendQ(append(buf[:0], passHead...), in.Output[m[0]:m[1]]))), nil
		}
		return outcome(false, string(appendFound(append(buf[:0], failHead...), in.Output))), nil
	}), nil
}

// requiredText is the value of a text check that takes no threshold and
// needs a non-empty value; ifEmpty says why an empty one is useless.
func requiredText(spec Spec, ifEmpty error) (string, error) {
	if err := noThreshold(spec); err != nil {
		return "", err
	}
	text, err := textValue(spec)
	if err != nil {
		return "", err
	}
	if text == "" {
		return "", ifEmpty
	}
	return text, nil
}
