package emit

import (
	"strings"
	"testing"

	"github.com/b24gen/b24gen/generator/model"
)

func TestParamsFile(t *testing.T) {
	schemas := []model.ParamSchema{
		{Key: "disk.folder.uploadfile", Method: "disk.folder.uploadFile", Version: 2, Code: "id:s!,data:o!"},
		{Key: "odd.method", Method: "odd.method", Version: 2, Code: "a`b!"},
		{Key: "tasks.task.add@3", Method: "tasks.task.add", Version: 3, Code: "fields:o!{title!}"},
	}
	out, err := ParamsFile(answersCfg, schemas)
	if err != nil {
		t.Fatal(err)
	}
	if out.Path != "b24test/method_params_gen.go" {
		t.Errorf("path %s", out.Path)
	}
	checkGo(t, out.Path, "b24test", out.Data)
	src := string(out.Data)
	for _, want := range []string{
		"methodParamsSource = make(map[string]string, len(methodParams))",
		"{\"disk.folder.uploadfile\", `id:s!,data:o!`},",
		`{"odd.method", "a` + "`" + `b!"},`, // a backtick forces a quoted literal
		"{\"tasks.task.add@3\", `fields:o!{title!}`},",
		"of 3 methods",
	} {
		if !strings.Contains(src, want) {
			t.Errorf("missing %s in\n%s", want, src)
		}
	}
	again, err := ParamsFile(answersCfg, schemas)
	if err != nil || string(again.Data) != src {
		t.Errorf("a second render differs (%v)", err)
	}
}
