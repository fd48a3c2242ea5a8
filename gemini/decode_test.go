package gemini_test

import (
	"context"
	"net/http"
	"reflect"
	"testing"
	"time"

	"github.com/twinex/twinex/gemini"
)

// TestDecodePublic decodes each public response example of the reference and
// compares it field for field, including values Gemini sends as JSON numbers.
func TestDecodePublic(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name  string
		route string
		body  string
		call  func(*gemini.Client) (any, error)
		want  any
	}{
		{"symbols", "GET /v1/symbols", fixSymbols,
			func(c *gemini.Client) (any, error) { return c.Symbols(ctx) },
			[]string{"btcusd", "ethbtc", "ethusd", "zecusd", "ltcusd", "bchusd", "btcgusdperp", "ethgusdperp"}},
		{"symbol details: tick_size and quote_increment are numbers", "GET /v1/symbols/details/btcusd", fixSymbolDetails,
			func(c *gemini.Client) (any, error) { return c.SymbolDetails(ctx, "btcusd") },
			&gemini.SymbolDetails{Symbol: "BTCUSD", BaseCurrency: "BTC", QuoteCurrency: "USD", TickSize: "1E-8",
				QuoteIncrement: "0.01", MinOrderSize: "0.00001", Status: "open", ProductType: "spot",
				ContractType: "vanilla", ContractPriceCurrency: "USD"}},
		{"symbol details perpetual", "GET /v1/symbols/details/btcethperp", fixSymbolDetailsPerp,
			func(c *gemini.Client) (any, error) { return c.SymbolDetails(ctx, "btcethperp") },
			&gemini.SymbolDetails{Symbol: "BTCETHPERP", BaseCurrency: "BTC", QuoteCurrency: "ETH", TickSize: "0.0001",
				QuoteIncrement: "0.5", MinOrderSize: "0.0001", Status: "open", ProductType: "swap",
				ContractType: "linear", ContractPriceCurrency: "ETH"}},
		{"network", "GET /v1/network/btc", fixNetwork,
			func(c *gemini.Client) (any, error) { return c.Network(ctx, "btc") },
			&gemini.Network{Token: "BTC", Networks: []string{"bitcoin"}}},
		{"pubticker: dynamic volume keys and numeric timestamp", "GET /v1/pubticker/btcusd", fixPubticker,
			func(c *gemini.Client) (any, error) { return c.Ticker(ctx, "btcusd") },
			&gemini.Ticker{Bid: "9345.70", Ask: "9347.67", Last: "9346.20", Volume: gemini.TickerVolume{
				Timestampms: 1483018200000, Amounts: map[string]gemini.Decimal{"BTC": "1920.6", "USD": "17966474.43"},
				Base: "BTC", Quote: "USD"}}},
		{"ticker v2", "GET /v2/ticker/btcusd", fixTickerV2,
			func(c *gemini.Client) (any, error) { return c.TickerV2(ctx, "btcusd") },
			&gemini.TickerV2{Symbol: "BTCUSD", Open: "9121.76", High: "9440.66", Low: "9106.51", Close: "9347.66",
				Changes: []gemini.Decimal{"9365.1", "9386.16", "9373.41", "..."}, Bid: "9345.70", Ask: "9347.67"}},
		{"book: level timestamp is a string", "GET /v1/book/btcusd", fixBook,
			func(c *gemini.Client) (any, error) { return c.OrderBook(ctx, "btcusd", 10, 10) },
			&gemini.OrderBook{
				Bids: []gemini.BookEntry{{Price: "3607.85", Amount: "6.643373", Timestamp: "1547147541"}},
				Asks: []gemini.BookEntry{{Price: "3607.86", Amount: "14.68205084", Timestamp: "1547147541"}}}},
		{"trades: timestamp and tid are numbers", "GET /v1/trades/btcusd", fixTrades,
			func(c *gemini.Client) (any, error) { return c.Trades(ctx, "btcusd", gemini.TradesOptions{}) },
			[]gemini.Trade{{Timestamp: 1547146811, Timestampms: 1547146811357, TID: 5335307668, Price: "3610.85",
				Amount: "0.27413495", Exchange: "gemini", Type: "buy"}}},
		{"candles: rows of numbers, text kept", "GET /v2/candles/btcusd/1hr", fixCandles,
			func(c *gemini.Client) (any, error) { return c.Candles(ctx, "btcusd", gemini.TimeFrame1hr) },
			[]gemini.Candle{
				{Time: 1559755800000, Open: "7781.6", High: "7820.23", Low: "7776.56", Close: "7819.39", Volume: "34.7624802159"},
				{Time: 1559755500000, Open: "7779.94", High: "7790.0", Low: "7770.0", Close: "7781.6", Volume: "5.1"}}},
		{"pricefeed", "GET /v1/pricefeed", fixPriceFeed,
			func(c *gemini.Client) (any, error) { return c.PriceFeed(ctx) },
			[]gemini.Price{{Pair: "BTCUSD", Price: "9500.00", PercentChange24h: "5.23"},
				{Pair: "ETHUSD", Price: "257.16", PercentChange24h: "0.0000"}}},
		{"feepromos", "GET /v1/feepromos", fixFeePromos,
			func(c *gemini.Client) (any, error) { return c.FeePromos(ctx) },
			[]string{"BTCGUSDPERP", "ETHGUSDPERP", "GUSDUSD"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake(t)
			f.on(tt.route, http.StatusOK, tt.body)
			got, err := tt.call(gemini.New(f.srv.URL, "", ""))
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got  %#v\nwant %#v", got, tt.want)
			}
		})
	}
}

// wantOrder is fixOrder decoded.
var wantOrder = &gemini.Order{
	OrderID: "106817811", ID: "106817811", Symbol: "btcusd", Exchange: "gemini",
	AvgExecutionPrice: "3632.8508430064554", Side: "buy", Type: "exchange limit",
	Timestamp: 1547220404, Timestampms: 1547220404836, IsLive: true,
	ExecutedAmount: "3.7567928949", RemainingAmount: "1.2432071051",
	ClientOrderID: "20190110-4738721", Options: []string{}, Price: "3633.00", OriginalAmount: "5",
}

var wantMyTrade = gemini.MyTrade{
	Price: "3648.09", Amount: "0.0027343246", Timestamp: 1547232911, Timestampms: 1547232911021,
	Type: "Buy", Aggressor: true, FeeCurrency: "USD", FeeAmount: "0.024937655575035",
	TID: 107317526, OrderID: "107317524", Exchange: "gemini", Symbol: "BTCUSD", ClientOrderID: "...",
}

// TestDecodePrivate decodes each private response example of the reference.
func TestDecodePrivate(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name  string
		route string
		body  string
		call  func(*gemini.Client) (any, error)
		want  any
	}{
		{"new order", "POST /v1/order/new", fixOrder,
			func(c *gemini.Client) (any, error) {
				return c.NewOrder(ctx, gemini.NewOrderRequest{Symbol: "btcusd", Amount: "5", Price: "3633.00", Side: "buy"})
			}, wantOrder},
		{"cancel order", "POST /v1/order/cancel", fixOrder,
			func(c *gemini.Client) (any, error) { return c.CancelOrder(ctx, "106817811") }, wantOrder},
		{"order status", "POST /v1/order/status", fixOrder,
			func(c *gemini.Client) (any, error) {
				return c.OrderStatus(ctx, gemini.OrderStatusRequest{OrderID: "106817811"})
			}, wantOrder},
		{"active orders", "POST /v1/orders", "[" + fixOrder + "]",
			func(c *gemini.Client) (any, error) { return c.ActiveOrders(ctx) }, []gemini.Order{*wantOrder}},
		{"no active orders", "POST /v1/orders", "[]",
			func(c *gemini.Client) (any, error) { return c.ActiveOrders(ctx) }, []gemini.Order{}},
		{"cancel all: ids are numbers", "POST /v1/order/cancel/all", fixCancelAll,
			func(c *gemini.Client) (any, error) { return c.CancelAll(ctx) },
			&gemini.CancelResult{Result: "ok", Details: gemini.CancelDetails{CancelRejects: []gemini.ID{},
				CancelledOrders: []gemini.ID{"330429106", "330429079", "330429082"}}}},
		{"cancel session: ids as strings decode too", "POST /v1/order/cancel/session",
			`{"result":"ok","details":{"cancelRejects":["7"],"cancelledOrders":["330429106",330429079]}}`,
			func(c *gemini.Client) (any, error) { return c.CancelSession(ctx) },
			&gemini.CancelResult{Result: "ok", Details: gemini.CancelDetails{CancelRejects: []gemini.ID{"7"},
				CancelledOrders: []gemini.ID{"330429106", "330429079"}}}},
		{"mytrades: type capitalised, tid number, order_id string", "POST /v1/mytrades", fixMyTrades,
			func(c *gemini.Client) (any, error) { return c.MyTrades(ctx, gemini.MyTradesOptions{Symbol: "btcusd"}) },
			[]gemini.MyTrade{wantMyTrade}},
		{"tradevolume: numbers", "POST /v1/tradevolume", fixTradeVolume,
			func(c *gemini.Client) (any, error) { return c.TradeVolume(ctx) },
			[][]gemini.TradeVolume{{{Symbol: "btcusd", BaseCurrency: "BTC", NotionalCurrency: "USD", DataDate: "2019-01-10",
				TotalVolumeBase: "8.06021756", MakerBuySellRatio: "1", BuyMakerBase: "6.06021756",
				BuyMakerNotional: "23461.3515203844", BuyMakerCount: 34, SellMakerBase: "0", SellMakerNotional: "0",
				BuyTakerBase: "0", BuyTakerNotional: "0", SellTakerBase: "2", SellTakerNotional: "7935.66", SellTakerCount: 2}}}},
		{"notionalvolume: numbers", "POST /v1/notionalvolume", fixNotionalVolume,
			func(c *gemini.Client) (any, error) { return c.NotionalVolume(ctx, "") },
			&gemini.NotionalVolume{WebMakerFeeBps: "25", WebTakerFeeBps: "35", WebAuctionFeeBps: "25",
				APIMakerFeeBps: "10", APITakerFeeBps: "35", APIAuctionFeeBps: "20",
				FIXMakerFeeBps: "10", FIXTakerFeeBps: "35", FIXAuctionFeeBps: "20",
				BlockMakerFeeBps: "0", BlockTakerFeeBps: "50", Notional30dVolume: "150.00",
				LastUpdatedMs: 1551371446000, Date: "2019-02-28",
				Notional1dVolume: []gemini.DayNotional{{Date: "2019-02-22", NotionalVolume: "75.00"}}}},
		{"heartbeat", "POST /v1/heartbeat", fixOK,
			func(c *gemini.Client) (any, error) { return nil, c.Heartbeat(ctx) }, nil},
		{"balances", "POST /v1/balances", fixBalances,
			func(c *gemini.Client) (any, error) { return c.Balances(ctx) },
			[]gemini.Balance{
				{Type: "exchange", Currency: "BTC", Amount: "1154.62034001", Available: "1129.10517279", AvailableForWithdrawal: "1129.10517279"},
				{Type: "exchange", Currency: "USD", Amount: "18722.79", Available: "14481.62", AvailableForWithdrawal: "14481.62"}}},
		{"notional balances", "POST /v1/notionalbalances/usd", fixNotionalBalances,
			func(c *gemini.Client) (any, error) { return c.NotionalBalances(ctx, "usd") },
			[]gemini.NotionalBalance{{Currency: "BTC", Amount: "1154.62034001", AmountNotional: "10386000.59",
				Available: "1129.10517279", AvailableNotional: "10161000.71",
				AvailableForWithdrawal: "1129.10517279", AvailableForWithdrawalNotional: "10161000.71"}}},
		{"transfers: eid is a number", "POST /v1/transfers", fixTransfers,
			func(c *gemini.Client) (any, error) { return c.Transfers(ctx, gemini.TransfersOptions{}) },
			[]gemini.Transfer{
				{Type: "Deposit", Status: "Advanced", Timestampms: 1507913541275, EID: 320013281, Currency: "USD", Amount: "36.00", Method: "ACH"},
				{Type: "Deposit", Status: "Complete", Timestampms: 1499990797452, EID: 309356152, Currency: "ETH", Amount: "100",
					TxHash: "605c5fa8bf99458d24d61e09941bc443ddc44839d9aaa508b14b296c0c8269b2"},
				{Type: "Withdrawal", Status: "Complete", Timestampms: 1501180292445, EID: 313310093, Currency: "BTC", Amount: "0.2",
					TxHash: "...", Destination: "...", WithdrawalID: "...", FeeAmount: "0.0001", FeeCurrency: "BTC"}}},
		{"addresses", "POST /v1/addresses/bitcoin", fixAddresses,
			func(c *gemini.Client) (any, error) { return c.Addresses(ctx, "bitcoin") },
			[]gemini.DepositAddress{{Address: "n2saq73aDTu42bRgEHd8gd4to1gCzHxrdj", Timestamp: 1424285102000, Label: "my bitcoin address"}}},
		{"new address", "POST /v1/deposit/bitcoin/newAddress", fixNewAddress,
			func(c *gemini.Client) (any, error) { return c.NewDepositAddress(ctx, "bitcoin", "my bitcoin address") },
			&gemini.NewAddress{Network: "bitcoin", Address: "n2saq73aDTu42bRgEHd8gd4to1gCzHxrdj", Label: "my bitcoin address"}},
		{"new address, older form", "POST /v1/deposit/BTC/newAddress", fixNewAddressOld,
			func(c *gemini.Client) (any, error) { return c.NewDepositAddress(ctx, "BTC", "") },
			&gemini.NewAddress{Currency: "BTC", Address: "n2saq73aDTu42bRgEHd8gd4to1gCzHxrdj", Label: "my bitcoin address"}},
		{"withdraw", "POST /v1/withdraw/btc", fixWithdraw,
			func(c *gemini.Client) (any, error) {
				return c.Withdraw(ctx, "btc", "mi98Z9brJ3TgaKsmvXatuRahbFRUFKRUdR", "1", "")
			},
			&gemini.Withdrawal{Address: "mi98Z9brJ3TgaKsmvXatuRahbFRUFKRUdR", Amount: "1", Fee: "0",
				WithdrawalID: "02176a83-a6b1-4202-9b85-1c1c92dd25c4",
				Message:      "You have requested a transfer of 1 BTC to mi98Z9brJ3TgaKsmvXatuRahbFRUFKRUdR. This withdrawal will be sent to the blockchain within the next 60 seconds."}},
		{"withdraw, older ETH form", "POST /v1/withdraw/eth", fixWithdrawETH,
			func(c *gemini.Client) (any, error) { return c.Withdraw(ctx, "eth", "0xA6", "2.34567", "") },
			&gemini.Withdrawal{Address: "0xA63123350Acc8F5ee1b1fBd1A6717135e82dBd28", Amount: "2.34567",
				TxHash: "0x28267179f92926d85c5516bqc063b2631935573d8915258e95d9572eedcc8cc"}},
		{"withdraw, GUSD to bank", "POST /v1/withdraw/usd", fixWithdrawGUSD,
			func(c *gemini.Client) (any, error) { return c.Withdraw(ctx, "usd", "x", "500", "") },
			&gemini.Withdrawal{Destination: "...", Amount: "500", TxHash: "..."}},
		{"payment methods", "POST /v1/payments/methods", fixPaymentMethods,
			func(c *gemini.Client) (any, error) { return c.PaymentMethods(ctx) },
			&gemini.PaymentMethods{
				Balances: []gemini.Balance{{Type: "exchange", Currency: "USD", Amount: "50893484.26", Available: "50889410.26", AvailableForWithdrawal: "50889410.26"}},
				Banks:    []gemini.Bank{{Bank: "Jpmorgan Chase Bank Checking  - 1111", BankID: "97631a24-ca40-4277-b3d5-38c37673d029"}}}},
		{"approved address request", "POST /v1/approvedAddresses/ethereum/request", fixApprovedRequest,
			func(c *gemini.Client) (any, error) {
				return c.ApprovedAddressRequest(ctx, "ethereum", "0x...", "my address", "")
			},
			&gemini.Message{Message: "Approved address addition is now waiting a 7-day approval hold before activation."}},
		{"approved address list: createdAt is a string", "POST /v1/approvedAddresses/account/ethereum", fixApprovedList,
			func(c *gemini.Client) (any, error) { return c.ApprovedAddressList(ctx, "ethereum") },
			[]gemini.ApprovedAddress{{Network: "ethereum", Scope: "account", Label: "my address", Status: "active",
				CreatedAt: 1602692572349, Address: "0x..."}}},
		{"account: created is a string", "POST /v1/account", fixAccount,
			func(c *gemini.Client) (any, error) { return c.Account(ctx) },
			&gemini.AccountDetail{
				Account: gemini.AccountInfo{AccountName: "Primary", ShortName: "primary", Type: "exchange", Created: 1498245007981},
				Users: []gemini.User{{Name: "...", LastSignIn: "2020-07-21T13:37:39.453Z", Status: "Enabled",
					CountryCode: "US", IsVerified: true}},
				MemoReferenceCode: "GEMPJBRDZ", VirtualAccountNumber: "..."}},
		{"roles", "POST /v1/roles", fixRoles,
			func(c *gemini.Client) (any, error) { return c.Roles(ctx) },
			&gemini.Roles{IsFundManager: true, IsTrader: true}},
		{"account create", "POST /v1/account/create", fixAccountCreate,
			func(c *gemini.Client) (any, error) { return c.CreateAccount(ctx, "My Secondary Account", "exchange") },
			&gemini.CreatedAccount{Account: "my-secondary-account", Type: "exchange"}},
		{"account list: created is a number", "POST /v1/account/list", fixAccountList,
			func(c *gemini.Client) (any, error) { return c.ListAccounts(ctx, gemini.ListAccountsOptions{}) },
			[]gemini.AccountSummary{{Name: "Primary", Account: "primary", Type: "exchange", CounterpartyID: "EMONNYXH",
				Created: 1495127793000, Status: "open"}}},
		{"account transfer", "POST /v1/account/transfer/btc", fixAccountTransfer,
			func(c *gemini.Client) (any, error) {
				return c.AccountTransfer(ctx, "btc", "my-account", "my-other-account", "1")
			},
			&gemini.AccountTransferResult{FromAccount: "my-account", ToAccount: "my-other-account", Amount: "1", Fee: "0",
				Currency: "Bitcoin", WithdrawalID: "...", UUID: "...", Message: "Success, transfer completed.", TxHash: "..."}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake(t)
			f.on(tt.route, http.StatusOK, tt.body)
			got, err := tt.call(f.client())
			if err != nil {
				t.Fatal(err)
			}
			if tt.want == nil {
				return
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got  %#v\nwant %#v", got, tt.want)
			}
		})
	}
}

// TestDecodeTransactions checks the loosely documented /v1/transactions shape:
// ids may be numbers or strings and the raw object is kept.
func TestDecodeTransactions(t *testing.T) {
	f := newFake(t)
	f.on("POST /v1/transactions", http.StatusOK, `{"results":[
		{"account":"primary","type":"trade","timestampms":1547232911021,"symbol":"BTCUSD","side":"buy","price":"3648.09","amount":"0.5","tid":107317526,"orderId":107317524,"clientOrderId":"c-1","isAggressor":true,"feeAmount":"0.02","feeAssetCode":"USD","isAuctionFill":false,"isClearingFill":false,"exchange":"gemini"},
		{"account":"other","transferType":"Deposit","status":"Complete","timestampms":1499990797452,"eid":"309356152","currency":"ETH","amount":"100","transactionHash":"605c"}],
		"continuationToken":"abc"}`)
	got, err := f.client().Transactions(context.Background(), gemini.TransactionsOptions{Limit: 2})
	if err != nil {
		t.Fatal(err)
	}
	if got.ContinuationToken != "abc" || len(got.Results) != 2 {
		t.Fatalf("got %+v", got)
	}
	tr, dep := got.Results[0], got.Results[1]
	if !tr.IsTrade() || tr.Account != "primary" || tr.TID != "107317526" || tr.OrderID != "107317524" || tr.Price != "3648.09" ||
		tr.FeeAssetCode != "USD" || tr.FeeAmount != "0.02" || tr.Side != "buy" || !tr.IsAggressor || tr.ClientOrderID != "c-1" {
		t.Errorf("trade = %+v", tr)
	}
	if dep.IsTrade() || dep.EID != "309356152" || dep.Status != "Complete" || dep.Currency != "ETH" || dep.TransferType != "Deposit" ||
		dep.TransactionHash != "605c" || len(dep.Raw) == 0 {
		t.Errorf("deposit = %+v", dep)
	}
}

// TestConvenience checks the helpers on decoded values.
func TestConvenience(t *testing.T) {
	if id, err := wantOrder.IDInt(); err != nil || id != 106817811 {
		t.Errorf("IDInt = %d, %v", id, err)
	}
	if got := wantOrder.Time(); !got.Equal(time.UnixMilli(1547220404836)) {
		t.Errorf("Time = %v", got)
	}
	v := gemini.TickerVolume{Amounts: map[string]gemini.Decimal{"BTC": "1", "GUSD": "2"}, Base: "BTC", Quote: "GUSD"}
	if v.Of("btc") != "1" || v.BaseVolume() != "1" || v.QuoteVolume() != "2" || v.Of("eth") != "" {
		t.Errorf("volume lookups wrong: %+v", v)
	}
	if n, err := gemini.ID("330429106").Int64(); err != nil || n != 330429106 {
		t.Errorf("ID.Int64 = %d, %v", n, err)
	}
}
