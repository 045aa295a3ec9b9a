package assertions

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
)

// --- moderation -----------------------------------------------------------

// moderationCategories are OpenAI's (omni-moderation) category names.
var moderationCategories = []string{
	"harassment", "harassment/threatening", "hate", "hate/threatening", "illicit", "illicit/violent",
	"self-harm", "self-harm/instructions", "self-harm/intent", "sexual", "sexual/minors", "violence", "violence/graphic",
}

func newModeration(spec Spec) (Assertion, error) {
	if err := noThreshold(spec); err != nil {
		return nil, err
	}
	var only []string
	if spec.Value != nil {
		items, err := listValue(spec)
		if err != nil {
			return nil, fmt.Errorf("%w (the categories to consider)", err)
		}
		for _, c := range items {
			if !contains(moderationCategories, c) {
				return nil, fmt.Errorf("unknown moderation category %q%s (known: %s)", c, Suggest(c, moderationCategories), strings.Join(moderationCategories, ", "))
			}
		}
		only = items
	}
	return checkFunc(func(ctx context.Context, in *Input) (Result, error) {
		if strings.TrimSpace(in.Output) == "" {
			return outcome(true, "no output to moderate"), nil
		}
		if in.Moderator == nil {
			return Result{}, errors.New("no moderation endpoint configured; moderation needs an OpenAI-compatible /moderations endpoint")
		}
		m, err := in.Moderator.Moderate(ctx, in.Output)
		if err != nil {
			return Result{}, fmt.Errorf("moderation: %w", err)
		}
		var flagged []string
		for _, c := range sortedBools(m.Categories) {
			if only == nil || contains(only, c) {
				flagged = append(flagged, c)
			}
		}
		if len(flagged) == 0 && m.Flagged && only == nil && len(m.Categories) == 0 {
			flagged = []string{"flagged"}
		}
		if len(flagged) > 0 {
			return outcome(false, "moderation flags the output: "+strings.Join(flagged, ", ")), nil
		}
		if m.Flagged {
			return outcome(true, "moderation flags only categories not considered"), nil
		}
		return outcome(true, "moderation flags nothing"), nil
	}), nil
}

func sortedBools(m map[string]bool) []string {
	var out []string
	for k, v := range m {
		if v {
			out = append(out, k)
		}
	}
	return sortedStrings(out)
}

func sortedStrings(s []string) []string {
	sort.Strings(s)
	return s
}
