package b24

// Typed REST 2 keys. The generated packages declare one constant per field
// of each entity with a fields page, spelled as that entity spells it on
// the wire (crm.DealKeyStageID = "STAGE_ID", crm.ItemKeyStageID = "stageId"),
// and typed by what the field holds, so a filter says what the portal will
// understand or does not compile:
//
//	p.Filter = b24.Terms(crm.DealKeyStageID.Eq("WON"), crm.DealKeyOpportunity.Gt(1000))
//	p.Select = b24.Columns(crm.DealKeyID, crm.DealKeyTitle)
//	p.Order = b24.Order{crm.DealKeyDateCreate.Desc()}
//
// An ordered operator on a text field (crm.DealKeyTitle.Gt) or a value of
// the wrong type (crm.DealKeyDateCreate.Gt(5)) is a compile error. The
// operators are the REST 3.0 ones by name (Eq, Ne, Gt, Ge, Lt, Le, In,
// NotIn); a REST 2 key makes a Term, never a REST 3.0 Cond, so the two
// filters cannot be mixed up. Custom fields (UF_CRM_…) go through the same
// types by conversion: b24.TextKey("UF_CRM_1700000000"),
// b24.OrderedKey[int64]("UF_CRM_SUM").

// Term is one condition of a REST 2 filter: the key with its operator
// prefix (">=DATE_CREATE") and the value.
type Term struct {
	Key   string
	Value any
}

// Terms is the REST 2 filter that holds every term: the portal combines a
// filter's keys with AND. A later term with the same operator and key
// replaces an earlier one, as in the map it builds.
func Terms(terms ...Term) Filter {
	f := make(Filter, len(terms))
	for _, t := range terms {
		f[t.Key] = t.Value
	}
	return f
}

// With adds terms to the filter (making it if nil) and returns it.
func (f Filter) With(terms ...Term) Filter {
	if f == nil {
		f = make(Filter, len(terms))
	}
	for _, t := range terms {
		f[t.Key] = t.Value
	}
	return f
}

// Column is a key a REST 2 select takes: one of the typed keys.
type Column interface{ column() string }

// Columns is a select list of typed keys, in order.
func Columns(cs ...Column) []string {
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = c.column()
	}
	return out
}

// Key is a REST 2 field compared for equality only: its values are of type
// T (a flag, an identifier list, a status code) and have no order the
// portal filters by.
type Key[T any] string

func (k Key[T]) column() string { return string(k) }

// Eq is key = v.
func (k Key[T]) Eq(v T) Term { return Term{"=" + string(k), v} }

// Ne is key ≠ v.
func (k Key[T]) Ne(v T) Term { return Term{"!=" + string(k), v} }

// In is key being one of vs.
func (k Key[T]) In(vs ...T) Term { return Term{"@" + string(k), append([]T{}, vs...)} }

// NotIn is key being none of vs.
func (k Key[T]) NotIn(vs ...T) Term { return Term{"!@" + string(k), append([]T{}, vs...)} }

// Empty is key unset ("=KEY": "" as the portal spells it).
func (k Key[T]) Empty() Term { return Term{"=" + string(k), ""} }

// Asc sorts by the key, ascending.
func (k Key[T]) Asc() OrderBy { return Asc(string(k)) }

// Desc sorts by the key, descending.
func (k Key[T]) Desc() OrderBy { return Desc(string(k)) }

// OrderedKey is a REST 2 field whose values of type T (a number, a date)
// the portal also compares by order.
type OrderedKey[T any] string

func (k OrderedKey[T]) column() string { return string(k) }

// Eq is key = v.
func (k OrderedKey[T]) Eq(v T) Term { return Term{"=" + string(k), v} }

// Ne is key ≠ v.
func (k OrderedKey[T]) Ne(v T) Term { return Term{"!=" + string(k), v} }

// Gt is key > v.
func (k OrderedKey[T]) Gt(v T) Term { return Term{">" + string(k), v} }

// Ge is key ≥ v.
func (k OrderedKey[T]) Ge(v T) Term { return Term{">=" + string(k), v} }

// Lt is key < v.
func (k OrderedKey[T]) Lt(v T) Term { return Term{"<" + string(k), v} }

// Le is key ≤ v.
func (k OrderedKey[T]) Le(v T) Term { return Term{"<=" + string(k), v} }

// In is key being one of vs.
func (k OrderedKey[T]) In(vs ...T) Term { return Term{"@" + string(k), append([]T{}, vs...)} }

// NotIn is key being none of vs.
func (k OrderedKey[T]) NotIn(vs ...T) Term { return Term{"!@" + string(k), append([]T{}, vs...)} }

// Empty is key unset.
func (k OrderedKey[T]) Empty() Term { return Term{"=" + string(k), ""} }

// Asc sorts by the key, ascending.
func (k OrderedKey[T]) Asc() OrderBy { return Asc(string(k)) }

// Desc sorts by the key, descending.
func (k OrderedKey[T]) Desc() OrderBy { return Desc(string(k)) }

// TextKey is a REST 2 text field: equality and the LIKE operators, no
// order.
type TextKey string

func (k TextKey) column() string { return string(k) }

// Eq is key = v, exactly.
func (k TextKey) Eq(v string) Term { return Term{"=" + string(k), v} }

// Ne is key ≠ v.
func (k TextKey) Ne(v string) Term { return Term{"!=" + string(k), v} }

// In is key being one of vs.
func (k TextKey) In(vs ...string) Term { return Term{"@" + string(k), append([]string{}, vs...)} }

// NotIn is key being none of vs.
func (k TextKey) NotIn(vs ...string) Term { return Term{"!@" + string(k), append([]string{}, vs...)} }

// Like is key containing substr ("%KEY"; no % in substr).
func (k TextKey) Like(substr string) Term { return Term{"%" + string(k), substr} }

// NotLike is key not containing substr ("!%KEY").
func (k TextKey) NotLike(substr string) Term { return Term{"!%" + string(k), substr} }

// Pattern is key matching a LIKE pattern whose % the value spells
// ("=%KEY": "Lamp%").
func (k TextKey) Pattern(pattern string) Term { return Term{"=%" + string(k), pattern} }

// Empty is key unset.
func (k TextKey) Empty() Term { return Term{"=" + string(k), ""} }

// Asc sorts by the key, ascending.
func (k TextKey) Asc() OrderBy { return Asc(string(k)) }

// Desc sorts by the key, descending.
func (k TextKey) Desc() OrderBy { return Desc(string(k)) }

// FlagKey is a REST 2 Y/N field: its filter value is "Y" or "N", whatever
// Go bool it is given.
type FlagKey string

func (k FlagKey) column() string { return string(k) }

// Eq is key = "Y" for true, "N" for false.
func (k FlagKey) Eq(v bool) Term { return Term{"=" + string(k), yn(v)} }

// Ne is key ≠ "Y" for true, "N" for false.
func (k FlagKey) Ne(v bool) Term { return Term{"!=" + string(k), yn(v)} }

// Asc sorts by the key, ascending.
func (k FlagKey) Asc() OrderBy { return Asc(string(k)) }

// Desc sorts by the key, descending.
func (k FlagKey) Desc() OrderBy { return Desc(string(k)) }

func yn(v bool) string {
	if v {
		return "Y"
	}
	return "N"
}
