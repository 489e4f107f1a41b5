// Package spec is the contract between the extractor and the generator: a
// language-neutral description of the Bitrix24 REST API as the reference
// Markdown documents it. It knows nothing of Markdown and nothing of Go.
//
// The committed spec of the pinned docs snapshot lives in bitrix24.json and
// is embedded (see Embedded). Field meanings are documented in README.md.
package spec

import (
	"encoding/json"
	"strconv"
	"strings"
)

// Spec is the whole extracted API reference.
type Spec struct {
	Source   Source    `json:"source"`
	Methods  []Method  `json:"methods"`
	Events   []Event   `json:"events"`
	Problems []Problem `json:"problems,omitempty"`
	// Entities are set by the resolve stage (generator/resolve), never by
	// extract: one business object per method family, merged from all the
	// family's pages.
	Entities []Entity `json:"entities,omitempty"`
	// Objects are the REST 3.0 objects a fields-rest-v3 page describes
	// (the task, and the user, group, stage … it links to), sorted by page
	// and line.
	Objects []Object `json:"objects,omitempty"`
	// Stats are counts the extractor measured while reading the corpus;
	// `b24gen report` prints them.
	Stats *Stats `json:"stats,omitempty"`
}

// Source names the docs the spec was extracted from.
type Source struct {
	Repository string `json:"repository"`
	Commit     string `json:"commit"`
	Language   string `json:"language"`
}

// Method is one documented REST method. Methods are keyed by (Name, Version):
// a few names have both a REST 2 and a REST 3.0 page.
type Method struct {
	Name    string   `json:"name"`              // as called: "crm.deal.get"
	Version int      `json:"version"`           // 2 or 3 (REST 3.0, called under /rest/api/)
	Page    string   `json:"page"`              // path relative to the docs root, "api-reference/crm/deals/crm-deal-get.md"
	Line    int      `json:"line,omitempty"`    // line of the H1 in Page
	Title   string   `json:"title,omitempty"`   // H1 text without the method name
	Summary string   `json:"summary,omitempty"` // the page's first descriptive paragraph, plain text
	Scopes  []string `json:"scopes"`
	Access  string   `json:"access,omitempty"` // who may call it, as the page says it

	Deprecated bool   `json:"deprecated,omitempty"`
	ReplacedBy string `json:"replaced_by,omitempty"` // method named as the replacement, if any

	Params []Param    `json:"params"`
	Result *Result    `json:"result,omitempty"`
	Errors []ErrorDoc `json:"errors,omitempty"`
	// Placeholders are the pattern rows of Params (see Param.Placeholders).
	Placeholders []Placeholder `json:"placeholders,omitempty"`

	// WebhookExample is true when the page shows a call through an
	// incoming webhook (the "cURL (Webhook)" tab or a /rest/<user>/<secret>/ URL).
	WebhookExample bool `json:"webhook_example,omitempty"`
	// RequestExample is the JSON body of the first cURL (Webhook) example
	// that parses (else of the OAuth one, without "auth"), compact, keys
	// in page order: what the page shows being sent. The model refines
	// the parameters the tables left open from it.
	RequestExample json.RawMessage `json:"request_example,omitempty"`
	// CodeFields are the result fields the page's Go code example declares:
	// the json tags of the struct it decodes the result into, typed by the
	// struct's Go types (b24.ID is an integer), lines on the page. They
	// describe the value under CodeWrapper when the example unwraps a key
	// first (b24.Unwrap(res.Result, "items")), else the result itself. The
	// resolve stage adds them where the tables are silent.
	CodeFields  []Param `json:"code_fields,omitempty"`
	CodeWrapper string  `json:"code_wrapper,omitempty"`
}

// EntityKey identifies an entity: its family, and "@3" for the REST 3.0
// one (a method of that version means it), as Method.Key keys methods.
func EntityKey(family string, version int) string {
	if version == 3 {
		return family + "@3"
	}
	return family
}

// Key identifies a method record: its name and REST version.
func (m *Method) Key() string {
	if m.Version == 3 {
		return m.Name + "@3"
	}
	return m.Name
}

// Kind is the Go-neutral kind of a documented value.
type Kind string

const (
	KindString   Kind = "string"
	KindInteger  Kind = "integer"
	KindNumber   Kind = "number"
	KindBoolean  Kind = "boolean"
	KindDate     Kind = "date"
	KindDateTime Kind = "datetime"
	KindObject   Kind = "object"
	KindArray    Kind = "array" // element kind in Param.Elem
	KindEnum     Kind = "enum"  // values in Param.Enum
	KindFile     Kind = "file"
	KindAny      Kind = "any" // documented without a usable type
)

// Param is a parameter of a method, a field of a result or of an event
// payload. Nested objects carry their fields in Fields.
type Param struct {
	Name string `json:"name"` // the wire key, exactly as documented: "TITLE", "event_handler_id"
	// Type is the documented type token as written ("integer", "crm_status",
	// "array of string", "char"); empty when the row has none.
	Type string `json:"type,omitempty"`
	Kind Kind   `json:"kind"`
	// Elem is the element kind of a KindArray; on a KindObject it makes
	// the object a map keyed by record id (see KeyedMap) whose values are
	// of that kind, KindObject rows having their members in Fields.
	Elem        Kind        `json:"elem,omitempty"`
	Required    bool        `json:"required,omitempty"`
	Deprecated  bool        `json:"deprecated,omitempty"`
	Default     string      `json:"default,omitempty"`
	Description string      `json:"description,omitempty"` // plain text; paragraphs split by "\n\n", "- x" list lines, tab-led code lines
	Enum        []EnumValue `json:"enum,omitempty"`
	// Ref is the in-page anchor the row's type links to ("deal" for
	// [`deal`](#deal)); it names the nested structure.
	Ref string `json:"ref,omitempty"`
	// Link is the structure on another page the row's type links to, as
	// page#anchor from the docs root ("api-reference/catalog/data-types.md#catalog_measure",
	// "api-reference/crm/universal/object-fields.md" for a whole page);
	// resolve types the row from that page's table (spec.Objects).
	Link   string  `json:"link,omitempty"`
	Fields []Param `json:"fields,omitempty"`
	Line   int     `json:"line,omitempty"` // line of the row in the page
	// Page is the docs page of the row where it is not the page of the
	// method, event or entity source holding it (a field merged from
	// another page); set by the resolve stage.
	Page string `json:"page,omitempty"`
	// Linked is true for a member only the table a row's type links to
	// documents (Link): the page's own table and examples do not show
	// it, so a row of the page may lack it. Set by the resolve stage.
	Linked bool `json:"linked,omitempty"`
	// ReadOnly is true for an entity field its *.fields page marks
	// isReadOnly; set by the resolve stage.
	ReadOnly bool `json:"read_only,omitempty"`
	// RequestName is an entity field's key as requests spell it (filter,
	// select, order), where that differs from the read key: tasks.task
	// reads "parentId" and filters by "PARENT_ID". Set by the resolve
	// stage from the *.fields page.
	RequestName string `json:"request_name,omitempty"`
	// Entity is the family ("crm.deal") whose entity this object is (the
	// "fields" of an add or update); set by the resolve stage.
	Entity string `json:"entity,omitempty"`
	// Placeholders are the rows of Fields that stand for a family of keys
	// (UF_CRM_..., {BOT_ID}); the resolve stage moves them here from Fields.
	Placeholders []Placeholder `json:"placeholders,omitempty"`
	// Evidence says where the field's kind comes from, the deciding
	// source first; set by the resolve stage where a source other than
	// the row itself typed it (see EvidenceKind).
	Evidence []Evidence `json:"evidence,omitempty"`

	// What the type token says beyond the kind, read once by the resolve
	// stage (generator/resolve/tokens.go) so that later stages never read
	// Type themselves.

	// SentAsYN is a boolean the portal takes as "Y"/"N" (b24.Bool): the
	// token says char, or a REST 2 token shows the Y.
	SentAsYN bool `json:"sent_as_yn,omitempty"`
	// Multifield is a crm_multifield value (PHONE, EMAIL, …).
	Multifield bool `json:"multifield,omitempty"`
	// Localized is a text kept per language (b24.Localized).
	Localized bool `json:"localized,omitempty"`
	// Union is the kind that reads every alternative of a token listing
	// several ("integer | string" → string), when Kind is open.
	Union Kind `json:"union,omitempty"`
	// IntEnum is an enum whose token is an integer one and whose values
	// are all integers: its constants are numbers.
	IntEnum bool `json:"int_enum,omitempty"`
}

// EvidenceKind names a source of a field's type, from the most reliable.
type EvidenceKind string

const (
	// EvidenceFieldsPage is the family's *.fields descriptor map.
	EvidenceFieldsPage EvidenceKind = "fields-page"
	// EvidenceTable is a row of a parameter or returned-data table.
	EvidenceTable EvidenceKind = "table"
	// EvidenceSibling is a row of the family's get page, for a field
	// another page shows only in its example.
	EvidenceSibling EvidenceKind = "sibling-table"
	// EvidenceLinked is a row of a fields-rest-v3 object a type links to.
	EvidenceLinked EvidenceKind = "linked-object"
	// EvidenceResponse is a documented response example (or event payload).
	EvidenceResponse EvidenceKind = "response-example"
	// EvidenceRequest is the page's request example (its cURL body).
	EvidenceRequest EvidenceKind = "request-example"
	// EvidenceCode is a docs code example: the Go struct its result is
	// decoded into (Method.CodeFields), or a select list naming the key.
	EvidenceCode EvidenceKind = "code-example"
	// EvidenceName is the field's name alone (isWon, DATE_CREATE).
	EvidenceName EvidenceKind = "name"
)

// The notes of EvidenceRequest: what of the param the example gave.
const (
	RequestKind   = "kind"   // its kind (a row without a type, PHP's "array" sent as an object)
	RequestElem   = "elem"   // its element kind
	RequestFields = "fields" // its members: one call's keys
)

// Evidence is one source that said what a field is.
type Evidence struct {
	Kind EvidenceKind `json:"kind"`
	Page string       `json:"page,omitempty"` // docs path of the source
	Line int          `json:"line,omitempty"`
	// Method is the method whose page or example it is, where that is
	// not the field's own.
	Method string `json:"method,omitempty"`
	// Note says what the source showed ("integer", `"E"`), briefly.
	Note string `json:"note,omitempty"`
}

// KeyedMap reports an object keyed by record ids ({"13": {...}, "103":
// {...}}, {"1669": "Planning"}): a map from the id to a value of kind
// Elem, whose members are Fields when Elem is KindObject. The resolve
// stage finds them (generator/resolve/keyed.go).
func (p Param) KeyedMap() bool { return p.Kind == KindObject && p.Elem != "" }

// YN reports an enum of exactly Y and N: a Bitrix24 flag, whatever the
// type column says.
func (p Param) YN() bool {
	if len(p.Enum) != 2 {
		return false
	}
	a, c := p.Enum[0].Value, p.Enum[1].Value
	return (a == "Y" && c == "N") || (a == "N" && c == "Y")
}

// IDName reports a key that names an object by identifier ("id",
// "entityTypeId", "TASK_ID"). Parent identifiers are not counted, since 0
// often means "the root" there.
func IDName(wire string) bool {
	if wire == "id" || wire == "ID" || wire == "Id" {
		return true
	}
	lw := strings.ToLower(wire)
	if strings.HasPrefix(lw, "parent") {
		return false
	}
	return strings.HasSuffix(wire, "Id") || strings.HasSuffix(wire, "ID") || strings.HasSuffix(lw, "_id")
}

// Placeholder is a documented row whose name is a pattern for keys, not a
// key: "UF_CRM_..." (custom fields), "PARENT_ID_...", "<AREA_ID>". The keys
// it stands for arrive as the portal names them and are kept undeclared.
type Placeholder struct {
	// Pattern is the name with its variable part written "*" for a suffix
	// ("UF_CRM_*", "ufCrm*") and the markup escapes removed otherwise
	// ("{BOT_ID}", "chat<chatId>").
	Pattern     string `json:"pattern"`
	Name        string `json:"name"` // the row's name as documented: "UF_CRM_..."
	Description string `json:"description,omitempty"`
	Line        int    `json:"line,omitempty"`
	// Note is the description's first sentence, for a one-line mention
	// ("custom fields"); set by the resolve stage.
	Note string `json:"note,omitempty"`
	// Kind, Type and Fields describe each value the pattern's keys hold.
	Kind   Kind    `json:"kind,omitempty"`
	Type   string  `json:"type,omitempty"`
	Fields []Param `json:"fields,omitempty"`
}

// EnumValue is one documented value of an enumeration.
type EnumValue struct {
	Value       string `json:"value"`
	Description string `json:"description,omitempty"`
}

// Result describes what a method returns under the envelope's "result" key.
type Result struct {
	// Shape is "object", "array", "scalar", "unknown", or (set by the
	// resolve stage) "map" for an object keyed by record ids and
	// "descriptors" for the answer of a *.fields method (an object keyed by
	// field name whose values describe the field).
	Shape string `json:"shape"`
	// Kind is the scalar kind for Shape "scalar", or the element kind for
	// Shape "array" and "map" (KindObject when the rows are objects).
	Kind Kind `json:"kind,omitempty"`
	// Wrapper is the key under "result" that holds the value, when the docs
	// show one: "task" for tasks.task.get, "items" for crm.item.list.
	Wrapper string `json:"wrapper,omitempty"`
	// Link is the structure on another page the wrapped row's type links
	// to (Param.Link): the object, or each row, is that table's.
	Link string `json:"link,omitempty"`
	// Fields of the object, or of each row for arrays of objects.
	Fields []Param `json:"fields,omitempty"`
	// Entity is the family ("crm.deal") of the entity the object, or each
	// row, is; set by the resolve stage.
	Entity string `json:"entity,omitempty"`
	// Placeholders are the pattern rows of Fields (see Param.Placeholders).
	Placeholders []Placeholder `json:"placeholders,omitempty"`
	// Paginated is true for list methods answering with total/next.
	Paginated bool `json:"paginated,omitempty"`
	// Example is the documented success response (the whole envelope),
	// normalised to strict JSON; absent when the page has none or it
	// could not be parsed.
	Example json.RawMessage `json:"example,omitempty"`
}

// ShapeDescriptors is the Result.Shape of a *.fields method's answer.
const ShapeDescriptors = "descriptors"

// ErrorDoc is one row of a page's error-code table.
type ErrorDoc struct {
	Code        string `json:"code"`
	Message     string `json:"message,omitempty"`
	Description string `json:"description,omitempty"`
	Status      int    `json:"status,omitempty"` // HTTP status where the page states it
}

// Event is one documented outgoing-webhook event.
type Event struct {
	Name    string   `json:"name"` // upper-case, from the payload's "event" value: "ONCRMDEALUPDATE"
	Title   string   `json:"title,omitempty"`
	DocName string   `json:"doc_name,omitempty"` // the name as the H1 spells it: "onCrmDealUpdate"
	Page    string   `json:"page"`
	Line    int      `json:"line,omitempty"`
	Summary string   `json:"summary,omitempty"`
	Scopes  []string `json:"scopes"`
	Access  string   `json:"access,omitempty"`
	// Deprecated is true when the page announces the event is no longer
	// developed (a deprecation note, or a page under outdated/).
	Deprecated bool `json:"deprecated,omitempty"`
	// Fields are the payload's top-level keys (event, data, ts, auth, ...),
	// nested.
	Fields  []Param         `json:"fields"`
	Example json.RawMessage `json:"example,omitempty"`
}

// Entity is one business object of a method family (a deal, a task, a
// user), assembled by the resolve stage from every page of the family.
type Entity struct {
	Family string `json:"family"` // method prefix: "crm.deal", "tasks.task", "user"
	// Name is the entity's noun as the family names it, one word per
	// element: ["deal"], ["product", "row"]. Model makes the Go name.
	Name []string `json:"name"`
	// Fields are keyed by the documented wire key, in the order of the
	// best source (the *.fields page, else the get page).
	Fields []Param `json:"fields"`
	// Input is the write form: the fields add and update take, keyed as
	// they document them, every writable field included; empty when the
	// family has no add or update with a "fields" object.
	Input []Param `json:"input,omitempty"`
	// Sources are the pages the fields were read from, best first.
	Sources []string `json:"sources"`
	// Version is 3 for the entity of a REST 3.0 family (tasks.task's REST
	// 3.0 methods), whose methods point at it by Family as REST 2 ones do:
	// a method's own version says which of the two it means.
	Version int `json:"version,omitempty"`
}

// Object is one REST 3.0 object of a fields-rest-v3 page: the table under
// a heading with an anchor ("## Task Object {#taskdto}"). Its fields are the
// table's rows as they are, nested tables not expanded: a row whose type
// links to another object keeps that object's anchor in Ref.
type Object struct {
	Name   string  `json:"name"`  // the heading's anchor: "taskdto", "user"
	Title  string  `json:"title"` // the heading text
	Page   string  `json:"page"`
	Line   int     `json:"line"`
	Fields []Param `json:"fields"`
	// Example is the section's first JSON example, where the docs give one:
	// what a value of the linked type looks like when its section has no
	// table (a text per language, {"de": "Speichern", "en": "Save"}).
	Example json.RawMessage `json:"example,omitempty"`
}

// Problem is something the extractor could not read as documented. Every
// problem names the file and line; the run goes on.
type Problem struct {
	File    string `json:"file"`
	Line    int    `json:"line,omitempty"`
	Kind    string `json:"kind"` // short stable token: "name-conflict", "broken-anchor", "untyped-row", ...
	Message string `json:"message"`
}

func (p Problem) String() string {
	if p.Line > 0 {
		return p.File + ":" + strconv.Itoa(p.Line) + ": " + p.Kind + ": " + p.Message
	}
	return p.File + ": " + p.Kind + ": " + p.Message
}

// Stats are counts measured by the extractor.
type Stats struct {
	Pages            int `json:"pages"`             // Markdown pages read
	MethodPages      int `json:"method_pages"`      // pages recognised as a method
	EventPages       int `json:"event_pages"`       // pages recognised as events
	Rows             int `json:"rows"`              // parameter and field rows seen
	RowsTyped        int `json:"rows_typed"`        // rows with a name and a type
	RequiredFlags    int `json:"required_flags"`    // required markers seen
	Anchors          int `json:"anchors"`           // in-page anchor references followed
	AnchorsResolved  int `json:"anchors_resolved"`  // of which resolved
	ResponseExamples int `json:"response_examples"` // JSON success examples seen
	ExamplesParsed   int `json:"examples_parsed"`   // of which parsed
	ErrorTables      int `json:"error_tables"`      // error-code tables seen
}
