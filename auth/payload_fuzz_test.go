package auth

import (
	"bytes"
	"testing"

	"github.com/twinex/twinex"
)

// FuzzDecodeObject checks the fast object scanner against the decoder's
// tokens: the same members, or both refusing (with the same message).
func FuzzDecodeObject(f *testing.F) {
	for _, s := range []string{
		`{}`, ` { } `, `{"a":1}`, `{"request":"/v1/order/new","nonce":123,"amount":"0.1","options":["maker-or-cancel"]}`,
		`{"a":{"b":[1,{"c":"}"}]},"d":"\"}"}`, `{"nonce":1,"\u006eonce":2}`, `{"a":1,"a":2}`, `{"a":"x\\"}`,
		`[1]`, `"x"`, `{} {}`, `{"a":1}x`, `{"a":}`, `{"a" 1}`, `{"a":1,}`, "{\"a\":\t-1.5e3 ,\n\"b\":null}",
		`{"a":true,"b":false}`, `{"k\u0000":1}`, `{"é":"ü"}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		got, gerr := decodeObject(data)
		want, werr := decodeObjectSlow(data)
		if (gerr == nil) != (werr == nil) {
			t.Fatalf("%q: scan err %v, decoder err %v", data, gerr, werr)
		}
		if gerr != nil {
			if twinex.ErrorMessage(gerr) != twinex.ErrorMessage(werr) {
				t.Fatalf("%q: scan %q, decoder %q", data, twinex.ErrorMessage(gerr), twinex.ErrorMessage(werr))
			}
			return
		}
		if len(got) != len(want) {
			t.Fatalf("%q: scan %q, decoder %q", data, got, want)
		}
		for k, v := range want {
			if !bytes.Equal(got[k], v) {
				t.Fatalf("%q: key %q: scan %q, decoder %q", data, k, got[k], v)
			}
		}
	})
}
