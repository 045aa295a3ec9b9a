package assertions

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestTextDiff(t *testing.T) {
	for _, tc := range []struct {
		name, expected, actual, want string
	}{
		{"equal", "same", "same", ""},
		{"word change", "The sky is blue.", "The sky is green.", "The sky is [-blue-]{+green+}."},
		{"insert only", "abc", "abc def", "abc{+ def+}"},
		{"delete only", "abc def", "abc", "abc[- def-]"},
		{"no ansi, newlines kept", "a\nb", "a\nc", "a\n[-b-]{+c+}"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := TextDiff(tc.expected, tc.actual); got != tc.want {
				t.Errorf("TextDiff = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestTextDiffElidesAndCaps(t *testing.T) {
	long := strings.Repeat("lorem ipsum ", 100)
	got := TextDiff(long+"end.", long+"END.")
	if !strings.HasPrefix(got, "…") || !strings.Contains(got, "[-end-]{+END+}") {
		t.Errorf("long common prefix not elided around the change: %q", got)
	}
	if len(got) > 200 {
		t.Errorf("diff is %d bytes, want context only", len(got))
	}

	huge := TextDiff(strings.Repeat("a", 50000), strings.Repeat("ééé b ", 20000))
	if len(huge) > maxDiffBytes+100 || !utf8.ValidString(huge) {
		t.Errorf("huge diff: %d bytes, valid UTF-8 %v", len(huge), utf8.ValidString(huge))
	}
	if !strings.Contains(huge, "…") {
		t.Errorf("huge diff does not mark the cut: %q", huge[len(huge)-60:])
	}
}
