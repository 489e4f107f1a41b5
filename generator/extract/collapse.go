package extract

import (
	"bytes"
	"strconv"
	"strings"
)

// Code examples are half the corpus (eight language tabs per method), and
// goldmark spends most of its time appending their lines one segment at a
// time. collapseFences lifts the body of each fenced block outside tables
// out of the page before goldmark runs and leaves a one-line placeholder;
// flatten puts the body back. Only blocks whose closing fence is certain are
// lifted (same character, at least as long, not less indented than the
// opening, no line of the body less indented than the fence); any other
// block is left to goldmark.

const codeMarker = "\uE000code"

type fenceStore struct {
	bodies []string
}

// restore replaces placeholders in raw with the bodies they stand for.
func (fs *fenceStore) restore(raw string) string {
	if fs == nil || !strings.Contains(raw, codeMarker) {
		return raw
	}
	var b strings.Builder
	for {
		i := strings.Index(raw, codeMarker)
		if i < 0 {
			b.WriteString(raw)
			return b.String()
		}
		b.WriteString(raw[:i])
		j := i + len(codeMarker)
		k := j
		for k < len(raw) && raw[k] >= '0' && raw[k] <= '9' {
			k++
		}
		n, err := strconv.Atoi(raw[j:k])
		if err != nil || n < 0 || n >= len(fs.bodies) {
			b.WriteString(raw[i:k])
		} else {
			b.WriteString(fs.bodies[n])
			if k < len(raw) && raw[k] == '\n' {
				k++ // the body ends with its own newline
			}
		}
		raw = raw[k:]
	}
}

func collapseFences(pp preprocessed) (preprocessed, *fenceStore) {
	if !bytes.Contains(pp.src, []byte("```")) {
		return pp, nil
	}
	lines := splitLines(pp.src)
	fs := &fenceStore{}
	var out bytes.Buffer
	out.Grow(len(pp.src))
	outLines := make([]int, 0, len(lines))
	outIncl := make([]bool, 0, len(lines))
	emit := func(s string, i int) {
		out.WriteString(s)
		out.WriteByte('\n')
		outLines = append(outLines, pp.lines[min(i, len(pp.lines)-1)])
		outIncl = append(outIncl, pp.included[min(i, len(pp.included)-1)])
	}
	depth := 0 // open #| tables
	inTableFence := false
	for i := 0; i < len(lines); i++ {
		line := lines[i]
		trimmed := strings.TrimSpace(line)
		if depth > 0 || strings.HasPrefix(trimmed, "#|") {
			// In a table (or opening one): track its fences and nesting,
			// copy as is. A table only closes outside its fences, so none
			// is open when a new table starts.
			if isFence(trimmed) {
				inTableFence = !inTableFence
			} else if !inTableFence {
				opens, closes := tableMarks(trimmed)
				if opens {
					depth++
				}
				if closes {
					depth--
				}
			}
			emit(line, i)
			continue
		}
		if end := fenceEnd(lines, i); end > i+1 {
			var body strings.Builder
			for _, l := range lines[i+1 : end] {
				body.WriteString(l)
				body.WriteByte('\n')
			}
			indent := line[:len(line)-len(strings.TrimLeft(line, " "))]
			emit(line, i)
			emit(indent+codeMarker+strconv.Itoa(len(fs.bodies)), i+1)
			fs.bodies = append(fs.bodies, body.String())
			emit(lines[end], end)
			i = end
			continue
		}
		emit(line, i)
	}
	return preprocessed{src: out.Bytes(), lines: outLines, included: outIncl}, fs
}

// fenceEnd returns the index of the line closing the fence opened at
// lines[i], or -1 when lines[i] opens none or its end is not certain.
func fenceEnd(lines []string, i int) int {
	line := lines[i]
	body := strings.TrimLeft(line, " ")
	indent := len(line) - len(body)
	n := 0
	for n < len(body) && body[n] == '`' {
		n++
	}
	if n < 3 || strings.Contains(body[n:], "`") {
		return -1
	}
	for j := i + 1; j < len(lines); j++ {
		l := lines[j]
		lb := strings.TrimLeft(l, " ")
		li := len(l) - len(lb)
		if lb == "" {
			continue
		}
		if li < indent {
			return -1 // the container (a list item) may end here: leave it to goldmark
		}
		if li <= indent+3 && strings.HasPrefix(lb, strings.Repeat("`", n)) && strings.Trim(lb, "`") == "" {
			return j
		}
	}
	return -1
}
