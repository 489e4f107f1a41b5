package audit

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
)

// errRow is one row of an error table, read by its header's columns.
type errRow struct {
	code, status, message string
	line                  int
}

// Header spellings of the error tables' columns.
var (
	codeHeaders    = map[string]bool{"code": true, "error code": true, "код": true, "код ошибки": true}
	statusHeaders  = map[string]bool{"status": true, "http status": true, "статус": true}
	messageHeaders = map[string]bool{"description": true, "error message": true, "message": true, "error text": true,
		"описание": true, "сообщение": true, "сообщение об ошибке": true, "текст ошибки": true}
	codeTokenRe  = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.\-]*$`)
	httpStatusRe = regexp.MustCompile(`^[45][0-9][0-9]$`)
)

// errorRows reads an error table: the header says which column is the
// code, the status and the message; a code cell may carry the message
// on its next line ("`CODE`\nMessage"). A code cell that is not a code
// ("Empty value", "-") is an empty code.
func errorRows(t *docTable) []errRow {
	code, status, msg := -1, -1, -1
	for i, h := range t.header {
		// "**Code**\n**Error Message**": the first bold word names it.
		switch {
		case codeHeaders[h] && code < 0:
			code = i
		case statusHeaders[h] && status < 0:
			status = i
		case messageHeaders[h] && msg < 0:
			msg = i
		}
	}
	if code < 0 {
		return nil
	}
	var out []errRow
	for _, r := range t.rows {
		e := errRow{line: r.line}
		cell := cellAt(r, code)
		first, rest, _ := strings.Cut(cell, "\n")
		if c := strings.Trim(strings.TrimSpace(first), "`"); codeTokenRe.MatchString(c) {
			e.code = c
			if msg < 0 || strings.TrimSpace(rest) != "" && msg == code+1 && status >= 0 {
				e.message = rest
			}
		}
		if e.message == "" {
			e.message = cellAt(r, msg)
		}
		if status >= 0 {
			e.status = strings.Trim(cellAt(r, status), "` ")
		} else if httpStatusRe.MatchString(e.code) {
			// The docs head a column "Code" and fill it with HTTP
			// statuses: the error's code is empty.
			e.status, e.code = e.code, ""
		}
		out = append(out, e)
	}
	return out
}

func cellAt(r *docRow, i int) string {
	if i < 0 || i >= len(r.cells) {
		return ""
	}
	return r.cells[i]
}

// isErrorTable reports whether t is an error table: in the error zone,
// with a code column.
func (t *docTable) isErrorTable() bool {
	if t.zone != zoneErrors {
		return false
	}
	for _, h := range t.header {
		if codeHeaders[h] {
			return true
		}
	}
	return false
}

// systemErrors reads the included table of errors every method may
// return: code → its message, plain.
func systemErrors(docs string) (map[string]string, error) {
	src, err := os.ReadFile(filepath.Join(docs, "_includes", "system-errors.md"))
	if err != nil {
		if os.IsNotExist(err) {
			return map[string]string{}, nil
		}
		return nil, err
	}
	out := map[string]string{}
	for _, t := range readPage(string(src)) {
		t.zone = zoneErrors
		for _, e := range errorRows(t) {
			if e.code != "" {
				out[e.code] = plain(e.message)
			}
		}
	}
	return out, nil
}

var linkRe = regexp.MustCompile(`\[([^\]]*)\]\([^)]*\)`)

// plain is text as a doc comment would carry it: links to their text, no
// markup, quotes or escapes, one space between words.
func plain(s string) string {
	s = linkRe.ReplaceAllString(s, "$1")
	s = strings.NewReplacer("`", "", "**", "", `\`, "", `"`, "", "«", "", "»", "").Replace(s)
	return strings.Join(strings.Fields(s), " ")
}

// errors checks each error row of the page's own tables against the
// function's doc comment: a code is listed as "- CODE"; an empty code by
// its message; a system code the page repeats word for word is covered by
// the comment's pointer to the system errors.
func (c *checker) errors(tables []*docTable, doc string, sys map[string]string) {
	comment := plain(doc)
	for _, t := range tables {
		if !t.isErrorTable() {
			continue
		}
		for _, e := range errorRows(t) {
			msg := plain(e.message)
			if e.code == "" && msg == "" {
				continue
			}
			ok, field := false, e.code
			switch {
			case e.code == "":
				field = "(empty) " + msg
				ok = strings.Contains(comment, "empty code, description "+prefix(msg, 60))
			case sys[e.code] != "" && sys[e.code] == msg:
				ok = strings.Contains(comment, "system errors")
			default:
				ok = strings.Contains(comment, "- "+e.code+":") || strings.Contains(comment, "- "+e.code+" ") || strings.HasSuffix(comment, "- "+e.code)
			}
			for _, n := range c.counts() {
				n.Errors++
				if ok {
					n.ErrorsOK++
				}
			}
			if !ok {
				c.miss(e.line, field, "error", "not in the doc comment")
			}
		}
	}
}

// prefix is s cut to at most n bytes at a word boundary (a comment wraps
// long messages, and plain joins the lines again).
func prefix(s string, n int) string {
	if len(s) <= n {
		return s
	}
	if i := strings.LastIndexByte(s[:n], ' '); i > 0 {
		return s[:i]
	}
	return s[:n]
}
