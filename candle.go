package twinex

// Timeframe is a candle width.
type Timeframe struct {
	Name string // Gemini's spelling: 1m, 5m, 15m, 30m, 1hr, 6hr, 1day
	Dur  int64  // nanoseconds
}

const minute = int64(60e9)

// Timeframes lists the candle widths, shortest first.
var Timeframes = []Timeframe{
	{"1m", minute}, {"5m", 5 * minute}, {"15m", 15 * minute}, {"30m", 30 * minute},
	{"1hr", 60 * minute}, {"6hr", 360 * minute}, {"1day", 1440 * minute},
}

// ParseTimeframe accepts both of Gemini's spellings (1hr and 1h, 6hr and 6h,
// 1day and 1d; reference §2.8) and returns the canonical Timeframe.
func ParseTimeframe(s string) (Timeframe, bool) {
	switch s {
	case "1h":
		s = "1hr"
	case "6h":
		s = "6hr"
	case "1d":
		s = "1day"
	}
	for _, tf := range Timeframes {
		if tf.Name == s {
			return tf, true
		}
	}
	return Timeframe{}, false
}

// Candle is one OHLCV bar. Prices are in market price units, Volume in
// market amount units and QuoteVolume in quote ledger units. QuoteVolume is
// wide: a day of trades may be worth more than an int64 of quote ledger
// units ($922M at USD's scale). Volume stays an int64 (9.2e18 amount units,
// 92 billion BTC), saturating there.
type Candle struct {
	Market      string
	Timeframe   string
	Start       int64 // Unix ns, a multiple of the timeframe
	Open        int64
	High        int64
	Low         int64
	Close       int64
	Volume      int64
	QuoteVolume Int128
}
