package main

import (
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"strings"
	"testing/fstest"
	"text/tabwriter"

	"github.com/b24gen/b24gen/generator"
	"github.com/b24gen/b24gen/generator/audit"
	"github.com/b24gen/b24gen/generator/model"
	"github.com/b24gen/b24gen/generator/resolve"
	"github.com/b24gen/b24gen/spec"
)

// coverage is what `b24gen report` measures: how much of the docs the spec
// captured. Ratios are printed beside the counts so anyone can check the
// project's targets against a docs checkout.
type coverage struct {
	Source spec.Source `json:"source"`

	Pages       int `json:"pages"`
	MethodPages int `json:"method_pages"`
	EventPages  int `json:"event_pages"`

	Methods           int `json:"methods"`
	MethodNames       int `json:"method_names"`
	MethodsREST3      int `json:"methods_rest3"`
	MethodsDeprecated int `json:"methods_deprecated"`
	MethodsWithScopes int `json:"methods_with_scopes"`
	MethodsWithResult int `json:"methods_with_result_shape"`
	MethodsWithErrors int `json:"methods_with_error_codes"`
	MethodsWebhook    int `json:"methods_with_webhook_example"`
	Scopes            int `json:"scopes"`
	Events            int `json:"events"`

	Params            int `json:"params"`       // method parameters, nested included
	ParamsTyped       int `json:"params_typed"` // with a kind other than any
	ParamsRequired    int `json:"params_required"`
	ResultFields      int `json:"result_fields"`
	ResultFieldsTyped int `json:"result_fields_typed"`
	EventFields       int `json:"event_fields"`
	EventFieldsTyped  int `json:"event_fields_typed"`
	ErrorCodes        int `json:"error_codes"`

	Extractor *spec.Stats `json:"extractor,omitempty"`
	Go        goCoverage  `json:"go"`

	// Checks are the calls the generated functions refuse before sending
	// (a required parameter left empty), each from a row of its page;
	// CheckList lists them with -checks.
	Checks    int        `json:"checks_before_sending"`
	CheckList []preCheck `json:"check_list,omitempty"`

	Problems       int         `json:"problems"`
	ProblemsByKind []kindCount `json:"problems_by_kind"`

	// RowsFound is the second reader's check (generator/audit): the
	// parameter-table rows of each method page found in the method's
	// parameter tree. Measured only with -docs (it reads the pages).
	RowsFound *audit.RowsFound `json:"rows_found,omitempty"`
	// Audit compares the second reader's reading of every page with the
	// Go generated from the spec (generator/audit). Measured only with
	// -docs or B24_DOCS.
	Audit *auditFigures `json:"audit,omitempty"`
	// AuditNote says why there is no audit.
	AuditNote string `json:"audit_note,omitempty"`
}

// auditFigures are the audit's counts by family, without its misses (the
// corpus test writes those to generator/audit/testdata/audit_misses.txt).
type auditFigures struct {
	ByFamily map[string]*audit.Counts `json:"by_family"`
	Misses   int                      `json:"misses"`
	Listed   int                      `json:"listed"`
}

// goCoverage is what the model stage makes of the spec: how many
// parameters and result fields get a concrete Go type rather than any or
// json.RawMessage.
type goCoverage struct {
	Functions         int `json:"functions"`
	ParamsTyped       int `json:"params_typed"`
	ParamsRaw         int `json:"params_raw"`
	ResultFieldsTyped int `json:"result_fields_typed"`
	ResultFieldsRaw   int `json:"result_fields_raw"`
	BorrowedFields    int `json:"result_fields_typed_from_get"`
	// Strict counts leave out []any and map[string]any as well: the
	// type says what every element or member holds.
	ParamsStrict       int `json:"params_strict"`
	ResultFieldsStrict int `json:"result_fields_strict"`
	// ParamsFromRequest are params the tables left open, typed from the
	// page's cURL request example.
	ParamsFromRequest int `json:"params_typed_from_request_example"`
	// FieldsFromCode are the result and entity fields whose type a docs
	// code example decided (a Go struct's field, a select's key).
	FieldsFromCode int `json:"fields_typed_from_code_examples"`
	// Entities are the types the resolve stage assembled per family;
	// EntityMethods the methods returning one, EntityInputs the families
	// with a write form.
	Entities      int `json:"entities"`
	EntityFields  int `json:"entity_fields"`
	EntityMethods int `json:"methods_returning_an_entity"`
	EntityInputs  int `json:"entity_write_forms"`
	// EntitiesV3 are the REST 3.0 families' entities; EntitiesKeyed the
	// entities whose filter, select and order are typed: REST 2 keys
	// (DealKeyStageID) or REST 3.0 field constants (TaskV3Deadline).
	EntitiesV3    int `json:"entities_rest3"`
	EntitiesKeyed int `json:"entities_with_typed_filters"`
}

// keyedEntities counts the entities with typed filter keys: REST 2 ones
// with Keys, REST 3.0 ones whose package declares field constants of
// their object (TaskV3's TaskV3ID, …).
func keyedEntities(gm *model.Model) int {
	n := 0
	for _, pkg := range gm.Packages {
		for _, f := range pkg.Files {
			for _, e := range f.Entities {
				if len(e.Keys) > 0 || e.Version == 3 && hasConstsOf(pkg, e.Name) {
					n++
				}
			}
		}
	}
	return n
}

func hasConstsOf(pkg *model.Package, name string) bool {
	for _, obj := range pkg.V3Objects {
		for _, c := range obj.Consts {
			if rest, ok := strings.CutPrefix(c.Name, name); ok && rest != "" && rest[0] >= 'A' && rest[0] <= 'Z' {
				return true
			}
		}
	}
	return false
}

// preCheck is one check a generated function makes before it sends.
type preCheck struct {
	Method string `json:"method"`  // "crm.deal.get", "tasks.task.get@3"
	Param  string `json:"param"`   // wire path: "fields.TITLE"
	Refuse string `json:"refuses"` // the value it refuses: "empty string", "zero identifier", "nil", "unset"
	Page   string `json:"page"`
	Line   int    `json:"line"` // the row that marks the parameter required
}

// runtimeChecks are the refusals package b24 makes for every call before
// sending, from no page (templates/b24: Invoke, Client.Call, checkMethod,
// v3Key, encodeParams).
var runtimeChecks = []string{
	"a nil Caller or *Client, or a nil request",
	"an empty method name, or one with characters other than letters, digits and . _ - : (checkMethod)",
	"a malformed idempotency key on a REST 3.0 call (v3Key)",
	"parameters that do not encode as JSON",
}

type kindCount struct {
	Kind  string `json:"kind"`
	Count int    `json:"count"`
}

func runReport(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("report", stderr)
	specPath := fs.String("spec", "", "spec JSON file (default: the embedded spec)")
	docs := fs.String("docs", "", "docs checkout to extract and measure (default $B24_DOCS for the audit)")
	asJSON := fs.Bool("json", false, "print the report as JSON")
	why := fs.String("why", "", "say where a field's type comes from: METHOD[.field.path], FAMILY.field (an entity) or EVENT.field")
	checks := fs.Bool("checks", false, "list every check a generated function makes before sending, with its page line")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	s, err := loadSpec(*specPath, *docs)
	if err != nil {
		return err
	}
	if *why != "" {
		return runWhy(s, *why, *asJSON, stdout)
	}
	c := measure(s, *checks)
	// The embedded spec is the pinned docs': B24_DOCS may name them.
	pages := *docs
	if pages == "" && *specPath == "" {
		pages = os.Getenv("B24_DOCS")
	}
	if pages != "" {
		if c.RowsFound, err = audit.CountRowsFound(pages, s); err != nil {
			return err
		}
		if c.Audit, err = runAudit(pages, s); err != nil {
			c.AuditNote = "no audit: " + err.Error()
		}
	} else {
		c.AuditNote = "no audit: it reads the pages, give -docs DIR (or set B24_DOCS for the embedded spec)"
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(c)
	}
	return c.write(stdout)
}

// runAudit generates the Go for s in memory and audits it against the
// pages under docs.
func runAudit(docs string, s *spec.Spec) (*auditFigures, error) {
	files, _, err := generator.Render(s, generator.Options{ImportPath: defaultImportPath})
	if err != nil {
		return nil, err
	}
	tree := fstest.MapFS{}
	for _, f := range files {
		tree[f.Path] = &fstest.MapFile{Data: f.Data}
	}
	a, err := audit.Run(docs, s, tree)
	if err != nil {
		return nil, err
	}
	return &auditFigures{ByFamily: a.ByFamily, Misses: len(a.Misses), Listed: len(a.Listed)}, nil
}

func measure(s *spec.Spec, listChecks bool) *coverage {
	c := &coverage{Source: s.Source, Extractor: s.Stats}
	if s.Stats != nil {
		c.Pages, c.MethodPages, c.EventPages = s.Stats.Pages, s.Stats.MethodPages, s.Stats.EventPages
	}
	names, scopes := map[string]bool{}, map[string]bool{}
	for i := range s.Methods {
		m := &s.Methods[i]
		c.Methods++
		names[m.Name] = true
		if m.Version == 3 {
			c.MethodsREST3++
		}
		if m.Deprecated {
			c.MethodsDeprecated++
		}
		if len(m.Scopes) > 0 {
			c.MethodsWithScopes++
		}
		for _, sc := range m.Scopes {
			scopes[sc] = true
		}
		if m.Result != nil && m.Result.Shape != "" && m.Result.Shape != "unknown" {
			c.MethodsWithResult++
		}
		if len(m.Errors) > 0 {
			c.MethodsWithErrors++
		}
		c.ErrorCodes += len(m.Errors)
		if m.WebhookExample {
			c.MethodsWebhook++
		}
		walkParams(m.Params, func(p *spec.Param) {
			c.Params++
			if typed(p) {
				c.ParamsTyped++
			}
			if p.Required {
				c.ParamsRequired++
			}
		})
		if m.Result != nil {
			walkParams(m.Result.Fields, func(p *spec.Param) {
				c.ResultFields++
				if typed(p) {
					c.ResultFieldsTyped++
				}
			})
		}
	}
	c.MethodNames, c.Scopes = len(names), len(scopes)
	for i := range s.Events {
		c.Events++
		walkParams(s.Events[i].Fields, func(p *spec.Param) {
			c.EventFields++
			if typed(p) {
				c.EventFieldsTyped++
			}
		})
	}
	rs, resolveProblems := resolve.Resolve(s)
	gm, st, modelProblems := model.Build(rs, model.Options{ImportPath: defaultImportPath})
	c.CheckList = preChecks(rs, gm)
	c.Checks = len(c.CheckList)
	if !listChecks {
		c.CheckList = nil
	}
	_, eventProblems := model.BuildEvents(rs, nil)
	c.Go = goCoverage{
		Functions:   st.Methods,
		ParamsTyped: st.ParamsTyped, ParamsRaw: st.ParamsRaw,
		ResultFieldsTyped: st.ResultFieldsTyped, ResultFieldsRaw: st.ResultFieldsRaw,
		ParamsStrict: st.ParamsStrict, ResultFieldsStrict: st.ResultFieldsStrict,
		Entities: len(rs.Entities),
	}
	// The fields typed by a sibling's table or the request example, as
	// resolve recorded them.
	for _, m := range rs.Methods {
		walkParams(m.Params, func(p *spec.Param) {
			if evidenceIs(p, spec.EvidenceRequest) {
				c.Go.ParamsFromRequest++
			}
		})
		if m.Result != nil {
			walkParams(m.Result.Fields, func(p *spec.Param) {
				if evidenceIs(p, spec.EvidenceSibling) {
					c.Go.BorrowedFields++
				}
				if evidenceIs(p, spec.EvidenceCode) && m.Result.Entity == "" {
					c.Go.FieldsFromCode++
				}
			})
		}
	}
	for _, e := range rs.Entities {
		if e.Version == 3 {
			c.Go.EntitiesV3++
		}
		walkParams(e.Fields, func(p *spec.Param) {
			if evidenceIs(p, spec.EvidenceCode) {
				c.Go.FieldsFromCode++
			}
		})
		c.Go.EntityFields += len(e.Fields)
		if len(e.Input) > 0 {
			c.Go.EntityInputs++
		}
	}
	for _, m := range rs.Methods {
		if m.Result != nil && m.Result.Entity != "" {
			c.Go.EntityMethods++
		}
	}
	c.Go.EntitiesKeyed = keyedEntities(gm)
	// The same problems generate counts: extract's, resolve's, model's and
	// the events', so its one-line summary and this report agree.
	problems := slices.Concat(s.Problems, resolveProblems, modelProblems, eventProblems)
	c.Problems = len(problems)
	c.ProblemsByKind = problemCounts(problems)
	return c
}

// preChecks lists the required-parameter checks of every generated
// function, in package and function order, with the page row behind each.
func preChecks(s *spec.Spec, m *model.Model) []preCheck {
	pages := map[string]string{}
	for i := range s.Methods {
		pages[s.Methods[i].Key()] = s.Methods[i].Page
	}
	var out []preCheck
	for _, pkg := range m.Packages {
		for _, f := range pkg.Files {
			for _, fn := range f.Funcs {
				for _, r := range fn.Required {
					out = append(out, preCheck{Method: fn.Key(), Param: r.Param, Refuse: r.Test.String(), Page: pages[fn.Key()], Line: r.Line})
				}
			}
		}
	}
	return out
}

// typed reports whether the docs give p a kind.
func typed(p *spec.Param) bool { return p.Kind != spec.KindAny && p.Kind != "" }

// walkParams calls fn for every parameter of ps, nested ones included.
func walkParams(ps []spec.Param, fn func(*spec.Param)) {
	for i := range ps {
		fn(&ps[i])
		walkParams(ps[i].Fields, fn)
	}
}

// problemCounts counts problems per kind, most frequent first.
func problemCounts(problems []spec.Problem) []kindCount {
	m := map[string]int{}
	for _, p := range problems {
		m[p.Kind]++
	}
	out := make([]kindCount, 0, len(m))
	for k, n := range m {
		out = append(out, kindCount{k, n})
	}
	slices.SortFunc(out, func(a, b kindCount) int {
		return cmp.Or(cmp.Compare(b.Count, a.Count), cmp.Compare(a.Kind, b.Kind))
	})
	return out
}

func pct(n, of int) string {
	if of == 0 {
		return "-"
	}
	return fmt.Sprintf("%.1f%%", 100*float64(n)/float64(of))
}

func (c *coverage) write(w io.Writer) error {
	fmt.Fprintf(w, "docs: %s @ %s (%s)\n", c.Source.Repository, c.Source.Commit, c.Source.Language)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	row := func(label string, n int, extra string) { fmt.Fprintf(tw, "%s\t%d\t  %s\n", label, n, extra) }
	row("pages read", c.Pages, "")
	row("method pages", c.MethodPages, "")
	row("event pages", c.EventPages, "")
	row("methods", c.Methods, fmt.Sprintf("%d names, %d REST 3.0, %d deprecated", c.MethodNames, c.MethodsREST3, c.MethodsDeprecated))
	row("  with scopes", c.MethodsWithScopes, pct(c.MethodsWithScopes, c.Methods)+fmt.Sprintf(" (%d distinct scopes)", c.Scopes))
	row("  with a result shape", c.MethodsWithResult, pct(c.MethodsWithResult, c.Methods))
	row("  with error codes", c.MethodsWithErrors, fmt.Sprintf("%d codes", c.ErrorCodes))
	row("  with a webhook example", c.MethodsWebhook, pct(c.MethodsWebhook, c.Methods))
	row("events", c.Events, "")
	row("parameters", c.Params, fmt.Sprintf("%d typed (%s), %d raw, %d required", c.ParamsTyped, pct(c.ParamsTyped, c.Params), c.Params-c.ParamsTyped, c.ParamsRequired))
	row("result fields", c.ResultFields, fmt.Sprintf("%d typed (%s)", c.ResultFieldsTyped, pct(c.ResultFieldsTyped, c.ResultFields)))
	row("event fields", c.EventFields, fmt.Sprintf("%d typed (%s)", c.EventFieldsTyped, pct(c.EventFieldsTyped, c.EventFields)))
	if x := c.Extractor; x != nil {
		row("table rows", x.Rows, fmt.Sprintf("%d with name and type (%s)", x.RowsTyped, pct(x.RowsTyped, x.Rows)))
		row("required flags", x.RequiredFlags, "")
		row("in-page anchors", x.Anchors, fmt.Sprintf("%d resolved (%s)", x.AnchorsResolved, pct(x.AnchorsResolved, x.Anchors)))
		row("response examples", x.ResponseExamples, fmt.Sprintf("%d parsed (%s)", x.ExamplesParsed, pct(x.ExamplesParsed, x.ResponseExamples)))
		row("error tables", x.ErrorTables, "")
	}
	g := c.Go
	row("Go functions", g.Functions, pct(g.Functions, c.Methods)+" of method records")
	params, fields := g.ParamsTyped+g.ParamsRaw, g.ResultFieldsTyped+g.ResultFieldsRaw
	row("Go params typed", g.ParamsTyped, fmt.Sprintf("%s, %d left any/json.RawMessage ([]any and map[string]any count as typed)", pct(g.ParamsTyped, params), g.ParamsRaw))
	row("  strictly", g.ParamsStrict, fmt.Sprintf("%s, %d any, json.RawMessage, []any or map[string]any", pct(g.ParamsStrict, params), params-g.ParamsStrict))
	row("  from request examples", g.ParamsFromRequest, "open in the tables, typed from the page's cURL body")
	row("Go result fields typed", g.ResultFieldsTyped, fmt.Sprintf("%s, %d raw, %d typed from the family's get method",
		pct(g.ResultFieldsTyped, fields), g.ResultFieldsRaw, g.BorrowedFields))
	row("  strictly", g.ResultFieldsStrict, fmt.Sprintf("%s, %d any, json.RawMessage, []any or map[string]any", pct(g.ResultFieldsStrict, fields), fields-g.ResultFieldsStrict))
	row("  from code examples", g.FieldsFromCode, "result and entity fields the tables omit or leave untyped, typed from the page's Go example or its select (-why shows each)")
	row("entities", g.Entities, fmt.Sprintf("%d fields; %d methods return one, %d have a write form", g.EntityFields, g.EntityMethods, g.EntityInputs))
	row("  REST 3.0", g.EntitiesV3, "entities of REST 3.0 families (tasks.TaskV3 …)")
	row("  typed filters", g.EntitiesKeyed, "entities whose filter, select and order keys are typed (REST 2 keys, REST 3.0 field constants)")
	if r := c.RowsFound; r != nil {
		row("table rows in the spec", r.Found, fmt.Sprintf("%s of %d parameter-table rows before the examples are in their method's parameter tree (second reader)", pct(r.Found, r.Rows), r.Rows))
		for _, fam := range slices.Sorted(maps.Keys(r.ByFamily)) {
			if n := r.ByFamily[fam]; n[1] >= 200 {
				row("  "+fam, n[0], fmt.Sprintf("%s of %d", pct(n[0], n[1]), n[1]))
			}
		}
	}
	c.writeAudit(row)
	row("checks before sending", c.Checks, fmt.Sprintf("required parameters refused when empty, each from its page's row (-checks lists them); and %d runtime checks of every call", len(runtimeChecks)))
	row("problems", c.Problems, "met in the docs and worked around (generate's count; -v there lists them)")
	for _, kc := range c.ProblemsByKind {
		row("  "+kc.Kind, kc.Count, "")
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	return c.writeChecks(w)
}

// writeChecks lists the checks before sending, when -checks asked.
func (c *coverage) writeChecks(w io.Writer) error {
	if c.CheckList == nil {
		return nil
	}
	fmt.Fprintf(w, "\nchecks before sending (method, parameter, refused value, page:line):\n")
	for _, r := range runtimeChecks {
		fmt.Fprintf(w, "  every call\t%s\ttemplates/b24\n", r)
	}
	for _, k := range c.CheckList {
		fmt.Fprintf(w, "  %s\t%s\t%s\t%s:%d\n", k.Method, k.Param, k.Refuse, k.Page, k.Line)
	}
	return nil
}

// writeAudit prints the audit's recall, precision and error-code figures
// by family, or why there are none.
func (c *coverage) writeAudit(row func(string, int, string)) {
	if c.Audit == nil {
		row("audit", 0, c.AuditNote)
		return
	}
	row("audit vs generated Go", c.Audit.Misses, fmt.Sprintf("misses, %d listed not counted (the docs contradict themselves, or no generated function); by family, rows present at their path and typed as the page says:", c.Audit.Listed))
	for _, fam := range audit.Families {
		n := c.Audit.ByFamily[fam]
		if n == nil {
			continue
		}
		row("  "+fam, n.ParamsOK+n.ResultsOK, fmt.Sprintf("recall: params %s, result fields %s; precision %s (%d more named only by the page's examples or sibling pages); error codes in doc comments %s",
			audit.Ratio(n.ParamsOK, n.Params), audit.Ratio(n.ResultsOK, n.Results), audit.Ratio(n.Members-n.Invented, n.Members), n.Justified, audit.Ratio(n.ErrorsOK, n.Errors)))
	}
}

// evidenceIs reports whether p's type was decided by evidence of kind k.
func evidenceIs(p *spec.Param, k spec.EvidenceKind) bool {
	return len(p.Evidence) > 0 && p.Evidence[0].Kind == k
}
