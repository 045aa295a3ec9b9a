package assertions

import (
	"context"
	"errors"
	"fmt"
	"math"
	"regexp"
	"strings"
)

// rouge-n and bleu: n-gram overlap with a reference text, as promptfoo
// computes them. rouge-n is the ROUGE-1 F-measure (promptfoo's rouge-n:
// unigrams of Treebank tokens, lower-cased, F1 of precision and recall),
// default threshold 0.75. bleu is sentence BLEU over 1- to 4-grams of
// whitespace tokens with the brevity penalty and promptfoo's smoothing
// (a zero precision counts as 1e-7), default threshold 0.5; a list value
// gives several references.

const (
	defaultRouge = 0.75
	defaultBLEU  = 0.5
)

func init() {
	Register("rouge-n", newOverlap("ROUGE-N", defaultRouge, false))
	describe("rouge-n", "ROUGE-1 F-measure of the output against the value text is at least threshold (default 0.75)")
	Register("bleu", newOverlap("BLEU", defaultBLEU, true))
	describe("bleu", "BLEU (1-4-grams, brevity penalty) of the output against the value text or list of references is at least threshold (default 0.5)")
}

func unitThreshold(spec Spec, def float64) (float64, error) {
	if t := spec.Threshold; t != nil {
		if *t < 0 || *t > 1 {
			return 0, fmt.Errorf("threshold %g must be between 0 and 1", *t)
		}
		return *t, nil
	}
	return def, nil
}

func newOverlap(name string, def float64, multi bool) Factory {
	return func(spec Spec) (Assertion, error) {
		limit, err := unitThreshold(spec, def)
		if err != nil {
			return nil, err
		}
		var refs []string
		if _, isList := spec.Value.([]any); isList && multi {
			if refs, err = listValue(spec); err != nil {
				return nil, err
			}
		} else {
			ref, err := textValue(spec)
			if err != nil {
				return nil, fmt.Errorf("%w (the reference text)", err)
			}
			if strings.TrimSpace(ref) == "" {
				return nil, errors.New("value is empty; give the reference text")
			}
			refs = []string{ref}
		}
		return checkFunc(func(_ context.Context, in *Input) (Result, error) {
			var score float64
			if multi {
				score = bleuScore(in.Output, refs)
			} else {
				score = rougeN(strings.ToLower(in.Output), strings.ToLower(refs[0]), 1)
			}
			note := fmt.Sprintf("%s %.4f, threshold %g", name, score, limit)
			if score >= limit {
				return Result{Pass: true, Score: score, Reason: "output overlaps the reference (" + note + ")"}, nil
			}
			return Result{Score: score, Reason: fmt.Sprintf("output overlaps the reference %s too little (%s); %s", q(refs[0]), note, found(in.Output))}, nil
		}), nil
	}
}

// rougeN is promptfoo's rougeNScore: F1 of clipped n-gram overlap.
func rougeN(candidate, reference string, n int) float64 {
	c, r := treebankTokens(candidate), treebankTokens(reference)
	if len(c) < n || len(r) < n {
		return 0
	}
	cg, rg := ngrams(c, n), ngrams(r, n)
	rc := countGrams(rg)
	overlap := 0
	for g, k := range countGrams(cg) {
		overlap += min(k, rc[g])
	}
	if overlap == 0 {
		return 0
	}
	p := float64(overlap) / float64(len(cg))
	rec := float64(overlap) / float64(len(rg))
	if p == rec {
		return p
	}
	return 2 * p * rec / (p + rec)
}

func ngrams(words []string, n int) []string {
	if len(words) < n {
		return nil
	}
	out := make([]string, 0, len(words)-n+1)
	for i := 0; i+n <= len(words); i++ {
		out = append(out, strings.Join(words[i:i+n], " "))
	}
	return out
}

func countGrams(gs []string) map[string]int {
	m := make(map[string]int, len(gs))
	for _, g := range gs {
		m[g]++
	}
	return m
}

var (
	tbEllipsis = regexp.MustCompile(`\.\.\.`)
	tbColon    = regexp.MustCompile(`[:,]([^\p{Nd}]|$)`)
	tbSymbols  = regexp.MustCompile(`[;@#$%&?!\[\](){}<>]`)
	tbDash     = regexp.MustCompile(`--`)
	tbFinal    = regexp.MustCompile(`([^.])(\.)([\])}>'\s]*)$`)
	tbQuote    = regexp.MustCompile(`([^'])' `)
	tbPoss     = regexp.MustCompile(`'([sSmMdD]) `)
	tbContr    = regexp.MustCompile(`('ll|'LL|'re|'RE|'ve|'VE|n't|N'T) `)
	tbSpaces   = regexp.MustCompile(` {2,}`)
	// Words the Treebank splits in two (cannot, gonna, 'tis ...).
	tbSplits = []*regexp.Regexp{
		regexp.MustCompile(`(?i)\b(can)(not)\b`), regexp.MustCompile(`(?i)\b(d)('ye)\b`),
		regexp.MustCompile(`(?i)\b(gim)(me)\b`), regexp.MustCompile(`(?i)\b(gon)(na)\b`),
		regexp.MustCompile(`(?i)\b(got)(ta)\b`), regexp.MustCompile(`(?i)\b(lem)(me)\b`),
		regexp.MustCompile(`(?i)\b(more)('n)\b`), regexp.MustCompile(`(?i)\b(wan)(na) `),
		regexp.MustCompile(`(?i)('t)(is)\b`), regexp.MustCompile(`(?i)('t)(was)\b`),
	}
)

// treebankTokens is a Penn Treebank style tokenizer in the spirit of
// js-rouge's treeBankTokenize (punctuation and contractions split off);
// its quote-pairing heuristics are simplified to plain `"` splitting.
func treebankTokens(s string) []string {
	t := strings.Join(strings.Fields(s), " ")
	if t == "" {
		return nil
	}
	t = strings.ReplaceAll(t, `"`, ` " `)
	t = tbEllipsis.ReplaceAllString(t, " ... ")
	t = tbColon.ReplaceAllStringFunc(t, func(m string) string { return " " + m[:1] + " " + m[1:] })
	t = tbSymbols.ReplaceAllString(t, " $0 ")
	t = tbFinal.ReplaceAllString(t, "$1 $2$3 ")
	t = tbDash.ReplaceAllString(t, " -- ")
	t = " " + t + " "
	t = tbQuote.ReplaceAllString(t, "$1 ' ")
	t = tbPoss.ReplaceAllString(t, " '$1 ")
	t = tbContr.ReplaceAllString(t, " $1 ")
	for _, re := range tbSplits {
		t = re.ReplaceAllString(t, " $1 $2 ")
	}
	t = tbSpaces.ReplaceAllString(t, " ")
	t = strings.TrimSpace(t)
	if t == "" {
		return nil
	}
	return strings.Split(t, " ")
}

// bleuScore is promptfoo's calculateBleuScore with equal weights.
func bleuScore(candidate string, references []string) float64 {
	if strings.TrimSpace(candidate) == "" {
		return 0
	}
	tok := func(s string) []string {
		s = strings.TrimSpace(strings.ToLower(s))
		if s == "" {
			return []string{""}
		}
		return strings.Fields(s)
	}
	cw := tok(candidate)
	refs := make([][]string, len(references))
	closest := -1
	for i, r := range references {
		refs[i] = tok(r)
		l := len(refs[i])
		if closest < 0 {
			closest = l
			continue
		}
		dc, dp := abs(l-len(cw)), abs(closest-len(cw))
		if dc < dp || (dc == dp && l < closest) {
			closest = l
		}
	}
	var logSum, wsum float64
	for n := 1; n <= 4; n++ {
		cg := ngrams(cw, n)
		if len(cg) == 0 {
			continue
		}
		cc := countGrams(cg)
		best := 0
		for _, rw := range refs {
			rc := countGrams(ngrams(rw, n))
			clipped := 0
			for g, k := range cc {
				clipped += min(k, rc[g])
			}
			best = max(best, clipped)
		}
		p := float64(best) / float64(len(cg))
		if p == 0 {
			p = 1e-7
		}
		logSum += 0.25 * math.Log(p)
		wsum += 0.25
	}
	if wsum == 0 {
		return 0
	}
	bp := 1.0
	if len(cw) <= closest {
		bp = math.Exp(1 - float64(closest)/float64(len(cw)))
	}
	return bp * math.Exp(logSum/wsum)
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}
