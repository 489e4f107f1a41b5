package extract

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"sync"

	"github.com/b24gen/b24gen/spec"
)

var (
	upperCodeRe   = regexp.MustCompile("`([A-Z][A-Z0-9_]{2,}|[a-z]+_[a-z_]+)`")
	errorCodeRe   = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.:\-]*$`)
	errorStatusRe = regexp.MustCompile(`^[45]\d\d$`)
	httpStatusRe  = regexp.MustCompile(`^\s*` + "`?" + `([1-5]\d\d)` + "`?" + `\s*$`)
)

// errorTableCache holds the rows of included error tables already read, by
// their text: the system-errors table is included into every page. Only
// included tables are cached, so it holds a handful of entries.
var errorTableCache sync.Map

// readErrors reads the error-code tables after from. Their header names
// the columns (Status | Code | Description | Value, Code | Error message |
// Description, Code | Description | Status, …: errorColumns); REST 3.0
// field | message | fix tables take the code from the paragraph above;
// tables without a usable header are read by position.
func (pc *pageCtx) readErrors(from int) []spec.ErrorDoc {
	if from < 0 {
		from = 0
	}
	var out []spec.ErrorDoc
	seen := map[string]bool{}
	for i := from; i < len(pc.blocks); i++ {
		b := pc.blocks[i]
		if b.Kind != bTable {
			continue
		}
		t := pc.table(i)
		if t.Kind != tErrors {
			continue
		}
		if pc.own(t.Line) {
			pc.stats.ErrorTables++ // the included system-errors table is counted once, on its own page
		}
		// REST 3.0 pages name the code in the paragraph above the table.
		lastCode := ""
		if i > 0 && pc.blocks[i-1].Kind == bParagraph {
			if m := upperCodeRe.FindStringSubmatch(pc.blocks[i-1].Raw); m != nil {
				lastCode = m[1]
			}
		}
		for _, e := range pc.errorRows(i, t, lastCode) {
			key := e.Code + "\x00" + e.Message
			if !seen[key] {
				seen[key] = true
				out = append(out, e)
			}
		}
	}
	return out
}

// errorRows reads the rows of the error table at block i; lastCode is the
// code the paragraph above names (REST 3.0), or "". The rows of an included
// table are read once for all pages.
func (pc *pageCtx) errorRows(i int, t *tableInfo, lastCode string) []spec.ErrorDoc {
	included := !pc.own(t.Line)
	cacheKey := lastCode + "\x00" + pc.blocks[i].Raw
	if included {
		if docs, ok := errorTableCache.Load(cacheKey); ok {
			return docs.([]spec.ErrorDoc)
		}
	}
	var tableDocs []spec.ErrorDoc
	cols, byHeader := errorColumns(t.Header)
	for _, r := range t.Rows {
		var e spec.ErrorDoc
		switch {
		case byHeader:
			e = cols.read(r.Cells)
		case lastCode != "" && len(r.Cells) >= 2:
			e = spec.ErrorDoc{Code: lastCode, Message: plainText(r.Cells[1])}
			if len(r.Cells) >= 3 {
				e.Description = plainText(strings.Join(r.Cells[2:], " "))
			}
		default:
			e = positionalError(r.Cells)
		}
		if e.Code == "" && e.Message == "" {
			continue
		}
		tableDocs = append(tableDocs, e)
	}
	if included {
		errorTableCache.Store(cacheKey, tableDocs)
	}
	return tableDocs
}

// errColumns are the columns of an error table by role, -1 where absent.
type errColumns struct {
	status, code, message, description int
	// messageInCode: the code cell holds the message on its next line
	// ("**Code**\n**Error Message**" over "`CODE`\nMessage").
	messageInCode bool
}

// Header spellings of the error tables' columns, lower-case (the English
// edition's and the original Russian's). A description column comes after
// the message: "Code | Description | Value" is code, message, meaning.
var (
	errCodeHeaders    = []string{"code", "error code", "код", "код ошибки"}
	errStatusHeaders  = []string{"status", "http status", "http-статус", "статус"}
	errMessageHeaders = []string{"error message", "message", "error text", "сообщение", "сообщение об ошибке", "текст ошибки"}
	errDescHeaders    = []string{"description", "value", "when it occurs", "reason", "additional information", "описание", "значение", "причина"}
)

// errorColumns reads the roles of an error table's columns from its
// header; ok is false when the header names no code column, and the rows
// are then read by position.
func errorColumns(header []string) (errColumns, bool) {
	c := errColumns{status: -1, code: -1, message: -1, description: -1}
	for i, h := range header {
		h = strings.ToLower(strings.TrimSpace(h))
		switch {
		case c.code < 0 && hasHeaderPrefix(h, errCodeHeaders):
			c.code = i
			c.messageInCode = containsAny(h, errMessageHeaders)
		case c.status < 0 && slices.Contains(errStatusHeaders, h):
			c.status = i
		case c.message < 0 && !c.messageInCode && slices.Contains(errMessageHeaders, h):
			c.message = i
		case c.description < 0 && slices.Contains(errDescHeaders, h):
			c.description = i
		}
	}
	// Without a message column the first description is the message the
	// portal sends, and any later column explains it.
	if c.message < 0 && !c.messageInCode && c.description >= 0 {
		c.message = c.description
		c.description = -1
		for i := c.message + 1; i < len(header); i++ {
			if i != c.status && i != c.code {
				c.description = i
				break
			}
		}
	}
	return c, c.code >= 0
}

func hasHeaderPrefix(h string, words []string) bool {
	for _, w := range words {
		if h == w || strings.HasPrefix(h, w+" ") && containsAny(h, errMessageHeaders) {
			return true
		}
	}
	return false
}

func containsAny(h string, words []string) bool {
	for _, w := range words {
		if strings.Contains(h, w) {
			return true
		}
	}
	return false
}

// read takes one row's code, status, message and description from their
// columns. A code cell that holds no code ("Empty value", "-") is the
// empty code the portal sends with a message only.
func (c errColumns) read(cells []string) spec.ErrorDoc {
	cell := func(i int) string {
		if i < 0 || i >= len(cells) {
			return ""
		}
		return cells[i]
	}
	var e spec.ErrorDoc
	codeCell := cell(c.code)
	if toks := codeTokens(codeCell); len(toks) > 0 && errorCodeRe.MatchString(toks[0]) {
		rest := strings.TrimSpace(strings.Replace(codeCell, "`"+toks[0]+"`", "", 1))
		if c.messageInCode {
			e.Code, e.Message = toks[0], plainText(rest)
		} else if rest == "" {
			e.Code = toks[0]
		}
	} else if code := strings.TrimSpace(codeCell); isCodeToken(code) && errorCodeRe.MatchString(code) {
		e.Code = code // written without backticks; "Empty value", "—" are no code
	}
	if !c.messageInCode {
		e.Message = plainText(cell(c.message))
	}
	e.Description = plainText(cell(c.description))
	if s := strings.Trim(strings.TrimSpace(cell(c.status)), "`*"); s != "" {
		fmt.Sscanf(s, "%d", &e.Status)
	}
	// "Code | Description | Value" over "`400` | `Access denied.`": with
	// no status column, a 4xx or 5xx in the code column is the HTTP status
	// of an error whose code is empty.
	if c.status < 0 && errorStatusRe.MatchString(e.Code) {
		fmt.Sscanf(e.Code, "%d", &e.Status)
		e.Code = ""
	}
	return e
}

// positionalError reads a row of a table whose header names no code
// column: status | code + message | description (system errors), or
// code | message | description.
func positionalError(c []string) spec.ErrorDoc {
	var e spec.ErrorDoc
	if len(c) >= 3 && httpStatusRe.MatchString(c[0]) && upperCodeRe.MatchString(c[1]) {
		fmt.Sscanf(strings.Trim(strings.TrimSpace(c[0]), "`"), "%d", &e.Status)
		toks := codeTokens(c[1])
		if len(toks) > 0 {
			e.Code = toks[0]
			e.Message = plainText(strings.Replace(c[1], "`"+toks[0]+"`", "", 1))
		} else {
			e.Code = plainText(c[1])
		}
		e.Description = plainText(strings.Join(c[2:], " "))
		return e
	}
	code := strings.TrimSpace(c[0])
	if toks := codeTokens(code); len(toks) == 1 && strings.TrimSpace(strings.Replace(code, "`"+toks[0]+"`", "", 1)) == "" {
		e.Code = toks[0]
	} else if isCodeToken(code) {
		e.Code = code
	}
	if len(c) >= 2 {
		e.Message = plainText(c[1])
	}
	if len(c) >= 3 {
		e.Description = plainText(strings.Join(c[2:], " "))
	}
	return e
}
