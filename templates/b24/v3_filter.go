package b24

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// REST 3.0 filters (api-reference/rest-v3.md, "Filtering"): a JSON array of
// conditions joined by AND, each [field, operator, value] (or [field, value]
// for =), and {"logic": "or", "conditions": [...]} groups. The operators are
// =, !=, >, >=, <, <=, in and between.
//
// The builder makes a wrong operator a compile error where it can: a field
// constant of type Field[T] has only the equality methods (Eq, Ne, In), an
// OrderedField[T] adds the comparisons (Gt, Ge, Lt, Le, Between), and the
// value must be a T. Fields the docs do not list go through Where, whose
// Operator can only be one of the documented ones.
//
//	p := tasks.TaskListV3Params{
//		Filter: b24.FilterV3{
//			tasks.TaskV3ID.Gt(100),
//			b24.Or(tasks.TaskV3Status.Eq("pending"), tasks.TaskV3Status.Eq("in_progress")),
//		},
//		Select: b24.Select(tasks.TaskV3ID, tasks.TaskV3Title, tasks.TaskV3Responsible.Dot(tasks.UserV3Name)),
//		Order:  b24.Order{tasks.TaskV3ID.Desc()},
//	}

// FilterV3 is the filter of a REST 3.0 list method: its conditions all hold
// (AND). It encodes as the JSON array REST 3.0 reads. Use Or for alternatives.
type FilterV3 []Cond

// Operator is a REST 3.0 filter operator; only the documented ones exist.
type Operator struct{ op string }

// The REST 3.0 filter operators.
var (
	OpEq      = Operator{"="}       // equals
	OpNe      = Operator{"!="}      // not equals
	OpGt      = Operator{">"}       // greater than
	OpGe      = Operator{">="}      // greater than or equal to
	OpLt      = Operator{"<"}       // less than
	OpLe      = Operator{"<="}      // less than or equal to
	OpIn      = Operator{"in"}      // one of the values in a list
	OpBetween = Operator{"between"} // in the range [from, to]
)

func (o Operator) String() string { return o.op }

var v3Operators = map[string]Operator{"=": OpEq, "!=": OpNe, ">": OpGt, ">=": OpGe, "<": OpLt, "<=": OpLe, "in": OpIn, "between": OpBetween}

// Cond is one condition of a REST 3.0 filter, or an OR group of them. Build
// it from a field constant (tasks.TaskV3ID.Gt(5)), with Where, or with Or.
type Cond struct {
	field string
	op    Operator
	value any
	or    []Cond // an OR group when non-nil
	err   error
}

// Where is the condition field op value for a field without a typed constant
// (a custom field, a field the docs do not list). REST 3.0 only.
func Where(field string, op Operator, value any) Cond {
	c := Cond{field: field, op: op, value: value}
	switch {
	case field == "":
		c.err = errors.New("b24: REST 3.0 filter: empty field name")
	case op.op == "":
		c.err = fmt.Errorf("b24: REST 3.0 filter: field %q: no operator (use b24.OpEq and the others)", field)
	}
	return c
}

// Or is a group whose conditions are joined by OR: {"logic":"or","conditions":[…]}.
// REST 3.0 only.
func Or(conds ...Cond) Cond {
	c := Cond{or: append([]Cond{}, conds...)}
	if len(conds) == 0 {
		c.err = errors.New("b24: REST 3.0 filter: Or() without conditions")
	}
	return c
}

// String shows the condition as it is sent.
func (c Cond) String() string {
	b, err := json.Marshal(c)
	if err != nil {
		return err.Error()
	}
	return string(b)
}

// MarshalJSON writes [field, operator, value] or the OR group.
func (c Cond) MarshalJSON() ([]byte, error) {
	if c.err != nil {
		return nil, c.err
	}
	if c.or != nil {
		return json.Marshal(struct {
			Logic      string `json:"logic"`
			Conditions []Cond `json:"conditions"`
		}{"or", c.or})
	}
	if c.field == "" && c.op.op == "" {
		return nil, errors.New("b24: REST 3.0 filter: a zero Cond (build conditions with a field's methods, b24.Where or b24.Or)")
	}
	return json.Marshal([]any{c.field, c.op.op, c.value})
}

// UnmarshalJSON reads the forms REST 3.0 accepts: [field, op, value],
// [field, value] (=) and {"logic": "or", "conditions": [...]}.
func (c *Cond) UnmarshalJSON(data []byte) error {
	data = bytes.TrimSpace(data)
	*c = Cond{}
	if len(data) > 0 && data[0] == '{' {
		var g struct {
			Logic      string `json:"logic"`
			Conditions []Cond `json:"conditions"`
		}
		if err := json.Unmarshal(data, &g); err != nil {
			return fmt.Errorf("b24: REST 3.0 filter group: %w", err)
		}
		if !strings.EqualFold(g.Logic, "or") {
			return fmt.Errorf("b24: REST 3.0 filter group: logic %q (want \"or\")", g.Logic)
		}
		c.or = append([]Cond{}, g.Conditions...)
		return nil
	}
	var parts []json.RawMessage
	if err := json.Unmarshal(data, &parts); err != nil {
		return fmt.Errorf("b24: REST 3.0 filter condition: %w", err)
	}
	if len(parts) < 2 || len(parts) > 3 {
		return fmt.Errorf("b24: REST 3.0 filter condition with %d elements (want [field, operator, value] or [field, value])", len(parts))
	}
	if err := json.Unmarshal(parts[0], &c.field); err != nil {
		return fmt.Errorf("b24: REST 3.0 filter condition: field: %w", err)
	}
	c.op, parts = OpEq, parts[1:]
	if len(parts) == 2 {
		var op string
		if err := json.Unmarshal(parts[0], &op); err != nil {
			return fmt.Errorf("b24: REST 3.0 filter condition %q: operator: %w", c.field, err)
		}
		o, ok := v3Operators[strings.ToLower(op)]
		if !ok {
			return fmt.Errorf("b24: REST 3.0 filter condition %q: unknown operator %q", c.field, op)
		}
		c.op, parts = o, parts[1:]
	} else if bytes.HasPrefix(bytes.TrimSpace(parts[0]), []byte("[")) {
		c.op = OpIn // ["id", [1,2]] is ["id", "in", [1,2]]
	}
	c.value = parts[0]
	return nil
}

// Selector is a field name for select or order: a field constant, a related
// field (Relation.Dot) or a FieldPath.
type Selector interface{ Name() string }

// FieldPath is a field name as REST 3.0 reads it in select, with dots for
// the fields of related objects ("responsible.name").
type FieldPath string

// Name is the path as sent.
func (p FieldPath) Name() string { return string(p) }

// Select lists fields for a REST 3.0 select parameter.
func Select(fields ...Selector) []string {
	out := make([]string, len(fields))
	for i, f := range fields {
		out[i] = f.Name()
	}
	return out
}

// Relation is a field of a REST 3.0 object that holds a related object
// (a task's responsible, group, creator); select its fields with Dot.
type Relation string

// Name is the relation's own name ("responsible").
func (r Relation) Name() string { return string(r) }

// Dot is the related object's field sub, for select: "responsible.name"
// (tasks.TaskV3Responsible.Dot(tasks.UserV3Name)); sub may be a FieldPath
// for a field the docs do not list, or another Dot for a deeper level.
func (r Relation) Dot(sub Selector) FieldPath { return FieldPath(string(r) + "." + sub.Name()) }

// Field is a REST 3.0 field that filters with =, != and in (values of type T).
// Its order methods make sort keys for b24.Order.
type Field[T any] string

// Name is the field's wire name.
func (f Field[T]) Name() string { return string(f) }

// Eq is [field, "=", v].
func (f Field[T]) Eq(v T) Cond { return Where(string(f), OpEq, v) }

// Ne is [field, "!=", v].
func (f Field[T]) Ne(v T) Cond { return Where(string(f), OpNe, v) }

// In is [field, "in", [vs…]].
func (f Field[T]) In(vs ...T) Cond { return Where(string(f), OpIn, append([]T{}, vs...)) }

// Asc sorts by the field, ascending.
func (f Field[T]) Asc() OrderBy { return Asc(string(f)) }

// Desc sorts by the field, descending.
func (f Field[T]) Desc() OrderBy { return Desc(string(f)) }

// OrderedField is a REST 3.0 field whose values compare (numbers, dates):
// besides =, != and in it filters with >, >=, <, <= and between.
type OrderedField[T any] string

// Name is the field's wire name.
func (f OrderedField[T]) Name() string { return string(f) }

// Eq is [field, "=", v].
func (f OrderedField[T]) Eq(v T) Cond { return Where(string(f), OpEq, v) }

// Ne is [field, "!=", v].
func (f OrderedField[T]) Ne(v T) Cond { return Where(string(f), OpNe, v) }

// In is [field, "in", [vs…]].
func (f OrderedField[T]) In(vs ...T) Cond { return Where(string(f), OpIn, append([]T{}, vs...)) }

// Gt is [field, ">", v].
func (f OrderedField[T]) Gt(v T) Cond { return Where(string(f), OpGt, v) }

// Ge is [field, ">=", v].
func (f OrderedField[T]) Ge(v T) Cond { return Where(string(f), OpGe, v) }

// Lt is [field, "<", v].
func (f OrderedField[T]) Lt(v T) Cond { return Where(string(f), OpLt, v) }

// Le is [field, "<=", v].
func (f OrderedField[T]) Le(v T) Cond { return Where(string(f), OpLe, v) }

// Between is [field, "between", [from, to]], both ends included.
func (f OrderedField[T]) Between(from, to T) Cond {
	return Where(string(f), OpBetween, []T{from, to})
}

// Asc sorts by the field, ascending.
func (f OrderedField[T]) Asc() OrderBy { return Asc(string(f)) }

// Desc sorts by the field, descending.
func (f OrderedField[T]) Desc() OrderBy { return Desc(string(f)) }
