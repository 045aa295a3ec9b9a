package text

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestSanitize(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"plain", "hello\tworld\r\n", "hello\tworld\r\n"},
		{"unicode kept", "café → ok 𝄞", "café → ok 𝄞"},
		{"sgr colour", "\x1b[1;31mred\x1b[0m", "red"},
		{"cursor and erase", "a\x1b[2K\x1b[10;20Hb", "ab"},
		{"osc title BEL", "\x1b]0;title\x07x", "x"},
		{"osc hyperlink ST", "\x1b]8;;http://x\x1b\\link\x1b]8;;\x1b\\", "link"},
		{"two-byte escape", "a\x1b(Bb\x1bMc", "a(Bbc"},
		{"lone esc at end", "a\x1b", "a"},
		{"nul and c0", "a\x00b\x01c\x0bd\x7f", "a\uFFFDb\uFFFDc\uFFFDd\x7f"},
		{"non-characters", "a\uFFFEb\uFFFF", "a\uFFFDb\uFFFD"},
		{"invalid utf8 per byte", "a\xff\xfeb", "a\uFFFD\uFFFDb"},
		{"truncated rune", "a\xc3", "a\uFFFD"},
		{"encoded surrogate", "\xed\xa0\x80", "\uFFFD\uFFFD\uFFFD"},
		{"control after non-ascii", "é\x00", "é\uFFFD"},
		{"cdata end kept (the encoder splits it)", "a]]>b", "a]]>b"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Sanitize(tt.in)
			if got != tt.want {
				t.Errorf("Sanitize(%q) = %q, want %q", tt.in, got, tt.want)
			}
			if !utf8.ValidString(got) {
				t.Errorf("Sanitize(%q) is not valid UTF-8", tt.in)
			}
		})
	}
}

func TestCapText(t *testing.T) {
	long := strings.Repeat("a", 500) + strings.Repeat("é", 500) + strings.Repeat("z", 500)
	tests := []struct {
		name      string
		in        string
		max       int
		wantSame  bool
		head, end string
	}{
		{"short stays", "short", 100, true, "", ""},
		{"exactly max stays", strings.Repeat("x", 100), 100, true, "", ""},
		{"head and tail kept", long, 200, false, "aaaa", "zzzz"},
		{"cuts inside multibyte runes", strings.Repeat("é", 1000), 101, false, "é", "é"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Cap(tt.in, tt.max)
			if tt.wantSame {
				if got != tt.in {
					t.Fatalf("capText changed a text within the cap")
				}
				return
			}
			if len(got) > tt.max {
				t.Errorf("len = %d, over the cap %d", len(got), tt.max)
			}
			if !utf8.ValidString(got) {
				t.Errorf("cut inside a rune: %q", got)
			}
			if !strings.HasPrefix(got, tt.head) || !strings.HasSuffix(got, tt.end) || !strings.Contains(got, "bytes omitted") {
				t.Errorf("capText = %q", got)
			}
		})
	}
	if got := Cap(strings.Repeat("x", DefaultMax+1), 0); len(got) > DefaultMax {
		t.Errorf("default cap: len %d", len(got))
	}
}

func TestOneLine(t *testing.T) {
	if got := OneLine(" a\r\n\tb  \x1b[31mc\x1b[0m ", 0); got != "a b c" {
		t.Errorf("oneLine = %q", got)
	}
	if got := OneLine("abcdef", 4); got != "abc…" {
		t.Errorf("oneLine cut = %q", got)
	}
}

func TestCodeBlockOutlastsContent(t *testing.T) {
	for in, want := range map[string]string{"plain": "```", "has ``` inside": "````", "`````": "``````"} {
		if got := CodeBlock("", in); !strings.HasPrefix(got, want+"\n") || !strings.HasSuffix(got, "\n"+want+"\n\n") {
			t.Errorf("CodeBlock(%q) = %q, want fence %q", in, got, want)
		}
	}
}

// FuzzOneLineFold holds OneLine's ASCII fast path to what strings.Fields
// and Join give.
func FuzzOneLineFold(f *testing.F) {
	for _, s := range []string{"", "a b", " a", "a ", "a  b", "a\tb", "é b", "a\u00a0b", "x\x1cy", "a\vb", "a\fb"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		s = Sanitize(s)
		want := strings.Join(strings.Fields(s), " ")
		if got := OneLine(s, 0); got != want {
			t.Errorf("OneLine(%q) = %q, want %q", s, got, want)
		}
	})
}
