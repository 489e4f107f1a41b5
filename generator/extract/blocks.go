package extract

import (
	"bytes"
	"sort"
	"strings"

	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/parser"
	"github.com/yuin/goldmark/text"
	"github.com/yuin/goldmark/util"
)

// A page is read in two steps: goldmark (with our YFM block parsers) builds
// the tree, then flatten turns it into a flat list of blocks in document
// order. The page analysis only ever looks at that list; it never touches
// goldmark.

type blockKind int

const (
	bHeading    blockKind = iota
	bParagraph            // a paragraph (plain text in Text, raw Markdown in Raw)
	bCode                 // a fenced code block
	bTable                // a YFM #| … |# table, raw in Raw
	bDirective            // a {% name args %} line
	bBlockquote           // a blockquote, raw Markdown in Raw
)

type block struct {
	Kind  blockKind
	Line  int    // page line
	Level int    // heading level
	Text  string // heading or paragraph plain text; directive name
	Raw   string // raw Markdown (paragraph, table, blockquote); code content
	ID    string // heading {#id}
	Lang  string // code info string
	Args  string // directive arguments
	Tab   string // label of the {% list tabs %} item the block sits in
	Depth int    // nesting depth in list items (0 = top level)
	Lines []int  // table: the page line of each raw line
	// Unclosed: a table without its closing |#.
	Unclosed bool
}

// yfmTable is the goldmark node of a #| … |# table; the table text is split
// into rows and cells later (table.go), where escapes and nesting are handled.
type yfmTable struct {
	ast.BaseBlock
	unclosed bool // ended by a heading or the page end, not by |#
}

var kindYFMTable = ast.NewNodeKind("YFMTable")

func (n *yfmTable) Kind() ast.NodeKind { return kindYFMTable }
func (n *yfmTable) Dump(src []byte, level int) {
	ast.DumpHelper(n, src, level, nil, nil)
}

// yfmDirective is a {% … %} line.
type yfmDirective struct {
	ast.BaseBlock
}

var kindYFMDirective = ast.NewNodeKind("YFMDirective")

func (n *yfmDirective) Kind() ast.NodeKind { return kindYFMDirective }
func (n *yfmDirective) Dump(src []byte, level int) {
	ast.DumpHelper(n, src, level, nil, nil)
}

type tableParser struct{}

type tableState struct {
	depth   int
	inFence bool
}

var tableStateKey = parser.NewContextKey()

func (tableParser) Trigger() []byte { return []byte{'#'} }

func (tableParser) Open(parent ast.Node, reader text.Reader, pc parser.Context) (ast.Node, parser.State) {
	line, seg := reader.PeekLine()
	pos := pc.BlockOffset()
	if pos < 0 || !bytes.HasPrefix(line[pos:], []byte("#|")) {
		return nil, parser.NoChildren
	}
	n := &yfmTable{}
	st := &tableState{}
	st.feed(line[pos:])
	n.Lines().Append(text.NewSegment(seg.Start+pos-seg.Padding, seg.Stop))
	reader.AdvanceToEOL()
	if st.depth <= 0 {
		// "#| … |#" on one line.
		pc.Set(tableStateKey, nil)
		return n, parser.NoChildren
	}
	pc.Set(tableStateKey, st)
	return n, parser.NoChildren
}

func (tableParser) Continue(node ast.Node, reader text.Reader, pc parser.Context) parser.State {
	st, _ := pc.Get(tableStateKey).(*tableState)
	if st == nil {
		return parser.Close
	}
	line, seg := reader.PeekLine()
	if line == nil {
		node.(*yfmTable).unclosed = true
		return parser.Close
	}
	if !st.inFence && isSectionHeading(line) {
		// A "##" heading never sits in a cell: the table was left
		// open. Close it here so the rest of the page is read.
		node.(*yfmTable).unclosed = true
		pc.Set(tableStateKey, nil)
		return parser.Close
	}
	node.Lines().Append(seg)
	st.feed(line)
	reader.AdvanceToEOL()
	if st.depth <= 0 {
		pc.Set(tableStateKey, nil)
		return parser.Close
	}
	return parser.Continue | parser.NoChildren
}

// feed tracks table nesting over one line: "#|" at a line start opens a
// (nested) table, a line ending in "|#" closes one; fenced code is skipped.
func (st *tableState) feed(line []byte) {
	t := string(bytes.TrimSpace(line))
	if isFence(t) {
		st.inFence = !st.inFence
		return
	}
	if st.inFence {
		return
	}
	opens, closes := tableMarks(t)
	if opens {
		st.depth++
	}
	if closes {
		st.depth--
	}
}

func isSectionHeading(line []byte) bool {
	t := bytes.TrimLeft(line, " ")
	// "# " alone is not enough: a cell's text wrapped at "#FIELD#" starts a
	// line with "# " in the corpus. Pages have one H1; sections are "## ".
	return len(line)-len(t) < 4 && bytes.HasPrefix(t, []byte("## "))
}

func (tableParser) Close(node ast.Node, reader text.Reader, pc parser.Context) {
	if st, _ := pc.Get(tableStateKey).(*tableState); st != nil && st.depth > 0 {
		node.(*yfmTable).unclosed = true // the page ended inside the table
	}
	pc.Set(tableStateKey, nil)
}
func (tableParser) CanInterruptParagraph() bool { return true }
func (tableParser) CanAcceptIndentedLine() bool { return false }

type directiveParser struct{}

func (directiveParser) Trigger() []byte { return []byte{'{'} }

func (directiveParser) Open(parent ast.Node, reader text.Reader, pc parser.Context) (ast.Node, parser.State) {
	line, seg := reader.PeekLine()
	pos := pc.BlockOffset()
	if pos < 0 {
		return nil, parser.NoChildren
	}
	t := bytes.TrimSpace(line[pos:])
	if !bytes.HasPrefix(t, []byte("{%")) || !bytes.HasSuffix(t, []byte("%}")) {
		return nil, parser.NoChildren
	}
	n := &yfmDirective{}
	n.Lines().Append(text.NewSegment(seg.Start+pos-seg.Padding, seg.Stop))
	reader.AdvanceToEOL()
	return n, parser.NoChildren
}

func (directiveParser) Continue(node ast.Node, reader text.Reader, pc parser.Context) parser.State {
	return parser.Close
}
func (directiveParser) Close(node ast.Node, reader text.Reader, pc parser.Context) {}
func (directiveParser) CanInterruptParagraph() bool                                { return true }
func (directiveParser) CanAcceptIndentedLine() bool                                { return false }

// blockParser is goldmark's block parser with ours added and no inline
// parsers: text is read from the raw lines (plainText), so the inline pass
// — a third of goldmark's time on this corpus — is skipped.
var blockParser = parser.NewParser(
	parser.WithBlockParsers(append(parser.DefaultBlockParsers(),
		util.Prioritized(tableParser{}, 50),
		util.Prioritized(directiveParser{}, 60),
	)...),
	parser.WithAttribute(), // "## Title {#id}"
)

// lineIndex maps byte offsets of the preprocessed source to page lines.
type lineIndex struct {
	starts []int // byte offset of each source line
	page   []int // page line of each source line
}

func newLineIndex(pp preprocessed) lineIndex {
	starts := make([]int, 1, len(pp.lines)+1)
	for i, c := range pp.src {
		if c == '\n' && i+1 < len(pp.src) {
			starts = append(starts, i+1)
		}
	}
	return lineIndex{starts: starts, page: pp.lines}
}

func (li lineIndex) line(offset int) int {
	i := sort.Search(len(li.starts), func(i int) bool { return li.starts[i] > offset }) - 1
	if i < 0 || i >= len(li.page) {
		if len(li.page) > 0 && i >= len(li.page) {
			return li.page[len(li.page)-1]
		}
		return 0
	}
	return li.page[i]
}

// parseBlocks parses a preprocessed page into its flat block list.
func parseBlocks(pp preprocessed) []block {
	pp, fences := collapseFences(pp)
	src := pp.src
	doc := blockParser.Parse(text.NewReader(src))
	li := newLineIndex(pp)
	f := flattener{src: src, str: string(src), li: li, fences: fences}
	f.walk(doc, "", 0)
	return f.blocks
}

type flattener struct {
	src    []byte
	str    string // src as a string, sliced by raw
	fences *fenceStore
	li     lineIndex
	blocks []block
}

func (f *flattener) lineOf(n ast.Node) int {
	if l := n.Lines(); l != nil && l.Len() > 0 {
		return f.li.line(l.At(0).Start)
	}
	// Containers: the first line of their first child.
	for c := n.FirstChild(); c != nil; c = c.NextSibling() {
		if c.Type() == ast.TypeBlock {
			if ln := f.lineOf(c); ln > 0 {
				return ln
			}
		}
	}
	return 0
}

// raw returns the source text of a leaf block, from its first line to its
// last, as a substring of the page (no copy). Lines keep any indentation a
// list item gave them; every reader of raw text tolerates it.
func (f *flattener) raw(n ast.Node) string {
	lines := n.Lines()
	if lines.Len() == 0 {
		return ""
	}
	start, stop := lines.At(0).Start, lines.At(lines.Len()-1).Stop
	if start < 0 || stop > len(f.str) || start > stop {
		return ""
	}
	return f.str[start:stop]
}

func (f *flattener) walk(n ast.Node, tab string, depth int) {
	for c := n.FirstChild(); c != nil; c = c.NextSibling() {
		switch c := c.(type) {
		case *ast.Heading:
			b := block{Kind: bHeading, Line: f.lineOf(c), Level: c.Level, Text: plainText(f.raw(c)), Tab: tab, Depth: depth}
			if id, ok := c.AttributeString("id"); ok {
				switch v := id.(type) {
				case []byte:
					b.ID = string(v)
				case string:
					b.ID = v
				}
			}
			f.blocks = append(f.blocks, b)
		case *ast.Paragraph, *ast.TextBlock:
			raw := f.raw(c)
			f.blocks = append(f.blocks, block{Kind: bParagraph, Line: f.lineOf(c), Text: plainText(raw), Raw: raw, Tab: tab, Depth: depth})
		case *ast.FencedCodeBlock:
			lang := ""
			if c.Info != nil {
				lang = strings.ToLower(strings.TrimSpace(string(c.Info.Segment.Value(f.src))))
			}
			line := f.lineOf(c)
			if line > 0 {
				line-- // the fence line
			}
			f.blocks = append(f.blocks, block{Kind: bCode, Line: line, Lang: lang, Raw: f.fences.restore(f.raw(c)), Tab: tab, Depth: depth})
		case *ast.CodeBlock:
			f.blocks = append(f.blocks, block{Kind: bCode, Line: f.lineOf(c), Raw: f.fences.restore(f.raw(c)), Tab: tab, Depth: depth})
		case *yfmTable:
			segs := c.Lines()
			lines := make([]int, segs.Len())
			for i := range lines {
				lines[i] = f.li.line(segs.At(i).Start)
			}
			f.blocks = append(f.blocks, block{Kind: bTable, Line: f.lineOf(c), Raw: f.raw(c), Lines: lines, Tab: tab, Depth: depth, Unclosed: c.unclosed})
		case *yfmDirective:
			name, args := splitDirective(f.raw(c))
			f.blocks = append(f.blocks, block{Kind: bDirective, Line: f.lineOf(c), Text: name, Args: args, Tab: tab, Depth: depth})
		case *ast.Blockquote:
			var raw strings.Builder
			for _, l := range rawLinesOf(c, f.src) {
				raw.WriteString(l)
				raw.WriteByte('\n')
			}
			// The quote's own paragraphs are not page prose: only its raw
			// text is kept.
			f.blocks = append(f.blocks, block{Kind: bBlockquote, Line: f.lineOf(c), Raw: raw.String(), Tab: tab, Depth: depth})
		case *ast.List:
			for item := c.FirstChild(); item != nil; item = item.NextSibling() {
				label := tab
				if first := item.FirstChild(); first != nil {
					if _, ok := first.(*ast.TextBlock); ok {
						label = plainText(f.raw(first))
					} else if _, ok := first.(*ast.Paragraph); ok {
						label = plainText(f.raw(first))
					}
				}
				f.walk(item, label, depth+1)
			}
		default:
			f.walk(c, tab, depth)
		}
	}
}

// rawLinesOf collects the source lines of every leaf block under n.
func rawLinesOf(n ast.Node, src []byte) []string {
	var out []string
	_ = ast.Walk(n, func(c ast.Node, entering bool) (ast.WalkStatus, error) {
		if !entering || c.Type() != ast.TypeBlock {
			return ast.WalkContinue, nil
		}
		if c.HasChildren() && c.Lines().Len() == 0 {
			return ast.WalkContinue, nil
		}
		lines := c.Lines()
		for i := 0; i < lines.Len(); i++ {
			seg := lines.At(i)
			out = append(out, strings.TrimRight(string(seg.Value(src)), "\n"))
		}
		return ast.WalkSkipChildren, nil
	})
	return out
}

// splitDirective splits "{% note warning "DEPRECATED" %}" into "note" and
// `warning "DEPRECATED"`.
func splitDirective(raw string) (name, args string) {
	s := strings.TrimSpace(raw)
	s = strings.TrimPrefix(s, "{%")
	s = strings.TrimSuffix(s, "%}")
	s = strings.TrimSpace(s)
	name, args, _ = strings.Cut(s, " ")
	return name, strings.TrimSpace(args)
}
