package assertions

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/aieval/aieval/internal/secrets"
)

// exec runs an external command as a judge (protocol in the contract):
// JSON {"output","prompt","params","test","suite"} on stdin; exit 0 passes,
// non-zero fails, unless stdout is a JSON object {"pass","score","reason"},
// which rules. Failing to start or running past the timeout is an error.
//
// The command gets an environment without credentials: only the variables
// of JudgeEnvAllow (and LC_*), plus those the suite names with env:, so a
// judge printing its environment cannot put a key in a report. It runs in
// its own process group, killed when the command exits.

const (
	defaultExecTimeout = 30 * time.Second
	maxCapture         = 1 << 20 // bytes kept of stdout and of stderr
)

func init() {
	Register("exec", newExec)
	describe("exec", "runs value (a command line, or {command, timeout, env: [NAME]}) without credentials in its environment, with the output as JSON on stdin; exit 0 or a JSON {pass, score, reason} decides")
}

type execCheck struct {
	argv      []string
	name      string // the command as written, for messages
	dir       string
	timeout   time.Duration
	threshold *float64
	env       []string // variable names passed through besides the allow-list
}

// JudgeEnvAllow are the variables an exec judge inherits without being
// named: what programs need to run and print, never a credential.
var JudgeEnvAllow = []string{"PATH", "HOME", "LANG", "LANGUAGE", "TZ", "TMPDIR", "USER", "LOGNAME", "SHELL", "TERM",
	// Windows programs do not start without these.
	"SYSTEMROOT", "WINDIR", "COMSPEC", "PATHEXT", "TEMP", "TMP", "USERPROFILE"}

var envName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// judgeEnv is the environment of an exec judge: the allow-list, LC_*, and
// the named variables, as lookup has them.
func judgeEnv(environ []string, named []string) []string {
	keep := map[string]bool{}
	for _, k := range JudgeEnvAllow {
		keep[k] = true
	}
	for _, k := range named {
		keep[k] = true
	}
	out := []string{}
	for _, kv := range environ {
		k, _, ok := strings.Cut(kv, "=")
		if ok && (keep[k] || strings.HasPrefix(k, "LC_")) {
			out = append(out, kv)
		}
	}
	return out
}

func newExec(spec Spec) (Assertion, error) {
	line, timeout, env, err := execValue(spec)
	if err != nil {
		return nil, err
	}
	if t := spec.Threshold; t != nil && (*t < 0 || *t > 1) {
		return nil, fmt.Errorf("threshold %g must be between 0 and 1 (it applies to the command's score)", *t)
	}
	argv, err := commandArgs(line)
	if err != nil {
		return nil, err
	}
	name := excerpt(strings.Join(argv, " "), 80)
	// A relative program path is relative to the suite, like file:// values.
	// Made absolute because exec resolves a relative Path against Dir,
	// which would apply a relative suite directory twice.
	if strings.ContainsRune(argv[0], '/') && !filepath.IsAbs(argv[0]) {
		abs, err := filepath.Abs(filepath.Join(spec.Dir, argv[0]))
		if err != nil {
			return nil, fmt.Errorf("resolve command %s: %w", argv[0], err)
		}
		argv[0] = abs
	}
	for _, k := range append(append([]string(nil), spec.Env...), env...) {
		if !envName.MatchString(k) {
			return nil, fmt.Errorf("env: %q is not a variable name (list names, e.g. env: [JUDGE_TOKEN]; values come from the environment)", k)
		}
	}
	env = append(append([]string(nil), spec.Env...), env...)
	for _, k := range env {
		// A variable handed to a judge is usually a token: whatever the
		// judge prints of it is scrubbed from reports.
		secrets.Default().RegisterEnv(k)
	}
	return &execCheck{argv: argv, name: name, dir: spec.Dir, timeout: timeout, threshold: spec.Threshold, env: env}, nil
}

// execValue reads value: "cmd args" or {command: "...", timeout: 10s|10,
// env: [NAME, ...]}.
func execValue(spec Spec) (string, time.Duration, []string, error) {
	timeout := spec.Timeout
	if timeout <= 0 {
		timeout = defaultExecTimeout
	}
	switch v := spec.Value.(type) {
	case nil:
		return "", 0, nil, errors.New("missing value: give the command line to run, e.g. value: python3 check.py")
	case string:
		if strings.TrimSpace(v) == "" {
			return "", 0, nil, errors.New("value is empty; give the command line to run")
		}
		return v, timeout, nil, nil
	case map[string]any, map[any]any:
		m, err := mapValue(v, "command", "timeout", "env")
		if err != nil {
			return "", 0, nil, err
		}
		line, ok := m["command"].(string)
		if !ok || strings.TrimSpace(line) == "" {
			return "", 0, nil, errors.New("value needs command: as text")
		}
		if raw, has := m["timeout"]; has {
			if timeout, err = parseTimeout(raw); err != nil {
				return "", 0, nil, err
			}
		}
		var env []string
		if raw, has := m["env"]; has {
			list, ok := raw.([]any)
			if !ok {
				return "", 0, nil, fmt.Errorf("env must be a list of variable names, got %s", kindOf(raw))
			}
			for _, x := range list {
				name, ok := x.(string)
				if !ok {
					return "", 0, nil, fmt.Errorf("env must be a list of variable names, got %s in it", kindOf(x))
				}
				env = append(env, name)
			}
		}
		return line, timeout, env, nil
	}
	return "", 0, nil, fmt.Errorf("value must be a command line or {command, timeout, env}, got %s", kindOf(spec.Value))
}

// parseTimeout accepts a Go duration ("10s", "500ms") or a number of seconds.
func parseTimeout(v any) (time.Duration, error) {
	if s, ok := v.(string); ok {
		d, err := time.ParseDuration(s)
		if err != nil || d <= 0 {
			return 0, fmt.Errorf("timeout %q must be a positive duration like 10s", s)
		}
		return d, nil
	}
	if f, ok := toFloat(v); ok && f > 0 {
		return time.Duration(f * float64(time.Second)), nil
	}
	return 0, fmt.Errorf("timeout must be a positive duration like 10s, got %s", short(v))
}

// commandArgs splits a command line into argv without a shell, unless the
// user wrote "sh -c ..." explicitly.
func commandArgs(line string) ([]string, error) {
	line = strings.TrimSpace(line)
	if script, ok := strings.CutPrefix(line, "sh -c "); ok {
		script = strings.TrimSpace(script)
		// sh -c 'a | b' is usually quoted: unquote one whole-script word.
		if words, err := splitArgs(script); err == nil && len(words) == 1 && strings.ContainsAny(script[:1], `'"`) {
			script = words[0]
		}
		return []string{"sh", "-c", script}, nil
	}
	argv, err := splitArgs(line)
	if err != nil {
		return nil, err
	}
	return argv, nil
}

// splitArgs splits like a POSIX shell does words: whitespace separates,
// 'single' quotes are literal, "double" quotes and backslash escape. Shell
// operators left unquoted are refused, since no shell will run them.
func splitArgs(s string) ([]string, error) {
	var (
		args   []string
		cur    strings.Builder
		inWord bool
		quoted bool
	)
	flush := func() error {
		if !inWord {
			return nil
		}
		w := cur.String()
		if !quoted && isShellOperator(w) {
			return fmt.Errorf("command uses the shell operator %q but runs without a shell; write sh -c '...' to use one", w)
		}
		args = append(args, w)
		cur.Reset()
		inWord, quoted = false, false
		return nil
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n':
			if err := flush(); err != nil {
				return nil, err
			}
		case c == '\'':
			end := strings.IndexByte(s[i+1:], '\'')
			if end < 0 {
				return nil, errors.New("command has an unterminated ' quote")
			}
			cur.WriteString(s[i+1 : i+1+end])
			i += end + 1
			inWord, quoted = true, true
		case c == '"':
			i++
			for ; i < len(s) && s[i] != '"'; i++ {
				if s[i] == '\\' && i+1 < len(s) && strings.IndexByte("\"\\$`", s[i+1]) >= 0 {
					i++
				}
				cur.WriteByte(s[i])
			}
			if i >= len(s) {
				return nil, errors.New("command has an unterminated \" quote")
			}
			inWord, quoted = true, true
		case c == '\\' && i+1 < len(s):
			i++
			cur.WriteByte(s[i])
			inWord, quoted = true, true
		default:
			cur.WriteByte(c)
			inWord = true
		}
	}
	if err := flush(); err != nil {
		return nil, err
	}
	if len(args) == 0 {
		return nil, errors.New("command is empty")
	}
	return args, nil
}

func isShellOperator(w string) bool {
	switch w {
	case "|", "||", "&&", ";", "&", "2>&1":
		return true
	}
	return strings.HasPrefix(w, ">") || strings.HasPrefix(w, "<") || strings.HasPrefix(w, "2>")
}

// execReply is the optional JSON verdict on stdout.
type execReply struct {
	Pass   *bool    `json:"pass"`
	Score  *float64 `json:"score"`
	Reason string   `json:"reason"`
}

func (e *execCheck) Check(ctx context.Context, in *Input) (Result, error) {
	code, stdout, stderr, err := e.run(ctx, in)
	if err != nil {
		return Result{}, err
	}
	return e.judge(code, stdout, stderr)
}

// run runs the command once with in as the protocol's JSON on stdin, in
// the credential-free environment and its own process group; err is set
// when it could not start, timed out or was cancelled, not for an exit
// code. exec assertions and exec transforms share it.
func (e *execCheck) run(ctx context.Context, in *Input) (code int, stdout, stderr string, err error) {
	params := in.Params
	if params == nil {
		params = map[string]any{}
	}
	payload, err := json.Marshal(map[string]any{
		"output": in.Output, "prompt": in.Prompt, "params": stringKeys(params),
		"test": in.Test, "suite": in.Suite,
	})
	if err != nil {
		return 0, "", "", fmt.Errorf("encode exec input: %w", err)
	}
	runCtx, cancel := context.WithTimeout(ctx, e.timeout)
	defer cancel()
	cmd := exec.CommandContext(runCtx, e.argv[0], e.argv[1:]...)
	cmd.Dir = e.dir
	cmd.Env = judgeEnv(os.Environ(), e.env)
	cmd.Stdin = bytes.NewReader(payload)
	outBuf, errBuf := &capBuffer{max: maxCapture}, &capBuffer{max: maxCapture}
	cmd.WaitDelay = time.Second // do not hang on pipes a stray child keeps open
	setProcessGroup(cmd)
	err = runJudge(cmd, outBuf, errBuf)
	name := e.name
	switch {
	case ctx.Err() != nil:
		return 0, "", "", fmt.Errorf("run %s: %w", name, ctx.Err())
	case runCtx.Err() != nil:
		return 0, "", "", fmt.Errorf("command %s timed out after %s; make it faster or raise value.timeout", name, e.timeout)
	}
	var exitErr *exec.ExitError
	if err != nil && !errors.As(err, &exitErr) && !errors.Is(err, exec.ErrWaitDelay) {
		return 0, "", "", fmt.Errorf("start command %s: %w", name, err)
	}
	if cmd.ProcessState != nil {
		code = cmd.ProcessState.ExitCode()
	}
	return code, outBuf.String(), errBuf.String(), nil
}

// runJudge runs cmd with its output captured through pipes aieval reads
// itself, so the wait for the command ends when the command does (not
// when the last child holding the pipe does); the group is then killed,
// which closes the pipes of anything it forked.
func runJudge(cmd *exec.Cmd, stdout, stderr io.Writer) error {
	outR, outW, err := os.Pipe()
	if err != nil {
		return err
	}
	errR, errW, err := os.Pipe()
	if err != nil {
		outR.Close()
		outW.Close()
		return err
	}
	cmd.Stdout, cmd.Stderr = outW, errW
	err = cmd.Start()
	outW.Close() // the child holds its own copies
	errW.Close()
	if err != nil {
		outR.Close()
		errR.Close()
		return err
	}
	var wg sync.WaitGroup
	for _, p := range []struct {
		r *os.File
		w io.Writer
	}{{outR, stdout}, {errR, stderr}} {
		wg.Add(1)
		go func() { defer wg.Done(); io.Copy(p.w, p.r) }()
	}
	err = cmd.Wait()
	killGroup(cmd)
	drained := make(chan struct{})
	go func() { wg.Wait(); close(drained) }()
	select {
	case <-drained:
	case <-time.After(cmd.WaitDelay):
		// A child outside the group (setsid) still holds a pipe.
	}
	outR.Close()
	errR.Close()
	<-drained
	return err
}

// judge applies the protocol: a JSON verdict on stdout rules, else the
// exit code decides.
func (e *execCheck) judge(code int, stdout, stderr string) (Result, error) {
	out := strings.TrimSpace(stdout)
	if strings.HasPrefix(out, "{") {
		var rep execReply
		if json.Unmarshal([]byte(out), &rep) == nil && (rep.Pass != nil || rep.Score != nil) {
			return e.fromReply(rep, code)
		}
	}
	if code == 0 {
		msg := "command passed"
		if line := firstLine(out); line != "" {
			msg += ": " + line
		}
		return outcome(true, msg), nil
	}
	line := firstLine(strings.TrimSpace(stderr))
	if line == "" {
		line = firstLine(out)
	}
	if line == "" {
		line = "no output"
	}
	return outcome(false, fmt.Sprintf("command exited %d: %s", code, line)), nil
}

func (e *execCheck) fromReply(rep execReply, code int) (Result, error) {
	if rep.Score != nil && (*rep.Score < 0 || *rep.Score > 1) {
		return Result{}, fmt.Errorf("command replied score %g, outside 0..1", *rep.Score)
	}
	pass := code == 0
	if rep.Pass != nil {
		pass = *rep.Pass
	}
	score := 0.0
	if pass {
		score = 1
	}
	if rep.Score != nil {
		score = *rep.Score
	}
	if e.threshold != nil {
		pass = score >= *e.threshold
	}
	reason := excerpt(strings.TrimSpace(rep.Reason), 2*excerptRunes)
	verdict := "command failed"
	if pass {
		verdict = "command passed"
	}
	if reason != "" {
		verdict += ": " + reason
	}
	if e.threshold != nil {
		verdict += fmt.Sprintf(" (score %.2f, threshold %g)", score, *e.threshold)
	}
	return Result{Pass: pass, Score: score, Reason: verdict}, nil
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	return excerpt(strings.TrimSpace(s), excerptRunes)
}

// capBuffer keeps the first max bytes written and drops the rest, so a
// chatty command cannot use unbounded memory.
type capBuffer struct {
	buf bytes.Buffer
	max int
}

func (c *capBuffer) Write(p []byte) (int, error) {
	if room := c.max - c.buf.Len(); room > 0 {
		c.buf.Write(p[:min(room, len(p))])
	}
	return len(p), nil
}

func (c *capBuffer) String() string { return c.buf.String() }
