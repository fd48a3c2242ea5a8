// Package twinex holds Twinex's domain: orders, trades, balances, markets,
// the error type whose code is a Gemini reason, and the interfaces that the
// adapters (stores, the API, the dashboard) share. It imports only the
// standard library; see imports_test.go for the rule and its reasons.
//
// Money is never a float. Prices and amounts are int64 counts of a market's
// smallest unit (its price tick decimals and amount decimals), and balances
// are int64 counts of a currency's ledger unit (Currency.Scale decimals).
// Times are int64 Unix nanoseconds stamped by the sequencer, one per command.
package twinex

// Side is the side of an order or the taker side of a trade.
type Side uint8

const (
	Buy Side = iota + 1
	Sell
)

// String returns "buy" or "sell", the spelling of Gemini's order objects.
func (s Side) String() string {
	switch s {
	case Buy:
		return "buy"
	case Sell:
		return "sell"
	}
	return "unknown"
}

// Opposite returns the other side.
func (s Side) Opposite() Side {
	if s == Buy {
		return Sell
	}
	return Buy
}

// ParseSide parses "buy" or "sell" (any case). It returns InvalidSide otherwise.
func ParseSide(s string) (Side, error) {
	switch {
	case equalFold(s, "buy"):
		return Buy, nil
	case equalFold(s, "sell"):
		return Sell, nil
	}
	return 0, Errorf(InvalidSide, "Invalid side for symbol: %q", s)
}

// OrderType is how an order enters the market.
type OrderType uint8

const (
	// Limit is Gemini's "exchange limit".
	Limit OrderType = iota + 1
	// StopLimit is Gemini's "exchange stop limit": held until the last trade
	// price reaches StopPrice, then entered as a limit order.
	StopLimit
)

// String returns the spelling used in Gemini's order objects: "exchange
// limit", or "stop-limit" for stop orders (reference §9).
func (t OrderType) String() string {
	switch t {
	case Limit:
		return "exchange limit"
	case StopLimit:
		return "stop-limit"
	}
	return "unknown"
}

// ParseOrderType parses the request spelling ("exchange limit", "exchange
// stop limit"). It returns InvalidOrderType otherwise.
func ParseOrderType(s string) (OrderType, error) {
	switch {
	case equalFold(s, "exchange limit"):
		return Limit, nil
	case equalFold(s, "exchange stop limit"):
		return StopLimit, nil
	}
	return 0, Errorf(InvalidOrderType, "Invalid order type: %q", s)
}

// Option is an order's execution option; at most one per order.
type Option uint8

const (
	NoOption Option = iota
	MakerOrCancel
	ImmediateOrCancel
	FillOrKill
)

// String returns Gemini's option spelling, or "" for NoOption.
func (o Option) String() string {
	switch o {
	case MakerOrCancel:
		return "maker-or-cancel"
	case ImmediateOrCancel:
		return "immediate-or-cancel"
	case FillOrKill:
		return "fill-or-kill"
	}
	return ""
}

// ParseOption parses one Gemini execution option. Unknown options give
// UnsupportedOption.
func ParseOption(s string) (Option, error) {
	switch {
	case equalFold(s, "maker-or-cancel"):
		return MakerOrCancel, nil
	case equalFold(s, "immediate-or-cancel"):
		return ImmediateOrCancel, nil
	case equalFold(s, "fill-or-kill"):
		return FillOrKill, nil
	}
	return 0, Errorf(UnsupportedOption, "Option %q is not supported", s)
}

// equalFold is strings.EqualFold for ASCII, kept here so the hot parsing
// paths do not pull Unicode folding in.
func equalFold(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		x, y := a[i], b[i]
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}
