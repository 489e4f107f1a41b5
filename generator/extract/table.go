package extract

import (
	"strings"
)

// YFM tables:
//
//	#|
//	|| **Name**
//	`type` | **Description** ||
//	|| **id***
//	[`integer`](…) | The identifier. ||
//	|#
//
// A row runs from "||" to "||"; cells are split on "|". A "|" does not split
// a cell when it is escaped ("\|"), inside a code span, inside a fenced code
// block or inside a nested #| … |# table. Cells keep their Markdown.

type tableRow struct {
	Line  int
	Cells []string
}

// splitTable splits the raw text of a #| … |# table into rows. lines gives
// the page line of each raw line (may be shorter than the text; the last
// known line is used then).
func splitTable(raw string, lines []int) []tableRow {
	body := strings.TrimSpace(raw)
	body = strings.TrimPrefix(body, "#|")
	body = strings.TrimSuffix(body, "|#")
	// offset of body in raw, for line numbers
	base := strings.Index(raw, "#|") + 2
	if base < 2 {
		base = 0
	}
	// Rows are found in order, so the newline count is carried forward.
	countedTo, newlines := 0, 0
	lineAt := func(off int) int {
		end := min(len(raw), base+off)
		if end > countedTo {
			newlines += strings.Count(raw[countedTo:end], "\n")
			countedTo = end
		}
		n := newlines
		if len(lines) == 0 {
			return 0
		}
		if n >= len(lines) {
			return lines[len(lines)-1]
		}
		return lines[n]
	}

	var rows []tableRow
	var cur *tableRow
	var cell strings.Builder
	atLineStart := true
	inFence := false
	nested := 0
	flushCell := func() {
		if cur != nil {
			cur.Cells = append(cur.Cells, strings.TrimSpace(cell.String()))
		}
		cell.Reset()
	}
	i := 0
	for i < len(body) {
		c := body[i]
		if atLineStart {
			// Skip indentation, then look for fences and nested tables.
			j := i
			for j < len(body) && (body[j] == ' ' || body[j] == '\t') {
				j++
			}
			rest := body[j:]
			switch {
			case isFence(strings.TrimSpace(body[j:lineEnd(body, j)])):
				// isFence, not a bare "```" prefix: a ```…``` code span on a
				// line of its own opens nothing.
				inFence = !inFence
				end := lineEnd(body, i)
				cell.WriteString(body[i:end])
				i = end
				continue
			case inFence:
				end := lineEnd(body, i)
				cell.WriteString(body[i:end])
				i = end
				continue
			case strings.HasPrefix(rest, "#|") || nested > 0:
				end := lineEnd(body, i)
				opens, closes := tableMarks(strings.TrimSpace(body[i:end]))
				if opens {
					nested++
				}
				if closes {
					nested--
				}
				cell.WriteString(body[i:end])
				i = end
				continue
			}
			atLineStart = false
		}
		switch {
		case c == '\n':
			cell.WriteByte(c)
			atLineStart = true
			i++
		case c == '\\' && i+1 < len(body) && body[i+1] == '|':
			cell.WriteByte('|')
			i += 2
		case c == '`':
			// A code span: copy through the matching backtick run.
			n := 0
			for i+n < len(body) && body[i+n] == '`' {
				n++
			}
			run := body[i : i+n]
			end := strings.Index(body[i+n:], run)
			if end < 0 || strings.Contains(body[i+n:i+n+end], "\n\n") {
				cell.WriteString(run)
				i += n
				continue
			}
			cell.WriteString(body[i : i+n+end+n])
			i += n + end + n
		case c == '|' && i+1 < len(body) && body[i+1] == '|':
			if cur == nil {
				rows = append(rows, tableRow{Line: lineAt(i)})
				cur = &rows[len(rows)-1]
				cell.Reset()
			} else {
				flushCell()
				cur = nil
			}
			i += 2
		case c == '|':
			if cur != nil {
				flushCell()
			}
			i++
		default:
			if cur != nil {
				cell.WriteByte(c)
			}
			i++
		}
	}
	if cur != nil {
		// A row left open at the end of the table: keep what it has.
		flushCell()
	}
	return rows
}

// tableMarks reads a line (indentation trimmed) for the #| … |# nesting
// rule every reader of tables shares: "#|" at its start opens a table, "|#"
// at its end (after that "#|") closes one, so "#| … |#" on one line does
// both.
func tableMarks(t string) (opens, closes bool) {
	rest, opens := strings.CutPrefix(t, "#|")
	return opens, strings.HasSuffix(rest, "|#")
}

func lineEnd(s string, i int) int {
	j := strings.IndexByte(s[i:], '\n')
	if j < 0 {
		return len(s)
	}
	return i + j + 1
}
