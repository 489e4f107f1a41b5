package extract

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/b24gen/b24gen/spec"
)

// Linked structures. A row's type can link to a structure another page
// describes: catalog's [`catalog_measure[]`](../data-types.md#catalog_measure),
// crm's [`item`](./object-fields.md), imbot.v2's [`Message`](../../entities.md#message).
// The page holding the row shows only an example of it, so the linked
// table is the type. Pages are read one at a time, so the targets are read
// after all pages: each linked anchor's table (or a whole page's first
// table) becomes a spec.Object named by the anchor ("" for a page), with
// the in-page links of its rows expanded as on any page. An anchor the
// target page has without a table, a page without tables and a method's
// page (whose first table is its parameters; its family's entity is
// resolve's) are kept as objects without fields: not a structure to
// follow. A target that does not exist is absent, which resolve reports.

// maxLinkRounds bounds how far links inside linked tables are followed
// here; resolve expands the chains the objects form.
const maxLinkRounds = 4

// linkedObjects reads the objects every Link in s points to.
func linkedObjects(root string, s *spec.Spec, inc *includeCache) []spec.Object {
	have := map[string]bool{}
	for _, o := range s.Objects {
		have[o.Page+"#"+o.Name] = true
	}
	var out []spec.Object
	seen := map[string]bool{}
	pending := map[string]bool{}
	var collect func(ps []spec.Param)
	collect = func(ps []spec.Param) {
		for _, p := range ps {
			if p.Link != "" && !seen[p.Link] {
				// a page's own table is named "" (readLinked)
				seen[p.Link] = true
				pending[p.Link] = true
			}
			collect(p.Fields)
		}
	}
	for _, m := range s.Methods {
		collect(m.Params)
		if m.Result != nil {
			collect(m.Result.Fields)
			collect([]spec.Param{{Link: m.Result.Link}})
		}
	}
	for _, e := range s.Events {
		collect(e.Fields)
	}
	for round := 0; round < maxLinkRounds && len(pending) > 0; round++ {
		byPage := map[string][]string{}
		for l := range pending {
			page, anchor, _ := strings.Cut(l, "#")
			byPage[page] = append(byPage[page], anchor)
		}
		pending = map[string]bool{}
		pages := make([]string, 0, len(byPage))
		for p := range byPage {
			pages = append(pages, p)
		}
		sort.Strings(pages)
		for _, page := range pages {
			src, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(page)))
			if err != nil {
				continue // a missing target: resolve reports it
			}
			anchors := byPage[page]
			slices.Sort(anchors)
			for _, o := range readLinked(page, src, inc.get, anchors) {
				if have[o.Page+"#"+o.Name] {
					continue
				}
				have[o.Page+"#"+o.Name] = true
				out = append(out, o)
				collect(o.Fields)
			}
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Page != out[j].Page {
			return out[i].Page < out[j].Page
		}
		return out[i].Name < out[j].Name
	})
	return out
}

// readLinked reads the objects of page the anchors name ("" for the page's
// first parameters table).
func readLinked(page string, src []byte, includes func(string) ([]byte, error), anchors []string) []spec.Object {
	pc := newPageCtx(page, src, includes)
	var out []spec.Object
	for _, a := range anchors {
		at := -1
		if a == "" {
			// A whole page (crm's object-fields.md: common fields, then
			// one section per object type): every table's rows, each
			// name once, as its first table gives it.
			// A method page's first table is its parameters, not a
			// structure: such a link is the family's entity, which
			// resolve assembles.
			if res, _ := Page(page, src, includes); len(res.Methods) > 0 || len(res.Events) > 0 {
				out = append(out, spec.Object{Page: page, Fields: []spec.Param{}})
				continue
			}
			o := spec.Object{Page: page, Fields: []spec.Param{}}
			seen := map[string]bool{}
			// The tables no in-page link leads to; where every section is
			// linked (a contents list on top), all of them.
			for _, sub := range []bool{false, true} {
				for i, b := range pc.blocks {
					if b.Kind != bTable || pc.table(i).Kind != tParams || !sub && pc.isSubTable(i) {
						continue
					}
					if at < 0 {
						at, o.Line = i, b.Line
					}
					for _, f := range pc.linkedObject("", b.Line, i).Fields {
						if !seen[f.Name] {
							seen[f.Name] = true
							o.Fields = append(o.Fields, f)
						}
					}
				}
				if at >= 0 {
					break
				}
			}
			out = append(out, o) // without fields where the page has no table (prose about a type)
			continue
		}
		h, ok := pc.anchor(a)
		if !ok {
			continue
		}
		o := spec.Object{Name: a, Title: strings.TrimSpace(pc.blocks[h].Text), Page: page, Line: pc.blocks[h].Line, Fields: []spec.Param{}}
		if t := pc.tableAfter(h); t >= 0 {
			o = pc.linkedObject(a, pc.blocks[h].Line, t)
			o.Title = strings.TrimSpace(pc.blocks[h].Text)
		}
		o.Example = pc.exampleAfter(h)
		out = append(out, o)
	}
	return out
}

func (pc *pageCtx) linkedObject(name string, line, table int) spec.Object {
	o := spec.Object{Name: name, Page: pc.path, Line: line, Fields: []spec.Param{}}
	for _, p := range pc.build(pc.tabRows(table), map[int]bool{table: true}) {
		if p.Name != "" {
			o.Fields = append(o.Fields, p)
		}
	}
	return o
}

// exampleAfter is the first JSON example of the section heading h opens
// (before the next heading of its level or above), nil where it has none.
func (pc *pageCtx) exampleAfter(h int) json.RawMessage {
	level := pc.blocks[h].Level
	for i := h + 1; i < len(pc.blocks); i++ {
		b := pc.blocks[i]
		if b.Kind == bHeading && b.Level <= level {
			return nil
		}
		if b.Kind != bCode || b.Lang != "json" {
			continue
		}
		if v, _, err := parseExample(b.Raw); err == nil {
			return v
		}
	}
	return nil
}
