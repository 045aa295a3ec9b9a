package main

// aieval github comment: one sticky pull-request comment per workflow,
// created on the first run and updated on the next ones, through the
// GitHub REST API as the standard Actions variables configure it.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/aieval/aieval/eval/compare"
	"github.com/aieval/aieval/eval/results"
	"github.com/aieval/aieval/internal/text"
	"github.com/aieval/aieval/reporters"
	"github.com/aieval/aieval/reporters/prcomment"
	"github.com/google/go-github/v93/github"
)

const githubUsage = "usage: aieval github comment RESULTS.json [--baseline BASE.json] [--pr N] [--workflow NAME] [--fail-on-error]"

func cmdGitHub(ctx context.Context, args []string, st *state) error {
	if len(args) == 0 || args[0] != "comment" {
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help" || args[0] == "help") {
			fmt.Fprintln(st.stdout, githubUsage)
			return nil
		}
		return inputErr(errors.New(githubUsage))
	}
	return cmdGitHubComment(ctx, args[1:], st)
}

// commentFailed is a comment that could not be posted. It fails the step
// only with --fail-on-error: a gate must not go red because a fork's
// read-only token cannot comment.
type commentFailed struct{ msg string }

func (e *commentFailed) Error() string { return e.msg }

func cmdGitHubComment(ctx context.Context, args []string, st *state) error {
	fl := newFlags("github comment", st)
	baseline := fl.String("baseline", "", "compare with the baseline results `FILE` (a previous --json)")
	pr := fl.Int("pr", 0, "pull request `N` (default: from the event in GITHUB_EVENT_PATH)")
	workflow := fl.String("workflow", envStr(st, "GITHUB_WORKFLOW", "aieval"), "`NAME` of the sticky comment: one comment per name and pull request")
	failOnError := fl.Bool("fail-on-error", false, "exit 1 when the comment cannot be posted (default: warn, exit 0)")
	tol := fl.Float64("score-tolerance", compare.DefaultTolerance, "score drop against the baseline that is reported")
	pos, err := parseFlags(fl, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return inputErr(errors.New(githubUsage))
	}
	if *pr < 0 {
		return inputErr(fmt.Errorf("--pr %d: want a pull request number", *pr))
	}
	head, err := results.ReadFile(pos[0])
	if err != nil {
		return inputErr(err)
	}
	c := prcomment.Comment{Workflow: *workflow, Results: head, RunURL: runLink(st), Version: versionString()}
	if *baseline != "" {
		base, err := results.ReadFile(*baseline)
		if err != nil {
			return inputErr(err)
		}
		c.Compare = compare.Compare(base, head, compare.Options{ScoreTolerance: *tol})
	}
	body, err := prcomment.Render(c)
	if err != nil {
		return inputErr(err)
	}
	body = redactSecrets(body, st)

	err = postComment(ctx, st, body, *workflow, *pr)
	var cf *commentFailed
	switch {
	case err == nil:
		return nil
	case errors.As(err, &cf) && !*failOnError:
		msg := "github comment: " + text.OneLine(cf.msg, 0) + " (the gate is not failed; --fail-on-error fails it)"
		if st.getenv("GITHUB_ACTIONS") == "true" {
			fmt.Fprintln(st.stdout, "::warning title=aieval comment::"+reporters.EscapeData(msg))
		}
		warn(st, msg)
		return nil
	case errors.As(err, &cf):
		return &exitError{code: results.ExitFailed, err: errors.New("github comment: " + cf.msg)}
	}
	return err
}

// postComment creates the workflow's comment on the pull request, or
// updates it when a comment with its marker exists.
func postComment(ctx context.Context, st *state, body, workflow string, pr int) error {
	fail := func(format string, a ...any) error { return &commentFailed{msg: fmt.Sprintf(format, a...)} }
	repo := st.getenv("GITHUB_REPOSITORY")
	owner, name, ok := strings.Cut(repo, "/")
	if !ok || owner == "" || name == "" || strings.Contains(name, "/") {
		return fail("GITHUB_REPOSITORY is %q, want OWNER/REPO (set by GitHub Actions)", repo)
	}
	if pr == 0 {
		n, err := eventPR(st.getenv("GITHUB_EVENT_PATH"))
		if err != nil {
			return fail("%v", err)
		}
		if n == 0 {
			fmt.Fprintln(st.stderr, "aieval: github comment: this event is not a pull request (pass --pr N); no comment")
			return nil
		}
		pr = n
	}
	token := st.getenv("GITHUB_TOKEN")
	if token == "" {
		return fail("GITHUB_TOKEN is not set (pass github-token to the action, or env GITHUB_TOKEN: ${{ github.token }})")
	}
	api := envStr(st, "GITHUB_API_URL", "https://api.github.com")
	if u, err := url.Parse(api); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return fail("GITHUB_API_URL %q is not an http(s) URL", api)
	}
	client, err := github.NewClient(github.WithAuthToken(token), github.WithURLs(&api, nil),
		github.WithTimeout(60*time.Second), github.WithUserAgent("aieval/"+versionString()))
	if err != nil {
		return fail("GitHub client: %v", err)
	}
	where := fmt.Sprintf("%s#%d", repo, pr)

	var existing *github.IssueComment
	opts := &github.IssueListCommentsOptions{ListOptions: github.ListOptions{PerPage: 100}}
	for cm, err := range client.Issues.ListCommentsIter(ctx, owner, name, pr, opts) {
		if err != nil {
			return apiError(err, "list the comments of "+where)
		}
		if prcomment.Is(cm.GetBody(), workflow) {
			existing = cm
			break
		}
	}
	req := github.IssueCommentRequest{Body: body}
	if existing != nil {
		cm, _, err := client.Issues.UpdateComment(ctx, owner, name, existing.GetID(), req)
		if err != nil {
			return apiError(err, "update the comment on "+where)
		}
		fmt.Fprintln(st.stdout, "aieval: updated the comment on "+where+": "+cm.GetHTMLURL())
		return nil
	}
	cm, _, err := client.Issues.CreateComment(ctx, owner, name, pr, req)
	if err != nil {
		return apiError(err, "comment on "+where)
	}
	fmt.Fprintln(st.stdout, "aieval: commented on "+where+": "+cm.GetHTMLURL())
	return nil
}

// apiError says what GitHub refused and how to fix it; the token is never
// part of it (go-github's errors hold the URL and GitHub's message only).
func apiError(err error, what string) error {
	var er *github.ErrorResponse
	if errors.As(err, &er) && er.Response != nil {
		msg := er.Message
		if msg == "" {
			msg = http.StatusText(er.Response.StatusCode)
		}
		switch er.Response.StatusCode {
		case http.StatusForbidden:
			return &commentFailed{fmt.Sprintf("cannot %s: GitHub answered 403 %q: the job's token needs `permissions: pull-requests: write` (a pull request from a fork only gets a read-only token)", what, msg)}
		case http.StatusUnauthorized:
			return &commentFailed{fmt.Sprintf("cannot %s: GitHub answered 401 %q: GITHUB_TOKEN is invalid or expired", what, msg)}
		case http.StatusNotFound:
			return &commentFailed{fmt.Sprintf("cannot %s: GitHub answered 404 %q: check GITHUB_REPOSITORY, the pull request number and the token's access", what, msg)}
		}
		return &commentFailed{fmt.Sprintf("cannot %s: GitHub answered %d %q", what, er.Response.StatusCode, msg)}
	}
	var rl *github.RateLimitError
	if errors.As(err, &rl) {
		return &commentFailed{fmt.Sprintf("cannot %s: GitHub's rate limit is exhausted until %s", what, rl.Rate.Reset.Format(time.RFC3339))}
	}
	return &commentFailed{fmt.Sprintf("cannot %s: %v", what, err)}
}

// eventPR is the pull request number of the Actions event: pull_request
// and pull_request_target events, and comments on a pull request. 0 means
// the event is about no pull request.
func eventPR(path string) (int, error) {
	if path == "" {
		return 0, nil
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return 0, fmt.Errorf("read the event (GITHUB_EVENT_PATH): %w", err)
	}
	var ev struct {
		PullRequest *struct {
			Number int `json:"number"`
		} `json:"pull_request"`
		Issue *struct {
			Number      int             `json:"number"`
			PullRequest json.RawMessage `json:"pull_request"`
		} `json:"issue"`
	}
	if err := json.Unmarshal(data, &ev); err != nil {
		return 0, fmt.Errorf("read the event %s: %w", path, err)
	}
	switch {
	case ev.PullRequest != nil && ev.PullRequest.Number > 0:
		return ev.PullRequest.Number, nil
	case ev.Issue != nil && len(ev.Issue.PullRequest) > 0 && string(ev.Issue.PullRequest) != "null":
		return ev.Issue.Number, nil
	}
	return 0, nil
}

// runLink is the URL of this workflow run, "" outside Actions.
func runLink(st *state) string {
	server, repo, id := envStr(st, "GITHUB_SERVER_URL", "https://github.com"), st.getenv("GITHUB_REPOSITORY"), st.getenv("GITHUB_RUN_ID")
	if repo == "" || id == "" {
		return ""
	}
	u := strings.TrimRight(server, "/") + "/" + repo + "/actions/runs/" + id
	if a, err := strconv.Atoi(st.getenv("GITHUB_RUN_ATTEMPT")); err == nil && a > 1 {
		u += "/attempts/" + strconv.Itoa(a)
	}
	return u
}

// redactSecrets removes, should a model or a grader have echoed one, the
// value of every credential in the environment from the comment.
func redactSecrets(body string, st *state) string {
	// The providers' variables of the contract, whatever the process
	// environment holds, then every variable named like a credential.
	names := []string{"GITHUB_TOKEN", "ACTIONS_RUNTIME_TOKEN", "ACTIONS_ID_TOKEN_REQUEST_TOKEN",
		"OPENAI_API_KEY", "ANTHROPIC_API_KEY", "GEMINI_API_KEY", "GOOGLE_API_KEY", "AZURE_OPENAI_API_KEY",
		"HF_TOKEN", "HUGGING_FACE_API_TOKEN", "GROQ_API_KEY", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"}
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if u := strings.ToUpper(k); strings.HasSuffix(u, "_KEY") || strings.HasSuffix(u, "_TOKEN") || strings.HasSuffix(u, "_SECRET") || strings.Contains(u, "PASSWORD") {
			names = append(names, k)
		}
	}
	for _, n := range names {
		if v := st.getenv(n); len(v) >= 8 {
			body = strings.ReplaceAll(body, v, "[redacted "+n+"]")
		}
	}
	return body
}
