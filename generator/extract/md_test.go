package extract

import (
	"strings"
	"testing"
)

func TestPlainDoc(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"one line", "The **id** of [the deal](#deal).", "The id of the deal."},
		{"paragraphs", "First line\ngoes on.\n\nSecond `para`.", "First line goes on.\n\nSecond para."},
		{"list under its lead-in", "Values:\n- `A` — all\n- `B` — **bold**", "Values:\n- A — all\n- B — bold"},
		{"list after a blank line", "Values:\n\n- a\n- b\n\nAfter.", "Values:\n\n- a\n- b\n\nAfter."},
		{"nested", "Order:\n- `field_n` — name\n- `value_n` — one of:\n    - `ASC` — up\n    - `DESC` — down\n- last", "Order:\n- field_n — name\n- value_n — one of:\n  - ASC — up\n  - DESC — down\n- last"},
		{"two-space nesting back out", "- a\n  - b\n    - c\n- d", "- a\n  - b\n    - c\n- d"},
		{"star and plus bullets", "* a\n+ b", "- a\n- b"},
		{"numbered", "Steps:\n1. one\n2) two", "Steps:\n1. one\n2. two"},
		{"number inside a sentence", "Since version\n2024. is the year", "Since version 2024. is the year"},
		{"lazy continuation", "- item one\ngoes on\n- two", "- item one goes on\n- two"},
		{"indented paragraph of an item", "- item\n\n  more of it\n\nOutside.", "- item more of it\n\nOutside."},
		{"fenced code kept, tab-led", "Format:\n```\n{ a: 1 }\n```\nwhere:\n- `a` — x", "Format:\n\n\t{ a: 1 }\n\nwhere:\n- a — x"},
		{"code keeps its layout, not its common indent", "F:\n\n  ```js\n  {\n\n      `a`: [1],\n  }\n  ```", "F:\n\n\t{\n\t\n\t    `a`: [1],\n\t}"},
		{"code inside a list", "- a:\n  ```\n  x\n  ```\n- b", "- a:\n\n\tx\n\n- b"},
		{"empty code dropped", "A\n```\n\n```\nB", "A\n\nB"},
		{"a triple-backtick code span is no fence", "Regexp:\n```^\\d+$``` ||\nend", "Regexp: ^\\d+$ || end"},
		{"unclosed fence keeps the rest as code", "A\n```\nx", "A\n\n\tx"},
		{"nested table dropped", "Values:\n#|\n|| A | B ||\n|#\nend", "Values:\n\nend"},
		{"note directive", "Text.\n{% note info \"Note\" %}\nBody.\n{% endnote %}", "Text.\n\nBody."},
		{"heading", "Intro\n### Fields {#f}\nRest", "Intro\n\nFields\n\nRest"},
		{"blockquote", "> quoted\n> text", "quoted text"},
		{"empty item skipped", "- \n- a", "- a"},
		{"empty item ends the item above", "- a\n- \n The list", "- a\n\nThe list"},
		{"html dropped", "a<br>\nb", "a b"},
		{"dash inside a line is text", "from 1 - 10\nand more", "from 1 - 10 and more"},
		{"bold is not a bullet", "**Note**\ntext", "Note text"},
	}
	for _, tt := range tests {
		if got := plainDoc(tt.in); got != tt.want {
			t.Errorf("%s: plainDoc(%q)\n got %q\nwant %q", tt.name, tt.in, got, tt.want)
		}
	}
}

// FuzzPlainDoc checks that any input gives text without Markdown block
// structure left over and without a panic.
func FuzzPlainDoc(f *testing.F) {
	for _, s := range []string{"a\n- b\n  - c\n\n1. d", "```\nx", "#|\n||a||", "> - x\n{% note %}", "- \n-\t", "\t\t- a\n- b"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out := plainDoc(s)
		if strings.Contains(out, "\n\n\n") || strings.HasPrefix(out, "\n") || strings.HasSuffix(out, "\n") {
			t.Errorf("plainDoc(%q) = %q: stray blank lines", s, out)
		}
	})
}
