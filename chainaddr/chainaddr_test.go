package chainaddr

import (
	"encoding/hex"
	"testing"
)

func TestAddressFormats(t *testing.T) {
	program, _ := hex.DecodeString("751e76e8199196d454941c45d1b3a323f1433bd6")
	if got := SegwitAddress("bc", program); got != "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4" {
		t.Errorf("BIP-173 vector: %s", got)
	}
	if got := EIP55("5aaeb6053f3e94c9b9a09f33669435e7ef1beaed"); got != "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed" {
		t.Errorf("EIP-55 vector: %s", got)
	}
	for _, c := range []struct {
		network, addr string
		ok            bool
	}{
		{"bitcoin", "1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2", true},
		{"bitcoin", "1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN3", false},
		{"bitcoin", "BC1QW508D6QEJXTDG4Y5R3ZARVARY0C5XW7KV8F3T4", true},
		{"bitcoin", "bc1p5d7rjq7g6rdk2yhzks9smlaqtedr4dekq08ge8ztwac72sfr9rusxg3297", true}, // bech32m (taproot)
		{"bitcoin", "ltc1qw508d6qejxtdg4y5r3zarvary0c5xw7kgmn4n9", false},
		{"litecoin", "ltc1qw508d6qejxtdg4y5r3zarvary0c5xw7kgmn4n9", true},
		{"solana", "11111111111111111111111111111111", true},
		{"solana", "1111111111111111111111111111111", false},
		{"ethereum", "0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed", true},
		{"ethereum", "0x5aaeb6053f3e94c9b9a09f33669435e7ef1beae", false},
		{"filecoin", "f1abjxfbp274xpdqcpuaykwkfb43omjotacm2p3za", true},
		{"filecoin", "short", false},
		{"filecoin", "has space in it", false},
	} {
		if got := Valid(c.network, c.addr); got != c.ok {
			t.Errorf("Valid(%s, %s) = %v", c.network, c.addr, got)
		}
	}
	for _, network := range []string{"bitcoin", "litecoin", "ethereum", "solana"} {
		for i := 0; i < 20; i++ {
			if a := NewDepositAddress(network); !Valid(network, a) {
				t.Fatalf("generated %s address %q is not valid", network, a)
			}
		}
	}
	if a := NewDepositAddress("solana"); len(a) < 32 || len(a) > 44 {
		t.Errorf("solana address length %d", len(a))
	}
}
