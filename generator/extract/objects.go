package extract

import (
	"strings"

	"github.com/b24gen/b24gen/spec"
)

// REST 3.0 object pages: api-reference/tasks/fields-rest-v3.md describes the
// task object of REST 3.0 ("## Task Object {#taskdto}") and the objects its
// fields link to (user, group, stage …), one table each. They are told by
// their file name, which every language of the docs shares.

func isObjectsPage(file string) bool {
	return file == "fields-rest-v3" || strings.HasSuffix(file, "-fields-rest-v3")
}

// readObjects reads every heading with an anchor followed by a parameters
// table as an object.
func (pc *pageCtx) readObjects() {
	for i, b := range pc.blocks {
		if b.Kind != bHeading || b.Level < 2 || b.ID == "" {
			continue
		}
		t := pc.tableAfter(i)
		if t < 0 {
			continue
		}
		obj := spec.Object{Name: b.ID, Title: strings.TrimSpace(b.Text), Page: pc.path, Line: b.Line, Fields: []spec.Param{}}
		for _, r := range pc.rowsOf(t) {
			p := r.Param
			if p.Ref == "" && len(r.Anchors) > 0 {
				p.Ref = r.Anchors[0]
			}
			if p.Name == "" {
				continue
			}
			obj.Fields = append(obj.Fields, p)
		}
		if len(obj.Fields) > 0 {
			pc.objects = append(pc.objects, obj)
		}
	}
}
