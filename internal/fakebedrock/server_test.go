package fakebedrock

import (
	"io"
	"net/http"
	"strings"
	"testing"
)

func TestRejectsUnsigned(t *testing.T) {
	s := New()
	defer s.Close()
	body := `{"messages":[{"role":"user","content":[{"text":"hi"}]}]}`
	for _, auth := range []string{"", "AWS4-HMAC-SHA256 Credential=" + AccessKeyID + "/20240101/us-east-1/bedrock/aws4_request, SignedHeaders=host;x-amz-date, Signature=00"} {
		r, _ := http.NewRequest("POST", s.URL+"/model/anthropic.claude-v2%3A1/converse", strings.NewReader(body))
		r.Header.Set("Content-Type", "application/json")
		r.Header.Set("X-Amz-Date", "20240101T000000Z")
		if auth != "" {
			r.Header.Set("Authorization", auth)
		}
		resp, err := http.DefaultClient.Do(r)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 403 || len(s.Requests()) != 0 {
			t.Errorf("auth %q: %d %s", auth, resp.StatusCode, b)
		}
	}
}
