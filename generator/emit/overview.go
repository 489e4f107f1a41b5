package emit

import (
	"strings"

	"github.com/b24gen/b24gen/generator/model"
)

// overviewPara is one paragraph of a package overview: where a new user
// starts. Needs names the functions or types its doc links point to; the
// paragraph is left out when the package lacks one, as it may on another
// docs edition, so the overview never sends a reader to nothing.
type overviewPara struct {
	needs []string
	text  string
}

// overviews are the openings of the main packages' docs, after the
// generated first sentence. They hold Bitrix24 facts the method pages
// spread over many pages (the entityTypeId table sits on the CRM data
// types page), written once here.
var overviews = map[string][]overviewPara{
	"crm": {
		{needs: []string{"ItemGet", "ItemList", "ItemAdd", "ItemUpdate", "Item", "ItemInput"}, text: `
Where to start: the universal methods crm.item.*. [ItemGet], [ItemList] (with
the iterators ItemListAll and ItemListExport), [ItemAdd], [ItemUpdate] and
ItemDelete serve every CRM object type, chosen by entityTypeId, and answer
one entity type, [Item], with camelCase keys (stageId, opportunity). Add and
update take its write form, [ItemInput]: every field optional, only the
fields set are sent.`},
		{text: `
The entityTypeId values of the system types:

  - 1 lead, 2 deal, 3 contact, 4 company
  - 7 quote (estimate), 8 requisite, 14 order
  - 31 invoice (the current one, SMART_INVOICE); 5 is the old invoice, kept
    for compatibility
  - a smart process (SPA) has its own (the docs' example: 128,
    DYNAMIC_128), listed by crm.type.list`},
		{needs: []string{"TypeList"}, text: `
[TypeList] gives the smart processes of a portal and their entityTypeId.`},
		{needs: []string{"DealGet", "Deal"}, text: `
The per-entity methods (crm.deal.*, crm.lead.*, crm.contact.*,
crm.company.*, crm.quote.*) came first. They are still served and still
generated, with entity types of their own ([DealGet] answers a [Deal], with
UPPER_CASE keys), but the docs mark them deprecated in favour of crm.item.*,
and so do their functions: staticcheck flags each call and names the
replacement.`},
		{needs: []string{"ItemGet"}, text: `
Custom fields (ufCrm…, or UF_CRM_… when useOriginalUfNames is Y) are not in
the docs, so they are not fields of Item: read them from Item.Extra with
Extra.Decode and send them through ItemInput.Extra with Extra.Set.`},
		{needs: []string{examplesNeed}, text: `
The examples run against the fake portal of package b24test: a get, a
missing record, a filtered export, a custom field update and a batch.`},
	},
	"tasks": {
		{needs: []string{"TaskGet", "TaskList", "TaskAdd", "TaskUpdate", "Task", "TaskInput"}, text: `
Where to start: tasks.task.*. [TaskGet], [TaskList] (with the iterator
TaskListAll), [TaskAdd] and [TaskUpdate] work on one entity type, [Task],
answered with camelCase keys, and take its write form, [TaskInput], whose
keys are UPPER_CASE (TITLE, RESPONSIBLE_ID), as are the filter keys of
TaskList. Statuses and priorities are typed constants (TaskStatus).`},
		{needs: []string{"TaskGet"}, text: `
The older task.item.* and task.items.* methods live in package task. Custom
task fields (UF_AUTO_…) travel in Extra: TaskInput.Extra.Set sends one.`},
		{needs: []string{examplesNeed}, text: `
The examples run against the fake portal of package b24test: a get, a
missing task, a filtered list, a custom field update and a batch.`},
	},
	"user": {
		{needs: []string{"Current", "Get", "Update", "User"}, text: `
Where to start: [Current] tells who the webhook acts as, the first call to
try with a new webhook. [Get] (and GetAll, every page) lists users, [Update]
changes one; all answer the entity type [User], with UPPER_CASE keys. Reading
takes the scope user, user_basic or user_brief; Update takes user.`},
		{needs: []string{examplesNeed}, text: `
The examples run against the fake portal of package b24test.`},
	},
}

// examplesNeed, among a paragraph's needs, keeps it for a package whose
// hand-written examples were emitted.
const examplesNeed = "(examples)"

// eventsWhereToStart ends the events package's overview.
const eventsWhereToStart = `

Where to start: find the event's type by its name (ONCRMDEALUPDATE is
OnCrmDealUpdate, registered with Receiver.OnCrmDealUpdate; the constant
NameOnCrmDealUpdate holds the wire name), read the IDs it carries from its
Data, and fetch the record with the method package (crm.ItemGet with
entityTypeId 2 for a deal). Test a handler with b24test.Portal.Deliver,
which sends a delivery form-encoded, as Bitrix24 does.`

// overview returns the paragraphs of pkg's overview whose needs the
// package meets, each starting with a blank line; "" for other packages.
// examples says whether the package's hand-written examples were emitted.
func overview(pkg *model.Package, examples bool) string {
	paras := overviews[pkg.Name]
	if len(paras) == 0 {
		return ""
	}
	have := map[string]bool{examplesNeed: examples}
	for _, f := range pkg.Files {
		for _, ent := range f.Entities {
			for _, st := range ent.Structs {
				have[st.Name] = true
			}
		}
		for _, fn := range f.Funcs {
			have[fn.Name] = true
		}
	}
	var b strings.Builder
	for _, p := range paras {
		ok := true
		for _, n := range p.needs {
			ok = ok && have[n]
		}
		if ok {
			b.WriteString("\n" + p.text)
		}
	}
	return b.String()
}
