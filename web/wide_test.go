package web

import (
	"testing"

	"github.com/twinex/twinex"
)

// The balances page shows wide balances (past an int64 of ledger units,
// $922M of USD) exactly, grouped like any other.
func TestFormatWide(t *testing.T) {
	ms := twinex.DefaultMarkets()
	usd, btc := ms.Currency("USD"), ms.Currency("BTC")
	v, _ := twinex.ParseUnits128("1014570924054.02533877", usd.Scale)
	for _, tc := range []struct {
		v    twinex.Int128
		cur  *twinex.Currency
		want string
	}{
		{v, usd, "1,014,570,924,054.02533877"},
		{twinex.I128(1 << 62), usd, "461,168,601.8427387904"},
		{twinex.I128(12_345_000_000_000), usd, "1,234.50"},
		{twinex.I128(0), btc, "0.00000000"},
	} {
		if got := formatWide(tc.v, tc.cur); got != tc.want {
			t.Errorf("formatWide(%v, %s) = %s, want %s", tc.v, tc.cur.Code, got, tc.want)
		}
		if x, ok := tc.v.Int64(); ok && formatUnits(x, tc.cur) != formatWide(tc.v, tc.cur) {
			t.Errorf("formatUnits and formatWide differ on %d", x)
		}
	}
}
