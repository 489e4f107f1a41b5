package b24

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// APIError is an error answered by the portal: a REST 2 body
// {"error": "CODE", "error_description": "..."}, a REST 3.0 body
// {"error": {"code": "...", "message": "...", "validation": [...]}}, or a
// failed command inside a batch.
//
// errors.Is matches an APIError against the sentinels below (and against any
// other *APIError) by Code, case-insensitively: errors.Is(err, ErrNotFound).
type APIError struct {
	Code        string            // "QUERY_LIMIT_EXCEEDED", "insufficient_scope", …
	Description string            // error_description (REST 2) or message (REST 3.0)
	Status      int               // HTTP status; 0 for a command inside a batch
	Method      string            // the method called, "crm.deal.get"
	Validation  []ValidationError // REST 3.0 field-level details

	resetAt time.Time // operating_reset_at sent with a 429, if any
}

// ValidationError is one REST 3.0 field-level validation failure.
type ValidationError struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

func (e *APIError) Error() string {
	var b strings.Builder
	b.WriteString("b24: ")
	if e.Method != "" {
		b.WriteString(e.Method)
		b.WriteString(": ")
	}
	switch {
	case e.Code != "" && e.Description != "":
		b.WriteString(e.Code)
		b.WriteString(": ")
		b.WriteString(e.Description)
	case e.Code != "":
		b.WriteString(e.Code)
	case e.Description != "":
		b.WriteString(e.Description) // an empty-code error: the text is all there is
	default:
		b.WriteString("error without a code or a description")
	}
	if h := v3Hint(e.Code); h != "" {
		b.WriteString(" (")
		b.WriteString(h)
		b.WriteString(")")
	}
	if e.Status != 0 {
		b.WriteString(" (HTTP ")
		b.WriteString(strconv.Itoa(e.Status))
		b.WriteString(")")
	}
	for _, v := range e.Validation {
		b.WriteString("; ")
		if v.Field != "" {
			b.WriteString(v.Field)
			b.WriteString(": ")
		}
		b.WriteString(v.Message)
	}
	return b.String()
}

// Is reports whether target is an *APIError with the same code, compared
// case-insensitively and through the alias table (ERROR_NOT_FOUND is
// NOT_FOUND), so sentinels match whatever spelling the portal used. An error
// with an empty code ({"error":"","error_description":"Not found"}) matches
// the sentinel its description names (see DescriptionCode).
func (e *APIError) Is(target error) bool {
	t, ok := target.(*APIError)
	if !ok || t.Code == "" {
		return false
	}
	code := e.Code
	if code == "" {
		if code = DescriptionCode(e.Description); code == "" {
			return false
		}
	}
	return canonicalCode(code) == canonicalCode(t.Code)
}

// DescriptionCode returns the code that an error answered with an empty code
// means, judged by its description, or "" when it names none. The rules come
// from the docs' error tables and examples (spec/bitrix24.json and the
// corpus: 272 table rows and 211 examples with an empty code): "Not found",
// "The Preset with ID '347' is not found" → NOT_FOUND; "Access denied.",
// "You do not have permission to …" → ACCESS_DENIED; "ID is not defined or
// invalid.", "Parameter 'fields' must be array." → ERROR_ARGUMENT; "The
// current method required more scopes" → insufficient_scope. Matching is
// case-insensitive, on the trimmed text without its final period and without
// a leading "[Contact #2647]".
func DescriptionCode(desc string) string {
	n := normalizeDescription(desc)
	if n == "" {
		return ""
	}
	for _, r := range descriptionRules {
		if r.matches(n) {
			return r.code
		}
	}
	return ""
}

func normalizeDescription(desc string) string {
	n := strings.ToLower(strings.TrimSpace(desc))
	if strings.HasPrefix(n, "[") {
		if i := strings.IndexByte(n, ']'); i > 0 {
			n = strings.TrimSpace(n[i+1:])
		}
	}
	return strings.TrimRight(n, ".! ")
}

// descriptionRule maps descriptions to a code; the first rule that matches
// wins, so the narrower meanings (access, scope, argument) come before "not
// found", which a missing field's message also ends with.
type descriptionRule struct {
	code                            string
	exact, prefix, contains, suffix []string
	unless                          []string // words that veto the rule
}

func (r descriptionRule) matches(n string) bool {
	for _, w := range r.unless {
		if strings.Contains(n, w) {
			return false
		}
	}
	for _, x := range r.exact {
		if n == x {
			return true
		}
	}
	for _, x := range r.prefix {
		if strings.HasPrefix(n, x) {
			return true
		}
	}
	for _, x := range r.contains {
		if strings.Contains(n, x) {
			return true
		}
	}
	for _, x := range r.suffix {
		if strings.HasSuffix(n, x) {
			return true
		}
	}
	return false
}

var descriptionRules = []descriptionRule{
	{code: "ACCESS_DENIED", exact: []string{"access denied"}, prefix: []string{"access denied", "you cannot change", "you cannot delete"},
		contains: []string{"have permission", "has no permission", "no permissions to", "access permission"}},
	{code: "insufficient_scope", contains: []string{"more scopes"}},
	{code: "ERROR_ARGUMENT",
		prefix: []string{"wrong ", "incorrect ", "invalid value", "an incorrect value", "mandatory parameter", "the required parameter"},
		contains: []string{"not defined or invalid", "invalid or not defined", "must be array", "must be indexed array",
			"is not valid", "incorrect value", "is not defined", "is not set", "not specified", "not provided", "is required", "' field is not found"}},
	{code: "NOT_FOUND", exact: []string{"not found"}, suffix: []string{" not found", " does not exist"},
		unless: []string{"module", "method"}},
}

// codeAliases maps codes (upper case) that mean the same thing to one
// spelling; the docs use both forms for several of them.
var codeAliases = map[string]string{
	"ERROR_NOT_FOUND":         "NOT_FOUND",
	"ERROR_METHOD_NOT_FOUND":  "METHOD_NOT_FOUND",
	"NO_AUTH_FOUND":           "INVALID_TOKEN",
	"INTERNAL_SERVER_ERROR":   "INTERNAL",
	"ERROR_UNEXPECTED_ANSWER": "INTERNAL",
}

func canonicalCode(code string) string {
	up := strings.ToUpper(code)
	if c, ok := codeAliases[up]; ok {
		return c
	}
	return up
}

// Sentinels for the codes callers branch on. Compare with errors.Is.
var (
	// ErrQueryLimitExceeded: the portal's request-rate bucket is full (HTTP 503).
	// The client retries it by itself; it reaches the caller only when the
	// retries or the context deadline run out.
	ErrQueryLimitExceeded = &APIError{Code: "QUERY_LIMIT_EXCEEDED"}
	// ErrOperationTimeLimit: the method used up its execution-time budget (HTTP 429).
	ErrOperationTimeLimit = &APIError{Code: "OPERATION_TIME_LIMIT"}
	ErrOverloadLimit      = &APIError{Code: "OVERLOAD_LIMIT"}
	ErrAccessDenied       = &APIError{Code: "ACCESS_DENIED"}
	ErrInsufficientScope  = &APIError{Code: "insufficient_scope"}
	ErrInvalidCredentials = &APIError{Code: "INVALID_CREDENTIALS"}
	// ErrInvalidToken matches invalid_token and NO_AUTH_FOUND (a wrong webhook secret).
	ErrInvalidToken = &APIError{Code: "invalid_token"}
	ErrExpiredToken = &APIError{Code: "expired_token"}
	// ErrNotFound matches NOT_FOUND and ERROR_NOT_FOUND.
	ErrNotFound = &APIError{Code: "NOT_FOUND"}
	// ErrMethodNotFound matches ERROR_METHOD_NOT_FOUND and METHOD_NOT_FOUND.
	ErrMethodNotFound = &APIError{Code: "ERROR_METHOD_NOT_FOUND"}
	// ErrInternal matches INTERNAL_SERVER_ERROR and ERROR_UNEXPECTED_ANSWER.
	ErrInternal        = &APIError{Code: "INTERNAL_SERVER_ERROR"}
	ErrArgument        = &APIError{Code: "ERROR_ARGUMENT"}
	ErrCore            = &APIError{Code: "ERROR_CORE"}
	ErrBatchLength     = &APIError{Code: "ERROR_BATCH_LENGTH_EXCEEDED"}
	ErrBatchNotAllowed = &APIError{Code: "ERROR_BATCH_METHOD_NOT_ALLOWED"}
)

// ErrNotRun says a batch command did not run: an earlier command failed with
// halt set, an earlier chunk failed, or the batch call itself was refused
// before running anything. It is distinct from a command that ran and failed
// (an *APIError) and from a batch whose outcome is unknown (a *TransportError).
var ErrNotRun = errors.New("b24: command did not run")

// TransportError is a call whose outcome is unknown: the request may or may
// not have run on the portal (network failure, timeout, a body that is not the
// portal's JSON). Its text never holds the webhook secret.
type TransportError struct {
	Method string
	Status int    // HTTP status when a response arrived, else 0
	Msg    string // what went wrong, secret already removed
	Err    error  // the cause (never a *url.Error: that one holds the URL)

	final bool // the request surely did not run usefully (4xx without a code): do not retry
}

func (e *TransportError) Error() string {
	var b strings.Builder
	b.WriteString("b24: ")
	if e.Method != "" {
		b.WriteString(e.Method)
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

func (e *TransportError) Unwrap() error { return e.Err }

// redactor removes the webhook secret from text that may have picked it up
// (net/http errors, bodies echoed by a proxy).
type redactor struct{ secret string }

const redactedSecret = "***"

func (r redactor) clean(s string) string {
	if r.secret == "" || !strings.Contains(s, r.secret) {
		return s
	}
	return strings.ReplaceAll(s, r.secret, redactedSecret)
}

// cleanAPIError removes the secret from the texts the portal sent.
func (r redactor) cleanAPIError(e *APIError) {
	e.Code = r.clean(e.Code)
	e.Description = r.clean(e.Description)
	for i := range e.Validation {
		e.Validation[i].Field = r.clean(e.Validation[i].Field)
		e.Validation[i].Message = r.clean(e.Validation[i].Message)
	}
}

// redactedErr carries an error's text with the secret removed, while keeping
// the cause for errors.Is (context.DeadlineExceeded, syscall errors).
type redactedErr struct {
	msg   string
	cause error
}

func (e *redactedErr) Error() string { return e.msg }
func (e *redactedErr) Unwrap() error { return e.cause }

// wrap returns err with the secret scrubbed from its text. The cause is kept
// for errors.Is only when its own text is already clean.
func (r redactor) wrap(err error) error {
	if err == nil {
		return nil
	}
	msg := err.Error()
	clean := r.clean(msg)
	if clean == msg {
		return err
	}
	return &redactedErr{msg: clean, cause: errors.Unwrap(err)}
}

// snippet returns the first bytes of a body as printable, secret-free text
// for an error message.
func (r redactor) snippet(body []byte) string {
	const max = 120
	var b strings.Builder
	for i := 0; i < len(body) && b.Len() < max; {
		c, size := utf8.DecodeRune(body[i:])
		i += size
		switch {
		case c == utf8.RuneError && size == 1:
			b.WriteByte('?')
		case c == '\n' || c == '\r' || c == '\t':
			b.WriteByte(' ')
		case c < ' ' || c == 0x7f:
			b.WriteByte('?')
		default:
			b.WriteRune(c)
		}
	}
	s := r.clean(b.String())
	if len(body) > max {
		s += "…"
	}
	return strconv.Quote(s)
}

// BatchError reports the commands of a batch that failed or did not run.
// Results of the commands that ran are still available from their handles.
type BatchError struct {
	Failed map[string]error // by command key: *APIError, *TransportError, decode errors
	NotRun []string         // keys of commands that did not run, in order
	Keys   []string         // keys of Failed, in the order the commands were added
	// Call is set when a batch request itself failed: an *APIError (the
	// portal refused it, nothing in it ran) or a *TransportError (outcome
	// unknown; its commands report the same error).
	Call error
}

func (e *BatchError) Error() string {
	var b strings.Builder
	b.WriteString("b24: batch: ")
	if e.Call != nil {
		fmt.Fprintf(&b, "request failed (%v); ", e.Call)
	}
	fmt.Fprintf(&b, "%d command(s) failed", len(e.Keys))
	for i, k := range e.Keys {
		if i == 3 {
			fmt.Fprintf(&b, "; and %d more", len(e.Keys)-3)
			break
		}
		fmt.Fprintf(&b, "; %s: %v", k, e.Failed[k])
	}
	if len(e.NotRun) > 0 {
		fmt.Fprintf(&b, "; %d did not run", len(e.NotRun))
	}
	return b.String()
}

// Unwrap exposes the per-command errors, so errors.Is(err, ErrAccessDenied)
// tells whether any command was refused for that reason.
func (e *BatchError) Unwrap() []error {
	out := make([]error, 0, len(e.Keys)+2)
	if e.Call != nil {
		out = append(out, e.Call)
	}
	for _, k := range e.Keys {
		out = append(out, e.Failed[k])
	}
	if len(e.NotRun) > 0 {
		out = append(out, ErrNotRun)
	}
	return out
}
