// Package fakebedrock is a local test server speaking Amazon Bedrock's
// Converse and ConverseStream APIs (JSON, and the AWS binary event stream),
// strict about what bedrock-runtime rejects: every request must carry a
// valid SigV4 signature for service "bedrock", which the server recomputes
// with the known test secret (an implementation independent of the AWS
// SDK's signer the client uses).
package fakebedrock

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"hash/crc32"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aieval/aieval/internal/fakewire"
)

// The credentials the server accepts unless WithCredentials says.
const (
	AccessKeyID     = "AKIAFAKE0123456789AB"
	SecretAccessKey = "fakeSecretKey/0123456789abcdefghijklmnopqr"
	Region          = "us-east-1"
)

// Reply is the model's answer; a zero StopReason is end_turn, or tool_use
// when ToolUses is set.
type Reply struct {
	Text       string
	ToolUses   []ToolUse
	StopReason string
}

// ToolUse is one toolUse block of a reply.
type ToolUse struct {
	ID    string
	Name  string
	Input map[string]any
}

// Kind says how the server misbehaves.
type Kind int

const (
	KindNone      Kind = iota
	KindStatus         // an AWS error answer with Code
	KindCutStream      // send part of the answer, then drop the connection
	KindException      // a 200 stream that sends a throttlingException
	KindBadCRC         // a 200 stream whose first message has a wrong checksum
)

// Fault is what the server does with one request.
type Fault struct {
	Kind Kind
	Code int // KindStatus: 429 ThrottlingException, 400, 403, 500, 503 ...
}

// FaultFunc picks the fault for request number n (1-based).
type FaultFunc func(n int64, req Request) Fault

// FaultFirst fails the first k requests with f.
func FaultFirst(k int64, f Fault) FaultFunc {
	return func(n int64, _ Request) Fault {
		if n <= k {
			return f
		}
		return Fault{}
	}
}

// FaultAlways fails every request with f.
func FaultAlways(f Fault) FaultFunc { return func(int64, Request) Fault { return f } }

// Server is a running fake bedrock-runtime, safe for concurrent use.
type Server struct {
	*httptest.Server
	id, secret, token, region string
	reply                     func(Request) Reply
	fault                     FaultFunc
	now                       func() time.Time

	n    atomic.Int64
	mu   sync.Mutex
	reqs []Request
	seen []Seen
}

// Seen is one request as received, valid or not.
type Seen struct {
	Path   string // escaped path as sent
	Header http.Header
	Body   []byte
	Status int
	Why    string // why it was rejected, "" when accepted
}

// Option configures New.
type Option func(*Server)

// WithCredentials sets the key pair (and session token, "" for none) and
// region the server accepts.
func WithCredentials(id, secret, token, region string) Option {
	return func(s *Server) { s.id, s.secret, s.token, s.region = id, secret, token, region }
}

// WithReply scripts the answer. Default: echo the last user text.
func WithReply(fn func(Request) Reply) Option { return func(s *Server) { s.reply = fn } }

// WithFault injects faults.
func WithFault(fn FaultFunc) Option { return func(s *Server) { s.fault = fn } }

// New starts a server; Close it when done.
func New(opts ...Option) *Server {
	s := &Server{id: AccessKeyID, secret: SecretAccessKey, region: Region, now: time.Now}
	s.reply = func(r Request) Reply { return Reply{Text: r.LastUser()} }
	for _, o := range opts {
		o(s)
	}
	s.Server = httptest.NewServer(http.HandlerFunc(s.handle))
	return s
}

// Requests returns the valid requests, in order.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.reqs...)
}

// Seen returns every request received.
func (s *Server) Seen() []Seen {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Seen(nil), s.seen...)
}

// Leaks lists where secret appears anywhere in the requests (a secret
// access key never travels: only signatures made with it do).
func (s *Server) Leaks(secret string) []string {
	var out []string
	for i, r := range s.Seen() {
		out = append(out, fakewire.Leaks(i, r.Path, r.Header, r.Body, secret)...)
	}
	return out
}

func (s *Server) handle(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	seen := Seen{Path: r.URL.EscapedPath(), Header: r.Header.Clone(), Body: body, Status: 200}
	// Recorded before answering: a client may read the whole answer and
	// look at Seen before this handler returns.
	s.mu.Lock()
	idx := len(s.seen)
	s.seen = append(s.seen, seen)
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		s.seen[idx] = seen
		s.mu.Unlock()
	}()
	fail := func(code int, typ, msg string) {
		seen.Status, seen.Why = code, typ+": "+msg
		writeError(w, code, typ, msg)
	}
	parts := strings.Split(r.URL.EscapedPath(), "/")
	if len(parts) != 4 || parts[1] != "model" || (parts[3] != "converse" && parts[3] != "converse-stream") {
		fail(404, "UnknownOperationException", "unknown operation "+r.Method+" "+r.URL.EscapedPath())
		return
	}
	if r.Method != http.MethodPost {
		fail(405, "UnknownOperationException", "method not allowed")
		return
	}
	if err := s.verify(r, body); err != nil {
		fail(403, err.typ, err.msg)
		return
	}
	modelID, err := url.PathUnescape(parts[2])
	if err != nil || modelID == "" {
		fail(400, "ValidationException", "bad model identifier")
		return
	}
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		fail(400, "ValidationException", "Content-Type must be application/json")
		return
	}
	req, verr := decode(body)
	if verr != nil {
		fail(400, "ValidationException", verr.Error())
		return
	}
	req.ModelID, req.Stream = modelID, parts[3] == "converse-stream"
	n := s.n.Add(1)
	s.mu.Lock()
	s.reqs = append(s.reqs, req)
	s.mu.Unlock()
	var f Fault
	if s.fault != nil {
		f = s.fault(n, req)
	}
	if f.Kind == KindStatus {
		fail(f.Code, errType(f.Code), fmt.Sprintf("fake fault: HTTP %d", f.Code))
		return
	}
	rep := s.reply(req)
	if req.Stream {
		writeStream(w, &req, n, rep, f.Kind)
		return
	}
	b, _ := json.Marshal(converseAnswer(&req, n, rep))
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Amzn-Requestid", fmt.Sprintf("fake-%d", n))
	if f.Kind == KindCutStream {
		w.Header().Set("Content-Length", fmt.Sprint(len(b)))
		w.Write(b[:len(b)/2])
		w.(http.Flusher).Flush()
		fakewire.ResetConn(w, false)
		return
	}
	w.Write(b)
}

func errType(code int) string {
	switch code {
	case 429:
		return "ThrottlingException"
	case 403:
		return "AccessDeniedException"
	case 404:
		return "ResourceNotFoundException"
	case 500:
		return "InternalServerException"
	case 503:
		return "ServiceUnavailableException"
	}
	return "ValidationException"
}

// writeError answers in the restJson1 shape bedrock-runtime uses.
func writeError(w http.ResponseWriter, code int, typ, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Amzn-Errortype", typ+":http://internal.amazon.com/coral/com.amazon.bedrock/")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(map[string]string{"message": msg})
}

type sigErr struct{ typ, msg string }

// verify recomputes the request's SigV4 signature
// (https://docs.aws.amazon.com/IAM/latest/UserGuide/create-signed-request.html).
func (s *Server) verify(r *http.Request, body []byte) *sigErr {
	auth := r.Header.Get("Authorization")
	rest, ok := strings.CutPrefix(auth, "AWS4-HMAC-SHA256 ")
	if !ok {
		return &sigErr{"MissingAuthenticationTokenException", "Missing Authentication Token"}
	}
	fields := map[string]string{}
	for _, f := range strings.Split(rest, ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(f), "=")
		fields[k] = v
	}
	scope := strings.Split(fields["Credential"], "/")
	if len(scope) != 5 || scope[4] != "aws4_request" {
		return &sigErr{"IncompleteSignatureException", "bad Credential " + fields["Credential"]}
	}
	if scope[0] != s.id {
		return &sigErr{"UnrecognizedClientException", "The security token included in the request is invalid."}
	}
	if scope[2] != s.region || scope[3] != "bedrock" {
		return &sigErr{"InvalidSignatureException", fmt.Sprintf("Credential should be scoped to a valid region and service bedrock, not %s/%s", scope[2], scope[3])}
	}
	amzDate := r.Header.Get("X-Amz-Date")
	at, err := time.Parse("20060102T150405Z", amzDate)
	if err != nil || !strings.HasPrefix(amzDate, scope[1]) {
		return &sigErr{"IncompleteSignatureException", "X-Amz-Date missing or not matching the credential scope"}
	}
	if d := s.now().Sub(at); d > 5*time.Minute || d < -5*time.Minute {
		return &sigErr{"InvalidSignatureException", "Signature expired"}
	}
	if tok := r.Header.Get("X-Amz-Security-Token"); tok != s.token {
		return &sigErr{"UnrecognizedClientException", "The security token included in the request is invalid."}
	}
	signed := strings.Split(fields["SignedHeaders"], ";")
	need := map[string]bool{"host": true, "x-amz-date": true}
	if s.token != "" {
		need["x-amz-security-token"] = true
	}
	for _, h := range signed {
		delete(need, h)
	}
	if len(need) > 0 || !sort.StringsAreSorted(signed) {
		return &sigErr{"IncompleteSignatureException", "SignedHeaders must be sorted and include host and x-amz-date"}
	}
	var canon strings.Builder
	canon.WriteString(r.Method + "\n")
	canon.WriteString(uriEncode(r.URL.EscapedPath(), false) + "\n") // non-S3 paths are encoded twice
	canon.WriteString(canonicalQuery(r.URL.Query()) + "\n")
	for _, h := range signed {
		v := r.Header.Get(h)
		switch h { // net/http moves these out of the header map
		case "host":
			v = r.Host
		case "content-length":
			v = fmt.Sprint(r.ContentLength)
		}
		canon.WriteString(h + ":" + strings.Join(strings.Fields(v), " ") + "\n")
	}
	canon.WriteString("\n" + fields["SignedHeaders"] + "\n")
	sum := sha256.Sum256(body)
	payload := hex.EncodeToString(sum[:])
	if h := r.Header.Get("X-Amz-Content-Sha256"); h != "" && h != payload {
		return &sigErr{"InvalidSignatureException", "X-Amz-Content-Sha256 does not match the body"}
	}
	canon.WriteString(payload)
	creq := sha256.Sum256([]byte(canon.String()))
	sts := "AWS4-HMAC-SHA256\n" + amzDate + "\n" + strings.Join(scope[1:], "/") + "\n" + hex.EncodeToString(creq[:])
	key := []byte("AWS4" + s.secret)
	for _, p := range []string{scope[1], scope[2], scope[3], "aws4_request"} {
		key = hmacSHA256(key, p)
	}
	want := hex.EncodeToString(hmacSHA256(key, sts))
	if !hmac.Equal([]byte(want), []byte(fields["Signature"])) {
		return &sigErr{"InvalidSignatureException", "The request signature we calculated does not match the signature you provided."}
	}
	return nil
}

func hmacSHA256(key []byte, s string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(s))
	return m.Sum(nil)
}

// uriEncode percent-encodes every byte but the unreserved ones (and "/"
// unless encodeSlash).
func uriEncode(s string, encodeSlash bool) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '.' || c == '~' || c == '/' && !encodeSlash {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}

func canonicalQuery(q url.Values) string {
	var parts []string
	for k, vs := range q {
		for _, v := range vs {
			parts = append(parts, uriEncode(k, true)+"="+uriEncode(v, true))
		}
	}
	sort.Strings(parts)
	return strings.Join(parts, "&")
}

// EncodeMessage frames one event-stream message with string headers.
func EncodeMessage(headers [][2]string, payload []byte) []byte {
	var h bytes.Buffer
	for _, kv := range headers {
		h.WriteByte(byte(len(kv[0])))
		h.WriteString(kv[0])
		h.WriteByte(7) // string
		binary.Write(&h, binary.BigEndian, uint16(len(kv[1])))
		h.WriteString(kv[1])
	}
	total := 12 + h.Len() + len(payload) + 4
	out := make([]byte, 0, total)
	out = binary.BigEndian.AppendUint32(out, uint32(total))
	out = binary.BigEndian.AppendUint32(out, uint32(h.Len()))
	out = binary.BigEndian.AppendUint32(out, crc32.ChecksumIEEE(out[:8]))
	out = append(out, h.Bytes()...)
	out = append(out, payload...)
	return binary.BigEndian.AppendUint32(out, crc32.ChecksumIEEE(out))
}
