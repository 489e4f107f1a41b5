package model

import (
	"fmt"
	"slices"
	"testing"

	"github.com/b24gen/b24gen/spec"
)

func TestExported(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"ID", "ID"},
		{"id", "ID"},
		{"TITLE", "Title"},
		{"DATE_CREATE", "DateCreate"},
		{"STAGE_SEMANTIC_ID", "StageSemanticID"},
		{"entityTypeId", "EntityTypeID"},
		{"userIDs", "UserIDs"},
		{"HTTPServer", "HTTPServer"},
		{"UTM_SOURCE", "UTMSource"},
		{"webhookUrl", "WebhookURL"},
		{"UF_CRM_1", "UfCRM1"},
		{"isMuted", "IsMuted"},
		{"productrows", "Productrows"},
		{"getList", "GetList"},
		{"1c", "N1c"},
		{"42", "N42"},
		{"", "X"},
		{"---", "X"},
		{"PARENT_ID_1032", "ParentID1032"},
		{"fields[TITLE]", "FieldsTitle"},
		{"Объект", "U41eU431U44aU435U43aU442"},
		{"ASC", "Asc"},
		{"type", "Type"},
	} {
		if got := Exported(tc.in); got != tc.want {
			t.Errorf("Exported(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestSplitWords(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []string
	}{
		{"entityTypeId", []string{"entity", "Type", "Id"}},
		{"HTTPServer", []string{"HTTP", "Server"}},
		{"userIDs", []string{"user", "IDs"}},
		{"DATE_CREATE", []string{"DATE", "CREATE"}},
		{"address2Line", []string{"address2", "Line"}},
		{"a.b-c d", []string{"a", "b", "c", "d"}},
	} {
		if got := splitWords(tc.in); !slices.Equal(got, tc.want) {
			t.Errorf("splitWords(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestFuncName(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"crm.deal.get", "DealGet"},
		{"crm.deal.productrows.get", "DealProductrowsGet"},
		{"user.current", "Current"},
		{"landing.site.getList", "SiteGetList"},
		{"telephony.externalCall.attachRecord", "ExternalCallAttachRecord"},
		{"im.v2.Chat.Message.send", "V2ChatMessageSend"},
		{"sonet_group.user.add", "UserAdd"},
		{"crm.item.productrow.fields", "ItemProductrowFields"},
		{"batch", "Batch"},
		{"profile", "Profile"},
		{"crm.url.get", "URLGet"},
	} {
		if got := FuncName(tc.in); got != tc.want {
			t.Errorf("FuncName(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestPackageName(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"crm.deal.get", "crm"},
		{"sonet_group.create", "sonetgroup"},
		{"imopenlines.session.start", "imopenlines"},
		{"CRM.deal.get", "crm"},
		{"user-consent.agreement.list", "userconsent"},
		{"batch", "rest"},
		{"methods", "rest"},
		{"b24.x.y", "b24api"},
		{"events.x", "eventsapi"},
		{"import.lead", "importapi"},
		{"func.x", "funcapi"},
		{"rest.x", "restapi"},
		{"time.x", "timeapi"},
		{"1c.sync", "p1c"},
		{"__.x", "x"},
	} {
		if got := PackageName(tc.in); got != tc.want {
			t.Errorf("PackageName(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestPool(t *testing.T) {
	p := NewPool("Extra")
	for _, tc := range []struct{ in, want string }{
		{"DealGet", "DealGet"},
		{"DealGet", "DealGet_2"},
		{"DealGet", "DealGet_3"},
		{"Extra", "Extra_2"},
		{"DealGet_2", "DealGet_2_2"},
	} {
		if got := p.Take(tc.in); got != tc.want {
			t.Errorf("Take(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// vocabSpec is a spec in the docs' wire form whose names teach the
// vocabulary: each join by two names at least (taskId and TASK_ID,
// COMMENT_ITEM and commentItem, ...), IN_WORK by one only.
func vocabSpec() *spec.Spec {
	return &spec.Spec{
		Methods: []spec.Method{{
			Name: "tasks.task.getList",
			Params: []spec.Param{
				{Name: "taskId"}, {Name: "COMMENT_ITEM"}, {Name: "fields", Fields: []spec.Param{{Name: "commentItem"}, {Name: "FILE_NAME"}}},
				{Name: "WITH_COMMENTS"}, {Name: "IN_WORK"}, {Name: "ITEM_ID"}, {Name: "CHECK_LIST"}, {Name: "checkList"},
				{Name: "REST: readable taskid data fields"}, // prose: teaches nothing
				{Name: "TASK_ID"}, {Name: "fileName"}, {Name: "itemId"}, {Name: "USER_ID"}, {Name: "list"},
			},
			Result: &spec.Result{Fields: []spec.Param{{Name: "userId"}, {Name: "WORK_ADDRESS"}, {Name: "workAddress"}}},
		}, {Name: "task.commentitem.add"}, {Name: "landing.site.getListAll"}},
		Events: []spec.Event{{Name: "ONTASKADD", DocName: "OnTaskAdd", Page: "x/on-task-add.md"}},
	}
}

func TestVocabularyExported(t *testing.T) {
	v := NewVocabulary(vocabSpec())
	for _, tc := range []struct{ in, want string }{
		{"TASKID", "TaskID"},
		{"Taskid", "TaskID"},
		{"taskid", "TaskID"},
		{"commentitem", "CommentItem"},
		{"COMMENTITEM", "CommentItem"},
		{"filename", "FileName"},
		{"userid", "UserID"},
		{"itemid2", "ItemID2"},
		{"getlist", "GetList"},
		// Already good: unchanged.
		{"taskId", "TaskID"},
		{"COMMENT_ITEM", "CommentItem"},
		{"TITLE", "Title"},
		{"DATE_CREATE", "DateCreate"},
		{"UF_CRM_1", "UfCRM1"},
		{"entityTypeId", "EntityTypeID"},
		// Not cut: "with"+"in" never stand next to each other in the docs,
		// "address" is a word of its own, short words are left whole.
		{"within", "Within"},
		{"WORKADDRESS", "WorkAddress"},
		{"address", "Address"},
		{"itemx", "Itemx"},
		{"userx", "Userx"},
		{"inwork", "Inwork"}, // IN_WORK alone: one name is not enough
		{"checklist", "CheckList"},
		{"taskidx", "Taskidx"}, // a letter no word covers
	} {
		if got := v.Exported(tc.in); got != tc.want {
			t.Errorf("Exported(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
	// A nil vocabulary cuts as Exported does.
	var none *Vocabulary
	if got := none.Exported("TASKID"); got != "Taskid" {
		t.Errorf("nil vocabulary: Exported(TASKID) = %q, want Taskid", got)
	}
	// Function names keep the fixed rule whatever the vocabulary.
	if got := FuncName("task.commentitem.add"); got != "CommentitemAdd" {
		t.Errorf("FuncName = %q, want CommentitemAdd", got)
	}
}

func TestVocabularyEventWords(t *testing.T) {
	w := NewVocabulary(vocabSpec()).eventWords()
	for _, in := range []string{"task", "id", "comment", "item", "on", "add", "commentitem", "tasks"} {
		if !w[in] {
			t.Errorf("eventWords lacks %q", in)
		}
	}
	if w["taskid"] {
		t.Error("eventWords took a word from prose")
	}
}

func TestNestedName(t *testing.T) {
	owners := []string{"SiteFullExport", "Site", "ActivityConfigurable"}
	for _, tc := range []struct {
		parent, field, want string
	}{
		// Within the limit: parent + field.
		{"ItemGetResult", "Item", "ItemGetResultItem"},
		// Past it: the longest owner, parent's last word, the field.
		{"SiteFullExportResultItemsMyfirstsite2026ItemsBlock28175NodesLandingBlockNodeMenuListItem", "Link", "SiteFullExportItemLink"},
		{"ActivityConfigurableLayoutBodyBlocksResponsibleProperties", "Blocks", "ActivityConfigurablePropertiesBlocks"},
		// No owner the parent starts with: the first word and the last
		// ones that fit, within the limit.
		{"NumeratorSettingsBitrixMainNumeratorGeneratorSequentNumber", "Generator", "NumeratorGeneratorSequentNumberGenerator"},
		// A word said twice is kept once.
		{"DocumentgeneratorNumeratorInputSettingsNumber", "Generator", "DocumentgeneratorSettingsNumberGenerator"},
		{"AlphaItemsItemsItemsItemsItemsItemsItems", "List", "AlphaItemsList"},
		// The owner and one word: the owner and the field.
		{"SiteFullExportVerylongsinglewordthatgoesonandonx", "Tail", "SiteFullExportTail"},
	} {
		if got := NestedName(NewPool(), owners, tc.parent, tc.field); got != tc.want {
			t.Errorf("NestedName(%q, %q) = %q, want %q", tc.parent, tc.field, got, tc.want)
		}
	}
	// A short name already taken gives way to the next; with every one
	// taken the long name stays: never a _2.
	parent := "SiteFullExportResultItemsMyfirstsite2026ItemsBlock28175NodesLandingBlockNodeMenuListItem"
	if got := NestedName(NewPool("SiteFullExportItemLink"), owners, parent, "Link"); got != "SiteFullExportLink" {
		t.Errorf("with the first short name taken: %q, want SiteFullExportLink", got)
	}
	pool := NewPool("SiteFullExportItemLink", "SiteFullExportLink", cutWords(parent+"Link", maxNestedName, 1), cutWords(parent+"Link", maxNestedName, 2), cutWords(parent+"Link", maxNestedName, 3))
	if got := NestedName(pool, owners, parent, "Link"); got != parent+"Link" {
		t.Errorf("with the short names taken: %q, want the long name", got)
	}
	for _, tc := range []struct{ parent, field string }{
		{"DocumentgeneratorNumeratorInputSettingsBitrixMainNumeratorGeneratorSequentNumber", "Generator"},
		{"ActivityConfigurableLayoutBodyBlocksResponsibleProperties", "Blocks"},
	} {
		if got := NestedName(NewPool(), nil, tc.parent, tc.field); len(got) > maxNestedName {
			t.Errorf("NestedName(%q, %q) = %q: over %d characters", tc.parent, tc.field, got, maxNestedName)
		}
	}
}

// A word the docs write whole ("userfield" in isUseInUserfieldEnabled) is
// cut only where they write it apart often (minApart times): USER_FIELD in
// five keys makes USERFIELD UserField; in two it stays Userfield.
func TestVocabularyCutsWordsWrittenApart(t *testing.T) {
	spellings := func(apart int) *spec.Spec {
		ps := []spec.Param{{Name: "isUseInUserfieldEnabled"}}
		for i := range apart {
			ps = append(ps, spec.Param{Name: fmt.Sprintf("USER_FIELD_%c", 'A'+i)})
		}
		return &spec.Spec{Methods: []spec.Method{{Name: "crm.userfield.list", Params: ps}}}
	}
	for _, c := range []struct {
		apart int
		want  string
	}{{minApart, "UserField"}, {2, "Userfield"}} {
		if got := NewVocabulary(spellings(c.apart)).Exported("USERFIELD"); got != c.want {
			t.Errorf("written apart %d times: USERFIELD → %s, want %s", c.apart, got, c.want)
		}
	}
}
