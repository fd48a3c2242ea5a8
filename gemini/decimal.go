package gemini

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
)

// Decimal is a decimal number kept as the exact text Gemini sent, so that no
// price or amount ever passes through float64 on its way to the caller.
//
// It unmarshals from a JSON string ("3633.00") and from a JSON number
// (7781.6, 1E-8): Gemini sends most decimals as strings but some as numbers
// (candles, /v1/tradevolume, /v1/notionalvolume, tick_size, quote_increment),
// and the text of either is kept verbatim. JSON null leaves it empty. It
// marshals as a JSON string, the form Gemini documents for request fields.
//
// Convert it with whatever decimal arithmetic the caller uses (for Twinex,
// twinex.ParseUnits); Float64 exists for display only.
type Decimal string

// String returns the decimal's text.
func (d Decimal) String() string { return string(d) }

// IsZero reports whether the decimal is empty or numerically zero ("0",
// "0.00", "-0", "0E-8").
func (d Decimal) IsZero() bool {
	if d == "" {
		return true
	}
	for i := 0; i < len(d); i++ {
		switch c := d[i]; {
		case c >= '1' && c <= '9':
			return false
		case c == 'e' || c == 'E':
			return true
		}
	}
	return true
}

// Float64 parses the decimal as a float64, for display and rough comparisons.
// Do not do money arithmetic with the result.
func (d Decimal) Float64() (float64, error) {
	return strconv.ParseFloat(string(d), 64)
}

// MarshalJSON encodes the decimal as a JSON string.
func (d Decimal) MarshalJSON() ([]byte, error) {
	return json.Marshal(string(d))
}

// UnmarshalJSON accepts a JSON string, a JSON number or null.
func (d *Decimal) UnmarshalJSON(b []byte) error {
	s, err := stringOrNumber(b)
	if err != nil {
		return fmt.Errorf("gemini: decimal: %w", err)
	}
	*d = Decimal(s)
	return nil
}

// Number is a decimal that Gemini sends as a JSON number (candles,
// /v1/tradevolume, /v1/notionalvolume, tick_size, quote_increment): like
// Decimal it keeps the exact text and reads a JSON string or number, but
// it writes a JSON number, so that a server answering with it sends what
// Gemini sends. Convert between the two with Decimal(n) and Number(d).
type Number string

// String returns the number's text.
func (n Number) String() string { return string(n) }

// IsZero reports whether the number is empty or numerically zero.
func (n Number) IsZero() bool { return Decimal(n).IsZero() }

// Float64 parses the number as a float64, for display only.
func (n Number) Float64() (float64, error) { return Decimal(n).Float64() }

// MarshalJSON encodes the number as a JSON number; an empty one as 0.
func (n Number) MarshalJSON() ([]byte, error) {
	if n == "" {
		return []byte("0"), nil
	}
	var v json.Number
	if err := json.Unmarshal([]byte(n), &v); err != nil {
		return nil, fmt.Errorf("gemini: number %q: %w", string(n), err)
	}
	return []byte(n), nil
}

// UnmarshalJSON accepts a JSON string, a JSON number or null.
func (n *Number) UnmarshalJSON(b []byte) error {
	s, err := stringOrNumber(b)
	if err != nil {
		return fmt.Errorf("gemini: number: %w", err)
	}
	*n = Number(s)
	return nil
}

// ID is an identifier that Gemini sends as a JSON number in some places and
// as a JSON string in others, such as the order ids in the cancel/session and
// cancel/all details (numbers in Gemini's docs, strings in some clients and
// servers). It keeps the digits as text.
type ID string

// String returns the id's text.
func (id ID) String() string { return string(id) }

// Int64 parses the id as a decimal int64.
func (id ID) Int64() (int64, error) { return strconv.ParseInt(string(id), 10, 64) }

// MarshalJSON encodes an id of digits as the JSON number Gemini documents,
// and any other text as a JSON string.
func (id ID) MarshalJSON() ([]byte, error) {
	if _, err := strconv.ParseInt(string(id), 10, 64); err == nil && id[0] != '+' {
		return []byte(id), nil
	}
	return json.Marshal(string(id))
}

// UnmarshalJSON accepts a JSON string, a JSON number or null.
func (id *ID) UnmarshalJSON(b []byte) error {
	s, err := stringOrNumber(b)
	if err != nil {
		return fmt.Errorf("gemini: id: %w", err)
	}
	*id = ID(s)
	return nil
}

// stringOrNumber returns the text of a JSON string or number, and "" for null.
func stringOrNumber(b []byte) (string, error) {
	b = bytes.TrimSpace(b)
	switch {
	case len(b) == 0:
		return "", fmt.Errorf("empty value")
	case b[0] == '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return "", err
		}
		return s, nil
	case string(b) == "null":
		return "", nil
	case b[0] == '-' || (b[0] >= '0' && b[0] <= '9'):
		var n json.Number
		if err := json.Unmarshal(b, &n); err != nil {
			return "", err
		}
		return n.String(), nil
	default:
		return "", fmt.Errorf("want a JSON string or number, got %.20s", b)
	}
}
