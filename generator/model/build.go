package model

import (
	"cmp"
	"errors"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/b24gen/b24gen/spec"
)

// Options select and place the generated API.
type Options struct {
	// Scopes keeps only methods having any of these scopes; empty keeps all.
	Scopes []string
	// ImportPath is the output tree's import path, used for doc links to
	// functions in other packages.
	ImportPath string
}

// Stats count how much of the spec got a concrete Go type.
type Stats struct {
	Methods           int
	ParamsTyped       int
	ParamsRaw         int
	ResultFieldsTyped int
	ResultFieldsRaw   int
	// ParamsStrict and ResultFieldsStrict count the typed ones whose type
	// is concrete all the way down: no []any or map[string]any either.
	ParamsStrict       int
	ResultFieldsStrict int
}

// DocsBase is where the reference pages are published.
const DocsBase = "https://apidocs.bitrix24.com/"

// Build turns a spec into the Go model. Problems are corners of the spec
// that degraded to a raw type or were dropped; they never stop the build.
func Build(s *spec.Spec, opt Options) (*Model, Stats, []spec.Problem) {
	b := &builder{opt: opt, has2: map[string]bool{}, systemErrors: systemErrors(s.Methods), vocab: NewVocabulary(s)}
	for i := range s.Methods {
		if s.Methods[i].Version != 3 {
			b.has2[s.Methods[i].Name] = true
		}
	}
	methods := selectMethods(s, opt.Scopes, b.problem)

	// Group by package, and name every function before any type, so a
	// type name never takes a function's name.
	byPkg := map[string][]*spec.Method{}
	var pkgNames []string
	for _, m := range methods {
		pn := PackageName(m.Name)
		if _, ok := byPkg[pn]; !ok {
			pkgNames = append(pkgNames, pn)
		}
		byPkg[pn] = append(byPkg[pn], m)
	}
	slices.Sort(pkgNames)

	// funcRef maps a method key to its package and function, for
	// Deprecated: links.
	type ref struct{ pkg, fn string }
	refs := map[string]ref{}
	pools := map[string]*Pool{}
	funcs := map[*spec.Method]*Func{}
	for _, pn := range pkgNames {
		pool := NewPool("Extra", FieldInfo)
		pools[pn] = pool
		for _, m := range byPkg[pn] {
			base := FuncName(m.Name)
			if m.Version == 3 && b.has2[m.Name] {
				base += "V3"
			}
			name := pool.Take(base)
			if name != base {
				b.problem(m.Page, m.Line, KindNameCollision,
					fmt.Sprintf("%s: Go name %s.%s is taken; using %s", m.Name, pn, base, name))
			}
			f := &Func{Name: name, Method: m.Name, Version: m.Version}
			// The companions share the function's stem; take them now so
			// they stay put when methods are added later.
			f.Params = &Struct{Name: pool.Take(name + "Params")}
			f.Command = b.takeCompanion(pool, m, name+"Command")
			if m.Result != nil && m.Result.Paginated || isV3List(m) {
				f.All = b.takeCompanion(pool, m, name+"All")
				f.Export = b.takeCompanion(pool, m, name+"Export")
			}
			funcs[m] = f
			if _, ok := refs[m.Name]; !ok || m.Version != 3 {
				refs[m.Name] = ref{pn, name}
			}
		}
	}
	// Entities are named after the functions and before any per-method
	// type, so crm.Deal stays crm.Deal whatever methods are added.
	entities := map[string]map[string]*entityDecl{}
	for _, pn := range pkgNames {
		entities[pn] = map[string]*entityDecl{}
		for _, e := range entitiesOf(s, pn) {
			if !familyKept(e, byPkg[pn]) {
				continue
			}
			out := &Entity{Name: b.takeEntityName(pools[pn], pn, e, s), Family: e.Family, Version: e.Version}
			if len(e.Input) > 0 {
				out.Input = pools[pn].Take(out.Name + "Input")
			}
			entities[pn][spec.EntityKey(e.Family, e.Version)] = &entityDecl{spec: e, out: out, file: entityFile(e.Family)}
		}
	}

	v3Objects := map[string][]*V3Object{}
	for _, pn := range pkgNames {
		v3Objects[pn] = v3ObjectsOf(s, byPkg[pn], pools[pn]) // v3.go
	}

	mdl := &Model{Repository: s.Source.Repository, Commit: s.Source.Commit}
	for _, pn := range pkgNames {
		pkg := &Package{Name: pn, V3Objects: v3Objects[pn]}
		files := map[string]*File{}
		b.pool, b.entities = pools[pn], entities[pn]
		for _, fam := range slices.Sorted(maps.Keys(b.entities)) {
			d := b.entities[fam]
			b.declareEntity(d)
			if files[d.file] == nil {
				files[d.file] = &File{Name: d.file}
				pkg.Files = append(pkg.Files, files[d.file])
			}
			files[d.file].Entities = append(files[d.file].Entities, d.out)
		}
		for _, m := range byPkg[pn] {
			f := funcs[m]
			b.pool = pools[pn]
			b.method(m, f)
			if m.Deprecated {
				dep := "Deprecated: the docs mark this method as deprecated."
				if m.ReplacedBy != "" {
					link := m.ReplacedBy
					if r, ok := refs[m.ReplacedBy]; ok {
						if r.pkg == pn {
							link = "[" + r.fn + "] (" + m.ReplacedBy + ")"
						} else {
							link = "[" + opt.ImportPath + "/" + r.pkg + "." + r.fn + "] (" + m.ReplacedBy + ")"
						}
					}
					dep = "Deprecated: use " + link + "."
				}
				f.Doc = append(f.Doc, dep)
			}
			fn := fileName(m.Name)
			if files[fn] == nil {
				files[fn] = &File{Name: fn}
				pkg.Files = append(pkg.Files, files[fn])
			}
			files[fn].Funcs = append(files[fn].Funcs, f)
			b.stats.Methods++
		}
		pkg.Example = pickExample(pkg)
		if b.pkgNeedsFieldInfo {
			pkg.Shared = append(pkg.Shared, fieldInfoStruct())
			b.pkgNeedsFieldInfo = false
		}
		slices.SortFunc(pkg.Files, func(a, c *File) int { return cmp.Compare(a.Name, c.Name) })
		mdl.Packages = append(mdl.Packages, pkg)
	}
	return mdl, b.stats, b.problems
}

// selectMethods returns the named methods of s in these scopes (all when
// none), in the order Build names them: by compareNames, REST 2 first.
func selectMethods(s *spec.Spec, scopes []string, problem func(file string, line int, kind, msg string)) []*spec.Method {
	var methods []*spec.Method
	for i := range s.Methods {
		m := &s.Methods[i]
		if err := callableName(m.Name); err != nil {
			problem(m.Page, m.Line, "bad-method-name", err.Error()+": not generated")
			continue
		}
		if inScopes(m.Scopes, scopes) {
			methods = append(methods, m)
		}
	}
	slices.SortStableFunc(methods, func(a, c *spec.Method) int {
		return cmp.Or(compareNames(a.Name, c.Name), cmp.Compare(a.Version, c.Version))
	})
	return methods
}

// callableName applies the runtime's rule for method names (b24's
// checkMethod: ASCII letters, digits and . _ - :, nothing else): a function
// for a name the runtime refuses could never make its call.
func callableName(name string) error {
	if name == "" {
		return errors.New("a method without a name")
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-' || c == ':') {
			r, _ := utf8.DecodeRuneInString(name[i:])
			return fmt.Errorf("method %q: %q is not allowed in a method name (the runtime takes only ASCII letters, digits and . _ - :)", name, r)
		}
	}
	return nil
}

// compareNames orders method names case-insensitively and, among names
// that differ only in case, lower case first: when "crm.deal.get" and a
// stray "crm.Deal.get" both want the name DealGet, the usual spelling
// gets it.
func compareNames(a, b string) int {
	if c := strings.Compare(strings.ToLower(a), strings.ToLower(b)); c != 0 {
		return c
	}
	return -strings.Compare(a, b)
}

// pickExample chooses the method a package's runnable example calls: a
// REST 2 read with a documented response whose required parameters the
// example can fill (IDs and strings), preferring a *.get.
func pickExample(pkg *Package) *Func {
	var best *Func
	score := func(f *Func) int {
		if strings.HasSuffix(f.Method, ".get") {
			return 2
		}
		if f.List != nil {
			return 1
		}
		return 0
	}
	for _, file := range pkg.Files {
		for _, f := range file.Funcs {
			if f.Version != 2 || !f.Idempotent || len(f.Example) == 0 || strings.Contains(f.Name, "_") {
				continue
			}
			fillable := true
			for _, r := range f.Required {
				if r.Test == CheckNil || strings.Contains(r.Field, ".") {
					fillable = false
				}
			}
			if fillable && (best == nil || score(f) > score(best)) {
				best = f
			}
		}
	}
	return best
}

func inScopes(have, want []string) bool {
	if len(want) == 0 {
		return true
	}
	for _, h := range have {
		for _, w := range want {
			if strings.EqualFold(strings.TrimSpace(h), strings.TrimSpace(w)) {
				return true
			}
		}
	}
	return false
}

// fileName groups methods by their second segment: "crm.deal.get" →
// "deal_gen.go". The "_gen" suffix keeps a segment such as "test" or
// "linux" from turning the file into a test or a build-constrained file.
func fileName(method string) string {
	segs := strings.Split(method, ".")
	seg := segs[0]
	if len(segs) > 1 {
		seg = segs[1]
	}
	return genFileName(seg)
}

// genFileName makes a generated file's name of a docs word: its ASCII
// letters and digits in lower case, "_gen.go" after ("misc_gen.go" when
// none are left).
func genFileName(word string) string {
	if name := alnum(strings.ToLower(word)); name != "" {
		return name + "_gen.go"
	}
	return "misc_gen.go"
}

type builder struct {
	opt  Options
	has2 map[string]bool // names with a REST 2 record
	pool *Pool           // the current package's identifiers
	// vocab cuts the run-together words of wire keys (naming.go).
	vocab *Vocabulary
	// systemErrors are the codes most pages list (an included table of
	// the errors every method may return); docs name them once, by link.
	systemErrors map[string]string
	// sharedEnums, while an entity's write form is built, are the enums
	// its read form declared, by wire key: one DealStageSemanticID.
	sharedEnums map[string]string
	// entities are the current package's entity types, by family.
	entities map[string]*entityDecl
	// pkgNeedsFieldInfo is set when the current package uses FieldInfo.
	pkgNeedsFieldInfo bool
	stats             Stats
	problems          []spec.Problem

	// per method
	m    *spec.Method
	f    *Func
	kept map[string][]spec.Param // per struct: the params its fields came from
}

// KindNameCollision is the problem of a Go name the docs' own name cannot
// have, because another declaration took it first: the name used instead
// is in the message.
const KindNameCollision = "name-collision"

// takeType takes a package-level name for a type or constant: name, or
// name+alt ("Record", "Value") when name is taken, or, when both are, the
// pool's numbered name. Any name but the first is reported, so no public
// name changes in silence.
func (b *builder) takeType(name, alt string, line int) string {
	got, changed := takeOr(b.pool, name, alt)
	if !changed {
		return got
	}
	b.problem(b.m.Page, cmp.Or(line, b.m.Line), KindNameCollision,
		fmt.Sprintf("%s: Go name %s is taken; using %s", b.m.Name, name, got))
	return got
}

// takeOr takes name from pool, or name+alt when name is taken, or the
// pool's numbered name when both are; changed says it is not name.
func takeOr(pool *Pool, name, alt string) (got string, changed bool) {
	switch {
	case !pool.Has(name):
		return pool.Take(name), false
	case !pool.Has(name + alt):
		return pool.Take(name + alt), true
	}
	return pool.Take(name), true
}

// takeField names the Go field of p in the struct owner: a key whose name
// is a method of the struct (Extra, MarshalJSON) gets "Field" appended, and
// two keys that name one Go field ("chatId", "CHAT_ID") are told apart by
// the pool's number, reported.
func (b *builder) takeField(local *Pool, owner string, p spec.Param) string {
	name := b.vocab.Exported(p.Name)
	if !local.Has(name) {
		return local.Take(name)
	}
	got := name + "Field"
	if local.Has(got) {
		got = local.Take(name)
	} else {
		local.Take(got)
	}
	b.problem(b.m.Page, cmp.Or(p.Line, b.m.Line), KindNameCollision,
		fmt.Sprintf("%s: key %q: Go field %s.%s is taken; using %s", b.m.Name, p.Name, owner, name, got))
	return got
}

// takeEntityName names an entity: its own name, or the name with "Record"
// when a function or a reserved name has it (im.notify's function Notify,
// the name Extra), reported either way it changes.
func (b *builder) takeEntityName(pool *Pool, pkg string, e *spec.Entity, s *spec.Spec) string {
	name := EntityName(e)
	if e.Version == 3 && hasREST2Entity(s, e.Family) {
		// As a function's REST 3.0 twin is: tasks.Task and tasks.TaskV3.
		name += "V3"
	}
	got, changed := takeOr(pool, name, "Record")
	if !changed {
		return got
	}
	page := ""
	if len(e.Sources) > 0 {
		page = e.Sources[0]
	}
	b.problem(page, 0, KindNameCollision, fmt.Sprintf("entity %s: Go name %s.%s is taken; using %s", e.Family, pkg, name, got))
	return got
}

// hasREST2Entity reports a REST 2 entity of family fam.
func hasREST2Entity(s *spec.Spec, fam string) bool {
	for _, e := range s.Entities {
		if e.Family == fam && e.Version != 3 {
			return true
		}
	}
	return false
}

// takeCompanion takes the name of a function's companion (its Command, All
// or Export); one another declaration already took is reported.
func (b *builder) takeCompanion(pool *Pool, m *spec.Method, want string) string {
	got := pool.Take(want)
	if got != want {
		b.problem(m.Page, m.Line, KindNameCollision, fmt.Sprintf("%s: Go name %s is taken; using %s", m.Name, want, got))
	}
	return got
}

func (b *builder) problem(file string, line int, kind, msg string) {
	b.problems = append(b.problems, spec.Problem{File: file, Line: line, Kind: kind, Message: msg})
}

// method fills f from m.
func (b *builder) method(m *spec.Method, f *Func) {
	b.m, b.f, b.kept = m, f, map[string][]spec.Param{}
	f.Idempotent = isRead(m.Name)
	f.Doc = b.funcDoc(m, f)

	// Params.
	f.Params.Doc = append([]string{f.Params.Name + " holds the parameters of " + m.Name + "."}, placeholderNote(m.Placeholders)...)
	f.Structs = append(f.Structs, f.Params)
	top := b.fields(f.Params, f.Params.Name, m.Params, true, true)
	b.requiredChecks(f.Params, top, "", "")

	b.result(m, f)
	f.Example = exampleResultJSON(m.Result)
}

var (
	// "Required if ATTACH is not provided", "mandatory when …": the "*"
	// holds under a condition only.
	conditionalRe = regexp.MustCompile(`(?i)\b(required|mandatory|obligatory)\b[^.;]{0,30}?\b(if|when|unless|without|only|in case)\b`)
	// "is set to 0", "0 — the company calendar", "= 0": the page gives
	// zero a meaning.
	zeroMeantRe = regexp.MustCompile(`(?i)(\b(set to|equal to|equals|pass|passed as|specify|is)\s+0\b|(^|\s)0\s*(—|–|-|:|means)\s|=\s*0\b)`)
)

func conditionalRequired(desc string) bool { return conditionalRe.MatchString(desc) }

// zeroMeant reports whether the page gives the value 0 a meaning, in the
// description or as a listed value: then 0 is a value, not absence.
func zeroMeant(p spec.Param) bool {
	for _, e := range p.Enum {
		if e.Value == "0" {
			return true
		}
	}
	return zeroMeantRe.MatchString(p.Description)
}

// requiredChecks adds a check for each required field of st that can be
// told missing (empty string, zero ID, nil list), and descends into
// required nested structs, which are values: "fields.TITLE" is checked
// when fields is required.
func (b *builder) requiredChecks(st *Struct, kept []spec.Param, goPath, wirePath string) {
	for i, fl := range st.Fields {
		p := kept[i]
		if !p.Required || conditionalRequired(p.Description) {
			continue // a condition the page states in prose is not checked
		}
		field, wire := goPath+fl.Name, wirePath+fl.JSON
		switch t := fl.Type; {
		case t.isBuiltin("string") || (t.Kind == Named && b.enumUnder(t.Name) == "string"):
			b.f.Required = append(b.f.Required, RequiredCheck{field, wire, CheckEmptyString, p.Line})
		case (t.isBuiltin("int64") || t.isRuntime("Int")) && spec.IDName(p.Name) && !zeroMeant(p):
			b.f.Required = append(b.f.Required, RequiredCheck{field, wire, CheckZero, p.Line})
		case t.nilable():
			b.f.Required = append(b.f.Required, RequiredCheck{field, wire, CheckNil, p.Line})
		case t.Kind == Named && b.isEntityStruct(t.Name):
			// The write form is shared by add and update, so its fields
			// are optional; what this method's page requires is checked
			// here (crm.deal.add: fields.TITLE is set).
			b.entityRequired(t.Name, p, field+".", wire+".")
		case t.Kind == Named && b.isStruct(t.Name):
			if sub, ok := b.kept[t.Name]; ok {
				b.requiredChecks(b.structNamed(t.Name), sub, field+".", wire+".")
			}
		}
	}
}

// structNamed returns the struct declared for the current method under
// name, or nil.
func (b *builder) structNamed(name string) *Struct {
	for _, s := range b.f.Structs {
		if s.Name == name {
			return s
		}
	}
	return nil
}

// enumUnder returns the underlying builtin of an enum declared for the
// current method, or "".
func (b *builder) enumUnder(name string) string {
	for _, e := range b.f.Enums {
		if e.Name == name {
			return e.Underlying.Name
		}
	}
	return ""
}

func (b *builder) funcDoc(m *spec.Method, f *Func) []string {
	first := f.Name + " calls " + m.Name
	if m.Version == 3 {
		first += " (REST 3.0)"
	}
	if t := oneLine(m.Title); t != "" {
		first += ": " + strings.TrimSuffix(t, ".")
	}
	first += "."
	doc := []string{first}
	doc = append(doc, paragraphs(m.Summary)...)
	var required []string
	for _, p := range m.Params {
		if p.Required {
			required = append(required, p.Name)
		}
	}
	params := "The parameters are the fields of [" + f.Params.Name + "]"
	if len(required) > 0 {
		params += "; required: " + strings.Join(required, ", ")
	}
	doc = append(doc, params+".")
	if who := whoLine(m.Scopes, m.Access, "call it"); who != "" {
		doc = append(doc, who)
	}
	if m.Page != "" {
		doc = append(doc, "See "+docsURL(m.Page))
	}
	if len(m.Errors) > 0 {
		var lines []string
		seen := map[string]bool{}
		system := false
		for _, e := range m.Errors {
			if sys, ok := b.systemErrors[e.Code]; ok && sys == errorMeaning(e) {
				system = true
				continue
			}
			if e.Code == "" {
				// {"error": "", "error_description": "Not found"}: the
				// portal names these by their description only.
				msg := oneLine(e.Message)
				if msg == "" || seen["\x00"+msg] {
					continue
				}
				seen["\x00"+msg] = true
				line := "  - empty code, description " + strconv.Quote(msg)
				if d := oneLine(e.Description); d != "" && d != msg {
					line += ": " + d
				}
				lines = append(lines, line)
				continue
			}
			if seen[e.Code] {
				continue
			}
			seen[e.Code] = true
			line := "  - " + oneLine(e.Code)
			if d := oneLine(cmp.Or(e.Description, e.Message)); d != "" {
				line += ": " + d
			}
			lines = append(lines, line)
		}
		switch {
		case len(lines) > 0 && system:
			doc = append(doc, "Documented errors, besides the system errors of every method ("+SystemErrorsURL+"):", strings.Join(lines, "\n"))
		case len(lines) > 0:
			doc = append(doc, "Documented errors:", strings.Join(lines, "\n"))
		case system:
			doc = append(doc, "Errors: the system errors of every method, see "+SystemErrorsURL)
		}
	}
	return doc
}

// SystemErrorsURL lists the errors any method may return.
const SystemErrorsURL = DocsBase + "error-codes.html"

// systemErrors finds the error codes listed by at least a third of the
// pages that list errors: the included table of system errors, with the
// meaning (message and description) that table gives each. A page that
// gives a system code its own meaning (crm.item.add's ACCESS_DENIED:
// "Access denied" to items of the type) keeps it in its comment. Counted
// over the whole spec, so a -scopes run documents the same way.
func systemErrors(ms []spec.Method) map[string]string {
	count := map[string]int{}
	meanings := map[string]map[string]int{}
	pages := 0
	for _, m := range ms {
		if len(m.Errors) == 0 {
			continue
		}
		pages++
		seen := map[string]bool{}
		for _, e := range m.Errors {
			if e.Code == "" {
				continue
			}
			if meanings[e.Code] == nil {
				meanings[e.Code] = map[string]int{}
			}
			meanings[e.Code][errorMeaning(e)]++
			if !seen[e.Code] {
				seen[e.Code] = true
				count[e.Code]++
			}
		}
	}
	out := map[string]string{}
	if pages < 10 {
		return out // too few pages to tell a shared table from chance
	}
	for code, n := range count {
		if n*3 >= pages {
			out[code] = mostCommon(meanings[code])
		}
	}
	return out
}

// errorMeaning is what an error row says beside its code.
func errorMeaning(e spec.ErrorDoc) string {
	return oneLine(e.Message) + "\x00" + oneLine(e.Description)
}

// mostCommon is the key counted most often; ties go to the smaller key.
func mostCommon(m map[string]int) string {
	best, n := "", -1
	for k, c := range m {
		if c > n || c == n && k < best {
			best, n = k, c
		}
	}
	return best
}

// isRead reports whether a method only reads, by its last segment: reads
// are marked idempotent so the runtime may retry them after an ambiguous
// failure.
func isRead(method string) bool {
	segs := strings.Split(method, ".")
	last := strings.ToLower(segs[len(segs)-1])
	if strings.HasPrefix(last, "get") || strings.HasPrefix(last, "list") {
		return true
	}
	switch last {
	case "fields", "current", "search", "info", "count", "find", "access",
		"time", "methods", "scope", "profile", "userfields", "types", "settings",
		"status", "version", "check", "export", "read", "show", "tail", "history":
		return true
	}
	return false
}

// fields adds one struct field per documented param to st and returns the
// params kept, parallel to st.Fields. prefix names nested types.
func (b *builder) fields(st *Struct, prefix string, ps []spec.Param, isParam, top bool) []spec.Param {
	local := NewPool()
	if st.Extra {
		names := []string{"Extra", "MarshalJSON", "UnmarshalJSON"}
		if isParam {
			names = append(names, WriteNames...)
		} else {
			st.Presence = true
			names = append(names, ReadNames...)
		}
		local = NewPool(names...)
	}
	seen := map[string]bool{}
	var kept []spec.Param
	defer func() {
		if b.kept != nil {
			b.kept[st.Name] = kept
		}
	}()
	for _, p := range ps {
		if !validKey(p.Name) {
			b.problem(b.m.Page, p.Line, "bad-key",
				fmt.Sprintf("%s: key %q cannot be a JSON struct tag; left to Extra", b.m.Name, p.Name))
			continue
		}
		if seen[p.Name] {
			b.problem(b.m.Page, p.Line, "duplicate-key",
				fmt.Sprintf("%s: key %q documented twice; the first row is used", b.m.Name, p.Name))
			continue
		}
		seen[p.Name] = true
		goName := b.takeField(local, st.Name, p)
		var t *Type
		if isParam {
			t = b.paramType(p, b.nestedName(prefix, goName), top)
		} else {
			t = b.resultType(p, b.nestedName(prefix, goName))
		}
		fl := &Field{Name: goName, JSON: p.Name, Type: t, Doc: fieldDoc(p)}
		if isParam {
			if note := cmp.Or(b.keysNote(p, t, top), paramNote(p, t, top)); note != "" {
				fl.Doc = append(fl.Doc, note)
			}
		}
		if isParam && !p.Required {
			fl.OmitZero = true
			if t.Kind == Named && b.isStruct(t.Name) {
				fl.Type = pointerTo(t)
			} else {
				fl.Type = optional(t)
			}
		}
		b.count(isParam, t)
		st.Fields = append(st.Fields, fl)
		kept = append(kept, p)
	}
	return kept
}

// nestedName names the type of field goName in the type prefix (NestedName),
// owned by the current function or one of the package's entities.
func (b *builder) nestedName(prefix, goName string) string {
	var owners []string
	if b.f != nil && b.f.Name != "" {
		owners = append(owners, b.f.Name)
	}
	for _, d := range b.entities {
		owners = append(owners, d.out.Name)
		if d.out.Input != "" {
			owners = append(owners, d.out.Input)
		}
	}
	return NestedName(b.pool, owners, prefix, goName)
}

func (b *builder) count(isParam bool, t *Type) {
	switch {
	case isParam && t.strict():
		b.stats.ParamsStrict++
	case !isParam && t.strict():
		b.stats.ResultFieldsStrict++
	}
	switch {
	case isParam && t.Raw():
		b.stats.ParamsRaw++
	case isParam:
		b.stats.ParamsTyped++
	case t.Raw():
		b.stats.ResultFieldsRaw++
	default:
		b.stats.ResultFieldsTyped++
	}
}

// optional gives an optional param presence: scalars and enums become
// b24.Opt[T]; slices, maps and any are left out when nil. (Structs become
// pointers, left out when nil: see fields.) All carry `json:",omitzero"`.
func optional(t *Type) *Type {
	if t.Kind == Pointer || t.nilable() {
		return t
	}
	return optOf(t)
}

// validKey reports whether encoding/json honours key as a tag name.
func validKey(key string) bool {
	if key == "" || key == "-" {
		return false
	}
	for _, c := range key {
		switch {
		case strings.ContainsRune("!#$%&()*+-./:;<=>?@[]^_{|}~ ", c):
		case unicode.IsLetter(c), unicode.IsDigit(c):
		default:
			return false
		}
	}
	return true
}

func fieldDoc(p spec.Param) []string {
	doc := paragraphs(p.Description)
	var notes []string
	if p.Required {
		notes = append(notes, "Required.")
	}
	if d := oneLine(p.Default); d != "" {
		notes = append(notes, "Default: "+d+".")
	}
	if len(notes) > 0 {
		// The notes end the last prose paragraph; after a list or code
		// they get a paragraph of their own.
		if n := len(doc); n > 0 && !isListPara(doc[n-1]) && !strings.HasPrefix(doc[n-1], "\t") {
			if !strings.HasSuffix(doc[n-1], ".") && !strings.HasSuffix(doc[n-1], "!") && !strings.HasSuffix(doc[n-1], "?") {
				doc[n-1] += "."
			}
			doc[n-1] += " " + strings.Join(notes, " ")
		} else {
			doc = append(doc, strings.Join(notes, " "))
		}
	}
	if p.Deprecated {
		doc = append(doc, "Deprecated: the docs mark this field as deprecated.")
	}
	return doc
}

// keysNote points a list method's filter, select and order at the typed
// keys of the entity its rows are, in that entity's case; "" when the rows
// are no entity with keys.
func (b *builder) keysNote(p spec.Param, t *Type, top bool) string {
	if !top || b.m == nil || b.m.Version == 3 || b.m.Result == nil {
		return ""
	}
	d := b.entity(b.m.Result.Entity)
	if d == nil || len(d.out.Keys) == 0 {
		return ""
	}
	k := d.out.Keys[0].Name
	for _, c := range d.out.Keys {
		if c.Type.Name == "TextKey" {
			k = c.Name
			break
		}
	}
	switch {
	case t.isRuntime("Filter"):
		return "Build it from " + d.out.Name + "'s typed keys, which spell each key as " + d.spec.Family + " does: b24.Terms(" + k + ".Eq(\"x\"), " + d.out.Keys[0].Name + ".Gt(10)); custom fields by conversion, b24.Terms(b24.TextKey(\"UF_CRM_1\").Eq(\"x\"))."
	case t.isRuntime("Order"):
		return "Most significant key first: b24.Order{" + d.out.Keys[0].Name + ".Desc()}."
	case strings.EqualFold(p.Name, "select") && t.Kind == Slice:
		return "b24.Columns(" + d.out.Keys[0].Name + ", " + k + ") spells it from " + d.out.Name + "'s typed keys."
	}
	return ""
}

// paramNote explains the Go type of the parameters whose use is not
// obvious from it.
func paramNote(p spec.Param, t *Type, top bool) string {
	switch {
	case top && t.isRuntime("Filter"):
		return "Keys are field names, optionally prefixed by an operator (\">ID\", \"=STAGE_ID\", \"%TITLE\", \"!ID\"); b24.Filter's methods spell them: b24.Filter{}.Eq(\"STAGE_ID\", \"WON\").Gt(\"ID\", 10)."
	case top && t.isRuntime("FilterV3"):
		return "REST 3.0 conditions, all of which must hold: b24.FilterV3{b24.Where(\"id\", b24.OpGt, 10), b24.Or(…)}, or the typed field constants' methods where the package has them."
	case top && t.isRuntime("Order"):
		return "Most significant key first, sent in that order: b24.Order{b24.Desc(\"DATE_CREATE\"), b24.Asc(\"ID\")}."
	case p.Kind == spec.KindFile:
		return "A file, in the shape this method takes (see its page): b24.FilePair{Name, Content} for [\"name\", \"Base64\"], b24.FileData{Name, Content} for {\"fileData\": [...]}, b24.FileBase64(content) for a Base64 string, or the ID of an uploaded file."
	}
	return ""
}

// paramType is the Go type of a parameter (plain Go types; Y/N chars as
// b24.Bool). name is the Go name for a nested type, if one is needed.
func (b *builder) paramType(p spec.Param, name string, top bool) *Type {
	if top && b.m.Version == 3 {
		if t := v3ParamType(p); t != nil { // v3.go
			return t
		}
	}
	if top {
		switch strings.ToLower(p.Name) {
		case "filter":
			// Keyed by operator and field ("=STAGE_ID", ">ID"), never a
			// record of fields: a struct could not carry the operators
			// the rows' own docs list, nor a custom field.
			if p.Kind == spec.KindObject || p.Kind == spec.KindAny || p.Kind == "" {
				return runtime("Filter")
			}
		case "order":
			// Keys in their significance order, which a struct's field
			// order would fix for ever.
			if p.Kind == spec.KindObject || p.Kind == spec.KindAny || p.Kind == "" {
				return runtime("Order")
			}
		case "select":
			if p.Kind == spec.KindArray || p.Kind == spec.KindAny || p.Kind == "" {
				return sliceOf(tString)
			}
		}
	}
	if d := b.entity(p.Entity); d != nil && d.out.Input != "" {
		return named(d.out.Input)
	}
	if isMultifield(p) {
		return sliceOf(runtime("Multifield"))
	}
	if p.Kind == spec.KindBoolean && p.YN() && b.m.Version != 3 {
		// The page lists Y and N whatever its type column says: the
		// portal reads "Y"/"N", not JSON true/false. REST 3.0 is typed
		// JSON: its pages' Y/N prose sits beside examples of true/false.
		return runtime("Bool")
	}
	switch p.Kind {
	case spec.KindObject:
		if p.KeyedMap() {
			// Keyed by record id: a map of the rows.
			if p.Elem == spec.KindObject && len(p.Fields) > 0 {
				return mapOf(named(b.structFor(name, p, true).Name))
			}
			if el := b.paramScalar(spec.Param{Kind: p.Elem}, name); !el.Raw() {
				return mapOf(el)
			}
		}
		if len(p.Fields) == 0 {
			b.rawProblem(p, "untyped-object", "object without documented fields: map[string]any")
			return mapOf(tAny)
		}
		return named(b.structFor(name, p, true).Name)
	case spec.KindArray:
		if p.Elem == spec.KindObject && len(p.Fields) > 0 {
			return sliceOf(named(b.structFor(name, p, true).Name))
		}
		el := b.paramScalar(spec.Param{Kind: p.Elem, SentAsYN: p.SentAsYN}, name)
		if el.isBuiltin("any") {
			b.rawProblem(p, "untyped-list", "array without a usable element type: []any")
		}
		return sliceOf(el)
	case spec.KindEnum:
		if p.YN() {
			return runtime("Bool")
		}
		if len(p.Enum) == 0 {
			return tString
		}
		if en, ok := b.sharedEnums[p.Name]; ok {
			return named(en) // the entity's read form declared it
		}
		return named(b.enumFor(name, p).Name)
	case spec.KindFile:
		return tAny
	}
	t := b.paramScalar(p, name)
	if t.Raw() {
		b.rawProblem(p, "raw-type", "no usable type: any")
	}
	return t
}

// isStruct reports whether name is a struct declared for the current method.
func (b *builder) isStruct(name string) bool {
	return b.structNamed(name) != nil || b.isEntityStruct(name)
}

func (b *builder) rawProblem(p spec.Param, kind, msg string) {
	b.problem(b.m.Page, cmp.Or(p.Line, b.m.Line), kind,
		fmt.Sprintf("%s: %s: %s", b.m.Name, p.Name, msg))
}

func (b *builder) paramScalar(p spec.Param, name string) *Type {
	switch p.Kind {
	case spec.KindString:
		return tString
	case spec.KindInteger:
		// b24.Int, as results have it: one ID type across params,
		// results and events (DealGetParams{ID: deal.ID}).
		return runtime("Int")
	case spec.KindNumber:
		return tFloat64
	case spec.KindBoolean:
		if p.SentAsYN {
			return runtime("Bool")
		}
		return tBool
	case spec.KindDate:
		return runtime("Date")
	case spec.KindDateTime:
		return runtime("Time")
	case spec.KindEnum:
		return tString
	}
	return tAny
}

// resultScalar is the tolerant runtime type of a returned value.
func resultScalar(k spec.Kind) *Type {
	switch k {
	case spec.KindString, spec.KindEnum:
		return runtime("String")
	case spec.KindInteger:
		return runtime("Int")
	case spec.KindNumber:
		return runtime("Number")
	case spec.KindBoolean:
		return runtime("Bool")
	case spec.KindDate:
		return runtime("Date")
	case spec.KindDateTime:
		return runtime("Time")
	}
	return tRaw
}

// resultType is the Go type of a returned field.
func (b *builder) resultType(p spec.Param, name string) *Type {
	if (p.Kind == spec.KindAny || p.Kind == "") && p.Union != "" {
		return resultScalar(p.Union)
	}
	if isMultifield(p) {
		return sliceOf(runtime("Multifield"))
	}
	if isLocalized(p) {
		return runtime("Localized")
	}
	switch p.Kind {
	case spec.KindObject:
		if p.KeyedMap() && p.Elem == spec.KindObject && len(p.Fields) > 0 {
			return mapOf(named(b.structFor(name, p, false).Name)) // keyed by record id
		}
		if len(p.Fields) == 0 {
			if el := resultScalar(p.Elem); p.Elem != "" && !el.Raw() {
				return mapOf(el) // keyed by ID: {"1317": 1}
			}
			return tRaw
		}
		return named(b.structFor(name, p, false).Name)
	case spec.KindArray:
		// Rows with documented fields are objects whatever the element
		// token says ("User[]" reads as user IDs, the table lists a user).
		if len(p.Fields) > 0 {
			return sliceOf(named(b.structFor(name, p, false).Name))
		}
		el := resultScalar(p.Elem)
		if el.Raw() {
			return tRaw
		}
		return sliceOf(el)
	case spec.KindEnum:
		if p.YN() {
			return runtime("Bool")
		}
		if len(p.Enum) == 0 {
			return runtime("String")
		}
		return named(b.enumFor(name, p).Name)
	}
	return resultScalar(p.Kind)
}

// structFor declares a struct for p's fields under a pool-unique name.
func (b *builder) structFor(name string, p spec.Param, isParam bool) *Struct {
	st := &Struct{Name: b.takeType(name, "Record", p.Line), Extra: true, ExtraDoc: extraDoc(p.Placeholders)}
	what := "of " + b.m.Name
	if p.Name != "" {
		what = "the " + p.Name + " value " + what
	}
	st.Doc = []string{st.Name + " is " + what + "."}
	b.f.Structs = append(b.f.Structs, st)
	b.fields(st, st.Name, p.Fields, isParam, false)
	return st
}

// valueName is the Go name part of an enum value: its words, or for an
// operator its operator's words.
func valueName(v *Vocabulary, value string) string {
	if op, ok := operatorName(strings.TrimSpace(value)); ok {
		return op
	}
	return v.Exported(value)
}

// enumFor declares an enum type with one constant per documented value.
// Integer-typed enums whose values are all integers get an int64 base.
func (b *builder) enumFor(name string, p spec.Param) *Enum {
	e := &Enum{Name: b.takeType(name, "Value", p.Line), Underlying: tString}
	allInt := p.IntEnum
	if allInt {
		e.Underlying = tInt64
	}
	e.Doc = []string{e.Name + " is the " + p.Name + " of " + b.m.Name +
		": the constants below are the documented values; others are accepted too."}
	seen := map[string]bool{}
	for _, v := range p.Enum {
		if seen[v.Value] {
			continue
		}
		seen[v.Value] = true
		lit := strconv.Quote(v.Value)
		if allInt {
			n, _ := strconv.ParseInt(v.Value, 10, 64)
			lit = strconv.FormatInt(n, 10)
		}
		e.Values = append(e.Values, EnumValue{
			Name:  b.takeType(e.Name+valueName(b.vocab, v.Value), "Value", p.Line),
			Value: lit,
			Doc:   oneLine(v.Description),
		})
	}
	b.f.Enums = append(b.f.Enums, e)
	return e
}

// paragraphs splits docs text into the paragraphs of a doc comment. Prose
// paragraphs (split at blank lines) are joined into one line each; a run
// of list items ("- x", "1. x", nested by two spaces: the spec's
// descriptions) becomes a paragraph of its own, one item a line, indented
// by two more spaces: the form emit's comment renders as a godoc list. Code
// lines (led by a tab) make a paragraph of their own, kept as they are.
func paragraphs(s string) []string {
	var out []string
	var prose []string // lines of the paragraph being read
	var list []string  // items of the list being read
	topMarker := ""    // marker of the list's top-level items
	var code []string  // lines of the code block being read
	flushProse := func() {
		if p := oneLine(strings.Join(prose, " ")); p != "" {
			out = append(out, p)
		}
		prose = nil
	}
	flushList := func() {
		if len(list) > 0 {
			out = append(out, strings.Join(list, "\n"))
		}
		list, topMarker = nil, ""
	}
	flushCode := func() {
		for len(code) > 0 && code[len(code)-1] == "\t" {
			code = code[:len(code)-1] // blank lines do not end a block
		}
		if len(code) > 0 {
			out = append(out, strings.Join(code, "\n"))
		}
		code = nil
	}
	for _, line := range strings.Split(strings.ReplaceAll(s, "\r\n", "\n"), "\n") {
		if strings.HasPrefix(line, "\t") {
			// A code line: kept as it is, tab first (the spec's form and
			// godoc's).
			flushProse()
			flushList()
			if l := "\t" + strings.TrimRight(line[1:], " \t"); l != "\t" || len(code) > 0 {
				code = append(code, l) // blank lines do not start a block either
			}
			continue
		}
		flushCode()
		if strings.TrimSpace(line) == "" {
			flushProse()
			flushList()
			continue
		}
		if depth, marker, text, ok := ListLine(line); ok {
			flushProse()
			if depth == 0 && topMarker == "" {
				topMarker = marker
			}
			if depth == 0 && (marker == "-") != (topMarker == "-") {
				// Godoc reads one list of one kind, so bullets and numbers
				// mixed at the top become bullets that keep their number.
				if marker == "-" {
					for i, l := range list {
						if d, m, t, _ := ListLine(l[2:]); d == 0 && m != "-" {
							list[i] = "  - " + m + " " + t
						}
					}
					topMarker = "-"
				} else {
					text, marker = marker+" "+text, "-"
				}
			}
			if text = oneLine(text); text != "" {
				list = append(list, strings.Repeat("  ", depth+1)+marker+" "+text)
			}
			continue
		}
		flushList()
		prose = append(prose, line)
	}
	flushProse()
	flushList()
	flushCode()
	return out
}

// ListLine reads a list item of a spec description: "- text" or "1. text",
// indented by two spaces per nesting level. Doc list paragraphs are written
// in the same form, one level deeper (see paragraphs), and package emit
// reads them back with it.
func ListLine(line string) (depth int, marker, text string, ok bool) {
	t := strings.TrimLeft(line, " ")
	depth = (len(line) - len(t)) / 2
	if rest, found := strings.CutPrefix(t, "- "); found {
		return depth, "-", rest, true
	}
	n := 0
	for n < len(t) && t[n] >= '0' && t[n] <= '9' {
		n++
	}
	if n > 0 && n <= 9 && strings.HasPrefix(t[n:], ". ") {
		return depth, t[:n+1], t[n+2:], true
	}
	return 0, "", "", false
}

// isListPara reports whether a doc paragraph is a list (see paragraphs).
func isListPara(p string) bool {
	_, _, _, ok := ListLine(p)
	return ok && strings.HasPrefix(p, "  ")
}

// whoLine is the doc sentence on the scopes and the access rule of a method
// or event ("" when the page gives neither); verb says what the access
// rule allows ("call it", "subscribe").
func whoLine(scopes []string, access, verb string) string {
	var who []string
	if len(scopes) > 0 {
		who = append(who, "Scope: "+strings.Join(scopes, ", ")+".")
	}
	if a := strings.TrimSpace(access); a != "" {
		who = append(who, "Who can "+verb+": "+strings.TrimSuffix(oneLine(a), ".")+".")
	}
	return strings.Join(who, " ")
}

// oneLine collapses all white space to single spaces.
func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }
