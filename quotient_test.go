package twinex

import "testing"

func TestFormatQuotient(t *testing.T) {
	for _, c := range []struct {
		num, den      int64
		scale, mn, mx int
		want          string
	}{
		{2000100000000, 200000000, 2, 2, 10, "100.005"}, // 200.01 USD over 2 BTC, at scale 10-8
		{20001000000000, 200000000, 2, 2, 10, "1000.05"},
		{15000, 1, 2, 2, 8, "150.00"},
		{10, 3, 0, 0, 4, "3.3333"},
		{1000, 1000, 10, 2, 12, "0.0000000001"},
		{0, 5, 2, 2, 4, "0.00"},
		{1<<62 + 12345, 3, 2, 2, 6, "15372286728091334.163333"},
	} {
		if got := FormatQuotient(c.num, c.den, c.scale, c.mn, c.mx); got != c.want {
			t.Errorf("FormatQuotient(%d, %d, %d, %d, %d) = %s, want %s", c.num, c.den, c.scale, c.mn, c.mx, got, c.want)
		}
	}
}
