package assertions

import (
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
)

// is-xml and contains-xml, with promptfoo's semantics: is-xml needs the
// whole output to be one well-formed XML document; contains-xml needs a
// well-formed element somewhere in it. Both may require element paths
// ("order.items.item", root first; a number picks one of repeated
// siblings, "@_id" an attribute), given as a list, a comma-separated
// text, or {requiredElements: [...]}.

func init() {
	Register("is-xml", newXML(false))
	describe("is-xml", "output is one well-formed XML document; value may list required element paths (root.child, or {requiredElements: [...]})")
	Register("contains-xml", newXML(true))
	describe("contains-xml", "output contains a well-formed XML element; value may list required element paths as for is-xml")
}

// xnode is a parsed element: enough of it to look up paths.
type xnode struct {
	name  string
	attrs map[string]bool
	kids  []*xnode
}

func newXML(contains bool) Factory {
	return func(spec Spec) (Assertion, error) {
		if err := noThreshold(spec); err != nil {
			return nil, err
		}
		required, err := requiredElements(spec.Value)
		if err != nil {
			return nil, err
		}
		return checkFunc(func(_ context.Context, in *Input) (Result, error) {
			if contains {
				ok, why := containsXML(in.Output, required)
				if ok {
					return outcome(true, "output contains well-formed XML"+withElements(required)), nil
				}
				return outcome(false, why+"; "+found(in.Output)), nil
			}
			doc, err := parseXMLDoc(in.Output)
			if err != nil {
				return outcome(false, fmt.Sprintf("output is not well-formed XML (%v); %s", err, found(in.Output))), nil
			}
			if miss := missingElements(doc, required); len(miss) > 0 {
				return outcome(false, "output XML is missing required elements: "+strings.Join(miss, ", ")), nil
			}
			return outcome(true, "output is well-formed XML"+withElements(required)), nil
		}), nil
	}
}

func withElements(required []string) string {
	if len(required) == 0 {
		return ""
	}
	return " with " + strings.Join(required, ", ")
}

// requiredElements reads the optional value as promptfoo does.
func requiredElements(v any) ([]string, error) {
	var items []any
	switch x := v.(type) {
	case nil:
		return nil, nil
	case string:
		for _, p := range strings.Split(x, ",") {
			items = append(items, strings.TrimSpace(p))
		}
	case []any:
		items = x
	case map[string]any, map[any]any:
		m, err := mapValue(x, "requiredElements")
		if err != nil {
			return nil, err
		}
		l, ok := m["requiredElements"].([]any)
		if !ok {
			return nil, errors.New("requiredElements must be a list of element paths such as [root.child]")
		}
		items = l
	default:
		return nil, fmt.Errorf("value must be a list of element paths (or {requiredElements: [...]}), got %s", kindOf(v))
	}
	out := make([]string, 0, len(items))
	for i, it := range items {
		s, ok := scalarString(it)
		if !ok || strings.TrimSpace(s) == "" {
			return nil, fmt.Errorf("required element %d must be a path such as root.child, got %s", i+1, kindOf(it))
		}
		out = append(out, strings.TrimSpace(s))
	}
	return out, nil
}

// parseXMLDoc parses a whole document: one root element, with only
// whitespace, comments, processing instructions and a DOCTYPE around it.
// The returned node holds the root as its only child.
func parseXMLDoc(s string) (*xnode, error) {
	doc := &xnode{}
	stack := []*xnode{doc}
	d := xml.NewDecoder(strings.NewReader(s))
	d.Strict = true
	roots := 0
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if len(stack) == 1 {
				roots++
				if roots > 1 {
					return nil, errors.New("more than one root element")
				}
			}
			n := &xnode{name: qname(t.Name), attrs: map[string]bool{}}
			for _, a := range t.Attr {
				n.attrs[qname(a.Name)] = true
			}
			top := stack[len(stack)-1]
			top.kids = append(top.kids, n)
			stack = append(stack, n)
		case xml.EndElement:
			stack = stack[:len(stack)-1]
		case xml.CharData:
			if len(stack) == 1 && strings.TrimSpace(string(t)) != "" {
				return nil, errors.New("text outside the root element")
			}
		}
	}
	if roots == 0 {
		return nil, errors.New("no root element")
	}
	return doc, nil
}

func qname(n xml.Name) string {
	if n.Space != "" {
		// encoding/xml resolves prefixes to URLs only when declared; keep
		// the prefix form the author wrote where it is not a URL.
		if !strings.Contains(n.Space, "/") {
			return n.Space + ":" + n.Local
		}
	}
	return n.Local
}

// missingElements lists the paths not found under doc, read the way
// promptfoo reads its parsed object: repeated siblings form a list indexed
// by number, attributes are "@_name".
func missingElements(doc *xnode, paths []string) []string {
	var miss []string
	for _, p := range paths {
		if !hasPath(doc, strings.Split(p, ".")) {
			miss = append(miss, p)
		}
	}
	return miss
}

func hasPath(doc *xnode, path []string) bool {
	nodes := []*xnode{doc}
	for _, key := range path {
		if len(nodes) > 1 {
			i, err := strconv.Atoi(key)
			if err != nil || i < 0 || strconv.Itoa(i) != key || i >= len(nodes) {
				return false
			}
			nodes = nodes[i : i+1]
			continue
		}
		n := nodes[0]
		if name, ok := strings.CutPrefix(key, "@_"); ok {
			if !n.attrs[name] {
				return false
			}
			nodes = []*xnode{{}} // an attribute value: nothing below it
			continue
		}
		var next []*xnode
		for _, k := range n.kids {
			if k.name == key {
				next = append(next, k)
			}
		}
		if len(next) == 0 {
			return false
		}
		nodes = next
	}
	return true
}

var xmlTagRE = regexp.MustCompile(`<(/?)([A-Za-z_][\w.:-]*)(?:\s[^<>]*?)?(/?)>`)

// containsXML looks for a balanced element in text and parses candidates
// outermost first, then the ones nested in a candidate that did not parse.
func containsXML(s string, required []string) (bool, string) {
	type open struct {
		name  string
		start int
	}
	type span struct{ start, end, depth int }
	var stack []open
	var cands []span
	for _, m := range xmlTagRE.FindAllStringSubmatchIndex(s, -1) {
		closing, name, self := s[m[2]:m[3]] == "/", s[m[4]:m[5]], s[m[6]:m[7]] == "/"
		switch {
		case self && !closing:
			cands = append(cands, span{m[0], m[1], len(stack)})
		case !closing:
			stack = append(stack, open{name, m[0]})
		default:
			if len(stack) > 0 && stack[len(stack)-1].name == name {
				o := stack[len(stack)-1]
				stack = stack[:len(stack)-1]
				cands = append(cands, span{o.start, m[1], len(stack)})
			} else {
				stack = stack[:0]
			}
		}
	}
	if len(cands) == 0 {
		return false, "output contains no XML element"
	}
	// Outermost (lowest depth) first, then by position.
	maxDepth := 0
	for _, c := range cands {
		maxDepth = max(maxDepth, c.depth)
	}
	for depth := 0; depth <= maxDepth; depth++ {
		for _, c := range cands {
			if c.depth != depth {
				continue
			}
			doc, err := parseXMLDoc(s[c.start:c.end])
			if err == nil && len(missingElements(doc, required)) == 0 {
				return true, ""
			}
		}
	}
	if len(required) > 0 {
		return false, "output contains no well-formed XML element with " + strings.Join(required, ", ")
	}
	return false, "output contains no well-formed XML element"
}
