package b24

// REST 3.0 errors: {"error": {"code", "message", "validation": [{field,
// message}]}} with codes BITRIX_REST_V3_EXCEPTION_*, from the common table of
// api-reference/rest-v3.md. They are *APIError like REST 2 errors; the codes
// that mean what a REST 2 sentinel means match it with errors.Is.

const (
	v3Prefix = "BITRIX_REST_V3_EXCEPTION_"

	codeIdempotencyKeyReused  = v3Prefix + "IDEMPOTENCYKEYREUSEDEXCEPTION"
	codeInvalidIdempotencyKey = v3Prefix + "INVALIDIDEMPOTENCYKEYEXCEPTION"
	codeRequestValidation     = v3Prefix + "VALIDATION_REQUESTVALIDATIONEXCEPTION"
)

// REST 3.0 sentinels. Compare with errors.Is.
var (
	// ErrIdempotencyKeyReused (REST 3.0, HTTP 422): the Idempotency-Key was
	// already used with a different request body. This request did not
	// run, but the call stored under the key did: before sending the write
	// again under a new key, make sure that earlier call was not this same
	// write, or it runs twice. (The client's own retries never cause it:
	// see ErrWriteRan.)
	ErrIdempotencyKeyReused = &APIError{Code: codeIdempotencyKeyReused}
	// ErrInvalidIdempotencyKey (REST 3.0, HTTP 400): the key is not 1 to 255
	// printable ASCII characters. The client refuses such a key itself,
	// before sending, with this same error.
	ErrInvalidIdempotencyKey = &APIError{Code: codeInvalidIdempotencyKey}
	// ErrValidation (REST 3.0, HTTP 400) is a request the portal refused as
	// invalid: a required field missing, a value of the wrong type, an unknown
	// filter operator or field. APIError.Validation names the fields
	// (FieldError). It matches ErrArgument, and ErrArgument matches it: both
	// mean "the arguments are wrong".
	ErrValidation = &APIError{Code: codeRequestValidation}
)

// v3Aliases maps REST 3.0 codes to the REST 2 code of the same meaning, so
// ErrNotFound, ErrAccessDenied, ErrInsufficientScope and ErrArgument match
// errors of both versions.
var v3Aliases = map[string]string{
	v3Prefix + "ENTITYNOTFOUNDEXCEPTION":        "NOT_FOUND",
	v3Prefix + "ACCESSDENIEDEXCEPTION":          "ACCESS_DENIED",
	v3Prefix + "INSUFFICIENTSCOPEEXCEPTION":     "INSUFFICIENT_SCOPE",
	v3Prefix + "METHODNOTFOUNDEXCEPTION":        "METHOD_NOT_FOUND",
	codeRequestValidation:                       "ERROR_ARGUMENT",
	v3Prefix + "INVALIDJSONEXCEPTION":           "ERROR_ARGUMENT",
	v3Prefix + "UNKNOWNDTOPROPERTYEXCEPTION":    "ERROR_ARGUMENT",
	v3Prefix + "UNKNOWNFILTEROPERATOREXCEPTION": "ERROR_ARGUMENT",
	v3Prefix + "INVALIDSELECTEXCEPTION":         "ERROR_ARGUMENT",
	v3Prefix + "INVALIDORDEREXCEPTION":          "ERROR_ARGUMENT",
	v3Prefix + "INVALIDPAGINATIONEXCEPTION":     "ERROR_ARGUMENT",
	v3Prefix + "INVALIDFILTEREXCEPTION":         "ERROR_ARGUMENT",
}

func init() {
	for k, v := range v3Aliases {
		codeAliases[k] = v
	}
}

// v3Hint is what to do about a REST 3.0 error whose code alone does not say
// it, appended to APIError.Error.
func v3Hint(code string) string {
	switch canonicalCode(code) {
	case codeIdempotencyKeyReused:
		return "this Idempotency-Key was already used with a different request body, and that call ran: a new key for the same write would run it again, so take one only for a different write"
	case codeInvalidIdempotencyKey:
		return "an Idempotency-Key is 1 to 255 printable ASCII characters"
	}
	return ""
}

// FieldError returns the validation failure the portal reported for field
// (a REST 3.0 validation error names each field it refused), if any.
func (e *APIError) FieldError(field string) (ValidationError, bool) {
	for _, v := range e.Validation {
		if v.Field == field {
			return v, true
		}
	}
	return ValidationError{}, false
}
