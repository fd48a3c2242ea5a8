package twinex

import "testing"

func TestParseTransferAmount(t *testing.T) {
	ms := DefaultMarkets()
	for _, tt := range []struct {
		code, in string
		want     int64 // ledger units; 0: refused with InvalidQuantity
	}{
		{"BTC", "1", 1e11},
		{"BTC", "0.00000001", 1000},
		{"BTC", "0.000000010", 1000}, // trailing zeros are fine
		{"BTC", "0.000000001", 0},    // 9 decimals: beyond Gemini's 8
		{"USD", "10.25", 1025e8},
		{"USD", "10.255", 0},
		{"ETH", "0.000001", 1e4},
		{"ETH", "0.0000001", 0},
		{"ETH", "0", 0},
		{"ETH", "-1", 0},
		{"ETH", "x", 0},
	} {
		got, err := ms.Currency(tt.code).ParseTransferAmount(tt.in)
		if tt.want == 0 {
			if ErrorReason(err) != InvalidQuantity {
				t.Errorf("%s %q: %d, %v; want InvalidQuantity", tt.code, tt.in, got, err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("%s %q = %d, %v; want %d", tt.code, tt.in, got, err, tt.want)
		}
	}
}
