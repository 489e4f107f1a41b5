package generator

import (
	"cmp"
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/b24gen/b24gen/spec"
)

// validate refuses input the generator cannot turn into faithful Go: an
// import path Go would not accept, text Go source cannot hold (a NUL, a
// byte-order mark inside a file, invalid UTF-8), a method or event name
// holding invisible or control characters (a newline, a zero-width space:
// the generated call would use a name the portal does not know and the
// runtime refuses), and two method records with one name and version (the
// second would be generated beside the first). Each error names the record
// by page and name, and is short: a spec is never quoted whole.
//
// Odd but visible names ("a..b", Cyrillic) are left to the model, which
// reports what it makes of them.
func validate(s *spec.Spec, importPath string) error {
	if err := checkImportPath(importPath); err != nil {
		return fmt.Errorf("generator: import path %q: %w", importPath, err)
	}
	var errs []error
	add := func(page, what string, err error) {
		if len(errs) < 10 {
			errs = append(errs, fmt.Errorf("generator: %s: %s: %w", cmp.Or(page, "(no page)"), what, err))
		} else if len(errs) == 10 {
			errs = append(errs, errors.New("generator: … more invalid records not listed"))
		}
	}
	if err := checkText(reflect.ValueOf(s.Source), "source"); err != nil {
		add("", "the spec's source", err)
	}
	seen := map[string]string{} // method key → page
	for i := range s.Methods {
		m := &s.Methods[i]
		what := "method " + strconv.Quote(m.Name)
		if err := checkName(m.Name); err != nil {
			add(m.Page, what, err)
			continue
		}
		if prev, ok := seen[m.Key()]; ok {
			add(m.Page, what, fmt.Errorf("REST %d is documented twice (also by %s)", cmp.Or(m.Version, 2), prev))
			continue
		}
		seen[m.Key()] = m.Page
		if err := checkText(reflect.ValueOf(*m), ""); err != nil {
			add(m.Page, what, err)
		}
	}
	for i := range s.Events {
		e := &s.Events[i]
		what := "event " + strconv.Quote(e.Name)
		if err := checkName(e.Name); err != nil {
			add(e.Page, what, err)
			continue
		}
		if err := checkText(reflect.ValueOf(*e), ""); err != nil {
			add(e.Page, what, err)
		}
	}
	return errors.Join(errs...)
}

// checkName refuses a name with a control, format (zero-width, bidi),
// separator or space character, or invalid UTF-8: never part of a real
// method or event name, and invisible in the generated code.
func checkName(name string) error {
	if !utf8.ValidString(name) {
		return errors.New("the name is not valid UTF-8")
	}
	for i, r := range name {
		if unicode.In(r, unicode.Cc, unicode.Cf, unicode.Z) {
			return fmt.Errorf("the name holds %U at byte %d (a control, invisible or space character)", r, i)
		}
	}
	return nil
}

// checkText walks the strings of a spec record (nested params included)
// and refuses what Go source cannot hold even in a comment or a string
// literal the generator writes: a NUL, a byte-order mark, invalid UTF-8.
// The error names the field by its path.
func checkText(v reflect.Value, path string) error {
	switch v.Kind() {
	case reflect.String:
		s := v.String()
		if !utf8.ValidString(s) {
			return fmt.Errorf("%s is not valid UTF-8", path)
		}
		if i := strings.IndexAny(s, "\x00\uFEFF"); i >= 0 {
			r, _ := utf8.DecodeRuneInString(s[i:])
			return fmt.Errorf("%s holds %U at byte %d, which Go source cannot hold", path, r, i)
		}
	case reflect.Struct:
		t := v.Type()
		for i := range v.NumField() {
			name := t.Field(i).Name
			if tag, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ","); tag != "" && tag != "-" {
				name = tag
			}
			if err := checkText(v.Field(i), join(path, name)); err != nil {
				return err
			}
		}
	case reflect.Slice:
		if v.Type().Elem().Kind() == reflect.Uint8 {
			return nil // raw JSON examples: the emitter quotes them
		}
		for i := range v.Len() {
			elem := v.Index(i)
			label := fmt.Sprintf("%s[%d]", path, i)
			if elem.Kind() == reflect.Struct {
				if n := elem.FieldByName("Name"); n.IsValid() && n.Kind() == reflect.String {
					label = fmt.Sprintf("%s[%q]", path, n.String()) // params by name
				}
			}
			if err := checkText(elem, label); err != nil {
				return err
			}
		}
	case reflect.Pointer:
		if !v.IsNil() {
			return checkText(v.Elem(), path)
		}
	}
	return nil
}

func join(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}

// checkImportPath accepts what the go command accepts as the import path of
// a package in a module: elements separated by single slashes, each made
// of ASCII letters, digits and - . _ ~ +, neither empty nor "." or "..",
// not starting with a dot or ending with one, and no element that Windows
// reserves as a file name (CON, NUL, COM1, …) before its first dot.
func checkImportPath(p string) error {
	if p == "" {
		return errors.New("empty")
	}
	if p[0] == '-' {
		return errors.New("starts with a dash")
	}
	for i, elem := range strings.Split(p, "/") {
		if err := checkImportElem(elem); err != nil {
			return fmt.Errorf("element %d %q: %w", i+1, elem, err)
		}
	}
	return nil
}

func checkImportElem(elem string) error {
	switch {
	case elem == "":
		return errors.New("empty (a leading, trailing or double slash)")
	case strings.Trim(elem, ".") == "":
		return errors.New("only dots")
	case elem[0] == '.':
		return errors.New("starts with a dot")
	case elem[len(elem)-1] == '.':
		return errors.New("ends with a dot")
	}
	for _, r := range elem {
		ok := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-._~+", r)
		if !ok {
			return fmt.Errorf("%q is not allowed (only letters, digits and - . _ ~ +)", r)
		}
	}
	short, _, _ := strings.Cut(elem, ".")
	switch strings.ToUpper(short) {
	case "CON", "PRN", "AUX", "NUL", "COM1", "COM2", "COM3", "COM4", "COM5", "COM6", "COM7", "COM8", "COM9",
		"LPT1", "LPT2", "LPT3", "LPT4", "LPT5", "LPT6", "LPT7", "LPT8", "LPT9":
		return errors.New("a reserved file name on Windows")
	}
	return nil
}
