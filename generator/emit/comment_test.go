package emit

import (
	"fmt"
	doccomment "go/doc/comment"
	"go/format"
	"strings"
	"testing"
	"unicode/utf8"
)

// renderField puts a rendered comment on a struct field, as structDecl does.
func renderField(paras []string) string {
	c := fmt.Sprintf("%#v", comment(paras))
	return "package x\n\ntype T struct {\n\t" + strings.ReplaceAll(c, "\n", "\n\t") + "\n\tA int\n}\n"
}

func TestCommentLists(t *testing.T) {
	paras := []string{
		"Sorting parameters. Example format:",
		"  - field_n — the name of the field by which the selection of connectors will be sorted, which is a long item that wraps twice over the width of the comment\n  - value_n — one of:\n    - ASC — ascending\n    - DESC — descending\n  - width — width restriction (0 - no restriction at all, which is what the docs say here)",
		"Steps:",
		"  1. open\n  2. tick",
		"Format:",
		"\t{\n\t\n\t    field_1: value_1, // a long line of code is never wrapped, however long it gets\n\t}",
		"Required.",
	}
	src := renderField(paras)
	want := `package x

type T struct {
	// Sorting parameters. Example format:
	//
	//   - field_n — the name of the field by which the selection of connectors
	//     will be sorted, which is a long item that wraps twice over the width
	//     of the comment
	//   - value_n — one of:
	//     ◦ ASC — ascending
	//     ◦ DESC — descending
	//   - width — width restriction (0 - no restriction at all, which is what
	//     the docs say here)
	//
	// Steps:
	//
	//  1. open
	//  2. tick
	//
	// Format:
	//
	//	{
	//
	//	    field_1: value_1, // a long line of code is never wrapped, however long it gets
	//	}
	//
	// Required.
	A int
}
`
	if src != want {
		t.Errorf("rendered:\n%s\nwant:\n%s", src, want)
	}
	// gofmt leaves it as it is: the layout is the canonical one.
	formatted, err := format.Source([]byte(src))
	if err != nil {
		t.Fatal(err)
	}
	if string(formatted) != src {
		t.Errorf("gofmt changes the comment:\n%s", formatted)
	}
	// godoc reads the lists: three bullets (nested items inside their
	// parent), then two numbered items.
	text := want[strings.Index(want, "//"):strings.Index(want, "\tA int")]
	var lines []string
	for _, l := range strings.Split(text, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			lines = append(lines, strings.TrimPrefix(strings.TrimPrefix(l, "//"), " "))
		}
	}
	doc := new(doccomment.Parser).Parse(strings.Join(lines, "\n"))
	var lists [][]string
	for _, blk := range doc.Content {
		if l, ok := blk.(*doccomment.List); ok {
			var items []string
			for _, it := range l.Items {
				items = append(items, it.Number+"|"+plainOf(it.Content))
			}
			lists = append(lists, items)
		}
	}
	wantLists := [][]string{
		{
			"|field_n — the name of the field by which the selection of connectors will be sorted, which is a long item that wraps twice over the width of the comment",
			"|value_n — one of: ◦ ASC — ascending ◦ DESC — descending",
			"|width — width restriction (0 - no restriction at all, which is what the docs say here)",
		},
		{"1|open", "2|tick"},
	}
	if fmt.Sprint(lists) != fmt.Sprint(wantLists) {
		t.Errorf("godoc lists:\n%q\nwant\n%q", lists, wantLists)
	}
}

// plainOf joins the text of doc-comment blocks, line breaks as spaces.
func plainOf(blocks []doccomment.Block) string {
	var b strings.Builder
	for _, blk := range blocks {
		if p, ok := blk.(*doccomment.Paragraph); ok {
			for _, t := range p.Text {
				if pl, ok := t.(doccomment.Plain); ok {
					b.WriteString(string(pl))
				}
			}
		}
	}
	return strings.Join(strings.Fields(b.String()), " ")
}

func TestWrapItemNeverStartsALineWithAMarker(t *testing.T) {
	text := strings.Repeat("word ", 12) + "- x " + strings.Repeat("word ", 12) + "2. y " + strings.Repeat("w ", 30)
	for width := 40; width <= 80; width++ {
		for i, l := range wrapItem(text, width) {
			if i > 0 && looksLikeMarker(strings.Fields(l)[0]) {
				t.Errorf("width %d: line %q starts with a list marker", width, l)
			}
		}
	}
}

// Prose wraps as before; a URL stays on the line of a short word.
func TestCommentProse(t *testing.T) {
	got := fmt.Sprintf("%#v", comment([]string{"DealGet calls crm.deal.get.", "See https://apidocs.bitrix24.com/api-reference/crm/deals/crm-deal-get.html"}))
	want := "// DealGet calls crm.deal.get.\n//\n// See https://apidocs.bitrix24.com/api-reference/crm/deals/crm-deal-get.html"
	if got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}

// gofmt rewrites ” and “ in doc comments as curly quotes; the rendered
// comment must already be what gofmt keeps.
func TestCommentIsGofmtStable(t *testing.T) {
	paras := []string{"F does it.", "Format:", "\t{\n\t\n\t  a: 1\n\t}", "Errors:", "  - CANT_BE_EMPTY: an empty string '' is passed in ``fields.CODE``\n    - nested - 1\n    - 2. two", "Steps:", "  1. first"}
	src := "package x\n\n" + fmt.Sprintf("%#v", comment(paras)) + "\nfunc F() {}\n"
	out, err := format.Source([]byte(src))
	if err != nil {
		t.Fatal(err)
	}
	if string(out) != src {
		t.Errorf("gofmt changes the comment:\n%s\nwas:\n%s", out, src)
	}
}

// A short capitalised line between paragraphs would turn into a godoc
// heading; it gets a full stop instead.
func TestCommentNoImplicitHeadings(t *testing.T) {
	paras := []string{"Sorting.", "Possible Error Codes", "Defaults to N", "A`0", "See https://x.y/z"}
	got := fmt.Sprintf("%#v", comment(paras))
	want := "// Sorting.\n//\n// Possible Error Codes.\n//\n// Defaults to N.\n//\n// A`0.\n//\n// See https://x.y/z"
	if got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
	src := "package x\n\n" + got + "\nfunc F() {}\n"
	out, err := format.Source([]byte(src))
	if err != nil {
		t.Fatal(err)
	}
	if string(out) != src {
		t.Errorf("gofmt changes the comment:\n%s", out)
	}
}

// FuzzCommentGofmtStable renders paragraphs in the shapes model gives
// (prose on one line, list items, tab-led code) as a function's doc
// comment and checks that gofmt leaves it as it is: what go doc shows is
// what the generator wrote.
func FuzzCommentGofmtStable(f *testing.F) {
	f.Add("Values:\n\n  - Y — yes\n    - sub\n  - N\n\nEnd here", "Format:")
	f.Add("\t{\n\t\n\t  a: 1\n\t}", "Possible values")
	f.Add("  1. one\n  2. two", "See https://x.y")
	f.Fuzz(func(t *testing.T, a, b string) {
		var paras []string
		for _, p := range strings.Split(a+"\n\n"+b, "\n\n") {
			if !utf8.ValidString(p) || strings.ContainsAny(p, "\r\x00\f\v") {
				return
			}
			lines := strings.Split(p, "\n")
			_, _, isItem := listItem(lines[0])
			switch {
			case strings.HasPrefix(p, "\t"):
				for i, l := range lines {
					if !strings.HasPrefix(l, "\t") || strings.TrimSpace(l) != l[1:] && strings.TrimSpace(l) != "" && strings.TrimRight(l, " \t") != l {
						return
					}
					lines[i] = strings.TrimRight(l, " \t")
				}
				// model drops blank code lines at either end
				for len(lines) > 0 && lines[0] == "" {
					lines = lines[1:]
				}
				for len(lines) > 0 && lines[len(lines)-1] == "" {
					lines = lines[:len(lines)-1]
				}
				flush := false // extract removes the common indentation
				for _, l := range lines {
					if len(l) > 1 && l[1] != ' ' && l[1] != '\t' {
						flush = true
					}
				}
				if !flush {
					return
				}
				p = strings.Join(lines, "\n")
			case isItem:
				for i, l := range lines {
					first, text, ok := listItem(l)
					if !ok || strings.Join(strings.Fields(text), " ") != text || text == "" {
						return
					}
					_ = first
					lines[i] = l
				}
			default:
				p = strings.Join(strings.Fields(p), " ")
			}
			if p == "" {
				return
			}
			paras = append(paras, p)
		}
		src := "package x\n\n" + fmt.Sprintf("%#v", comment(paras)) + "\nfunc F() {}\n"
		out, err := format.Source([]byte(src))
		if err != nil {
			return // not a comment problem (e.g. "*/" inside)
		}
		if string(out) != src {
			t.Errorf("gofmt changes the comment:\n%s\nwas:\n%s", out, src)
		}
	})
}

// A code block whose first line starts like a list item ("- a", "1. x",
// "0) 0") stays a code block: gofmt would otherwise rewrite it as a list.
func TestCommentCodeStartingLikeAListItem(t *testing.T) {
	for _, code := range []string{"\t0) 0", "\t- name: x\n\t  value: 1", "\t12. step", "\t• dot\tx"} {
		src := "package x\n\n" + fmt.Sprintf("%#v", comment([]string{"F does it.", code, "0"})) + "\nfunc F() {}\n"
		out, err := format.Source([]byte(src))
		if err != nil {
			t.Fatal(err)
		}
		if string(out) != src {
			t.Errorf("%q: gofmt changes the comment:\n%s\nwas:\n%s", code, out, src)
		}
		var text []string
		for _, l := range strings.Split(src[strings.Index(src, "//"):strings.Index(src, "\nfunc")], "\n") {
			l = strings.TrimPrefix(l, "//")
			text = append(text, strings.TrimPrefix(l, " "))
		}
		doc := new(doccomment.Parser).Parse(strings.Join(text, "\n"))
		var kinds []string
		for _, blk := range doc.Content {
			kinds = append(kinds, fmt.Sprintf("%T", blk))
		}
		if len(kinds) != 3 || kinds[1] != "*comment.Code" {
			t.Errorf("%q: godoc reads the blocks as %v, want a code block second", code, kinds)
		}
	}
}

// Indented paragraphs next to each other would merge into one godoc block
// (a run of indented lines is one list or one code block): a list then a
// code block, as tasks.task.add documents SE_PARAMETER, must keep the code
// a code block, and two lists of one kind stay one tight list.
func TestCommentAdjacentBlocks(t *testing.T) {
	for _, tc := range []struct {
		paras []string
		want  string
	}{
		{[]string{"Values:", "  - 1 — one\n  - 2 — two", "\tSE_PARAMETER: [\n\t    {CODE: 3}\n\t]"},
			"// Values:\n//\n//   - 1 — one\n//   - 2 — two\n//\n// …\n//\n//\tSE_PARAMETER: [\n//\t    {CODE: 3}\n//\t]"},
		{[]string{"Format:", "\tx: 1", "  - a"}, "// Format:\n//\n//\tx: 1\n//\n// …\n//\n//   - a"},
		{[]string{"Values:", "  - a\n  - b", "  - c"}, "// Values:\n//\n//   - a\n//   - b\n//   - c"},
		{[]string{"Steps:", "  1. a", "  2. b"}, "// Steps:\n//\n//  1. a\n//  2. b"},
		{[]string{"Values:", "  - a", "  1. b"}, "// Values:\n//\n//   - a\n//\n// …\n//\n//  1. b"},
		{[]string{"Code:", "\ta", "\tb"}, "// Code:\n//\n//\ta\n//\n//\tb"},
		// Without a line of prose godoc would strip the blocks' indentation.
		{[]string{"\t0", "\t0"}, "// …\n//\n//\t0\n//\n//\t0"},
		{[]string{"  - a\n  - b"}, "// …\n//\n//   - a\n//   - b"},
		// Lines of other spaces are blank to godoc: dropped at the ends,
		// blank comment lines inside.
		{[]string{"\t\u2001", "0"}, "// 0"},
		// A list that starts with a nested item starts with a top one.
		{[]string{"Values:", "    0. 0\n  - b\n    - c", "0"}, "// Values:\n//\n//   - 0. 0\n//   - b\n//     ◦ c\n//\n// 0"},
		{[]string{"A.", "\t\u2001\n\ta\n\t\u00a0\n\tb\n\t\u3000"}, "// A.\n//\n//\ta\n//\n//\tb"},
	} {
		got := fmt.Sprintf("%#v", comment(tc.paras))
		if got != tc.want {
			t.Errorf("%q:\ngot\n%s\nwant\n%s", tc.paras, got, tc.want)
		}
		src := "package x\n\n" + got + "\nfunc F() {}\n"
		if out, err := format.Source([]byte(src)); err != nil || string(out) != src {
			t.Errorf("%q: gofmt changes the comment (%v):\n%s", tc.paras, err, out)
		}
	}
}
