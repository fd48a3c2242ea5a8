package sqlite

import (
	"testing"

	"github.com/twinex/twinex"
)

// wideScan reads the forms a wide column may come back in: the text it is
// stored as (string or bytes) and an integer written by hand; anything else,
// or text that is not a decimal integer within 128 bits, is an error.
func TestWideScan(t *testing.T) {
	want, _ := twinex.ParseInt128("-18446744073709551617")
	for _, src := range []any{"-18446744073709551617", []byte("-18446744073709551617")} {
		var v twinex.Int128
		if err := (wideScan{&v}).Scan(src); err != nil || v != want {
			t.Errorf("Scan(%#v) = %v, %v", src, v, err)
		}
	}
	var v twinex.Int128
	if err := (wideScan{&v}).Scan(int64(-7)); err != nil || v != twinex.I128(-7) {
		t.Errorf("Scan(int64) = %v, %v", v, err)
	}
	for _, src := range []any{nil, 1.5, "1.5", "", "170141183460469231731687303715884105728"} {
		if err := (wideScan{&v}).Scan(src); err == nil {
			t.Errorf("Scan(%#v) succeeded", src)
		}
	}
	if got := wideText(want); got != "-18446744073709551617" {
		t.Errorf("wideText = %q", got)
	}
}
