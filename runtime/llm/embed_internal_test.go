package llm

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"reflect"
	"strings"
	"testing"

	openai "github.com/sashabaranov/go-openai"
)

// captureRT keeps the body go-openai sends and fails the call.
type captureRT struct{ body []byte }

func (c *captureRT) RoundTrip(r *http.Request) (*http.Response, error) {
	c.body, _ = io.ReadAll(r.Body)
	return nil, errSent
}

func goOpenAIEmbedBody(t testing.TB, model string, input []string) []byte {
	t.Helper()
	rt := &captureRT{}
	cfg := openai.DefaultConfig("k")
	cfg.HTTPClient = &http.Client{Transport: rt}
	_, _ = openai.NewClientWithConfig(cfg).CreateEmbeddings(context.Background(),
		openai.EmbeddingRequestStrings{Input: input, Model: openai.EmbeddingModel(model)})
	return rt.body
}

func TestEmbedBodyMatchesGoOpenAI(t *testing.T) {
	for _, tt := range []struct {
		model string
		input []string
	}{
		{"text-embedding-3-small", []string{"hello"}},
		{"m", []string{"a", "", "<b> & \"c\"", "é \u2028 \x00\t\n", "\xff\xfe bad \xed\xa0\x80", "\U0001F600"}},
		{"m<&>\xff", []string{}},
		{"", nil},
	} {
		want := goOpenAIEmbedBody(t, tt.model, tt.input)
		if got := embedBody(tt.model, tt.input); !bytes.Equal(got, want) {
			t.Errorf("%q %q:\n go-openai %s\n hand      %s", tt.model, tt.input, want, got)
		}
	}
}

func FuzzEmbedBody(f *testing.F) {
	f.Add("m", "a", "b\xff<")
	f.Fuzz(func(t *testing.T, model, a, b string) {
		in := []string{a, b}
		if want, got := goOpenAIEmbedBody(t, model, in), embedBody(model, in); !bytes.Equal(got, want) {
			t.Fatalf("%q %q:\n go-openai %s\n hand      %s", model, in, want, got)
		}
	})
}

var embedCases = []struct {
	name string
	body string
	hand bool
}{
	{"openai", `{"object":"list","data":[{"object":"embedding","index":0,"embedding":[0.0023064255,-0.009327292,1e-3,-0,3.4028235e38,1.4e-45]}],"model":"text-embedding-3-small","usage":{"prompt_tokens":5,"total_tokens":5}}`, true},
	{"two out of order", `{"data":[{"index":1,"embedding":[1,2]},{"index":0,"embedding":[]}]}`, true},
	{"null embedding", `{"data":[{"index":0,"embedding":null,"object":null}],"model":null,"usage":null}`, true},
	{"empty data", `{"data":[]}`, true},
	{"null data", `{"data":null}`, true},
	{"unknown", `{"data":[{"embedding":[1],"x":{"Y":[true]}}],"extra":"x"}`, true},
	{"float32 overflow", `{"data":[{"embedding":[3.5e38]}]}`, false},
	{"float32 underflow", `{"data":[{"embedding":[1e-50]}]}`, true},
	{"string number", `{"data":[{"embedding":["1"]}]}`, false},
	{"base64", `{"data":[{"embedding":"AACAPw=="}]}`, false},
	{"null element", `{"data":[{"embedding":[1,null]}]}`, false},
	{"index float", `{"data":[{"index":0.5,"embedding":[1]}]}`, false},
	{"upper key", `{"Data":[{"embedding":[1]}]}`, false},
	{"duplicate", `{"data":[{"embedding":[1],"embedding":[2]}]}`, false},
	{"truncated", `{"data":[{"embedding":[1,2`, false},
	{"empty", ``, false},
	{"top null", `null`, false},
	{"bad number", `{"data":[{"embedding":[01]}]}`, false},
}

func sameEmbeddings(t *testing.T, body []byte) {
	t.Helper()
	want, werr := stdEmbeddings(bytes.NewReader(body))
	got, gerr := decodeEmbeddings(body)
	if (werr == nil) != (gerr == nil) || werr != nil && werr.Error() != gerr.Error() {
		t.Fatalf("%q: errors differ: go-openai %v, hand %v", body, werr, gerr)
	}
	if !reflect.DeepEqual(want, got) {
		t.Fatalf("%q: read differently:\n go-openai %#v\n hand      %#v", body, want, got)
	}
}

func TestDecodeEmbeddingsMatchesGoOpenAI(t *testing.T) {
	for _, tt := range embedCases {
		t.Run(tt.name, func(t *testing.T) {
			sameEmbeddings(t, []byte(tt.body))
			if _, hand := handEmbeddings([]byte(tt.body)); hand != tt.hand {
				t.Errorf("hand reader took it: %v, want %v", hand, tt.hand)
			}
		})
	}
	big := `{"data":[{"index":0,"embedding":[` + strings.Repeat("-0.0123456789,", 1535) + `0.5]}]}`
	sameEmbeddings(t, []byte(big))
}

func FuzzDecodeEmbeddings(f *testing.F) {
	for _, tt := range embedCases {
		f.Add([]byte(tt.body))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		if _, ok := handEmbeddings(body); ok {
			if _, err := stdEmbeddings(bytes.NewReader(body)); err != nil {
				t.Fatalf("%q: hand reader accepted what go-openai refuses: %v", body, err)
			}
		}
		sameEmbeddings(t, body)
	})
}
