package twinex

import (
	"encoding/json"
	"errors"
	"fmt"
	"math/bits"
	"strings"
)

// MarketStatus says which orders a market accepts (Gemini's symbol status).
type MarketStatus string

const (
	MarketOpen       MarketStatus = "open"
	MarketClosed     MarketStatus = "closed"
	MarketCancelOnly MarketStatus = "cancel_only"
	MarketPostOnly   MarketStatus = "post_only"
	MarketLimitOnly  MarketStatus = "limit_only"
)

// Valid reports whether s is one of Gemini's five statuses.
func (s MarketStatus) Valid() bool {
	switch s {
	case MarketOpen, MarketClosed, MarketCancelOnly, MarketPostOnly, MarketLimitOnly:
		return true
	}
	return false
}

// CheckOrder is the one home of what a market's status lets through, as
// Gemini enforces it: open takes every order; closed and cancel_only take
// none (cancels are always allowed); post_only only maker-or-cancel
// orders; limit_only only limit orders, which on the API is every order
// (Gemini's API, like Twinex, has no market orders: limit_only turns off
// the website's market orders, and a stop-limit is a limit order too). It
// returns nil or a MarketNotOpen error naming the market.
func (s MarketStatus) CheckOrder(symbol string, o Option) error {
	switch s {
	case MarketClosed:
		return Errorf(MarketNotOpen, "Market %s is closed", symbol)
	case MarketCancelOnly:
		return Errorf(MarketNotOpen, "Market %s is in cancel-only mode: orders can be cancelled, not placed", symbol)
	case MarketPostOnly:
		if o != MakerOrCancel {
			return Errorf(MarketNotOpen, "Market %s accepts only maker-or-cancel orders", symbol)
		}
	case MarketLimitOnly:
		// Every order the API takes is a limit order (an unknown type is
		// InvalidOrderType, checked later): nothing to refuse here.
	}
	return nil
}

// Currency is an asset balances are kept in. Scale is the number of decimal
// places of its ledger unit: every balance, hold, fee and notional in this
// currency is an int64 count of 10^-Scale. The scale is chosen so that the
// notional of any trade (price times amount) is exact in the quote currency;
// ValidateMarkets enforces that. Display is how many decimals Gemini-style
// clients are told to show.
type Currency struct {
	Code  string `json:"code"`  // upper case, e.g. "BTC"
	Name  string `json:"name"`  // e.g. "Bitcoin"
	Scale int    `json:"scale"` // ledger decimals
	// Display is Gemini's precision for the currency (8 for BTC, 6 for
	// ETH, 2 for USD): the decimals shown to users, the precision
	// currencyData gives clients (reference §8.1), and the finest amount a
	// withdrawal or transfer may move (ParseTransferAmount).
	Display int    `json:"display"`
	Fiat    bool   `json:"fiat,omitempty"`
	Network string `json:"network,omitempty"` // e.g. "bitcoin"; empty for fiat
}

// ParseTransferAmount parses the amount of a withdrawal or an internal
// transfer of c, in ledger units: a positive decimal with at most
// c.Display decimals, as Gemini checks them. The ledger keeps finer units
// (Scale) so that trade notionals are exact, but funds leave or move only
// in the currency's own precision. Errors: InvalidQuantity (Gemini's
// reason for a bad amount; the message names the precision, or, for an
// amount past MaxAmount(c.Display), that limit).
func (c *Currency) ParseTransferAmount(s string) (int64, error) {
	units, err := ParseUnits(s, c.Scale)
	if errors.Is(err, ErrDecimalRange) {
		return 0, Errorf(InvalidQuantity, "Invalid amount %q for %s: a single withdrawal or transfer can be at most %s %s",
			s, c.Code, FormatUnits(c.MaxAmount(c.Display), c.Scale), c.Code)
	}
	if err != nil || units <= 0 {
		return 0, Errorf(InvalidQuantity, "Invalid amount %q for %s", s, c.Code)
	}
	if units%pow10[c.Scale-c.Display] != 0 {
		return 0, Errorf(InvalidQuantity, "Invalid amount %q for %s: at most %d decimal places", s, c.Code, c.Display)
	}
	return units, nil
}

// ParseAmount parses the amount of one deposit or withdrawal of c that an
// operator makes, in ledger units: a positive decimal with at most c.Scale
// decimals. what names the command in the message ("deposit"). Errors:
// InvalidQuantity; past MaxAmount(c.Scale), the message names the limit.
func (c *Currency) ParseAmount(s, what string) (int64, error) {
	units, err := ParseUnits(s, c.Scale)
	if errors.Is(err, ErrDecimalRange) {
		return 0, Errorf(InvalidQuantity, "Invalid amount %q for %s: a single %s can be at most %s %s",
			s, c.Code, what, FormatUnits(c.MaxAmount(c.Scale), c.Scale), c.Code)
	}
	if err != nil || units <= 0 {
		return 0, Errorf(InvalidQuantity, "Invalid amount %q for %s", s, c.Code)
	}
	return units, nil
}

// MaxAmount returns the largest amount of c one command may move, in ledger
// units, as a multiple of 10^-decimals (Scale for deposits, Display for
// withdrawals and transfers): the largest such int64, 922337203.6854775807
// USD at USD's scale. Balances hold far more (they are Int128); a larger sum
// arrives in several commands.
func (c *Currency) MaxAmount(decimals int) int64 {
	step := pow10[c.Scale-decimals]
	return (1<<63 - 1) / step * step
}

// Market is a trading pair. Prices are int64 counts of 10^-PriceDecimals and
// must be multiples of PriceTick; amounts are counts of 10^-AmountDecimals,
// multiples of AmountStep and at least MinAmount.
type Market struct {
	Symbol         string       // lower case, e.g. "btcusd"
	Base, Quote    string       // upper case currency codes
	PriceDecimals  int          // decimals of the price unit
	PriceTick      int64        // price increment, in price units
	AmountDecimals int          // decimals of the amount unit
	AmountStep     int64        // amount increment, in amount units
	MinAmount      int64        // minimum order size, in amount units
	Status         MarketStatus // which orders are accepted

	// Set by ValidateMarkets from the currencies' scales.
	baseMul     int64 // amount units -> base ledger units
	notionalMul int64 // price units * amount units -> quote ledger units
	quoteScale  int
	baseScale   int
}

// ParsePrice parses a price in this market. Non-positive values, values off
// the tick or with too many decimals, and absurd values give InvalidPrice.
func (m *Market) ParsePrice(s string) (int64, error) {
	v, err := ParseUnits(s, m.PriceDecimals)
	switch {
	case errors.Is(err, ErrDecimalPrecision):
		return 0, Errorf(InvalidPrice, "Invalid price for symbol %s: %s has more decimal places than the tick %s allows", strings.ToUpper(m.Symbol), s, m.FormatPrice(m.PriceTick))
	case err != nil:
		return 0, Errorf(InvalidPrice, "Invalid price for symbol %s: %q", strings.ToUpper(m.Symbol), s)
	case v <= 0:
		return 0, Errorf(InvalidPrice, "Invalid price for symbol %s: %s is not positive", strings.ToUpper(m.Symbol), s)
	case v%m.PriceTick != 0:
		return 0, Errorf(InvalidPrice, "Invalid price for symbol %s: %s is not a multiple of the tick %s", strings.ToUpper(m.Symbol), s, m.FormatPrice(m.PriceTick))
	}
	return v, nil
}

// ParseAmount parses an order amount in this market. Non-positive values,
// values off the increment, below the minimum order size or absurd give
// InvalidQuantity.
func (m *Market) ParseAmount(s string) (int64, error) {
	v, err := ParseUnits(s, m.AmountDecimals)
	switch {
	case errors.Is(err, ErrDecimalPrecision):
		return 0, Errorf(InvalidQuantity, "Invalid quantity for symbol %s: %s has more decimal places than the increment %s allows", strings.ToUpper(m.Symbol), s, m.FormatAmount(m.AmountStep))
	case err != nil:
		return 0, Errorf(InvalidQuantity, "Invalid quantity for symbol %s: %q", strings.ToUpper(m.Symbol), s)
	case v <= 0:
		return 0, Errorf(InvalidQuantity, "Invalid quantity for symbol %s: %s is not positive", strings.ToUpper(m.Symbol), s)
	case v%m.AmountStep != 0:
		return 0, Errorf(InvalidQuantity, "Invalid quantity for symbol %s: %s is not a multiple of the increment %s", strings.ToUpper(m.Symbol), s, m.FormatAmount(m.AmountStep))
	case v < m.MinAmount:
		return 0, Errorf(InvalidQuantity, "Invalid quantity for symbol %s: %s is below the minimum order size %s", strings.ToUpper(m.Symbol), s, m.FormatAmount(m.MinAmount))
	}
	return v, nil
}

// FormatPrice formats price units with at least the tick's decimals
// ("3633.00").
func (m *Market) FormatPrice(p int64) string {
	return FormatUnitsFixed(p, m.PriceDecimals, m.PriceDecimals)
}

// FormatAmount formats amount units without trailing zeros ("0.5").
func (m *Market) FormatAmount(a int64) string { return FormatUnits(a, m.AmountDecimals) }

// BaseUnits converts an amount in this market's amount units to base
// currency ledger units. It is exact; callers bound amounts beforehand with
// CheckNotional.
func (m *Market) BaseUnits(amount int64) int64 { return amount * m.baseMul }

// Notional returns price times amount in quote currency ledger units. It is
// exact; callers bound the operands beforehand with CheckNotional.
func (m *Market) Notional(price, amount int64) int64 { return price * amount * m.notionalMul }

// QuoteScale returns the ledger scale of the quote currency.
func (m *Market) QuoteScale() int { return m.quoteScale }

// BaseScale returns the ledger scale of the base currency.
func (m *Market) BaseScale() int { return m.baseScale }

// MaxOrderValue bounds any single order's value, in ledger units of each
// currency it moves (its notional in the quote currency, its amount in the
// base currency), and what one order may fill for: 2^62, so that an order's
// hold plus its fee, and its filled value plus one more fill, stay within
// int64. Balances, which sum many orders, are Int128.
const MaxOrderValue = 1 << 62

// OrderLimit describes the largest order CheckNotional allows, for the
// message of a refusal: "one order can be worth at most 461168601.8427387904
// USD and move at most 46116860.18427387904 BTC". Single orders and trades
// stay int64 in the ledger; only balances and sums of them are wide.
func (m *Market) OrderLimit() string {
	return fmt.Sprintf("one order can be worth at most %s %s and move at most %s %s",
		FormatUnits(MaxOrderValue, m.quoteScale), m.Quote, FormatUnits(MaxOrderValue, m.baseScale), m.Base)
}

// CheckNotional reports whether an order of amount at price has a notional,
// and a base value, that the ledger can hold with room for fees (see
// OrderLimit).
func (m *Market) CheckNotional(price, amount int64) bool {
	if price <= 0 || amount <= 0 {
		return false
	}
	hi, lo := bits.Mul64(uint64(price), uint64(amount))
	if hi != 0 || lo > MaxOrderValue {
		return false
	}
	hi, lo = bits.Mul64(lo, uint64(m.notionalMul))
	if hi != 0 || lo > MaxOrderValue {
		return false
	}
	hi, lo = bits.Mul64(uint64(amount), uint64(m.baseMul))
	return hi == 0 && lo <= MaxOrderValue
}

// Markets is a validated set of currencies and markets. Look-ups are case
// insensitive.
type Markets struct {
	Currencies []Currency
	List       []*Market
	bySymbol   map[string]*Market
	byCurrency map[string]*Currency
}

// Market returns the market with the given symbol in any case, or nil.
func (ms *Markets) Market(symbol string) *Market {
	return ms.bySymbol[strings.ToLower(symbol)]
}

// Currency returns the currency with the given code in any case, or nil.
func (ms *Markets) Currency(code string) *Currency {
	return ms.byCurrency[strings.ToUpper(code)]
}

// Index returns the position of a market in List, or -1.
func (ms *Markets) Index(symbol string) int {
	m := ms.Market(symbol)
	for i, x := range ms.List {
		if x == m {
			return i
		}
	}
	return -1
}

// MarketConfig is the file form of the market definitions
// (<data>/markets.json). Increments are decimal strings, as in Gemini's
// symbol details.
type MarketConfig struct {
	Currencies []Currency         `json:"currencies"`
	Markets    []MarketConfigItem `json:"markets"`
}

// MarketConfigItem is one market in a MarketConfig.
type MarketConfigItem struct {
	Symbol       string       `json:"symbol"`
	Base         string       `json:"base"`
	Quote        string       `json:"quote"`
	PriceTick    string       `json:"price_tick"`       // Gemini's quote_increment, e.g. "0.01"
	AmountStep   string       `json:"amount_increment"` // Gemini's tick_size, e.g. "0.00000001"
	MinOrderSize string       `json:"min_order_size"`   // e.g. "0.00001"
	Status       MarketStatus `json:"status"`
}

// DefaultMarketConfig returns the built-in markets, following Gemini's symbol
// details for these pairs.
func DefaultMarketConfig() MarketConfig {
	return MarketConfig{
		Currencies: []Currency{
			{Code: "USD", Name: "US Dollar", Scale: 10, Display: 2, Fiat: true},
			{Code: "BTC", Name: "Bitcoin", Scale: 11, Display: 8, Network: "bitcoin"},
			{Code: "ETH", Name: "Ether", Scale: 10, Display: 6, Network: "ethereum"},
			{Code: "SOL", Name: "Solana", Scale: 8, Display: 6, Network: "solana"},
			{Code: "LTC", Name: "Litecoin", Scale: 8, Display: 5, Network: "litecoin"},
		},
		Markets: []MarketConfigItem{
			{Symbol: "btcusd", Base: "BTC", Quote: "USD", PriceTick: "0.01", AmountStep: "0.00000001", MinOrderSize: "0.00001", Status: MarketOpen},
			{Symbol: "ethusd", Base: "ETH", Quote: "USD", PriceTick: "0.01", AmountStep: "0.000001", MinOrderSize: "0.001", Status: MarketOpen},
			{Symbol: "ethbtc", Base: "ETH", Quote: "BTC", PriceTick: "0.00001", AmountStep: "0.000001", MinOrderSize: "0.001", Status: MarketOpen},
			{Symbol: "solusd", Base: "SOL", Quote: "USD", PriceTick: "0.001", AmountStep: "0.000001", MinOrderSize: "0.01", Status: MarketOpen},
			{Symbol: "ltcusd", Base: "LTC", Quote: "USD", PriceTick: "0.01", AmountStep: "0.00001", MinOrderSize: "0.01", Status: MarketOpen},
		},
	}
}

// ParseMarketConfig reads a MarketConfig from JSON, refusing unknown fields.
func ParseMarketConfig(data []byte) (MarketConfig, error) {
	var c MarketConfig
	dec := json.NewDecoder(strings.NewReader(string(data)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		return c, fmt.Errorf("market config: %w", err)
	}
	return c, nil
}

// increment parses an increment such as "0.01" into its decimals and its
// count of units at those decimals (2 and 1).
func increment(s string) (decimals int, units int64, err error) {
	t := s
	if i := strings.IndexByte(t, '.'); i >= 0 {
		t = strings.TrimRight(t, "0")
		decimals = len(t) - i - 1
	}
	units, err = ParseUnits(s, decimals)
	if err != nil || units <= 0 {
		return 0, 0, fmt.Errorf("bad increment %q", s)
	}
	return decimals, units, nil
}

// Validate checks a MarketConfig and builds the Markets: codes and symbols
// unique and well formed, positive increments, and currency scales large
// enough that every trade's notional is exact in its quote currency.
func (c MarketConfig) Validate() (*Markets, error) {
	ms := &Markets{bySymbol: map[string]*Market{}, byCurrency: map[string]*Currency{}}
	ms.Currencies = append([]Currency(nil), c.Currencies...)
	for i := range ms.Currencies {
		cur := &ms.Currencies[i]
		if !isCode(cur.Code, true) {
			return nil, fmt.Errorf("currency %q: code must be 2 to 10 upper-case letters or digits", cur.Code)
		}
		if cur.Scale < 0 || cur.Scale > MaxScale || cur.Display < 0 || cur.Display > cur.Scale {
			return nil, fmt.Errorf("currency %s: need 0 <= display <= scale <= %d", cur.Code, MaxScale)
		}
		if ms.byCurrency[cur.Code] != nil {
			return nil, fmt.Errorf("currency %s defined twice", cur.Code)
		}
		if cur.Name == "" {
			cur.Name = cur.Code
		}
		ms.byCurrency[cur.Code] = cur
	}
	if len(c.Markets) == 0 {
		return nil, errors.New("no markets defined")
	}
	for _, it := range c.Markets {
		m := &Market{Symbol: it.Symbol, Base: it.Base, Quote: it.Quote, Status: it.Status}
		if !isCode(m.Symbol, false) {
			return nil, fmt.Errorf("market %q: symbol must be lower-case letters and digits", m.Symbol)
		}
		if ms.bySymbol[m.Symbol] != nil {
			return nil, fmt.Errorf("market %s defined twice", m.Symbol)
		}
		base, quote := ms.byCurrency[m.Base], ms.byCurrency[m.Quote]
		if base == nil || quote == nil || base == quote {
			return nil, fmt.Errorf("market %s: base and quote must be two defined currencies", m.Symbol)
		}
		if m.Status == "" {
			m.Status = MarketOpen
		}
		if !m.Status.Valid() {
			return nil, fmt.Errorf("market %s: unknown status %q", m.Symbol, m.Status)
		}
		var err error
		if m.PriceDecimals, m.PriceTick, err = increment(it.PriceTick); err != nil {
			return nil, fmt.Errorf("market %s: price_tick: %w", m.Symbol, err)
		}
		if m.AmountDecimals, m.AmountStep, err = increment(it.AmountStep); err != nil {
			return nil, fmt.Errorf("market %s: amount_increment: %w", m.Symbol, err)
		}
		if m.MinAmount, err = ParseUnits(it.MinOrderSize, m.AmountDecimals); err != nil || m.MinAmount <= 0 || m.MinAmount%m.AmountStep != 0 {
			return nil, fmt.Errorf("market %s: min_order_size %q must be a positive multiple of the amount increment", m.Symbol, it.MinOrderSize)
		}
		if base.Scale < m.AmountDecimals {
			return nil, fmt.Errorf("market %s: currency %s has scale %d, below the amount decimals %d", m.Symbol, base.Code, base.Scale, m.AmountDecimals)
		}
		if quote.Scale < m.PriceDecimals+m.AmountDecimals {
			return nil, fmt.Errorf("market %s: currency %s has scale %d; exact notionals need at least %d (price decimals + amount decimals)", m.Symbol, quote.Code, quote.Scale, m.PriceDecimals+m.AmountDecimals)
		}
		m.baseMul = pow10[base.Scale-m.AmountDecimals]
		m.notionalMul = pow10[quote.Scale-m.PriceDecimals-m.AmountDecimals]
		m.baseScale, m.quoteScale = base.Scale, quote.Scale
		ms.bySymbol[m.Symbol] = m
		ms.List = append(ms.List, m)
	}
	return ms, nil
}

func isCode(s string, upper bool) bool {
	if len(s) < 2 || len(s) > 20 || (upper && len(s) > 10) {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		ok := '0' <= c && c <= '9' || (upper && 'A' <= c && c <= 'Z') || (!upper && 'a' <= c && c <= 'z')
		if !ok {
			return false
		}
	}
	return true
}

// DefaultMarkets returns the validated built-in markets.
func DefaultMarkets() *Markets {
	ms, err := DefaultMarketConfig().Validate()
	if err != nil {
		panic("twinex: built-in markets are invalid: " + err.Error())
	}
	return ms
}
