package b24

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
)

// errBodyTooLarge marks a body over WithMaxResponseBytes.
type errBodyTooLarge struct{}

func (errBodyTooLarge) Error() string { return "body too large" }

// readBody reads a response body of at most max bytes. With a Content-Length
// the buffer is allocated once at that size: growing a buffer by doubling
// costs about twice the body in allocations, which is what a 100 MB answer
// cannot afford. The buffer is not pooled, because the Response's Result is
// a sub-slice of it.
func readBody(hresp *http.Response, max int64) ([]byte, error) {
	if n := hresp.ContentLength; n >= 0 {
		if n > max {
			return nil, errBodyTooLarge{}
		}
		buf := make([]byte, n)
		k, err := io.ReadFull(hresp.Body, buf)
		return buf[:k], err // net/http ends the body at Content-Length
	}
	var b bytes.Buffer
	if _, err := b.ReadFrom(io.LimitReader(hresp.Body, max+1)); err != nil {
		return b.Bytes(), err
	}
	if int64(b.Len()) > max {
		return nil, errBodyTooLarge{}
	}
	return b.Bytes(), nil
}

// decodeEnvelope decodes the portal's answer without copying "result": that
// member is left as a sub-slice of body (which must not be reused), and only
// the other, small members (total, next, time, error…) go through
// json.Unmarshal into the envelope. Decoding the whole body with
// json.Unmarshal would copy the result once more, the size of the answer.
// The body is read once, by eachMember, which also validates it; a body that
// is not a valid JSON object takes the plain json.Unmarshal path, so its
// error is the usual one.
func decodeEnvelope(body []byte) (envelope, error) {
	var env envelope
	i := scanSpace(body, 0)
	if i >= len(body) || body[i] != '{' {
		return env, json.Unmarshal(body, &env)
	}
	rest := make([]byte, 1, 256)
	rest[0] = '{'
	var result []byte
	err := eachMember(body[i:], func(key []byte, escaped bool, value []byte) error {
		if isResultKey(key, escaped) {
			result = value // the last one wins, as with encoding/json
			return nil
		}
		if len(rest) > 1 {
			rest = append(rest, ',')
		}
		rest = append(rest, '"')
		rest = append(rest, key...)
		rest = append(rest, '"', ':')
		rest = append(rest, value...)
		return nil
	})
	if err != nil {
		return env, json.Unmarshal(body, &env)
	}
	rest = append(rest, '}')
	if err := json.Unmarshal(rest, &env); err != nil {
		return env, err
	}
	if result != nil {
		env.Result = result
	}
	return env, nil
}

// isResultKey reports whether a key eachMember passed is "result".
func isResultKey(key []byte, escaped bool) bool {
	if !escaped {
		return string(key) == "result" // compared without allocating
	}
	return memberKey(key, true) == "result"
}
