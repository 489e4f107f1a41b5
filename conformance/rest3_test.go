package conformance

import (
	"context"
	"go/ast"
	"go/parser"
	"go/token"
	"go/types"
	"iter"
	"path/filepath"
	"strings"
	"testing"

	"github.com/b24gen/b24gen/generated/b24"
	"github.com/b24gen/b24gen/generated/b24test"
	"github.com/b24gen/b24gen/generated/humanresources"
	"github.com/b24gen/b24gen/generated/mail"
	"github.com/b24gen/b24gen/generated/mainapi"
	"github.com/b24gen/b24gen/generated/tasks"
	"github.com/b24gen/b24gen/generated/timeman"
)

// count drains seq and returns the rows and the first error.
func count[T any](seq iter.Seq2[T, error]) (int, error) {
	n := 0
	for _, err := range seq {
		if err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}

// Every generated REST 3.0 iterator reads its documented rows from the fake
// portal's documented answers, under /rest/api/, and ends.
func TestRest3IteratorsOverDocumentedAnswers(t *testing.T) {
	portal := b24test.NewPortal(t, b24test.WithDocumentedAnswers())
	c, err := b24.NewWebhookClient(portal.WebhookURL(), b24.WithoutRateLimit())
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	byID := b24.FilterV3{b24.Where("id", b24.OpGt, 0)}
	for name, run := range map[string]func() (int, error){
		"humanresources.NodeListAll": func() (int, error) {
			return count(humanresources.NodeListAll(ctx, c, humanresources.NodeListParams{Type: humanresources.NodeListParamsTypeDepartment}))
		},
		"humanresources.NodeSearchAll": func() (int, error) {
			return count(humanresources.NodeSearchAll(ctx, c, humanresources.NodeSearchParams{Type: humanresources.NodeSearchParamsTypeDepartment, Name: "Sales"}))
		},
		"mail.MailboxListAll":    func() (int, error) { return count(mail.MailboxListAll(ctx, c, mail.MailboxListParams{})) },
		"mail.MailboxSendersAll": func() (int, error) { return count(mail.MailboxSendersAll(ctx, c, mail.MailboxSendersParams{})) },
		"mail.MessageListAll":    func() (int, error) { return count(mail.MessageListAll(ctx, c, mail.MessageListParams{})) },
		"mail.RecipientListcontactsAll": func() (int, error) {
			return count(mail.RecipientListcontactsAll(ctx, c, mail.RecipientListcontactsParams{}))
		},
		"mail.RecipientListemployeesAll": func() (int, error) {
			return count(mail.RecipientListemployeesAll(ctx, c, mail.RecipientListemployeesParams{Query: "ann"}))
		},
		"mainapi.EventlogListAll":    func() (int, error) { return count(mainapi.EventlogListAll(ctx, c, mainapi.EventlogListParams{})) },
		"mainapi.EventlogListExport": func() (int, error) { return count(mainapi.EventlogListExport(ctx, c, mainapi.EventlogListParams{})) },
		"timeman.RecordListAll": func() (int, error) {
			return count(timeman.RecordListAll(ctx, c, timeman.RecordListParams{Filter: byID}))
		},
		"timeman.RecordListExport": func() (int, error) {
			return count(timeman.RecordListExport(ctx, c, timeman.RecordListParams{Filter: byID}))
		},
		"tasks.TaskListV3All":    func() (int, error) { return count(tasks.TaskListV3All(ctx, c, tasks.TaskListV3Params{})) },
		"tasks.TaskListV3Export": func() (int, error) { return count(tasks.TaskListV3Export(ctx, c, tasks.TaskListV3Params{})) },
		"tasks.TaskResultListV3All": func() (int, error) {
			return count(tasks.TaskResultListV3All(ctx, c, tasks.TaskResultListV3Params{Filter: b24.FilterV3{b24.Where("taskId", b24.OpEq, 8017)}}))
		},
		"tasks.TaskResultListV3Export": func() (int, error) {
			return count(tasks.TaskResultListV3Export(ctx, c, tasks.TaskResultListV3Params{Filter: b24.FilterV3{b24.Where("taskId", b24.OpEq, 8017)}}))
		},
	} {
		t.Run(name, func(t *testing.T) {
			n, err := run()
			if err != nil || n == 0 {
				t.Errorf("%d rows, %v", n, err)
			}
		})
	}
	for _, call := range portal.Calls() {
		if call.Version != 3 {
			t.Errorf("%s sent to REST 2", call.Method)
		}
	}
}

// Every generated function of a REST 3.0 method (the call, its Command, All
// and Export) says REST 3.0 in its doc comment.
func TestRest3FunctionsSaySo(t *testing.T) {
	dirs, err := filepath.Glob("../generated/*")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	stems := map[string]bool{} // pkg.Func of REST 3.0 methods
	var funcs []*ast.FuncDecl
	pkgOf := map[*ast.FuncDecl]string{}
	for _, dir := range dirs {
		pkg := filepath.Base(dir)
		if pkg == "b24" || pkg == "b24test" {
			continue
		}
		files, _ := filepath.Glob(filepath.Join(dir, "*_gen.go"))
		for _, path := range files {
			f, err := parser.ParseFile(fset, path, nil, parser.ParseComments)
			if err != nil {
				t.Fatal(err)
			}
			for _, d := range f.Decls {
				fd, ok := d.(*ast.FuncDecl)
				if !ok || fd.Recv != nil {
					continue
				}
				funcs = append(funcs, fd)
				pkgOf[fd] = pkg
				if strings.HasSuffix(fd.Name.Name, "Command") {
					if res := fd.Type.Results; res != nil && strings.Contains(types.ExprString(res.List[0].Type), "CommandV3") {
						stems[pkg+"."+strings.TrimSuffix(fd.Name.Name, "Command")] = true
					}
				}
			}
		}
	}
	checked := 0
	for _, fd := range funcs {
		name := fd.Name.Name
		for _, suffix := range []string{"Command", "All", "Export", ""} {
			stem, ok := strings.CutSuffix(name, suffix)
			if !ok || !stems[pkgOf[fd]+"."+stem] {
				continue
			}
			checked++
			if !strings.Contains(strings.Join(strings.Fields(fd.Doc.Text()), " "), "(REST 3.0)") {
				t.Errorf("%s.%s: the doc comment does not say REST 3.0: %q", pkgOf[fd], name, fd.Doc.Text())
			}
			break
		}
	}
	t.Logf("%d REST 3.0 methods, %d functions checked", len(stems), checked)
	if len(stems) < 100 {
		t.Errorf("only %d REST 3.0 methods found", len(stems))
	}
}
