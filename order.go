package twinex

// OrderStatus is where an order is in its life.
type OrderStatus uint8

const (
	// StatusPending: a stop order waiting for its trigger; its funds are held.
	StatusPending OrderStatus = iota + 1
	// StatusLive: resting on the book.
	StatusLive
	// StatusFilled: closed, fully filled.
	StatusFilled
	// StatusCancelled: closed by a cancel (possibly after partial fills).
	StatusCancelled
)

// Open reports whether the order still holds funds (pending or live).
func (s OrderStatus) Open() bool { return s == StatusPending || s == StatusLive }

// String returns a lower-case name, used in storage and logs.
func (s OrderStatus) String() string {
	switch s {
	case StatusPending:
		return "pending"
	case StatusLive:
		return "live"
	case StatusFilled:
		return "filled"
	case StatusCancelled:
		return "cancelled"
	}
	return "unknown"
}

// Cancel reasons of Gemini's order objects and order events (reference §3.1).
const (
	ReasonRequested                  = "Requested"
	ReasonMakerOrCancelWouldTake     = "MakerOrCancelWouldTake"
	ReasonSelfCrossPrevented         = "SelfCrossPrevented"
	ReasonImmediateOrCancelWouldPost = "ImmediateOrCancelWouldPost"
	ReasonFillOrKillWouldNotFill     = "FillOrKillWouldNotFill"
	ReasonMarketClosed               = "MarketClosed"
	// ReasonHeartbeatExpired is Twinex's own: Gemini does not document the
	// reason for a cancel caused by a missed heartbeat (reference §1.7).
	ReasonHeartbeatExpired = "HeartbeatExpired"
	// ReasonOrderValueLimit is Twinex's own too: a sell order that trades
	// at prices far above its limit stops once its filled value would pass
	// MaxOrderValue, the most one order may be worth, and its remainder is
	// cancelled. It keeps each order's sums within int64.
	ReasonOrderValueLimit = "OrderValueLimit"
	// ReasonPriceLevelFull is Twinex's own as well: an order's remainder is
	// cancelled instead of resting when the amount resting at its price
	// would pass an int64 of the market's amount units (92 billion BTC on
	// btcusd), which the book's level totals are kept in.
	ReasonPriceLevelFull = "PriceLevelFull"
)

// Order is an order's state as of its last change. Price, StopPrice and
// amounts are in the market's units; Held, FilledNotional and Fees are in
// ledger units (Held of the currency the order spends: quote for a buy, base
// for a sell; FilledNotional and Fees of the quote currency).
//
// They are all int64, provably: an order's value is at most MaxOrderValue
// (2^62) in each currency it moves, so Held, its notional plus a fee
// reserve of at most MaxFeeBps (10%), stays below 1.1 * 2^62; a buy fills at
// or below its price, so FilledNotional stays within its value, and a sell's
// FilledNotional is stopped at MaxOrderValue by the engine (the remainder is
// cancelled with ReasonOrderValueLimit); Fees are at most a tenth of it.
// Sums over orders (an account's holds) are Int128 in the ledger.
type Order struct {
	ID             int64
	ClientOrderID  string
	AccountID      int64
	Session        string // the API key that placed it, or "UI"
	Market         string // lower-case symbol
	Side           Side
	Type           OrderType
	Option         Option
	Price          int64
	StopPrice      int64 // stop orders only
	Amount         int64 // original amount
	Filled         int64 // executed amount
	FilledNotional int64 // sum of price*amount of fills
	Fees           int64 // fees paid so far
	Held           int64 // funds still reserved for the remainder
	MakerBps       int64 // fee rates in force when the order was placed;
	TakerBps       int64 // the order keeps them for its life
	Status         OrderStatus
	CancelReason   string
	Seq            int64 // time priority on the book; larger is later
	Created        int64 // Unix ns
	Updated        int64 // Unix ns
}

// Remaining returns the amount not yet executed.
func (o *Order) Remaining() int64 { return o.Amount - o.Filled }

// Trade is one match between a resting (maker) and an incoming (taker)
// order. Price and Amount are in market units; Notional and fees in quote
// ledger units.
type Trade struct {
	ID           int64
	Market       string
	Price        int64
	Amount       int64
	Notional     int64
	TakerSide    Side
	MakerOrderID int64
	TakerOrderID int64
	MakerAccount int64
	TakerAccount int64
	MakerFee     int64
	TakerFee     int64
	Time         int64 // Unix ns
}

// FeeRates are an account's trading fees in basis points of the notional,
// paid in the quote currency.
type FeeRates struct {
	MakerBps int64
	TakerBps int64
}

// DefaultFeeRates is Gemini's API fee schedule at the lowest tier (reference
// §3.10: api_maker_fee_bps 10, api_taker_fee_bps 35).
var DefaultFeeRates = FeeRates{MakerBps: 10, TakerBps: 35}

// MaxFeeBps bounds fee rates: 10%.
const MaxFeeBps = 1000

// FeeAccountID is the system account that collects trading fees. Account ids
// below FirstUserAccountID are reserved for the system.
const (
	FeeAccountID       int64 = 1
	FirstUserAccountID int64 = 100
)
