package gemini_test

import (
	"encoding/json"
	"testing"

	"github.com/twinex/twinex/gemini"
)

func TestDecimalJSON(t *testing.T) {
	for in, want := range map[string]gemini.Decimal{
		`"3633.00"`:                  "3633.00",
		`7781.6`:                     "7781.6",
		`1E-8`:                       "1E-8",
		`150.00`:                     "150.00",
		`0`:                          "0",
		`-2.5`:                       "-2.5",
		`null`:                       "",
		`""`:                         "",
		`123456789012345678901234.5`: "123456789012345678901234.5", // no float64 on the way
	} {
		var d gemini.Decimal
		if err := json.Unmarshal([]byte(in), &d); err != nil || d != want {
			t.Errorf("Unmarshal(%s) = %q, %v; want %q", in, d, err, want)
		}
	}
	for _, in := range []string{`true`, `{}`, `[1]`, `"unterminated`} {
		var d gemini.Decimal
		if err := json.Unmarshal([]byte(in), &d); err == nil {
			t.Errorf("Unmarshal(%s) = %q, want an error", in, d)
		}
	}
	b, err := json.Marshal(struct {
		A gemini.Decimal `json:"a"`
		B gemini.Decimal `json:"b,omitempty"`
	}{A: "0.5"})
	if err != nil || string(b) != `{"a":"0.5"}` {
		t.Errorf("Marshal = %s, %v", b, err)
	}
}

func TestDecimalHelpers(t *testing.T) {
	for d, zero := range map[gemini.Decimal]bool{"": true, "0": true, "0.00": true, "-0": true, "0E-8": true,
		"0.01": false, "1E-8": false, "5": false} {
		if d.IsZero() != zero {
			t.Errorf("%q.IsZero() = %v", d, !zero)
		}
	}
	if f, err := gemini.Decimal("3633.5").Float64(); err != nil || f != 3633.5 {
		t.Errorf("Float64 = %v, %v", f, err)
	}
}

// TestCandleRoundTrip checks that a candle re-encodes to the wire form.
func TestCandleRoundTrip(t *testing.T) {
	const row = `[1559755800000,7781.6,7820.23,7776.56,7819.39,34.7624802159]`
	var k gemini.Candle
	if err := json.Unmarshal([]byte(row), &k); err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(k)
	if err != nil || string(b) != row {
		t.Errorf("Marshal = %s, %v", b, err)
	}
	if err := json.Unmarshal([]byte(`[1,2,3]`), &k); err == nil {
		t.Error("short row decoded")
	}
}

// TestNumberAndIDEncoding: a Number reads strings and numbers alike and
// writes the JSON number Gemini sends; an ID of digits is written as a
// number, any other id as a string.
func TestNumberAndIDEncoding(t *testing.T) {
	var v struct {
		A, B gemini.Number
		IDs  []gemini.ID
	}
	if err := json.Unmarshal([]byte(`{"A":"0.25","B":1E-8,"IDs":[7,"x-1"]}`), &v); err != nil {
		t.Fatal(err)
	}
	if v.A != "0.25" || v.B != "1E-8" {
		t.Fatalf("decoded %+v", v)
	}
	got, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"A":0.25,"B":1E-8,"IDs":[7,"x-1"]}`; string(got) != want {
		t.Errorf("encoded %s, want %s", got, want)
	}
	if _, err := json.Marshal(gemini.Number("1,5")); err == nil {
		t.Error("a Number that is not a JSON number encoded without error")
	}
}

// TestTickerVolumeMarshal: the volume object writes the bytes encoding/json
// writes for the same map, keys sorted with "timestamp" among them.
func TestTickerVolumeMarshal(t *testing.T) {
	for _, amounts := range []map[string]gemini.Decimal{
		{"BTC": "12.5", "USD": "375000.00"},
		{"ETH": "1", "BTC": "0.05"},
		{"a\"b": "1", "zz": "2", "tz": "<3>"},
		{},
	} {
		v := gemini.TickerVolume{Timestampms: 1704153600000, Amounts: amounts}
		got, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		m := map[string]any{"timestamp": v.Timestampms}
		for k, d := range amounts {
			m[k] = string(d)
		}
		want, _ := json.Marshal(m)
		if string(got) != string(want) {
			t.Errorf("got %s, want %s", got, want)
		}
	}
}
