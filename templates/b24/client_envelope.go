package b24

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"unicode/utf8"
)

// errBodyTooLarge marks a body over WithMaxResponseBytes.
type errBodyTooLarge struct{}

func (errBodyTooLarge) Error() string { return "body too large" }

// readBody reads a response body of at most max bytes. With a Content-Length
// the size is checked before anything is read, and the buffer is allocated
// once at that size: growing a buffer by doubling costs about twice the body
// in allocations, which is what a 100 MB answer cannot afford. Without one
// (chunked), the body is read into chunks that grow to 8 MiB and joined
// once: an answer costs twice its size at most, and one over max is refused
// as soon as max is passed, having cost max. The buffer is not pooled,
// because the Response's Result is a sub-slice of it.
func readBody(hresp *http.Response, max int64) ([]byte, error) {
	if n := hresp.ContentLength; n >= 0 {
		if n > max {
			return nil, errBodyTooLarge{}
		}
		buf := make([]byte, n)
		k, err := io.ReadFull(hresp.Body, buf)
		return buf[:k], err // net/http ends the body at Content-Length
	}
	var chunks [][]byte
	var total int64
	size := int64(32 << 10)
	for {
		// Up to one byte past max, to tell "max" from "more than max".
		c := make([]byte, min(size, max+1-total))
		k, err := io.ReadFull(hresp.Body, c)
		chunks = append(chunks, c[:k])
		total += int64(k)
		if total > max {
			return nil, errBodyTooLarge{}
		}
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			break
		}
		if err != nil {
			return joinChunks(chunks, total), err
		}
		size = min(2*size, 8<<20)
	}
	if len(chunks) == 1 {
		return chunks[0], nil
	}
	return joinChunks(chunks, total), nil
}

func joinChunks(chunks [][]byte, total int64) []byte {
	buf := make([]byte, 0, total)
	for _, c := range chunks {
		buf = append(buf, c...)
	}
	return buf
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
	// The members are picked out as sub-slices of body in the one scan;
	// only "time" is decoded further, by timingOf. Keys match ignoring case,
	// as encoding/json would match them; an escaped key, or a "time" that
	// is not numbers and plain strings, takes the json.Unmarshal path.
	slow := false
	err := eachMember(body[i:], func(key []byte, escaped bool, value []byte) error {
		if escaped {
			slow = true
			return nil
		}
		switch {
		case bytes.EqualFold(key, []byte("result")):
			env.Result = value // the last one wins, as with encoding/json
		case bytes.EqualFold(key, []byte("total")):
			env.Total = value
		case bytes.EqualFold(key, []byte("next")):
			env.Next = value
		case bytes.EqualFold(key, []byte("error")):
			env.Error = value
		case bytes.EqualFold(key, []byte("error_description")):
			env.ErrorDescription = value
		case bytes.EqualFold(key, []byte("time")):
			t, ok := timingOf(value)
			if !ok {
				slow = true
			}
			env.Time = t
		}
		return nil
	})
	if err == nil && !slow {
		return env, nil
	}
	env = envelope{}
	if err := json.Unmarshal(body, &env); err != nil {
		return env, err
	}
	// Keep result as a sub-slice of body rather than the copy.
	eachMember(body[i:], func(key []byte, escaped bool, value []byte) error {
		if isResultKey(key, escaped) {
			env.Result = value
		}
		return nil
	})
	return env, nil
}

// timingOf decodes the envelope's "time" block when it holds numbers (or
// numbers in strings) and unescaped strings, as the portal sends it; ok is
// false for anything else, left to Timing.UnmarshalJSON.
func timingOf(b []byte) (*Timing, bool) {
	if string(b) == "null" {
		return nil, true
	}
	t := &Timing{}
	if envEmpty(b) {
		return t, true
	}
	if len(b) == 0 || b[0] != '{' {
		return nil, false
	}
	ok := true
	err := eachMember(b, func(key []byte, escaped bool, v []byte) error {
		if escaped {
			ok = false
			return nil
		}
		num := func() float64 {
			if len(v) > 0 && v[0] == '"' && bytes.IndexByte(v, '\\') >= 0 {
				ok = false
			}
			return envFloat(v)
		}
		is := func(name string) bool { return bytes.EqualFold(key, []byte(name)) } // as encoding/json matches
		switch {
		case is("start"):
			t.Start = num()
		case is("finish"):
			t.Finish = num()
		case is("duration"):
			t.Duration = num()
		case is("processing"):
			t.Processing = num()
		case is("operating"):
			t.Operating = num()
		case is("operating_reset_at"):
			t.OperatingResetAt = unixTime(num())
		case is("date_start"), is("date_finish"):
			if len(v) < 2 || v[0] != '"' || bytes.IndexByte(v, '\\') >= 0 || !utf8.Valid(v) {
				ok = false // escapes and bad UTF-8 are encoding/json's to decode
				return nil
			}
			if is("date_start") {
				t.DateStart = string(v[1 : len(v)-1])
			} else {
				t.DateFinish = string(v[1 : len(v)-1])
			}
		}
		return nil
	})
	return t, ok && err == nil
}

// isResultKey reports whether a key eachMember passed is "result".
func isResultKey(key []byte, escaped bool) bool {
	if !escaped {
		return string(key) == "result" // compared without allocating
	}
	return memberKey(key, true) == "result"
}
