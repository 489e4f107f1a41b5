package extract

import (
	"fmt"
	"regexp"
	"strings"
	"sync"

	"github.com/b24gen/b24gen/spec"
)

var (
	upperCodeRe  = regexp.MustCompile("`([A-Z][A-Z0-9_]{2,}|[a-z]+_[a-z_]+)`")
	httpStatusRe = regexp.MustCompile(`^\s*` + "`?" + `([1-5]\d\d)` + "`?" + `\s*$`)
)

// errorTableCache holds the rows of included error tables already read, by
// their text: the system-errors table is included into every page. Only
// included tables are cached, so it holds a handful of entries.
var errorTableCache sync.Map

// readErrors reads the error-code tables after from. Three shapes occur:
// code | message | description; status | code + message | description
// (system errors); and REST 3.0 field | message | fix tables preceded by a
// paragraph naming the error code.
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
	for _, r := range t.Rows {
		var e spec.ErrorDoc
		c := r.Cells
		switch {
		case len(c) >= 3 && httpStatusRe.MatchString(c[0]) && upperCodeRe.MatchString(c[1]):
			fmt.Sscanf(strings.Trim(strings.TrimSpace(c[0]), "`"), "%d", &e.Status)
			toks := codeTokens(c[1])
			if len(toks) > 0 {
				e.Code = toks[0]
				e.Message = plainText(strings.Replace(c[1], "`"+toks[0]+"`", "", 1))
			} else {
				e.Code = plainText(c[1])
			}
			e.Description = plainText(strings.Join(c[2:], " "))
		case lastCode != "" && len(c) >= 2:
			e.Code = lastCode
			e.Message = plainText(c[1])
			if len(c) >= 3 {
				e.Description = plainText(strings.Join(c[2:], " "))
			}
		default:
			code := strings.TrimSpace(c[0])
			if toks := codeTokens(code); len(toks) == 1 && strings.TrimSpace(strings.Replace(code, "`"+toks[0]+"`", "", 1)) == "" {
				e.Code = toks[0]
			} else if isCodeToken(code) {
				e.Code = code
			} else {
				e.Code = "" // "Empty value", "-": the error code is empty
			}
			if len(c) >= 2 {
				e.Message = plainText(c[1])
			}
			if len(c) >= 3 {
				e.Description = plainText(strings.Join(c[2:], " "))
			}
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
