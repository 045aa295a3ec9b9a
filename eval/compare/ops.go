package compare

// DiffOp is one step of a word diff, in go-diff's numbering so a page
// draws it as it draws any go-diff output: Op -1 is text only in the base,
// 0 text in both, 1 text only in the head.
type DiffOp struct {
	Op   int    `json:"op"`
	Text string `json:"text"`
}

// WordDiff is the word diff compare shows for a changed output (base
// against head), as operations, for viewers that draw both sides; texts
// are sanitized and each side bounded as in Compare's own diffs.
func WordDiff(base, head string) []DiffOp {
	ops := wordDiff(base, head)
	out := make([]DiffOp, len(ops))
	for i, o := range ops {
		n := 0
		switch o.kind {
		case opDelete:
			n = -1
		case opInsert:
			n = 1
		}
		out[i] = DiffOp{Op: n, Text: o.text}
	}
	return out
}
