package gemini

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Candle time frames, in the spelling of Gemini's docs description, ccxt and
// vansergen ("1hr", not the "1h" of the docs' enum; Twinex accepts both).
const (
	TimeFrame1m   = "1m"
	TimeFrame5m   = "5m"
	TimeFrame15m  = "15m"
	TimeFrame30m  = "30m"
	TimeFrame1hr  = "1hr"
	TimeFrame6hr  = "6hr"
	TimeFrame1day = "1day"
)

// Symbols returns the ids of every market, in lower case ("btcusd").
// GET /v1/symbols.
func (c *Client) Symbols(ctx context.Context) ([]string, error) {
	var out []string
	if err := c.get(ctx, "/v1/symbols", nil, &out); err != nil {
		return nil, err
	}
	return out, nil
}

// SymbolDetails is the answer of GET /v1/symbols/details/:symbol.
//
// Despite its name TickSize is the amount (quantity) increment; QuoteIncrement
// is the price tick. Both arrive as JSON numbers (1E-8, 0.01) and keep that
// text; MinOrderSize arrives as a string.
type SymbolDetails struct {
	Symbol                string  `json:"symbol"`
	BaseCurrency          string  `json:"base_currency"`
	QuoteCurrency         string  `json:"quote_currency"`
	TickSize              Number  `json:"tick_size"`
	QuoteIncrement        Number  `json:"quote_increment"`
	MinOrderSize          Decimal `json:"min_order_size"`
	Status                string  `json:"status"` // open, closed, cancel_only, post_only, limit_only
	WrapEnabled           bool    `json:"wrap_enabled"`
	ProductType           string  `json:"product_type,omitempty"`            // spot, swap
	ContractType          string  `json:"contract_type,omitempty"`           // vanilla, linear, inverse
	ContractPriceCurrency string  `json:"contract_price_currency,omitempty"` // absent for spot on Twinex
}

// SymbolDetails returns a market's increments, minimum and status. Unknown
// symbol: reason InvalidSymbol.
func (c *Client) SymbolDetails(ctx context.Context, symbol string) (*SymbolDetails, error) {
	s, err := segment("symbol", symbol)
	if err != nil {
		return nil, err
	}
	return call[SymbolDetails](ctx, c.get, "/v1/symbols/details/"+s, nil)
}

// Network is the answer of GET /v1/network/:token.
type Network struct {
	Token    string   `json:"token"`
	Networks []string `json:"network"` // lower-case network ids: "bitcoin", "ethereum", ...
}

// Network returns the networks a token can be deposited and withdrawn on.
func (c *Client) Network(ctx context.Context, token string) (*Network, error) {
	s, err := segment("token", token)
	if err != nil {
		return nil, err
	}
	return call[Network](ctx, c.get, "/v1/network/"+s, nil)
}

// Ticker is the answer of GET /v1/pubticker/:symbol.
//
// Twinex's server answers with this struct too, in this field order; a
// market with no bid, ask or last price leaves that key out.
type Ticker struct {
	Bid    Decimal      `json:"bid,omitempty"`
	Ask    Decimal      `json:"ask,omitempty"`
	Volume TickerVolume `json:"volume"`
	Last   Decimal      `json:"last,omitempty"`
}

// TickerVolume is the pubticker "volume" object, whose keys are the market's
// currency codes plus "timestamp":
//
//	{"BTC": "1920.6", "USD": "17966474.43", "timestamp": 1483018200000}
type TickerVolume struct {
	// Timestampms is "timestamp", a JSON number of Unix milliseconds.
	Timestampms int64
	// Amounts maps each currency code, as sent (upper case), to its 24-hour
	// volume.
	Amounts map[string]Decimal
	// Base and Quote are the codes of the market's base and quote currencies.
	// Client.Ticker fills them by matching the codes against the symbol; they
	// are empty when decoded on their own or when the codes don't spell the
	// symbol.
	Base, Quote string
}

// Of returns the volume in currency (any case), or "" if absent.
func (v TickerVolume) Of(currency string) Decimal {
	if d, ok := v.Amounts[currency]; ok {
		return d
	}
	for k, d := range v.Amounts {
		if strings.EqualFold(k, currency) {
			return d
		}
	}
	return ""
}

// BaseVolume returns the 24-hour volume in the base currency.
func (v TickerVolume) BaseVolume() Decimal { return v.Of(v.Base) }

// QuoteVolume returns the 24-hour volume in the quote currency.
func (v TickerVolume) QuoteVolume() Decimal { return v.Of(v.Quote) }

// Time returns the volume timestamp.
func (v TickerVolume) Time() time.Time { return time.UnixMilli(v.Timestampms) }

// UnmarshalJSON decodes the object of dynamic currency keys.
func (v *TickerVolume) UnmarshalJSON(b []byte) error {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		return fmt.Errorf("gemini: ticker volume: %w", err)
	}
	*v = TickerVolume{Amounts: make(map[string]Decimal, len(m))}
	for k, raw := range m {
		if k == "timestamp" {
			s, err := stringOrNumber(raw)
			if err != nil {
				return fmt.Errorf("gemini: ticker volume timestamp: %w", err)
			}
			if s != "" {
				if v.Timestampms, err = strconv.ParseInt(s, 10, 64); err != nil {
					return fmt.Errorf("gemini: ticker volume timestamp: %w", err)
				}
			}
			continue
		}
		var d Decimal
		if err := d.UnmarshalJSON(raw); err != nil {
			return fmt.Errorf("gemini: ticker volume %s: %w", k, err)
		}
		v.Amounts[k] = d
	}
	return nil
}

// MarshalJSON encodes the wire form (Base and Quote are not part of it):
// the keys sorted, as encoding/json sorts a map's, with "timestamp" among
// them. Twinex's server answers every ticker with it, so it appends the
// bytes itself rather than building and encoding a map.
func (v TickerVolume) MarshalJSON() ([]byte, error) {
	keys := make([]string, 0, len(v.Amounts)+1)
	for k := range v.Amounts {
		if k != "timestamp" {
			keys = append(keys, k)
		}
	}
	keys = append(keys, "timestamp")
	slices.Sort(keys)
	b := make([]byte, 0, 32*len(keys))
	b = append(b, '{')
	for i, k := range keys {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendJSONString(b, k)
		b = append(b, ':')
		if k == "timestamp" {
			b = strconv.AppendInt(b, v.Timestampms, 10)
		} else {
			b = appendJSONString(b, string(v.Amounts[k]))
		}
	}
	return append(b, '}'), nil
}

// appendJSONString appends s as a JSON string: plain printable ASCII as it
// is, anything else as encoding/json writes it.
func appendJSONString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			q, _ := json.Marshal(s)
			return append(b, q...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

// resolve fills Base and Quote from the symbol: the pair of currency codes
// whose concatenation is the symbol.
func (v *TickerVolume) resolve(symbol string) {
	sym := strings.ToUpper(symbol)
	for k := range v.Amounts {
		ku := strings.ToUpper(k)
		if len(ku) >= len(sym) || !strings.HasPrefix(sym, ku) {
			continue
		}
		for q := range v.Amounts {
			if strings.ToUpper(q) == sym[len(ku):] {
				v.Base, v.Quote = k, q
				return
			}
		}
	}
}

// Ticker returns the v1 ticker of a market. Unknown symbol: InvalidSymbol.
func (c *Client) Ticker(ctx context.Context, symbol string) (*Ticker, error) {
	s, err := segment("symbol", symbol)
	if err != nil {
		return nil, err
	}
	var out Ticker
	if err := c.get(ctx, "/v1/pubticker/"+s, nil, &out); err != nil {
		return nil, err
	}
	out.Volume.resolve(symbol)
	return &out, nil
}

// TickerV2 is the answer of GET /v2/ticker/:symbol.
// A price the market does not have yet (no trade, an empty side) is absent.
type TickerV2 struct {
	Symbol  string    `json:"symbol"`
	Open    Decimal   `json:"open,omitempty"`
	High    Decimal   `json:"high,omitempty"`
	Low     Decimal   `json:"low,omitempty"`
	Close   Decimal   `json:"close,omitempty"`
	Changes []Decimal `json:"changes"` // 24 hourly prices, newest first
	Bid     Decimal   `json:"bid,omitempty"`
	Ask     Decimal   `json:"ask,omitempty"`
}

// TickerV2 returns the v2 ticker of a market.
func (c *Client) TickerV2(ctx context.Context, symbol string) (*TickerV2, error) {
	s, err := segment("symbol", symbol)
	if err != nil {
		return nil, err
	}
	return call[TickerV2](ctx, c.get, "/v2/ticker/"+s, nil)
}

// OrderBook is the answer of GET /v1/book/:symbol. Bids run from the best
// (highest) down, asks from the best (lowest) up.
type OrderBook struct {
	Bids []BookEntry `json:"bids"`
	Asks []BookEntry `json:"asks"`
}

// BookEntry is one price level.
type BookEntry struct {
	Price  Decimal `json:"price"`
	Amount Decimal `json:"amount"`
	// Timestamp is a string of seconds that Gemini documents as meaningless
	// ("DO NOT USE"); it is kept as sent.
	Timestamp string `json:"timestamp"`
}

// OrderBook returns up to limitBids bids and limitAsks asks. A limit of 0 asks
// for the whole side; a negative limit leaves the parameter out, so the
// server's default (50) applies.
func (c *Client) OrderBook(ctx context.Context, symbol string, limitBids, limitAsks int) (*OrderBook, error) {
	s, err := segment("symbol", symbol)
	if err != nil {
		return nil, err
	}
	q := url.Values{}
	if limitBids >= 0 {
		q.Set("limit_bids", strconv.Itoa(limitBids))
	}
	if limitAsks >= 0 {
		q.Set("limit_asks", strconv.Itoa(limitAsks))
	}
	return call[OrderBook](ctx, c.get, "/v1/book/"+s, q)
}

// Trade is one public trade of GET /v1/trades/:symbol.
type Trade struct {
	Timestamp   int64   `json:"timestamp"`   // seconds
	Timestampms int64   `json:"timestampms"` // milliseconds
	TID         int64   `json:"tid"`
	Price       Decimal `json:"price"`
	Amount      Decimal `json:"amount"`
	Exchange    string  `json:"exchange"`
	Type        string  `json:"type"` // taker side: buy, sell; also auction, block
	Broken      bool    `json:"broken,omitempty"`
}

// Time returns the trade time.
func (t Trade) Time() time.Time { return time.UnixMilli(t.Timestampms) }

// TradesOptions filters Trades. Zero values leave a parameter out.
type TradesOptions struct {
	Since         time.Time // only trades after this time (sent as "timestamp" in ms)
	SinceTID      int64     // only trades after this trade id; overrides Since
	Limit         int       // limit_trades: default 50, max 500
	IncludeBreaks bool      // include broken trades, marked Broken
}

// Trades returns recent public trades, newest first.
func (c *Client) Trades(ctx context.Context, symbol string, opts TradesOptions) ([]Trade, error) {
	s, err := segment("symbol", symbol)
	if err != nil {
		return nil, err
	}
	q := url.Values{}
	if !opts.Since.IsZero() {
		q.Set("timestamp", strconv.FormatInt(millis(opts.Since), 10))
	}
	if opts.SinceTID > 0 {
		q.Set("since_tid", strconv.FormatInt(opts.SinceTID, 10))
	}
	if opts.Limit > 0 {
		q.Set("limit_trades", strconv.Itoa(opts.Limit))
	}
	if opts.IncludeBreaks {
		q.Set("include_breaks", "true")
	}
	var out []Trade
	if err := c.get(ctx, "/v1/trades/"+s, q, &out); err != nil {
		return nil, err
	}
	return out, nil
}

// Candle is one row of GET /v2/candles, sent as the array
// [time_ms, open, high, low, close, volume] of JSON numbers.
type Candle struct {
	Time   int64 // start, Unix milliseconds
	Open   Decimal
	High   Decimal
	Low    Decimal
	Close  Decimal
	Volume Decimal
}

// UnmarshalJSON decodes the six-number row.
func (k *Candle) UnmarshalJSON(b []byte) error {
	var row []json.RawMessage
	if err := json.Unmarshal(b, &row); err != nil {
		return fmt.Errorf("gemini: candle: %w", err)
	}
	if len(row) != 6 {
		return fmt.Errorf("gemini: candle: want 6 values, got %d", len(row))
	}
	ts, err := stringOrNumber(row[0])
	if err != nil {
		return fmt.Errorf("gemini: candle time: %w", err)
	}
	t, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return fmt.Errorf("gemini: candle time: %w", err)
	}
	out := Candle{Time: t}
	for i, d := range []*Decimal{&out.Open, &out.High, &out.Low, &out.Close, &out.Volume} {
		if err := d.UnmarshalJSON(row[i+1]); err != nil {
			return fmt.Errorf("gemini: candle value %d: %w", i+1, err)
		}
	}
	*k = out
	return nil
}

// MarshalJSON encodes the wire form, an array of numbers.
func (k Candle) MarshalJSON() ([]byte, error) {
	return json.Marshal([]any{k.Time, json.Number(k.Open), json.Number(k.High),
		json.Number(k.Low), json.Number(k.Close), json.Number(k.Volume)})
}

// Candles returns candles of a time frame (TimeFrame1m ... TimeFrame1day),
// newest first.
func (c *Client) Candles(ctx context.Context, symbol, timeFrame string) ([]Candle, error) {
	s, err := segment("symbol", symbol)
	if err != nil {
		return nil, err
	}
	tf, err := segment("time frame", timeFrame)
	if err != nil {
		return nil, err
	}
	var out []Candle
	if err := c.get(ctx, "/v2/candles/"+s+"/"+tf, nil, &out); err != nil {
		return nil, err
	}
	return out, nil
}

// Price is one entry of GET /v1/pricefeed.
type Price struct {
	Pair             string  `json:"pair"`            // upper case, "BTCUSD"
	Price            Decimal `json:"price,omitempty"` // absent before the first trade
	PercentChange24h Decimal `json:"percentChange24h"`
}

// PriceFeed returns the last price and 24-hour change of every market.
func (c *Client) PriceFeed(ctx context.Context) ([]Price, error) {
	var out []Price
	if err := c.get(ctx, "/v1/pricefeed", nil, &out); err != nil {
		return nil, err
	}
	return out, nil
}

// FeePromos returns the symbols currently on a fee promotion.
// GET /v1/feepromos.
func (c *Client) FeePromos(ctx context.Context) ([]string, error) {
	var out struct {
		Symbols []string `json:"symbols"`
	}
	if err := c.get(ctx, "/v1/feepromos", nil, &out); err != nil {
		return nil, err
	}
	return out.Symbols, nil
}
