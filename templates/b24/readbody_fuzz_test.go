package b24

import (
	"bytes"
	"io"
	"net/http"
	"testing"
	"testing/iotest"
)

// FuzzReadBody: with or without a Content-Length, and however the reader
// splits the body, readBody returns the body exactly when it fits max, and
// errBodyTooLarge when it does not.
func FuzzReadBody(f *testing.F) {
	f.Add([]byte(`{"result":1}`), int64(12), false, false)
	f.Add([]byte(`{"result":1}`), int64(11), true, true)
	f.Add(bytes.Repeat([]byte("x"), 300), int64(256), false, true)
	f.Fuzz(func(t *testing.T, body []byte, max int64, withLength, oneByte bool) {
		if max < 1 || max > 1<<20 || len(body) > 1<<16 {
			return
		}
		var r io.Reader = bytes.NewReader(body)
		if oneByte {
			r = iotest.OneByteReader(r)
		}
		hresp := &http.Response{Body: io.NopCloser(r), ContentLength: -1}
		if withLength {
			hresp.ContentLength = int64(len(body))
		}
		got, err := readBody(hresp, max)
		if int64(len(body)) > max {
			if _, ok := err.(errBodyTooLarge); !ok {
				t.Fatalf("%d bytes over max %d: err %v", len(body), max, err)
			}
			return
		}
		if err != nil || !bytes.Equal(got, body) {
			t.Fatalf("%d bytes, max %d: got %d bytes, err %v", len(body), max, len(got), err)
		}
	})
}
