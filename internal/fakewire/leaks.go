// Package fakewire holds what the fake provider servers of the tests
// (internal/fake*) share.
package fakewire

import (
	"bytes"
	"fmt"
	"net/http"
	"strings"
)

// Leaks lists where secret appears in one request (number i): in its URL
// path, a header other than the allowed ones (the provider's own key
// header), or its body.
func Leaks(i int, path string, header http.Header, body []byte, secret string, allowed ...string) []string {
	var out []string
	if strings.Contains(path, secret) {
		out = append(out, fmt.Sprintf("request %d url", i))
	}
	for k, vs := range header {
		if containsFold(allowed, k) {
			continue
		}
		for _, v := range vs {
			if strings.Contains(v, secret) {
				out = append(out, fmt.Sprintf("request %d header %s", i, k))
			}
		}
	}
	if bytes.Contains(body, []byte(secret)) {
		out = append(out, fmt.Sprintf("request %d body", i))
	}
	return out
}

func containsFold(list []string, k string) bool {
	for _, x := range list {
		if strings.EqualFold(x, k) {
			return true
		}
	}
	return false
}

// SplitWords cuts text into the chunks a fake streams: words with their
// trailing spaces, so the chunks join back to text.
func SplitWords(text string) []string {
	var out []string
	for len(text) > 0 {
		i := strings.IndexByte(text, ' ')
		if i < 0 {
			return append(out, text)
		}
		j := i
		for j < len(text) && text[j] == ' ' {
			j++
		}
		out = append(out, text[:j])
		text = text[j:]
	}
	return out
}

// ResetConn drops the client's connection mid-answer (hard: with an RST,
// not a FIN), as a failing server or network does.
func ResetConn(w http.ResponseWriter, hard bool) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		return
	}
	conn, _, err := hj.Hijack()
	if err != nil {
		return
	}
	if tc, ok := conn.(interface{ SetLinger(int) error }); ok && hard {
		tc.SetLinger(0)
	}
	conn.Close()
}
