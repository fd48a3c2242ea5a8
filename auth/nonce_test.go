package auth

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/twinex/twinex"
)

func TestParseNonce(t *testing.T) {
	tests := []struct {
		name  string
		raw   string
		canon string // "" when an InvalidNonce error is expected
		text  string // as sent; defaults to the raw text
	}{
		{"ccxt REST string ms", `"1795648307705"`, "1795648307705", "1795648307705"},
		{"ccxt WebSocket number ms", `1795648348918`, "1795648348918", ""},
		{"gocryptotrader ns number", `1700000000123456789`, "1700000000123456789", ""},
		{"gocryptotrader ns string", `"1700000000123456789"`, "1700000000123456789", "1700000000123456789"},
		{"beyond uint64", `123456789012345678901234567890`, "123456789012345678901234567890", ""},
		{"decimal seconds", `1700000000.123`, "1700000000.123", ""},
		{"decimal seconds string", `"1695066299.324"`, "1695066299.324", "1695066299.324"},
		{"trailing fraction zeros", `1700000000.1230`, "1700000000.123", ""},
		{"integral decimal", `1700000000.000`, "1700000000", ""},
		{"small fraction", `0.0015`, "0.0015", ""},
		{"python float exponent", `1.7e+18`, "1700000000000000000", ""},
		{"upper-case exponent", `17E2`, "1700", ""},
		{"string exponent", `"1e3"`, "1000", "1e3"},
		{"negative exponent", `15e-4`, "0.0015", ""},
		{"exponent keeps fraction", `1.2345e2`, "123.45", ""},
		{"zero", `0`, "0", ""},
		{"zero spellings", `"000.000e5"`, "0", "000.000e5"},
		{"leading zeros in string", `"0001795648307705"`, "1795648307705", "0001795648307705"},
		{"leading zeros in number", `007`, "7", ""},
		{"escaped string", `"\u0031\u0032"`, "12", "12"},
		{"surrounding JSON whitespace", " 12\n", "12", "12"},
		{"largest by length", `"` + strings.Repeat("9", MaxNonceLen) + `"`, strings.Repeat("9", MaxNonceLen), strings.Repeat("9", MaxNonceLen)},
		{"largest exponent", `1e99`, "1" + strings.Repeat("0", 99), ""},
		{"smallest exponent", `1e-98`, "0." + strings.Repeat("0", 97) + "1", ""},

		{"negative", `-1`, "", ""},
		{"negative string", `"-1795648307705"`, "", ""},
		{"negative zero", `-0`, "", ""},
		{"letters", `"abc"`, "", ""},
		{"hex", `"0x10"`, "", ""},
		{"underscores", `"1_000"`, "", ""},
		{"empty string", `""`, "", ""},
		{"empty raw", ``, "", ""},
		{"null", `null`, "", ""},
		{"true", `true`, "", ""},
		{"object", `{"n":1}`, "", ""},
		{"array", `[1]`, "", ""},
		{"plus sign", `+1`, "", ""},
		{"plus sign in string", `"+1"`, "", ""},
		{"leading point", `".5"`, "", ""},
		{"trailing point", `"5."`, "", ""},
		{"two points", `"1.2.3"`, "", ""},
		{"bare exponent", `"1e"`, "", ""},
		{"exponent sign only", `"1e+"`, "", ""},
		{"NaN", `"NaN"`, "", ""},
		{"Infinity", `"Infinity"`, "", ""},
		{"space inside string", `" 12"`, "", ""},
		{"space after digits", `"12 "`, "", ""},
		{"trailing junk", `12x`, "", ""},
		{"unterminated string", `"12`, "", ""},
		{"1e400", `1e400`, "", ""},
		{"1e100 one digit too long", `1e100`, "", ""},
		{"tiny 1e-400", `1e-400`, "", ""},
		{"five-digit exponent", `1e00001`, "", ""},
		{"zero huge exponent", `0e99999`, "", ""},
		{"too long", `"` + strings.Repeat("1", MaxNonceLen+1) + `"`, "", ""},
		{"huge raw", strings.Repeat("1", 1<<20), "", ""},
		{"huge escaped string", `"` + strings.Repeat(`\u0031`, MaxNonceLen+1) + `"`, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n, err := ParseNonce(json.RawMessage(tt.raw))
			if tt.canon == "" {
				if got := twinex.ErrorReason(err); got != twinex.InvalidNonce {
					t.Fatalf("ParseNonce(%.40q) = %v, %v; want reason InvalidNonce", tt.raw, n, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseNonce(%.40q): %v", tt.raw, err)
			}
			if got := n.String(); got != tt.canon {
				t.Errorf("String() = %q, want %q", got, tt.canon)
			}
			text := tt.text
			if text == "" {
				text = strings.TrimSpace(tt.raw)
			}
			if got := n.Text(); got != text {
				t.Errorf("Text() = %q, want %q", got, text)
			}
			// String round-trips, as a JSON string and as a JSON number.
			for _, raw := range []string{`"` + n.String() + `"`, n.String()} {
				m, err := ParseNonce(json.RawMessage(raw))
				if err != nil || m.Cmp(n) != 0 || m.String() != n.String() {
					t.Errorf("ParseNonce(%s) = %v, %v; want %v", raw, m, err, n)
				}
			}
		})
	}
}

// TestParseNonceMessages checks that malformed input is not echoed back.
func TestParseNonceMessages(t *testing.T) {
	_, err := ParseNonce(json.RawMessage(`"<script>"`))
	if msg := twinex.ErrorMessage(err); strings.Contains(msg, "<script>") {
		t.Errorf("message echoes input: %q", msg)
	}
}

func mustNonce(t testing.TB, raw string) Nonce {
	t.Helper()
	n, err := ParseNonce(json.RawMessage(raw))
	if err != nil {
		t.Fatalf("ParseNonce(%s): %v", raw, err)
	}
	return n
}

func TestNonceCmp(t *testing.T) {
	tests := []struct {
		a, b string
		want int
	}{
		{`1`, `2`, -1},
		{`2`, `1`, 1},
		{`1000`, `1e3`, 0},
		{`1.5`, `1.50`, 0},
		{`"007"`, `7`, 0},
		{`0`, `0.0`, 0},
		{`0.5`, `0.51`, -1},
		{`0.6`, `0.51`, 1},
		{`9`, `10`, -1},
		{`1795648307705`, `1795648307706`, -1},
		{`1795648307705`, `1695066299`, 1},          // ms after seconds: not increased
		{`1700000000123456789`, `1795648307705`, 1}, // ns after ms
		{`1700000000.5`, `1700000000`, 1},
		{`99999999999999999999999`, `100000000000000000000000`, -1},
	}
	for _, tt := range tests {
		a, b := mustNonce(t, tt.a), mustNonce(t, tt.b)
		if got := a.Cmp(b); got != tt.want {
			t.Errorf("%s Cmp %s = %d, want %d", tt.a, tt.b, got, tt.want)
		}
		if got := b.Cmp(a); got != -tt.want {
			t.Errorf("%s Cmp %s = %d, want %d", tt.b, tt.a, got, -tt.want)
		}
	}
	// The zero Nonce is 0.
	if got := (Nonce{}).Cmp(mustNonce(t, `0`)); got != 0 {
		t.Errorf("zero Nonce Cmp 0 = %d", got)
	}
	if got := (Nonce{}).String(); got != "0" {
		t.Errorf("zero Nonce String = %q", got)
	}
}

func TestNonceIncreasing(t *testing.T) {
	tests := []struct {
		n, last string // last "" is the zero Nonce
		ok      bool
	}{
		{`"1795648307706"`, `"1795648307705"`, true},
		{`"1795648307705"`, `"1795648307705"`, false},
		{`"1795648307704"`, `"1795648307705"`, false},
		{`"1000"`, `1e3`, false}, // equal values, different spellings
		{`1700000000.0001`, `1700000000`, true},
		{`1695066299`, `1795648307705`, false}, // seconds after ms
		{`1`, ``, true},
		{`0`, ``, false},
	}
	for _, tt := range tests {
		var last Nonce
		if tt.last != "" {
			last = mustNonce(t, tt.last)
		}
		err := mustNonce(t, tt.n).Increasing(last)
		if tt.ok {
			if err != nil {
				t.Errorf("%s after %s: %v", tt.n, tt.last, err)
			}
			continue
		}
		if twinex.ErrorReason(err) != twinex.InvalidNonce {
			t.Errorf("%s after %s: %v, want InvalidNonce", tt.n, tt.last, err)
		}
	}

	// Gemini's observed message, quoting the nonce as sent.
	err := mustNonce(t, `"1490722675108"`).Increasing(mustNonce(t, `1490722675108`))
	want := "Nonce '1490722675108' has not increased since your last call to the Gemini API."
	if got := twinex.ErrorMessage(err); got != want {
		t.Errorf("message %q, want %q", got, want)
	}
	err = mustNonce(t, `"0001e3"`).Increasing(mustNonce(t, `1000`))
	if got := twinex.ErrorMessage(err); !strings.Contains(got, "'0001e3'") {
		t.Errorf("message %q does not quote the nonce as sent", got)
	}
}

func TestNonceCheckTimeBased(t *testing.T) {
	now := time.Unix(1695066301, 0)
	nowFrac := time.Unix(1695066301, 500_000_000)
	tests := []struct {
		name string
		now  time.Time
		raw  string
		ok   bool
	}{
		{"now", now, `1695066301`, true},
		{"now as string", now, `"1695066301"`, true},
		{"decimal seconds", now, `1695066299.324`, true},
		{"exactly -30s", now, `1695066271`, true},
		{"exactly +30s", now, `1695066331`, true},
		{"just before -30s", now, `1695066270.999999999`, false},
		{"just after +30s", now, `1695066331.000000001`, false},
		{"-31s", now, `1695066270`, false},
		{"+31s", now, `1695066332`, false},
		{"milliseconds", now, `"1695066299324"`, false},
		{"nanoseconds", now, `1695066301000000000`, false},
		{"zero", now, `0`, false},
		{"sub-second now: -30s bound", nowFrac, `1695066271.5`, true},
		{"sub-second now: below -30s", nowFrac, `1695066271.4999`, false},
		{"sub-second now: +30s bound", nowFrac, `1695066331.5`, true},
		{"sub-second now: above +30s", nowFrac, `1695066331.5000001`, false},
		{"before the epoch", time.Unix(-100, 0), `0`, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := mustNonce(t, tt.raw).CheckTimeBased(tt.now)
			if tt.ok {
				if err != nil {
					t.Fatalf("CheckTimeBased: %v", err)
				}
				return
			}
			if twinex.ErrorReason(err) != twinex.InvalidNonce {
				t.Fatalf("CheckTimeBased = %v, want InvalidNonce", err)
			}
		})
	}

	// Gemini's observed message, doubled closing quote included.
	err := mustNonce(t, `"1695066299324"`).CheckTimeBased(time.Unix(1695066301, 900_000_000))
	want := "Nonce '1695066299324' is not within 30 seconds of server time '1695066301''"
	if got := twinex.ErrorMessage(err); got != want {
		t.Errorf("message %q, want %q", got, want)
	}
}

func TestTimeNonce(t *testing.T) {
	tests := []struct {
		t    time.Time
		want string
	}{
		{time.Unix(0, 0), "0"},
		{time.Unix(-5, 0), "0"},
		{time.Unix(1695066301, 0), "1695066301"},
		{time.Unix(1695066301, 5), "1695066301.000000005"},
		{time.Unix(1695066301, 120_000_000), "1695066301.12"},
		{time.Unix(0, 1), "0.000000001"},
	}
	for _, tt := range tests {
		if got := timeNonce(tt.t).String(); got != tt.want {
			t.Errorf("timeNonce(%v) = %q, want %q", tt.t, got, tt.want)
		}
	}
}

func BenchmarkParseNonce(b *testing.B) {
	raw := json.RawMessage(`"1795648307705"`)
	last := mustNonce(b, `"1795648307704"`)
	for b.Loop() {
		n, err := ParseNonce(raw)
		if err != nil || n.Increasing(last) != nil {
			b.Fatal(err)
		}
	}
}

// TestPlausible: a session nonce may be a counter or the time in any unit
// down to nanoseconds (a day ahead at most), never so large that no later
// nonce could pass it.
func TestPlausible(t *testing.T) {
	now := time.Unix(1795648307, 705000000)
	for _, ok := range []string{`1`, `"1795648307"`, `"1795648307705"`, `1795648307705123`, `"1795648307705123456"`, `"1795734707705000000"`, `"1795648307.705"`} {
		if err := mustNonce(t, ok).Plausible(now); err != nil {
			t.Errorf("%s: %v", ok, err)
		}
	}
	for _, bad := range []string{`"1e99"`, `1e20`, `"1795734707705000001"`, `"9223372036854775808"`} {
		if err := mustNonce(t, bad).Plausible(now); twinex.ErrorReason(err) != twinex.InvalidNonce {
			t.Errorf("%s: %v, want InvalidNonce", bad, err)
		}
	}
}
