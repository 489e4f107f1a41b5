package model

import (
	"slices"
	"testing"
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
