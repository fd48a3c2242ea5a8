package twinex

import (
	"strings"
	"testing"
)

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

// A single command's amount is an int64 of ledger units; past it, the
// refusal says what the most is, in the currency's own units.
func TestSingleAmountLimitIsNamed(t *testing.T) {
	usd := DefaultMarkets().Currency("USD")
	for _, tt := range []struct {
		in, want string
		parse    func(string) (int64, error)
	}{
		{"922337203.6854775808", `a single deposit can be at most 922337203.6854775807 USD`, func(s string) (int64, error) { return usd.ParseAmount(s, "deposit") }},
		{"1000000000000", `a single deposit can be at most 922337203.6854775807 USD`, func(s string) (int64, error) { return usd.ParseAmount(s, "deposit") }},
		{"922337203.69", `a single withdrawal or transfer can be at most 922337203.68 USD`, usd.ParseTransferAmount},
		{"1e12", `a single withdrawal or transfer can be at most 922337203.68 USD`, usd.ParseTransferAmount},
	} {
		_, err := tt.parse(tt.in)
		if ErrorReason(err) != InvalidQuantity || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%q: %v; want InvalidQuantity saying %q", tt.in, err, tt.want)
		}
	}
	// The limits themselves are accepted.
	if v, err := usd.ParseAmount("922337203.6854775807", "deposit"); err != nil || v != 1<<63-1 {
		t.Errorf("the largest deposit: %d, %v", v, err)
	}
	if v, err := usd.ParseTransferAmount("922337203.68"); err != nil || v != usd.MaxAmount(usd.Display) {
		t.Errorf("the largest transfer: %d, %v", v, err)
	}
}
