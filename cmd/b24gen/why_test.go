package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/b24gen/b24gen/spec"
)

// TestReportWhy asks the embedded spec where four fields' types come
// from, as a maintainer would, and checks the deciding source.
func TestReportWhy(t *testing.T) {
	for _, tc := range []struct {
		query string
		first string // the first evidence line, as printed
	}{
		// An entity field: the *.fields page decides, the get table agrees.
		{"crm.deal.list.OPENED", "1. fields-page api-reference/crm/deals/crm-deal-fields.md"},
		// A task's auditors keyed by record id: the response example.
		{"tasks.task.get.task.auditorsData", "1. response-example api-reference/tasks/"},
		// A key the table omits and the page's Go example declares.
		{"crm.stagehistory.list.items.STAGE_SEMANTIC_ID", "1. code-example api-reference/crm/crm-stage-history-list.md:246"},
		// A parameter's own table row.
		{"crm.stagehistory.list.entityTypeId", "1. table api-reference/crm/crm-stage-history-list.md:"},
	} {
		out, stderr, code := runCLI(t, "report", "-why", tc.query)
		if code != 0 {
			t.Fatalf("-why %s: exit %d: %s", tc.query, code, stderr)
		}
		lines := strings.Split(out, "\n")
		if len(lines) < 2 || !strings.HasPrefix(strings.TrimSpace(lines[1]), tc.first) {
			t.Errorf("-why %s:\n%s\nwant the first source %q", tc.query, out, tc.first)
		}
	}
	out, _, code := runCLI(t, "report", "-why", "crm.deal.list.OPENED", "-json")
	var answers []whyAnswer
	if code != 0 || json.Unmarshal([]byte(out), &answers) != nil || len(answers) != 1 ||
		answers[0].Kind != spec.KindBoolean || answers[0].Evidence[0].Kind != spec.EvidenceFieldsPage {
		t.Errorf("-why -json: exit %d, %s", code, out)
	}
	_, stderr, code := runCLI(t, "report", "-why", "crm.deal.get.NO_SUCH_FIELD")
	if code == 0 || !strings.Contains(stderr, "crm.deal.get has no field NO_SUCH_FIELD") {
		t.Errorf("unknown field: exit %d, %s", code, stderr)
	}
}
